using System.CommandLine;
using WgRouted.Service.Configuration;

namespace WgRouted.Service.Cli;

internal static class CommonOptions
{
    public const int Failure = 1;

    public static Option<FileInfo> Config() => new("--config", "-c")
    {
        Description = "the configuration file (JSON; WGROUTED__Section__Key environment variables override it)",
        Required = true,
    };

    public static Option<bool> Json() => new("--json") { Description = "print JSON" };

    /// <summary>Loads the configuration, or prints every error (each naming its key and value) and returns null.</summary>
    public static WgRoutedConfig? LoadOrReport(FileInfo file)
    {
        try
        {
            return ConfigurationLoader.Load(file.FullName);
        }
        catch (ConfigurationException e)
        {
            Console.Error.WriteLine($"{file.FullName}: {e.Message}");
            return null;
        }
    }
}
