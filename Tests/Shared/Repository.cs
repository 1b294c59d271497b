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

    /// <summary>The Native AOT wg-routed that ops/test publishes to Service/bin/aot.</summary>
    public static string AotCli()
    {
        var exe = Path.Combine(Root(), "Service", "bin", "aot", "wg-routed");
        return File.Exists(exe) ? exe : throw new FileNotFoundException(
            $"publish it first (ops/test does): dotnet publish Service/WgRouted.Service.csproj -c Release --use-current-runtime -p:WgRoutedAot=true -o Service/bin/aot; {exe} is missing", exe);
    }
}
