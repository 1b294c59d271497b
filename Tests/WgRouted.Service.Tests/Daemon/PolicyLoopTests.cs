using WgRouted.Tests.Shared;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;
using WgRouted.Service.Configuration;
using WgRouted.Service.Daemon;
using WgRouted.Service.Probing;
using WgRouted.Service.Store;

namespace WgRouted.Service.Tests.Daemon;

/// <summary>The policy loop on a fake clock: stamps, hands each actuator its part, wakes at the engine's deadlines.</summary>
public sealed class PolicyLoopTests : IDisposable
{
    private static readonly PeerKey Peer = PeerKey.FromBytes(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private static readonly CandidatePath A = new(IPAddress.Parse("198.18.1.2"), Endpoint.Parse("198.18.3.2:51820"));
    private static readonly CandidatePath B = new(IPAddress.Parse("198.18.2.2"), Endpoint.Parse("198.18.3.2:51820"));
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly Inbox _inbox = new();
    private readonly Mailbox<SwitchCommand> _switcher = new();
    private readonly Mailbox<ProbeSchedule> _prober = new();
    private readonly Mailbox<HandshakeSchedule> _handshakes = new();
    private readonly Mailbox<ResponderCommand> _responder = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("wgr-loop-").FullName;
    private readonly PolicyLoop _loop;
    private readonly StoreConnector _connector;
    private readonly ProbeRecorder _recorder;
    private readonly ListLogger<PolicyLoop> _log = new();

    public PolicyLoopTests()
    {
        var config = ConfigurationLoader.Validate(new WgRoutedOptions { DataDirectory = _dir });
        var policy = new EndpointPolicy(PolicyOptions.Default);
        // Never started: the loop only posts to them.
        _connector = new StoreConnector(config, policy, NullLogger<StoreConnector>.Instance);
        var appender = new Appender(_connector, new EventLog(Path.Combine(_dir, "events.log")), _time, NullLogger<Appender>.Instance);
        _recorder = new ProbeRecorder(_ => Task.FromResult(""), _dir, 0, _time, NullLogger<ProbeRecorder>.Instance);
        _loop = new PolicyLoop(_inbox, policy, appender, _recorder, _switcher, _prober, _handshakes, _responder,
            new Mailbox<Babel.TunnelCommand>(), new Mailbox<Babel.BabelRequest>(), new FailoverTraces(), _time, _log);
    }

    private static List<T> Drain<T>(Mailbox<T> mailbox)
    {
        var items = new List<T>();
        while (mailbox.Reader.TryRead(out var item))
            items.Add(item);
        return items;
    }

    private static IEnumerable<PeerEvent> Configuration() =>
    [
        new PeerConfigured(Peer, default, "wg0", [A.Dst.ToString()], 51821),
        new CandidatesResolved(Peer, default, [new ResolvedEndpoint(0, A.Dst)], [new Source(A.Src, "upa"), new Source(B.Src, "upb")]),
        new PreferredSourceChanged(Peer, default, A.Dst.Address, A.Src),
    ];

    private void Start()
    {
        foreach (var e in Configuration())
            _loop.Handle(e);
    }

    [Fact]
    public void Inputs_are_stamped_with_the_loops_clock_strictly_increasing()
    {
        Start();
        _loop.Handle(new ProbeReplied(Peer, default, A, 1, 10, null, null));
        _loop.Handle(new ProbeReplied(Peer, default, B, 2, 20, null, null));
        var state = Assert.Single(_loop.Snapshot());
        Assert.Equal(A, state.Active);
        // Five inputs at one instant of the fake clock: a tick apart, in arrival order.
        Assert.Equal(_time.GetUtcNow().AddTicks(4), state.LastEventAt);
        Assert.Equal(2, _recorder.Pending);
    }

    [Fact]
    public void A_stock_peers_paths_go_to_the_handshake_prober_and_its_answered_switch_to_the_switcher()
    {
        _loop.Handle(new PeerConfigured(Peer, default, "wg0", [A.Dst.ToString()], 51821, Responder: false));
        foreach (var e in Configuration().Skip(1))
            _loop.Handle(e);
        Assert.Empty(Drain(_prober));
        var told = Drain(_handshakes).Select(h => h.Command).ToList();
        Assert.Contains(told, c => c is ProbePaths);
        // The first choice is a trial over A: the handshake prober makes A active, the switcher does nothing yet ...
        Assert.Equal(A, told.OfType<ProbeActive>().Last().Path);
        Assert.IsType<EndpointSwitchDecided>(Assert.Single(Drain(_switcher)).Decision);
        // ... until the peer answers the handshake: then it pins.
        _loop.Handle(new ProbeReplied(Peer, default, A, 7, 1.5, null, new Endpoint(A.Src, 51820)));
        Assert.IsType<SwitchConverged>(Assert.Single(Drain(_switcher)).Decision);
    }

    [Fact]
    public void A_stalled_receive_checks_the_stock_peers_active_path_at_once()
    {
        _loop.Handle(new PeerConfigured(Peer, default, "wg0", [A.Dst.ToString()], 51821, Responder: false));
        foreach (var e in Configuration().Skip(1))
            _loop.Handle(e);
        Drain(_handshakes);
        _loop.Handle(new ReceiveStalled(Peer, default, 148));
        Assert.Equal(Peer, Assert.IsType<ProbeNow>(Assert.Single(Drain(_handshakes)).Command).Peer);
    }

    [Fact]
    public void A_peer_that_handshakes_but_never_answers_a_probe_is_named_once_as_probably_stock()
    {
        Start();
        _time.Advance(TimeSpan.FromSeconds(11));
        _loop.Handle(new HandshakeObserved(Peer, default, _time.GetUtcNow()));
        for (var i = 0; i < 5; i++)
            _loop.Handle(new ProbeMissed(Peer, default, A, (ulong)i));
        var warning = Assert.Single(_log.Entries, e => e.Message.Contains("\"Responder\": false", StringComparison.Ordinal));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
        Assert.Contains(Peer.Base64, warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_peer_whose_probes_were_answered_is_not_called_stock()
    {
        Start();
        _loop.Handle(new ProbeReplied(Peer, default, A, 1, 10, null, null));
        _time.Advance(TimeSpan.FromSeconds(60));
        _loop.Handle(new HandshakeObserved(Peer, default, _time.GetUtcNow()));
        _loop.Handle(new ProbeMissed(Peer, default, A, 2));
        Assert.DoesNotContain(_log.Entries, e => e.Message.Contains("Responder", StringComparison.Ordinal));
    }

    [Fact]
    public void Each_actuator_gets_its_part()
    {
        Start();
        var schedule = Drain(_prober);
        var paths = schedule.OfType<ProbePaths>().Last();
        Assert.Equal([(A, "upa"), (B, "upb")], paths.Paths.Select(p => (p.Path, p.Link)));
        var listen = Assert.Single(Drain(_responder).OfType<ListenOn>());
        Assert.True(listen.Addresses.SetEquals([A.Src, B.Src]));

        _loop.Handle(new ProbeReplied(Peer, default, A, 1, 10, null, null));
        var command = Assert.Single(Drain(_switcher));
        var decided = Assert.IsType<EndpointSwitchDecided>(command.Decision);
        Assert.Equal(A, decided.To);
        Assert.NotNull(decided.TraceId);
        Assert.Equal(decided.TraceId, command.Trace.TraceId.ToHexString());
        Assert.Equal(A, Assert.Single(Drain(_prober).OfType<ProbeActive>()).Path);

        _loop.Handle(new MoveRequested(Peer, default, Endpoint.Parse("198.18.2.2:51820"), null, 9));
        Assert.Equal(9ul, Assert.IsType<FollowMove>(Assert.Single(Drain(_responder))).Move.Sequence);
    }

    [Fact]
    public async Task The_loop_wakes_at_the_engines_deadlines_on_its_time_provider()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _loop.StartAsync(stop.Token);
        foreach (var e in Configuration())
            _inbox.Post(e);
        _inbox.Post(new ProbeReplied(Peer, default, A, 1, 10, null, null));
        var decided = await _switcher.Reader.ReadAsync(stop.Token);
        Assert.IsType<EndpointSwitchDecided>(decided.Decision);
        // The peer has not reported our new source: at +100 ms of the loop's clock, not the wall clock, a re-assertion.
        await Task.Delay(200, stop.Token);
        Assert.False(_switcher.Reader.TryRead(out _));
        // The decision was stamped a few ticks after the clock's instant (inputs are a tick apart).
        _time.Advance(TimeSpan.FromMilliseconds(99));
        await Task.Delay(200, stop.Token);
        Assert.False(_switcher.Reader.TryRead(out _));
        _time.Advance(TimeSpan.FromMilliseconds(2));
        var reasserted = await _switcher.Reader.ReadAsync(stop.Token);
        var r = Assert.IsType<SwitchReasserted>(reasserted.Decision);
        Assert.Equal(1, r.Attempt);
        Assert.Equal(decided.Decision.TraceId, r.TraceId);
        await _loop.StopAsync(CancellationToken.None);
    }

    public void Dispose()
    {
        _loop.Dispose();
        _recorder.Dispose();
        _connector.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_dir, recursive: true);
    }
}
