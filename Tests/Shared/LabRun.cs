using System.Diagnostics;

namespace WgRouted.Tests.Shared;

/// <summary>Runs ops/lab/run and reads its RESULT lines (the lab tests of the service and soak projects).</summary>
internal static class LabRun
{
    public static Dictionary<string, string> Parse(string line) =>
        line.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Where(f => f.Contains('=', StringComparison.Ordinal))
            .Select(f => f.Split('=', 2))
            .ToDictionary(kv => kv[0], kv => kv[1]);

    public static int Ms(string value) =>
        value == "never" ? int.MaxValue : int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);

    public static Dictionary<string, string> Single((int Exit, string Output) run, string scenario)
    {
        var line = run.Output.Split('\n').LastOrDefault(l => l.StartsWith($"RESULT scenario={scenario} ", StringComparison.Ordinal));
        Assert.True(run.Exit == 0 && line is not null, $"ops/lab/run exited {run.Exit} without a RESULT line for {scenario}:\n{run.Output}");
        return Parse(line!);
    }

    public static (int Exit, string Output) RunLab(string[] args, bool wgRouted, int seconds, params (string Name, string Value)[] environment)
    {
        var root = Repository.Root();
        // timeout sends SIGTERM first (the script's trap tears the lab down), SIGKILL 5 s later.
        var start = new ProcessStartInfo("timeout", ["-s", "TERM", "-k", "5", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "bash", Path.Combine(root, "ops", "lab", "run"), .. args])
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment.Remove("WGROUTED");
        start.Environment.Remove("WGROUTED_BIN");
        if (wgRouted)
        {
            start.Environment["WGROUTED"] = "1";
            start.Environment["WGROUTED_BIN"] = Repository.Cli().Replace(".dll", "", StringComparison.Ordinal);
        }
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        var limit = TimeSpan.FromSeconds(seconds + 8);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(10));
            Assert.Fail($"ops/lab/run {string.Join(' ', args)} did not finish within {limit.TotalSeconds} s:\n{stdout.Result}\n{stderr.Result}");
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + "\n" + stderr.Result);
    }
}
