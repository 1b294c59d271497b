using WgRouted.Tests.Shared;

namespace WgRouted.Service.Tests.Daemon;

/// <summary>ops/wg-routed.service as systemd reads it (systemd-analyze verify), pointed at the built daemon.</summary>
[Trait("Category", "Integration")]
public sealed class SystemdUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wgr-unit-").FullName;

    [Fact]
    public void The_unit_is_valid_notify_with_a_watchdog_cleanup_and_only_the_network_capabilities()
    {
        var unit = File.ReadAllText(Path.Combine(Repository.Root(), "ops", "wg-routed.service"));
        foreach (var line in new[] { "Type=notify", "WatchdogSec=", "ExecStopPost=/usr/local/bin/wg-routed cleanup", "Restart=on-failure",
                     "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW", "ProtectSystem=strict", "StateDirectory=wg-routed" })
            Assert.Contains(line, unit, StringComparison.Ordinal);
        // The built daemon in place of the installed one, so that verify checks every Exec line's program.
        var launcher = Path.Combine(_dir, "wg-routed");
        File.WriteAllText(launcher, $"#!/bin/sh\nexec dotnet {Repository.Cli()} \"$@\"\n");
        File.SetUnixFileMode(launcher, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var copy = Path.Combine(_dir, "wg-routed.service");
        File.WriteAllText(copy, unit.Replace("/usr/local/bin/wg-routed", launcher, StringComparison.Ordinal));
        using var verify = TestNamespace.Start("systemd-analyze", $"verify {copy}");
        var output = verify.StandardError.ReadToEnd() + verify.StandardOutput.ReadToEnd();
        Assert.True(verify.WaitForExit(60_000));
        // systemd-analyze exits 0 for a line it ignores ("Failed to parse ..., ignoring"): anything it says is a fault.
        Assert.True(verify.ExitCode == 0 && output.Trim().Length == 0, output);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
