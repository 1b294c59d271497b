using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;
using WgRouted.Service.Probing;
using WgRouted.Service.Store;

namespace WgRouted.Service.Daemon;

/// <summary>
/// The single reader of the inbox. Stamps every input with the loop's clock (engine time: strictly increasing, so a
/// replay merging the stored inputs by time folds them in this order), turns the engine (<see cref="PeerTable"/>),
/// hands each actuator its part through its mailbox, traces switches, and passes inputs and outputs to the appender
/// (Marten) and probe outcomes to the recorder. Never waits on the database or an actuator.
/// </summary>
public sealed partial class PolicyLoop(
    Inbox inbox, EndpointPolicy policy, Appender appender, ProbeRecorder recorder,
    Mailbox<SwitchCommand> switcher, Mailbox<ProbeSchedule> prober, Mailbox<HandshakeSchedule> handshakes, Mailbox<ResponderCommand> responder,
    Mailbox<Babel.TunnelCommand> tunnels, Mailbox<Babel.BabelRequest> babel,
    FailoverTraces traces, TimeProvider time, ILogger<PolicyLoop> logger)
    : BackgroundService
{
    private readonly PeerTable _table = new(policy);
    // The active path's miss after which each peer's paths were last probed for a witness (EndpointPolicy.WitnessProbeWanted).
    private readonly Dictionary<PeerKey, DateTimeOffset> _witnessProbed = [];
    private readonly List<PeerEvent> _emitted = [];
    private readonly Lock _gate = new();
    private readonly Dictionary<PeerKey, (List<(CandidatePath, string?)> Paths, CandidatePath? Active)> _told = [];
    private HashSet<IPAddress> _listening = [];
    private DateTimeOffset _clock = DateTimeOffset.MinValue;
    private readonly string _hostStream = EventStore.HostStream(Environment.MachineName);
    private readonly MonotonicClock _now = new(time);
    private readonly Dictionary<PeerKey, DateTimeOffset> _configuredAt = [];
    private readonly HashSet<PeerKey> _toldStock = [];

    /// <summary>How long a peer with a responder may answer no probe while its handshakes succeed before we say so.</summary>
    public static readonly TimeSpan SilentResponderAfter = TimeSpan.FromSeconds(10);

    /// <summary>A copy of every peer's state, for `show` and tests.</summary>
    public IReadOnlyList<PeerState> Snapshot()
    {
        lock (_gate)
            return _table.States.Select(p => p.Clone()).ToList();
    }

    /// <summary>The loop runs on a thread of its own (<see cref="Doorbell"/>), woken by an input or its next deadline.</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Loop(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Loop(CancellationToken stoppingToken)
    {
        Thread.CurrentThread.Name = "policy loop";
        var reader = inbox.Reader;
        using var stopping = stoppingToken.Register(inbox.Bell.Ring);
        while (!stoppingToken.IsCancellationRequested)
        {
            DateTimeOffset? deadline;
            lock (_gate)
                deadline = _table.NextDeadline();
            var now = _now.Now;
            if (deadline is { } d && d <= now)
            {
                Advance(now);
                continue;
            }
            inbox.Bell.Wait(deadline, _now, time);
            while (reader.TryRead(out var item))
                Handle(item);
            if (reader.Completion.IsCompleted)
                return;
        }
    }

    /// <summary>One input, stamped with the loop's clock; public for tests, which drive the loop without the host.</summary>
    public void Handle(object item)
    {
        switch (item)
        {
            case HostEvent h:
                var stamped = h with { At = Stamp() };
                appender.Post(_hostStream, stamped);
                if (h is LinkChanged link)
                    prober.Post(new ProbeLink(link.Name, link.Up && link.Carrier));
                // A route, address or link change: every path may have changed, probe them now.
                prober.Post(new ProbeNow(null));
                handshakes.Post(new HandshakeSchedule(new ProbeNow(null)));
                break;
            case PeerEvent e:
                e = e with { At = Stamp() };
                PeerState state;
                _emitted.Clear();
                lock (_gate)
                    state = _table.Turn(e, _emitted);
                // The active path's first unanswered probe: probe every path of the peer at once and fast, so that a
                // silent loss of every path is known (PeerUnreachable) within LossThreshold active intervals.
                if (e is ProbeMissed missed && !state.Stock && missed.Path == state.Active && state.Find(missed.Path)?.Quality.ConsecutiveMisses == 1)
                    prober.Post(new ProbeNow(missed.Peer));
                else if (e is ProbeReplied replied && replied.Path != state.Active
                         && _table.Policy.WitnessProbeWanted(state, e.At) is { } miss && _witnessProbed.GetValueOrDefault(e.Peer) != miss)
                {
                    _witnessProbed[e.Peer] = miss;
                    prober.Post(new ProbeNow(replied.Peer));
                }
                Emit(e);
                if (e is PeerConfigured)
                    _configuredAt[e.Peer] = e.At;
                else if (e is ReceiveStalled)
                    Schedule(state, new ProbeNow(e.Peer));
                else if (e is ProbeMissed or HandshakeObserved)
                    WarnIfStock(state, e.At);
                // Only candidates (or a restart) change the paths; probe outcomes, every few milliseconds, do not.
                Tell(e.Peer, state, pathsChanged: e is CandidatesResolved or PeerConfigured);
                if (e is CandidatesResolved)
                    Listen();
                break;
            case LoopHeartbeat beat:
                beat.Answer();
                break;
            default:
                LogUnknownInput(logger, item.GetType().Name);
                break;
        }
    }

    private void Advance(DateTimeOffset now)
    {
        _emitted.Clear();
        lock (_gate)
            _table.AdvanceTo(now, _emitted);
        Emit(input: null);
        foreach (var peer in _emitted.Select(e => e.Peer).Distinct().ToList())
            if (_table.Find(peer) is { } state)
                Tell(peer, state, pathsChanged: false);
    }

    private DateTimeOffset Stamp()
    {
        var now = _now.Now;
        _clock = now > _clock ? now : _clock.AddTicks(1);
        return _clock;
    }

    /// <summary>
    /// One turn's history, in order: the input stored (probe outcomes by the recorder), the outputs traced (the input
    /// is the trigger of those after it), stored and handed to the actuators.
    /// </summary>
    private void Emit(PeerEvent? input)
    {
        PeerEvent? trigger = null;
        for (var i = 0; i < _emitted.Count; i++)
        {
            if (input is not null && ReferenceEquals(_emitted[i], input))
            {
                if (input is ProbeResult probe)
                    recorder.Post(ProbeOutcome.From(probe));
                else
                    appender.Post(input.Peer.Base64, input);
                trigger = input;
                continue;
            }
            var state = _table.Find(_emitted[i].Peer)!;
            var e = traces.Trace(_emitted[i], trigger, state);
            appender.Post(e.Peer.Base64, e);
            switch (e)
            {
                case EndpointSwitchDecided d:
                    Telemetry.Switches.Add(1, new KeyValuePair<string, object?>("reason", d.Reason.ToString()));
                    LogDecision(logger, e.Peer.Base64, Describe(e));
                    switcher.Post(new SwitchCommand(d, traces.ContextOf(d.Peer)));
                    break;
                case SwitchReasserted r:
                    if (r.Seen is { } seen)
                        LogUnstuck(logger, r.Peer.Base64, seen.ToString(), r.Path.Src.ToString());
                    switcher.Post(new SwitchCommand(r, traces.ContextOf(r.Peer)));
                    break;
                case SwitchConverged c:
                    Telemetry.Convergence.Record(c.ElapsedMs);
                    // A stock peer's switch was the handshake; now that it was answered, pin the source here.
                    if (state.Stock)
                        switcher.Post(new SwitchCommand(c, traces.ContextOf(c.Peer)));
                    break;
                case PeerUnreachable or SwitchFailed:
                    LogDecision(logger, e.Peer.Base64, Describe(e));
                    break;
                case MoveFollowed m:
                    responder.Post(new FollowMove(m));
                    break;
                case TunnelWithdrawn or TunnelRestored:
                    LogDecision(logger, e.Peer.Base64, Describe(e));
                    tunnels.Post(new Babel.TunnelCommand(e));
                    break;
                case BabelInterfaceAdded a:
                    babel.Post(new Babel.BabelRequest(a));
                    break;
                case PathMismatch m:
                    LogMismatch(logger, m.Peer.Base64, m.Active.ToString(), m.BabelRttMs, m.ProbeSrttMs);
                    break;
            }
        }
    }

    /// <summary>The prober learns of changed candidates and a changed active path.</summary>
    private void Tell(PeerKey peer, PeerState state, bool pathsChanged)
    {
        // One lookup: this runs for every probe outcome.
        ref var told = ref CollectionsMarshal.GetValueRefOrAddDefault(_told, peer, out _);
        var paths = told.Paths;
        if (pathsChanged || paths is null)
        {
            var links = state.Sources.ToDictionary(s => s.Address, s => (string?)s.Link);
            paths = state.Paths.Select(p => (p.Path, links.GetValueOrDefault(p.Path.Src))).ToList();
            if (told.Paths is null || !told.Paths.SequenceEqual(paths))
                Schedule(state, new ProbePaths(peer, paths));
        }
        if (told.Paths is null || told.Active != state.Active)
            Schedule(state, new ProbeActive(peer, state.Active));
        told = (paths, state.Active);
    }

    /// <summary>
    /// Once per peer: WireGuard handshakes with it succeed, yet no probe was ever answered since the start: it runs no
    /// responder (or a firewall drops the probe port). Probably a stock peer configured as a WgRouted one.
    /// </summary>
    private void WarnIfStock(PeerState state, DateTimeOffset now)
    {
        var peer = PeerKey.Parse(state.Id);
        if (state.Stock || state.LatestHandshake is not { } handshake || !_configuredAt.TryGetValue(peer, out var since)
            || handshake <= since || now - since < SilentResponderAfter || _toldStock.Contains(peer)
            || state.Paths.Count == 0 || state.Paths.Exists(p => p.Quality.LastSuccessAt is not null))
            return;
        _toldStock.Add(peer);
        LogProbablyStock(logger, state.Id, handshake.ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture), state.ProbePort);
    }

    /// <summary>A stock peer's paths are the handshake prober's; the others' the prober's.</summary>
    private void Schedule(PeerState state, ProbeSchedule command)
    {
        if (state.Stock)
            handshakes.Post(new HandshakeSchedule(command));
        else
            prober.Post(command);
    }

    /// <summary>The responder listens on every usable source of ours.</summary>
    private void Listen()
    {
        HashSet<IPAddress> sources;
        lock (_gate)
            sources = _table.States.SelectMany(s => s.Sources).Select(s => s.Address).ToHashSet();
        if (sources.SetEquals(_listening))
            return;
        _listening = sources;
        responder.Post(new ListenOn(sources));
    }

    public static string Describe(PeerEvent e) => e switch
    {
        EndpointSwitchDecided d => $"switch ({d.Reason}) {(d.From is { } f ? f.ToString() : "none")} => {d.To}",
        PeerUnreachable u => $"unreachable (no usable path; endpoint stays {(u.Active is { } a ? a.ToString() : "unset")})",
        SwitchFailed f => $"switch to {f.Path} failed: {f.Reason}",
        TunnelWithdrawn w => $"no path: tunnel {w.Interface} taken down for babeld",
        TunnelRestored r => $"a path answers: tunnel {r.Interface} up again",
        _ => e.GetType().Name,
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "The policy loop got an input it does not know: {Type}")]
    private static partial void LogUnknownInput(ILogger logger, string type);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peer {Peer} reaches us at {Seen} again, not {Source}: re-asserting the switch")]
    private static partial void LogUnstuck(ILogger logger, string peer, string seen, string source);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peer {Peer}: babeld measures {BabelRtt:0.0} ms over the tunnel, the probes {ProbeRtt:0.0} ms on {Path}: the tunnel is not where WgRouted thinks")]
    private static partial void LogMismatch(ILogger logger, string peer, string path, double babelRtt, double probeRtt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peer {Peer}: WireGuard handshakes succeed (the latest at {Handshake} UTC) but no probe to its port {ProbePort} was ever answered: it runs no WgRouted responder (or the port is filtered). If it runs WireGuard only, configure it with \"Responder\": false")]
    private static partial void LogProbablyStock(ILogger logger, string peer, string handshake, int probePort);

    [LoggerMessage(Level = LogLevel.Information, Message = "Peer {Peer}: {Decision}")]
    private static partial void LogDecision(ILogger logger, string peer, string decision);
}
