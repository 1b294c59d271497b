using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using WgRouted.Integrations.Babel;
using WgRouted.Integrations.Tests.Netlink;
using WgRouted.Tests.Shared;

namespace WgRouted.Integrations.Tests.Babel;

/// <summary>
/// The client against a real babeld: namespaces A and B joined by a veth (a0 198.18.30.1 - b0 198.18.30.2), B also
/// holding 198.18.31.1/32 on lo; a babeld in each with its router-id, the client on A's control socket.
/// </summary>
[Trait("Category", "Integration")]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit 2 disposes a test class through IAsyncLifetime.DisposeAsync")]
public sealed class BabeldTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private const string IdA = "02:00:00:00:00:00:0a:01";
    private const string IdB = "02:00:00:00:00:00:0b:01";
    private const string Tunnel = "type tunnel hello-interval 0.2 rtt-decay 128";
    private readonly TestNamespace _a = new();
    private readonly TestNamespace _b = new();
    private readonly List<Babeld> _babelds = [];
    private readonly List<Socket> _clients = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly ListLogger<BabelControl> _log = new();
    private BabelControl? _control;
    private Task? _run;

    public BabeldTests()
    {
        // A failing setup must not leave namespaces behind: xunit disposes only what it constructed.
        try
        {
            Veth.Connect(_a, "a0", "198.18.30.1/24", _b, "b0", "198.18.30.2/24");
            _b.Ip("addr add 198.18.31.1/32 dev lo");
        }
        catch
        {
            _a.Dispose();
            _b.Dispose();
            throw;
        }
    }

    private Babeld Babel(TestNamespace ns, string routerId, string[] config, bool readWrite = true)
    {
        var babeld = Babeld.Start(ns, routerId, config, readWrite);
        _babelds.Add(babeld);
        return babeld;
    }

    private BabelControl Connect(Babeld babeld, TimeSpan? connectTimeout = null)
    {
        _control = new BabelControl(_log, TimeProvider.System, new BabelControlOptions
        {
            Endpoint = BabelEndpoint.Parse(babeld.Control),
            ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(2),
        });
        _run = _control.RunAsync(_stop.Token);
        return _control;
    }

    /// <summary>The next event of type T, skipping others.</summary>
    private async Task<T> Next<T>(TimeSpan? within = null) where T : BabelEvent
    {
        using var timeout = new CancellationTokenSource(within ?? Timeout);
        while (true)
            if (await _control!.Events.ReadAsync(timeout.Token) is T e)
                return e;
    }

    private static bool HasRoute(BabelSnapshot s, string prefix) =>
        s.Routes.Any(r => r.Prefix.ToString() == prefix && r.Installed && r.RouterId == BabelRouterId.Parse(IdB) && r.Metric < 65535);

    [Fact]
    public async Task Sees_the_other_router_as_a_neighbour_with_its_rtt_and_its_routes()
    {
        var babelA = Babel(_a, IdA, [$"interface a0 {Tunnel}"]);
        Babel(_b, IdB, [$"interface b0 {Tunnel}"]);
        var control = Connect(babelA);

        var connected = await Next<BabelConnected>();
        Assert.False(connected.Reconnected);
        Assert.Equal("1.0", connected.Greeting.Protocol);
        Assert.Equal("babeld-1.12.1", connected.Greeting.Version);
        Assert.Equal(BabelRouterId.Parse(IdA), connected.Greeting.MyId);
        var a0 = Assert.Single(connected.Snapshot.Interfaces);
        Assert.Equal(new BabelInterface("a0", true, IPAddress.Parse("198.18.30.1"), a0.Ipv6), a0);
        Assert.True(a0.Ipv6!.IsIPv6LinkLocal);
        Assert.Contains(connected.Snapshot.XRoutes, x => x.Prefix.ToString() == "198.18.30.1/32");

        await Wait.Until(() => control.Snapshot().Neighbours is [{ Interface: "a0", Rtt: not null, Cost: < 65535 }]
            && HasRoute(control.Snapshot(), "198.18.31.1/32") && HasRoute(control.Snapshot(), "198.18.30.2/32"),
            Timeout, () => $"{control.Snapshot()}");
        var neighbour = Assert.Single(control.Snapshot().Neighbours);
        Assert.True(neighbour.Address.IsIPv6LinkLocal);
        // A veth's RTT is well under a millisecond, but babeld timestamps in user space: on a loaded machine its
        // smoothed RTT has read 20 ms. Its cost is 0 up to rtt-min (10 ms) and rises toward max-rtt-penalty above it.
        Assert.InRange(neighbour.Rtt!.Value, TimeSpan.FromMicroseconds(1), TimeSpan.FromSeconds(1));
        if (neighbour.Rtt <= TimeSpan.FromMilliseconds(10))
            Assert.Equal(0, neighbour.RttCost);
        else
            Assert.InRange(neighbour.RttCost!.Value, 1, 96);
        Assert.Contains("198.18.31.1 via", _a.Ip("-4 route show proto babel"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wired_neighbour_has_no_rtt()
    {
        var babelA = Babel(_a, IdA, ["interface a0 type wired hello-interval 0.2"]);
        Babel(_b, IdB, ["interface b0 type wired hello-interval 0.2"]);
        var control = Connect(babelA);
        await Next<BabelConnected>();
        await Wait.Until(() => control.Snapshot().Neighbours is [{ Cost: 96 }], Timeout, () => $"{control.Snapshot()}");
        await Task.Delay(1000);
        var neighbour = Assert.Single(control.Snapshot().Neighbours);
        Assert.Null(neighbour.Rtt);
        Assert.Null(neighbour.RttCost);
    }

    [Fact]
    public async Task Adds_an_interface_at_run_time_with_every_tunnel_parameter_and_sees_it_in_the_dump()
    {
        Veth.Connect(_a, "a1", "198.18.32.1/24", _b, "b1", "198.18.32.2/24");
        var babelA = Babel(_a, IdA, [$"interface a0 {Tunnel}"]);
        Babel(_b, IdB, [$"interface b0 {Tunnel}", $"interface b1 {Tunnel}"]);
        var control = Connect(babelA);
        Assert.Null((await Next<BabelConnected>()).Snapshot.Interface("a1"));

        var tunnel = new BabelInterfaceConfig
        {
            Type = BabelInterfaceType.Tunnel,
            EnableTimestamps = true,
            HelloInterval = TimeSpan.FromMilliseconds(200),
            UpdateInterval = TimeSpan.FromMilliseconds(800),
            RxCost = 96,
            RttDecay = 128,
            RttMin = TimeSpan.FromMilliseconds(5),
            RttMax = TimeSpan.FromMilliseconds(100),
            MaxRttPenalty = 96,
        };
        Assert.Equal(BabelReply.Ok, await control.AddInterfaceAsync("a1", tunnel, CancellationToken.None));
        Assert.NotNull((await control.DumpAsync(CancellationToken.None)).Interface("a1"));
        var added = await Next<BabelChanged>();
        while (added.New is not BabelInterface { Name: "a1" })
            added = await Next<BabelChanged>();
        Assert.Null(added.Old);

        await Wait.Until(() => control.Snapshot().Neighbours.Any(n => n is { Interface: "a1", Rtt: not null, Cost: < 65535 })
            && control.Snapshot().Interface("a1") is { Up: true, Ipv4: not null },
            Timeout, () => $"{control.Snapshot()}");
        Assert.Equal(IPAddress.Parse("198.18.32.1"), control.Snapshot().Interface("a1")!.Ipv4);
        // babeld has it now: a second add sends nothing (babeld would answer ok and keep its old settings).
        Assert.Null(await control.AddInterfaceAsync("a1", tunnel, CancellationToken.None));
        Assert.DoesNotContain(_log.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task A_read_only_socket_refuses_an_interface_and_that_is_reported_once()
    {
        var babelA = Babel(_a, IdA, [$"interface a0 {Tunnel}"], readWrite: false);
        var control = Connect(babelA);
        await Next<BabelConnected>();
        var tunnel = new BabelInterfaceConfig { Type = BabelInterfaceType.Tunnel };

        Assert.Equal(new BabelReply(BabelReplyKind.Bad), await control.AddInterfaceAsync("a1", tunnel, CancellationToken.None));
        Assert.Equal(new BabelReply(BabelReplyKind.Bad), await control.AddInterfaceAsync("a1", tunnel, CancellationToken.None));

        Assert.Equal(new BabelCommandRefused("interface a1 type tunnel", new BabelReply(BabelReplyKind.Bad)), await Next<BabelCommandRefused>());
        var refusals = _log.Entries.Where(e => e.Level == LogLevel.Warning && e.Message.Contains("babeld refused 'interface a1 type tunnel': bad", StringComparison.Ordinal));
        Assert.Contains("read-only", Assert.Single(refusals).Message, StringComparison.Ordinal);
        // Monitoring goes on, and dump is allowed on a read-only socket.
        Assert.True(control.IsConnected);
        Assert.Equal(["a0"], (await control.DumpAsync(CancellationToken.None)).Interfaces.Select(i => i.Name));
        while (control.Events.TryRead(out var e))
            Assert.IsNotType<BabelCommandRefused>(e);
    }

    [Fact]
    public async Task Reconnects_and_dumps_again_within_two_seconds_after_babeld_restarts()
    {
        var babelA = Babel(_a, IdA, [$"interface a0 {Tunnel}"]);
        Babel(_b, IdB, [$"interface b0 {Tunnel}"]);
        var control = Connect(babelA);
        await Next<BabelConnected>();
        await Wait.Until(() => control.Snapshot().Neighbours.Count == 1, Timeout, () => $"{control.Snapshot()}");
        var pid = babelA.Pid;

        babelA.Kill();
        Assert.Equal("babeld closed the connection", (await Next<BabelDisconnected>()).Reason);
        // babeld's ids die with it: nothing is kept.
        var dropped = control.Snapshot();
        Assert.Empty(dropped.Interfaces);
        Assert.Empty(dropped.Neighbours);
        Assert.Empty(dropped.Routes);
        Assert.False(control.IsConnected);

        var restarting = Stopwatch.StartNew();
        babelA.Restart();
        Assert.NotEqual(pid, babelA.Pid);
        var again = await Next<BabelConnected>();
        Assert.InRange(restarting.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.True(again.Reconnected);
        Assert.Equal(["a0"], again.Snapshot.Interfaces.Select(i => i.Name));
        await Wait.Until(() => control.Snapshot().Neighbours.Count == 1 && HasRoute(control.Snapshot(), "198.18.31.1/32"),
            Timeout, () => $"{control.Snapshot()}");
        Assert.Contains(_log.Entries, e => e.Message.StartsWith("Reconnected to babeld", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_fifth_client_is_connected_but_never_greeted_so_ours_times_out_and_gets_in_when_a_slot_frees()
    {
        var babelA = Babel(_a, IdA, [$"interface a0 {Tunnel}"]);
        for (var i = 0; i < 4; i++)
        {
            var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            _clients.Add(client);
            client.Connect(new UnixDomainSocketEndPoint(babelA.ControlPath));
            client.ReceiveTimeout = 5000;
            Assert.True(client.Receive(new byte[512]) > 0, "babeld greets its first four clients");
        }
        var control = Connect(babelA, connectTimeout: TimeSpan.FromSeconds(1));

        await Wait.Until(() => _log.Entries.Any(e => e.Message.Contains("no greeting within 1 s", StringComparison.Ordinal)), Timeout,
            () => string.Join('\n', _log.Entries));
        Assert.False(control.IsConnected);

        var freed = Stopwatch.StartNew();
        _clients[0].Dispose();
        var connected = await Next<BabelConnected>(TimeSpan.FromSeconds(5));
        Assert.Equal(["a0"], connected.Snapshot.Interfaces.Select(i => i.Name));
        Assert.InRange(freed.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(4));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // IAsyncLifetime, not IAsyncDisposable: xunit 2 never calls the latter on a test class (it leaked namespaces).
    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            if (_run is not null)
                await _run.WaitAsync(Timeout);
        }
        finally
        {
            _control?.Dispose();
            foreach (var client in _clients)
                client.Dispose();
            foreach (var babeld in _babelds)
                babeld.Dispose();
            _a.Dispose();
            _b.Dispose();
            _stop.Dispose();
        }
    }
}
