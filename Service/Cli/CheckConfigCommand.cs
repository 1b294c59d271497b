using System.CommandLine;

namespace WgRouted.Service.Cli;

internal static class CheckConfigCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var command = new Command("check-config", "validate the configuration and exit (0: valid, 1: invalid)") { config };
        command.SetAction(parse =>
        {
            var loaded = CommonOptions.LoadOrReport(parse.GetRequiredValue(config));
            if (loaded is null)
                return CommonOptions.Failure;
            var peers = loaded.Peers.Count();
            Console.WriteLine($"configuration OK: {loaded.Interfaces.Count} interface(s), {peers} peer(s), " +
                $"store {(loaded.Options.Store.ConnectionString.Length == 0 ? $"embedded in {loaded.Options.DataDirectory}/postgres" : "external")}");
            return 0;
        });
        return command;
    }
}
