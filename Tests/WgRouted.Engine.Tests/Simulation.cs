using System.Net;
using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;

namespace WgRouted.Engine.Tests;

/// <summary>
/// Plays a peer's timeline through the policy the way the daemon's loop does: fold the event, fold what
/// Report returns, Decide and fold the decision, and wake at NextDeadline to Decide without an event.
/// A simple prober probes every candidate path (active at the active rate, the others at the standby rate)
/// and answers according to each link's condition (an RTT, or null for silence).
/// </summary>
public sealed class Simulation
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);
    public static readonly PeerKey Peer = PeerKey.FromBytes(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    // Two uplinks, each with an IPv4 and an IPv6 source; the peer has one endpoint of each family.
    public static readonly Endpoint Dst4 = Endpoint.Parse("198.51.100.7:51820");
    public static readonly Endpoint Dst6 = Endpoint.Parse("[2001:db8:ff::7]:51820");
    public static readonly CandidatePath A4 = new(IPAddress.Parse("192.0.2.10"), Dst4);
    public static readonly CandidatePath B4 = new(IPAddress.Parse("203.0.113.10"), Dst4);
    public static readonly CandidatePath A6 = new(IPAddress.Parse("2001:db8:a::10"), Dst6);
    public static readonly CandidatePath B6 = new(IPAddress.Parse("2001:db8:b::10"), Dst6);

    private sealed class Link
    {
        public double? RttMs;
        public bool Stalled;
        public DateTimeOffset NextProbe;
    }

    private readonly Dictionary<CandidatePath, Link> _links = [];

    public Simulation(PolicyOptions? options = null, TimeSpan? activeProbe = null, TimeSpan? standbyProbe = null)
    {
        Policy = new EndpointPolicy(options ?? PolicyOptions.Default);
        ActiveProbe = activeProbe ?? Policy.Options.ActiveInterval;
        StandbyProbe = standbyProbe ?? Policy.Options.StandbyInterval;
    }

    public EndpointPolicy Policy { get; }
    public TimeSpan ActiveProbe { get; }
    public TimeSpan StandbyProbe { get; }
    public PeerState State { get; private set; } = new() { Id = Peer.Base64 };
    /// <summary>The whole history (every input, probe outcomes included, and every output) folded by Evolve alone.</summary>
    public PeerState Shadow { get; private set; } = new() { Id = Peer.Base64 };
    public DateTimeOffset Now { get; private set; } = T0;
    public bool Probing { get; set; } = true;
    /// <summary>Stamp inputs a tick apart when they share an instant, as the daemon's loop does (a stored history merges by time).</summary>
    public bool UniqueTimes { get; set; }
    private DateTimeOffset _clock = DateTimeOffset.MinValue;
    /// <summary>The simulated responder follows moves: our endpoint as it reports it (null: it answers without one).</summary>
    public bool PeerFollows { get; set; } = true;
    /// <summary>Path decisions only (switches and unreachable).</summary>
    public List<PeerEvent> Decisions { get; } = [];
    /// <summary>Every output, in order.</summary>
    public List<PeerEvent> Outputs { get; } = [];
    /// <summary>Every event the daemon would store in Marten: inputs other than probe outcomes, and every output.</summary>
    public List<PeerEvent> Stored { get; } = [];
    /// <summary>Every input, probe outcomes included: what a replay folds.</summary>
    public List<PeerEvent> Inputs { get; } = [];
    public int Probes { get; private set; }
    private ulong _sequence;
    private DateTimeOffset? _witnessProbed;
    private Endpoint? _peerSees;
    /// <summary>Answers to move requests in flight: they arrive after the path's RTT, like any probe answer.</summary>
    private readonly List<(DateTimeOffset At, CandidatePath Path, double RttMs)> _moveAnswers = [];
    /// <summary>Called with the state just before each output is folded (the stored stream's fold), at its time.</summary>
    public Action<PeerState, PeerEvent>? OnDecision { get; set; }
    /// <summary>Called after every loop step (event or deadline) with the state and the time.</summary>
    public Action<PeerState, DateTimeOffset>? AfterStep { get; set; }

    public IEnumerable<EndpointSwitchDecided> Switches => Decisions.OfType<EndpointSwitchDecided>();
    public double Ms => (Now - T0).TotalMilliseconds;

    public static DateTimeOffset At(double ms) => T0.AddMilliseconds(ms);

    /// <summary>CandidatesResolved with these paths; the peer's configured endpoints are Dst4 (order 0), then Dst6 (order 1).</summary>
    public Simulation Candidates(params CandidatePath[] paths)
    {
        foreach (var gone in _links.Keys.Where(k => !paths.Contains(k)).ToList())
            _links.Remove(gone);
        foreach (var p in paths)
            if (!_links.ContainsKey(p))
                _links[p] = new Link { NextProbe = Now };
        // Endpoints and sources crossed give exactly these paths only when every cross is wanted: a path list that is not
        // a full cross is expressed by its own sources per destination, which Cross keeps apart by family.
        return Post(Resolved(Peer, Now, paths));
    }

    /// <summary>The CandidatesResolved input whose cross is <paramref name="paths"/> (sources and endpoints they use).</summary>
    public static CandidatesResolved Resolved(PeerKey peer, DateTimeOffset at, IEnumerable<CandidatePath> paths)
    {
        var list = paths.ToList();
        var endpoints = list.Select(p => p.Dst).Distinct().Select(d => new ResolvedEndpoint(d == Dst4 ? 0 : d == Dst6 ? 1 : 2, d)).ToList();
        var sources = list.Select(p => p.Src).Distinct().Select(a => new Source(a, Uplink(a))).ToList();
        var crossed = Engine.Candidates.Cross(endpoints.Select(e => (e.Order, e.Endpoint)), sources.Select(s => s.Address)).Select(c => c.Path);
        if (!crossed.ToHashSet().SetEquals(list))
            throw new ArgumentException($"{string.Join(", ", list)} is not a cross of sources and endpoints");
        return new CandidatesResolved(peer, at, endpoints, sources);
    }

    public static string Uplink(System.Net.IPAddress a) => a.Equals(A4.Src) || a.Equals(A6.Src) ? "upa" : "upb";

    /// <summary>Sets a link's condition: probes over it answer after <paramref name="rttMs"/>, or are lost (null).</summary>
    public Simulation Up(CandidatePath path, double rttMs = 20)
    {
        _links[path].RttMs = rttMs;
        _links[path].Stalled = false;
        return this;
    }

    public Simulation Silent(CandidatePath path)
    {
        _links[path].RttMs = null;
        _links[path].Stalled = false;
        return this;
    }

    /// <summary>The prober stops reporting anything for the path (neither replies nor misses).</summary>
    public Simulation Stall(CandidatePath path)
    {
        _links[path].Stalled = true;
        return this;
    }

    public Simulation Preferred(Endpoint dst, CandidatePath? via) =>
        Post(new PreferredSourceChanged(Peer, Now, dst.Address, via?.Src));

    public Simulation Reply(CandidatePath path, double rttMs) =>
        Post(Stock
            // A handshake answered: the peer took the source it came from (our listen port) as our endpoint.
            ? new ProbeReplied(Peer, Now, path, ++_sequence, rttMs, null, new Endpoint(path.Src, 51820))
            : new ProbeReplied(Peer, Now, path, ++_sequence, rttMs, new Endpoint(path.Src, 40000), PeerFollows ? _peerSees : null));

    /// <summary>
    /// A stock peer (no responder): configured so, and probed as the handshake prober does: the active path only, at the
    /// active rate, again <see cref="HandshakeRetry"/> after a miss; a decided switch sends a handshake at once.
    /// </summary>
    public bool Stock { get; private set; }

    public static readonly TimeSpan HandshakeRetry = TimeSpan.FromMilliseconds(60);

    public Simulation StockPeer()
    {
        Stock = true;
        return Post(new PeerConfigured(Peer, Now, "wg0", [Dst4.ToString(), Dst6.ToString()], 51821, Responder: false));
    }

    public Simulation Miss(CandidatePath path) => Post(new ProbeMissed(Peer, Now, path, ++_sequence));

    /// <summary>One loop turn for <paramref name="e"/> at its time (deadlines due before it first).</summary>
    public Simulation Post(PeerEvent e)
    {
        if (UniqueTimes)
        {
            _clock = e.At > _clock ? e.At : _clock.AddTicks(1);
            e = e with { At = _clock };
        }
        Inputs.Add(e);
        // The daemon's order: the deadlines due before the input, then the input, then what it leads to.
        var history = new List<PeerEvent>();
        State = Policy.Turn(State, e, history);
        foreach (var x in history)
        {
            if (!ReferenceEquals(x, e))
            {
                Output(x);
                continue;
            }
            Shadow = Policy.Evolve(Shadow, e);
            if (e is not ProbeResult)
                Stored.Add(e);
        }
        AfterStep?.Invoke(State, Now);
        return this;
    }

    /// <summary>Advances time to <paramref name="ms"/> after T0, probing; the policy's deadlines fall due in between.</summary>
    public Simulation RunTo(double ms)
    {
        var end = At(ms);
        for (var guard = 0; ; guard++)
        {
            if (guard > 1_000_000)
                throw new InvalidOperationException("simulation does not advance");
            var probeAt = !Probing || _links.Count == 0 ? DateTimeOffset.MaxValue
                : !Stock ? _links.Values.Min(l => l.NextProbe)
                : State.Active is { } a && _links.TryGetValue(a, out var probed) ? (probed.NextProbe > Now ? probed.NextProbe : Now) : DateTimeOffset.MaxValue;
            if (_moveAnswers.Count > 0 && _moveAnswers.Min(m => m.At) is var moveAt && moveAt <= probeAt && moveAt <= end)
            {
                var answer = _moveAnswers.First(m => m.At == moveAt);
                _moveAnswers.Remove(answer);
                Now = moveAt;
                _peerSees = new Endpoint(answer.Path.Src, 51820);
                Reply(answer.Path, answer.RttMs);
                continue;
            }
            var deadline = Policy.NextDeadline(State);
            if (deadline is { } d && d < probeAt && d <= end)
            {
                if (d < Now)
                    throw new InvalidOperationException($"NextDeadline {d:HH:mm:ss.fffffff} is before now (+{Ms} ms)");
                Now = d;
                var emitted = new List<PeerEvent>();
                Policy.AdvanceTo(State, d, emitted);
                Emitted(emitted);
                if (Policy.NextDeadline(State) is { } again && again <= d)
                    throw new InvalidOperationException($"NextDeadline {again:HH:mm:ss.fffffff} is not after the turn at +{Ms} ms: the loop would spin");
                AfterStep?.Invoke(State, Now);
                continue;
            }
            if (probeAt > end)
                break;
            Now = probeAt;
            // Replies come back in RTT order; losses are noticed last.
            foreach (var (path, link) in _links.Where(l => Stock ? l.Key == State.Active : l.Value.NextProbe == probeAt)
                         .OrderBy(l => l.Value.RttMs ?? double.MaxValue).ToList())
            {
                Probes++;
                link.NextProbe = probeAt + (Stock && link.RttMs is null ? HandshakeRetry : State.Active == path ? ActiveProbe : StandbyProbe);
                if (!link.Stalled)
                {
                    if (link.RttMs is { } rtt)
                        Reply(path, rtt);
                    else
                        Miss(path);
                    // The daemon's loop asks the prober to probe every path at once when the active path misses a
                    // first probe, and when another path answers while the active one awaits a witness.
                    var first = link.RttMs is null && path == State.Active && State.Find(path)?.Quality.ConsecutiveMisses == 1;
                    var witness = link.RttMs is not null && path != State.Active ? Policy.WitnessProbeWanted(State, Now) : null;
                    if (!Stock && (first || witness is not null && witness != _witnessProbed))
                    {
                        _witnessProbed = witness ?? _witnessProbed;
                        foreach (var (other, next) in _links)
                            if (other != path)
                                next.NextProbe = Now;
                    }
                }
            }
        }
        Now = end;
        return this;
    }

    public Simulation RunFor(double ms) => RunTo(Ms + ms);

    private void Emitted(List<PeerEvent> emitted)
    {
        foreach (var d in emitted)
            Output(d);
    }

    private void Output(PeerEvent d)
    {
        OnDecision?.Invoke(Shadow, d);
        Shadow = Policy.Evolve(Shadow, d);
        Outputs.Add(d);
        Stored.Add(d);
        if (d is EndpointSwitchDecided or PeerUnreachable)
        {
            if (Decisions.Count > 0 && Decisions[^1].At == d.At && Decisions.Count(x => x.At == d.At) >= 3)
                throw new InvalidOperationException($"the policy keeps deciding at {d.At:HH:mm:ss.fff}: {string.Join(", ", Decisions.Where(x => x.At == d.At))}");
            Decisions.Add(d);
        }
        // The simulated switcher and responder: a move request goes out over the path and, when the path carries
        // it, the peer moves its endpoint for us and answers after the path's RTT.
        var moving = d switch
        {
            EndpointSwitchDecided decided => decided.To,
            SwitchReasserted reasserted => reasserted.Path,
            _ => (CandidatePath?)null,
        };
        if (!Stock && moving is { } path && _links.TryGetValue(path, out var moved) && moved.RttMs is { } moveRtt && !moved.Stalled && PeerFollows)
            _moveAnswers.Add((d.At.AddMilliseconds(moveRtt), path, moveRtt));
        if (d is EndpointSwitchDecided s)
        {
            // The prober moves to the active rate for the new active path.
            if (Stock && _links.TryGetValue(s.To, out var tried))
                tried.NextProbe = Now;
            else if (_links.TryGetValue(s.To, out var link) && link.NextProbe > Now + ActiveProbe)
                link.NextProbe = Now + ActiveProbe;
        }
    }

    /// <summary>The decisions as "+ms To Reason" lines, for readable assertions.</summary>
    public string Timeline() => string.Join("\n", Decisions.Select(Describe));

    public static string Describe(PeerEvent e) => e switch
    {
        EndpointSwitchDecided s => $"{(s.At - T0).TotalMilliseconds} {Name(s.To)} {s.Reason}",
        PeerUnreachable u => $"{(u.At - T0).TotalMilliseconds} unreachable",
        SwitchConverged c => $"{(c.At - T0).TotalMilliseconds} {Name(c.Path)} converged",
        SwitchFailed f => $"{(f.At - T0).TotalMilliseconds} {Name(f.Path)} failed",
        SwitchReasserted r => $"{(r.At - T0).TotalMilliseconds} {Name(r.Path)} reasserted {r.Attempt}",
        _ => e.ToString(),
    };

    public static string Name(CandidatePath p) =>
        p == A4 ? "A4" : p == B4 ? "B4" : p == A6 ? "A6" : p == B6 ? "B6" : p.ToString();

    public PathState Path(CandidatePath p) => State.Find(p) ?? throw new InvalidOperationException($"{p} is not a candidate");
}
