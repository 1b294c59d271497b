namespace WgRouted.Tests.Shared;

internal static class Repository
{
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "WgRouted.sln")))
                return dir.FullName;
        throw new InvalidOperationException("WgRouted.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>wg-routed.dll built in the tests' own configuration (bin/CONFIG/net10.0): build the solution first.</summary>
    public static string Cli()
    {
        var config = Path.GetFileName(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)));
        var dll = Path.Combine(Root(), "Service", "bin", config!, "net10.0", "wg-routed.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"build the solution first: {dll} is missing", dll);
    }
}
