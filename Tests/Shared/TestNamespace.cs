using System.Diagnostics;
using System.Security.Cryptography;

namespace WgRouted.Tests.Shared;

/// <summary>A network namespace named wgr + random hex, deleted on Dispose (which also removes its links).</summary>
internal sealed class TestNamespace : IDisposable
{
    public TestNamespace()
    {
        Name = "wgr" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        Run("ip", $"netns add {Name}");
        Ip("link set lo up");
    }

    public string Name { get; }

    /// <summary>`ip -n NAME args`; throws with ip's stderr on failure.</summary>
    public string Ip(string args) => Run("ip", $"-n {Name} {args}");

    /// <summary>`ip -n NAME -batch -` with the given lines on stdin.</summary>
    public void Batch(IEnumerable<string> lines) => Run("ip", $"-n {Name} -batch -", string.Join('\n', lines) + "\n");

    /// <summary>Runs a program inside the namespace; returns (exit code, stdout, stderr).</summary>
    public (int Code, string Out, string Err) Exec(string program, string args)
    {
        using var p = Start("ip", $"netns exec {Name} {program} {args}");
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill();
            throw new TimeoutException($"{program} {args} in {Name} did not finish in 60 s");
        }
        return (p.ExitCode, output.Result, error.Result);
    }

    public static string Run(string program, string args, string? input = null)
    {
        using var p = Start(program, args);
        if (input is not null)
            p.StandardInput.Write(input);
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill();
            throw new TimeoutException($"{program} {args} did not finish in 60 s");
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{program} {args} exited {p.ExitCode}: {error.Result}");
        return output.Result;
    }

    public static Process Start(string program, string args) =>
        Process.Start(new ProcessStartInfo(program, args)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException($"could not start {program}");

    public void Dispose()
    {
        try
        {
            Run("ip", $"netns del {Name}");
        }
        catch (InvalidOperationException)
        {
            // Already gone: nothing left to tear down.
        }
    }
}
