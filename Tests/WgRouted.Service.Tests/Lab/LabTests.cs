using System.Diagnostics;

namespace WgRouted.Service.Tests.Lab;

/// <summary>
/// Runs the namespace lab's scenario a (ops/lab/run a) with stock wireguard-go and checks that it reproduces
/// the sticky source: after A's link and routes return, the router's WireGuard UDP never leaves from A again.
/// </summary>
[Trait("Category", "Integration")]
public sealed class LabTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(58);

    [Fact]
    public void Stock_wireguard_go_stays_on_the_backup_source_after_the_primary_returns()
    {
        var (exit, output) = RunLab("a");
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("RESULT scenario=a ", StringComparison.Ordinal));
        Assert.True(exit == 0 && line is not null, $"ops/lab/run a exited {exit} without a RESULT line:\n{output}");
        var result = Parse(line!);

        Assert.Equal("stock", result["mode"]);
        // The failure really happened: the router moved to B (stock needs a handshake retransmit for that) ...
        Assert.NotEqual("never", result["failover_ms"]);
        // ... and never came back to A, although A's link and routes were back for the rest of the window.
        Assert.Equal("never", result["back_on_primary_ms"]);
        Assert.Equal("B", result["final_src"]);
        Assert.True(int.Parse(result["window_after_restore_ms"], System.Globalization.CultureInfo.InvariantCulture) >= 8000, line);
    }

    private static Dictionary<string, string> Parse(string line) =>
        line.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Where(f => f.Contains('=', StringComparison.Ordinal))
            .Select(f => f.Split('=', 2))
            .ToDictionary(kv => kv[0], kv => kv[1]);

    private static (int Exit, string Output) RunLab(string scenario)
    {
        var root = RepositoryRoot();
        // timeout sends SIGTERM at 50 s (the script's trap tears the lab down), SIGKILL 5 s later.
        var start = new ProcessStartInfo("timeout", ["-s", "TERM", "-k", "5", "50", "bash", Path.Combine(root, "ops", "lab", "run"), scenario])
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // Stock only, whatever the environment of the test run says.
        start.Environment.Remove("WGROUTED");
        start.Environment.Remove("WGROUTED_BIN");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(10));
            Assert.Fail($"ops/lab/run {scenario} did not finish within {Limit.TotalSeconds} s:\n{stdout.Result}\n{stderr.Result}");
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + "\n" + stderr.Result);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "WgRouted.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("WgRouted.sln not found above " + AppContext.BaseDirectory);
    }
}
