using WgRouted.Tests.Shared;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using WgRouted.Integrations.Netlink;

namespace WgRouted.Integrations.Tests.Netlink;

[Trait("Category", "Integration")]
public sealed class HostMonitorTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TestNamespace _ns = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<HostChanges> _changes = new();

    public HostMonitorTests()
    {
        _ns.Ip("link add up1 type veth peer name up1p");
        _ns.Ip("link set up1 up");
        _ns.Ip("link set up1p up");
        _ns.Ip("addr add 198.18.1.1/24 dev up1");
        _ns.Ip("addr add fd00:1::1/64 dev up1 nodad");
    }

    private (HostMonitor Monitor, Task Run) Start(int receiveBuffer = 4 * 1024 * 1024)
    {
        var monitor = new HostMonitor(NullLogger<HostMonitor>.Instance, TimeProvider.System,
            new HostMonitorOptions { NetworkNamespace = _ns.Name, ReceiveBufferSize = receiveBuffer, ResyncInterval = TimeSpan.FromMinutes(10) },
            _changes.Enqueue);
        return (monitor, monitor.RunAsync(_stop.Token));
    }

    private static IEnumerable<string> Routes(string verb, int count) =>
        Enumerable.Range(0, count).SelectMany(i => new[]
        {
            $"route {verb} 198.19.{i / 256}.{i % 256}/32 via 198.18.1.254 table {1000 + (i % 3)}",
            $"route {verb} fd00:9::{i:x}/128 via fd00:1::fe metric {i % 5}",
        });

    private async Task AssertExact(HostMonitor monitor)
    {
        using var rtnl = Rtnetlink.Open(_ns.Name);
        HostSnapshot? fresh = null;
        await Wait.Until(() => monitor.Snapshot().SetEquals(fresh = rtnl.DumpAll()), Timeout,
            () => $"monitor has {monitor.Snapshot().Routes.Count} routes, a dump {fresh?.Routes.Count}");
    }

    [Fact]
    public async Task A_thousand_routes_added_and_deleted_fast_leave_an_exact_copy()
    {
        var (monitor, run) = Start();
        await monitor.Ready.WaitAsync(Timeout);

        _ns.Batch(Routes("add", 500)); // 1,000 routes, v4 in three tables and v6
        await AssertExact(monitor);
        Assert.Equal(1000, _changes.Sum(c => c.Routes.Count(r => r.Kind == ChangeKind.Added && r.New!.Gateway is not null)));

        _ns.Batch(Routes("del", 500));
        await AssertExact(monitor);
        Assert.Equal(1000, _changes.Sum(c => c.Routes.Count(r => r.Kind == ChangeKind.Removed && r.Old!.Gateway is not null)));

        await _stop.CancelAsync();
        await run.WaitAsync(Timeout);
    }

    [Fact]
    public async Task An_overflowing_receive_buffer_is_repaired_by_a_resync()
    {
        var (monitor, run) = Start(receiveBuffer: 1); // the kernel rounds it up to its minimum, a few KiB
        await monitor.Ready.WaitAsync(Timeout);
        var before = monitor.Resyncs;

        _ns.Batch(Routes("add", 500));
        await AssertExact(monitor);
        _ns.Batch(Routes("del", 250));
        await AssertExact(monitor);

        Assert.True(monitor.Resyncs > before, "ENOBUFS should have forced a resync");
        await _stop.CancelAsync();
        await run.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Rules_addresses_and_links_follow_notifications()
    {
        var (monitor, run) = Start();
        await monitor.Ready.WaitAsync(Timeout);

        _ns.Ip("rule add fwmark 0x10 lookup 1000 pref 100");
        _ns.Ip("-6 rule add from fd00:1::1 lookup 1000 pref 200");
        _ns.Ip("addr add 198.18.1.2/24 dev up1");
        _ns.Ip("addr add fd00:1::2/64 dev up1 nodad");
        _ns.Ip("link add up2 type veth peer name up2p");
        await Wait.Until(() => _changes.Sum(c => c.Rules.Count(r => r.Kind == ChangeKind.Added && r.New!.Table == 1000)) == 2
            && _changes.Any(c => c.Addresses.Any(a => a.Kind == ChangeKind.Added && a.New!.Local.ToString() == "fd00:1::2"))
            && _changes.Any(c => c.Links.Any(l => l.Kind == ChangeKind.Added && l.New!.Name == "up2p")),
            Timeout, () => "rule, address or link notifications missing: " + string.Join("; ", _changes.SelectMany(c =>
                c.Rules.Select(r => $"{r.Kind} {r.New ?? r.Old}").Concat(c.Addresses.Select(a => $"{a.Kind} {a.New ?? a.Old}")).Concat(c.Links.Select(l => $"{l.Kind} {l.New ?? l.Old}")))));
        await AssertExact(monitor);

        _ns.Ip("rule del pref 100");
        _ns.Ip("addr del 198.18.1.2/24 dev up1");
        _ns.Ip("link del up2");
        await Wait.Until(() => _changes.Any(c => c.Rules.Any(r => r.Kind == ChangeKind.Removed && r.Old!.FirewallMark == 0x10))
            && _changes.Any(c => c.Links.Any(l => l.Kind == ChangeKind.Removed && l.Old!.Name == "up2")),
            Timeout, () => "removals missing");
        await AssertExact(monitor);
        await _stop.CancelAsync();
        await run.WaitAsync(Timeout);
    }

    [Fact]
    public async Task The_periodic_resync_follows_the_time_provider()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var monitor = new HostMonitor(NullLogger<HostMonitor>.Instance, time,
            new HostMonitorOptions { NetworkNamespace = _ns.Name, ResyncInterval = TimeSpan.FromSeconds(30) }, _changes.Enqueue);
        var run = monitor.RunAsync(_stop.Token);
        await monitor.Ready.WaitAsync(Timeout);
        Assert.Equal(1, monitor.Resyncs);

        time.Advance(TimeSpan.FromSeconds(29));
        _ns.Ip("route add 198.19.0.0/16 via 198.18.1.254"); // a notification round trip: the loop has looked at the clock
        await Wait.Until(() => monitor.Snapshot().Routes.Any(r => r.Destination.ToString() == "198.19.0.0"), Timeout, () => "route missing");
        Assert.Equal(1, monitor.Resyncs);

        time.Advance(TimeSpan.FromSeconds(1));
        await Wait.Until(() => monitor.Resyncs == 2, Timeout, () => $"{monitor.Resyncs} resyncs");
        await _stop.CancelAsync();
        await run.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Carrier_loss_shows_as_a_link_change_and_linkdown_routes()
    {
        _ns.Ip("route add 198.19.0.0/16 via 198.18.1.254 metric 10");
        var (monitor, run) = Start();
        await monitor.Ready.WaitAsync(Timeout);

        _ns.Ip("link set up1p down"); // our side stays up; only the carrier goes
        await Wait.Until(() => _changes.Any(c => c.Routes.Any(r =>
            r.Kind == ChangeKind.Changed && r.New!.Destination.ToString() == "198.19.0.0" && (r.New.Flags & RouteFlags.LinkDown) != 0)),
            Timeout, () => "no route change with RTNH_F_LINKDOWN");
        Assert.Contains(_changes, c => c.Links.Any(l => l.Kind == ChangeKind.Changed && l.New!.Name == "up1" && !l.New.Carrier && l.New.IsUp));
        await AssertExact(monitor);

        _ns.Ip("link set up1p up");
        await Wait.Until(() => monitor.Snapshot().Routes.Any(r => r.Destination.ToString() == "198.19.0.0" && (r.Flags & RouteFlags.LinkDown) == 0),
            Timeout, () => "RTNH_F_LINKDOWN not cleared");
        await _stop.CancelAsync();
        await run.WaitAsync(Timeout);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
        _ns.Dispose();
    }
}
