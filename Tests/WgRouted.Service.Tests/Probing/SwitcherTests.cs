using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Probe;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Daemon;
using WgRouted.Service.Probing;
using WgRouted.Tests.Shared;
using static WgRouted.Service.Tests.Probing.ProbingFixture;

namespace WgRouted.Service.Tests.Probing;

/// <summary>
/// The switcher carries out decisions and decides nothing: the pin goes into a real kernel table (in a namespace),
/// the endpoint to the WireGuard device (a fake UAPI socket), the move request out over the path's probe socket.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SwitcherTests : IAsyncLifetime, IDisposable
{
    private readonly TestNamespace _ns = new();
    private readonly ProbingFixture _f = new();
    private readonly Mailbox<ProbeSchedule> _schedule = new();
    private readonly Prober _prober;
    private readonly PinService _pins;
    private readonly Switcher _switcher;

    public SwitcherTests()
    {
        try
        {
            // No dummy module on these kernels: an uplink is one end of a veth pair.
            _ns.Ip("link add upa type veth peer name upa1");
            _ns.Ip("addr add 198.18.1.2/24 dev upa");
            _ns.Ip("link set upa1 up");
            _ns.Ip("link set upa up");
            _ns.Ip("route add default via 198.18.1.1 dev upa");
            // Its netlink socket is made in the namespace: every pin it writes stays there.
            _pins = NetworkNamespace.Run(_ns.Name, () => new PinService(_f.Config, _f.Control, NullLogger<PinService>.Instance));
        }
        catch
        {
            _f.Dispose();
            _ns.Dispose();
            throw;
        }
        _prober = new Prober(_f.Config, _f.Keyring, _f.Inbox, _schedule, _f.Network.Bind, _f.Time, NullLogger<Prober>.Instance);
        _switcher = new Switcher(new Mailbox<SwitchCommand>(), _f.Keyring, _prober, _pins, new Fences(NullLogger<Fences>.Instance), _f.Control, _f.Inbox, _f.Time, NullLogger<Switcher>.Instance);
    }

    public async Task InitializeAsync()
    {
        await _pins.StartAsync(CancellationToken.None);
        await _prober.StartAsync(CancellationToken.None);
        _schedule.Post(new ProbePaths(_f.Peer, [(A, "upa"), (B, "upb")]));
        await Until(() => _f.Network.SentFrom(A.Src) > 0, "the prober opened A's socket");
    }

    private static SwitchCommand Command(PeerEvent decision)
    {
        var trace = ActivityTraceId.CreateRandom();
        return new SwitchCommand(decision with { TraceId = trace.ToHexString() }, new ActivityContext(trace, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded));
    }

    private async Task<T> Next<T>()
    {
        while (true)
            if (await _f.NextAsync() is T t)
                return t;
    }

    [Fact]
    public async Task A_decision_pins_the_source_sets_the_endpoint_and_asks_the_peer_to_move()
    {
        var command = Command(new EndpointSwitchDecided(_f.Peer, _f.Time.GetUtcNow(), null, A, SwitchReason.Initial, []));
        var moves = _f.Network.SentFrom(A.Src);
        _switcher.Carry(command);

        var pin = _ns.Ip("route show table 20823");
        Assert.Matches(@"^198\.18\.3\.2 via 198\.18\.1\.1 dev upa .*src 198\.18\.1\.2", pin);
        Assert.Contains("fwmark 0x5157 lookup 20823", _ns.Ip("rule show"), StringComparison.Ordinal);
        Assert.Contains(_f.Uapi.Sets, s => s.Contains("endpoint=198.18.3.2:51820", StringComparison.Ordinal));
        var switched = await Next<EndpointSwitched>();
        Assert.Equal(A, switched.Path);
        Assert.Equal(command.Decision.TraceId, switched.TraceId);
        Assert.Equal(moves + 1, _f.Network.SentFrom(A.Src));
        var move = Assert.IsType<MoveRequest>(_f.Decode(_f.Network.Sent.Last(s => s.From.Address.Equals(A.Src)).Data));
        Assert.Equal(new Endpoint(A.Src, ListenPort), move.Requested);
    }

    [Fact]
    public async Task A_reassertion_applies_again_without_reporting_a_new_switch()
    {
        _switcher.Carry(Command(new EndpointSwitchDecided(_f.Peer, _f.Time.GetUtcNow(), null, A, SwitchReason.Initial, [])));
        await Next<EndpointSwitched>();
        var sets = _f.Uapi.Sets.Count;
        _switcher.Carry(Command(new SwitchReasserted(_f.Peer, _f.Time.GetUtcNow(), A, 1, null)));
        Assert.Equal(sets + 1, _f.Uapi.Sets.Count);
        await Task.Delay(100);
        Assert.DoesNotContain(Drain(), e => e is EndpointSwitched or SwitchNotApplied);
    }

    [Fact]
    public async Task A_source_the_kernel_cannot_route_from_is_reported_not_applied()
    {
        // 198.18.2.2 is no address of the namespace: the route lookup for the pin fails.
        var command = Command(new EndpointSwitchDecided(_f.Peer, _f.Time.GetUtcNow(), null, B, SwitchReason.Initial, []));
        _switcher.Carry(command);
        var refused = await Next<SwitchNotApplied>();
        Assert.Equal(B, refused.Path);
        Assert.Equal(command.Decision.TraceId, refused.TraceId);
        // The table holds nothing (the kernel even says it does not exist).
        Assert.DoesNotContain("198.18.2.2", _ns.Exec("ip", "route show table 20823").Out, StringComparison.Ordinal);
    }

    private List<object> Drain()
    {
        var items = new List<object>();
        while (_f.Inbox.Reader.TryRead(out var item))
            items.Add(item);
        return items;
    }

    public async Task DisposeAsync()
    {
        await _prober.StopAsync(CancellationToken.None);
        await _pins.StopAsync(CancellationToken.None);
    }

    public void Dispose()
    {
        _switcher.Dispose();
        _prober.Dispose();
        _pins.Dispose();
        _f.Dispose();
        _ns.Dispose();
    }
}
