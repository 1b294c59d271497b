// Netlink benchmarks, run as root: dotnet run -c Release --project bench/WgRouted.Bench.Netlink [routes] [lookups]
// Everything happens in a throw-away network namespace (wgrbench + random hex), 198.18.0.0/15 and fd00::/8 only.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using WgRouted.Integrations.Netlink;

var routes = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
var lookups = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5_000;
const int IpProcesses = 200;
const uint Table = 1000;

var ns = "wgrbench" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
Sh("ip", $"netns add {ns}");
try
{
    Sh("ip", $"-n {ns} link set lo up");
    Sh("ip", $"-n {ns} link add up1 type veth peer name up1p");
    Sh("ip", $"-n {ns} link set up1 up");
    Sh("ip", $"-n {ns} link set up1p up");
    Sh("ip", $"-n {ns} addr add 198.18.0.1/16 dev up1");
    Sh("ip", $"-n {ns} route add default via 198.18.0.254");

    // (a) notifications: routes added by `ip -batch`, timed until the monitor's copy holds them all.
    using var stop = new CancellationTokenSource();
    var monitor = new HostMonitor(NullLogger<HostMonitor>.Instance, TimeProvider.System,
        new HostMonitorOptions { NetworkNamespace = ns, ResyncInterval = TimeSpan.FromHours(1) });
    var run = monitor.RunAsync(stop.Token);
    await monitor.Ready.WaitAsync(TimeSpan.FromSeconds(30));
    var batch = string.Join('\n', Enumerable.Range(0, routes).Select(i =>
        $"route add 198.19.{i / 256 % 256}.{i % 256}/32 via 198.18.{1 + i / 65536}.{1 + i % 250} table {Table}")) + "\n";
    var before = monitor.NotificationsApplied;
    var clock = Stopwatch.StartNew();
    Sh("ip", $"-n {ns} -batch -", batch);
    var ipDone = clock.Elapsed;
    var deadline = TimeSpan.FromSeconds(120);
    while (monitor.Snapshot().Routes.Count(r => r.Table == Table) < routes)
    {
        if (clock.Elapsed > deadline)
            throw new TimeoutException($"monitor has {monitor.Snapshot().Routes.Count(r => r.Table == Table)} of {routes} routes after {deadline}");
        await Task.Delay(1);
    }
    var total = clock.Elapsed;
    var applied = monitor.NotificationsApplied - before;
    Console.WriteLine($"(a) monitor: {routes} routes added with ip -batch in {ipDone.TotalMilliseconds:F0} ms; monitor complete after {total.TotalMilliseconds:F0} ms");
    Console.WriteLine($"    {routes / total.TotalSeconds:F0} route notifications/s end to end ({applied} notifications applied, {monitor.Resyncs} resyncs incl. the initial dump)");
    await stop.CancelAsync();
    await run;

    // (b) lookups: RTM_GETROUTE on one socket vs one `ip route get` process per lookup.
    using var rtnl = Rtnetlink.Open(ns);
    var targets = Enumerable.Range(0, 256).Select(i => IPAddress.Parse($"198.19.{i}.{i}")).ToArray();
    for (var i = 0; i < 200; i++)
        rtnl.GetRoute(new RouteQuery(targets[i % targets.Length]));
    clock.Restart();
    for (var i = 0; i < lookups; i++)
        rtnl.GetRoute(new RouteQuery(targets[i % targets.Length]));
    var ours = lookups / clock.Elapsed.TotalSeconds;
    clock.Restart();
    for (var i = 0; i < IpProcesses; i++)
        Sh("ip", $"-n {ns} route get {targets[i % targets.Length]}");
    var theirs = IpProcesses / clock.Elapsed.TotalSeconds;
    Console.WriteLine($"(b) lookups: RTM_GETROUTE {ours:F0}/s ({lookups} lookups), `ip route get` processes {theirs:F0}/s ({IpProcesses} runs): ratio {ours / theirs:F1}x");
}
finally
{
    Sh("ip", $"netns del {ns}");
}

static string Sh(string program, string arguments, string? input = null)
{
    using var p = Process.Start(new ProcessStartInfo(program, arguments)
    {
        RedirectStandardInput = true,
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        UseShellExecute = false,
    })!;
    if (input is not null)
        p.StandardInput.Write(input);
    p.StandardInput.Close();
    var output = p.StandardOutput.ReadToEndAsync();
    var error = p.StandardError.ReadToEndAsync();
    if (!p.WaitForExit(120_000))
    {
        p.Kill();
        throw new TimeoutException($"{program} {arguments}");
    }
    return p.ExitCode == 0 ? output.Result : throw new InvalidOperationException($"{program} {arguments}: {error.Result}");
}
