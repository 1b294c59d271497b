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
    public DateTimeOffset Now { get; private set; } = T0;
    public bool Probing { get; set; } = true;
    public List<PeerEvent> Decisions { get; } = [];
    /// <summary>Every event the daemon would store: inputs other than probe results, reports and decisions.</summary>
    public List<PeerEvent> Stored { get; } = [];
    public int Probes { get; private set; }
    /// <summary>Called with the state before the decision is folded, at the decision's time.</summary>
    public Action<PeerState, PeerEvent>? OnDecision { get; set; }
    /// <summary>Called after every loop step (event or deadline) with the state and the time.</summary>
    public Action<PeerState, DateTimeOffset>? AfterStep { get; set; }

    public IEnumerable<EndpointSwitchDecided> Switches => Decisions.OfType<EndpointSwitchDecided>();
    public double Ms => (Now - T0).TotalMilliseconds;

    public static DateTimeOffset At(double ms) => T0.AddMilliseconds(ms);

    /// <summary>CandidatesResolved with these paths; the peer's configured endpoints are Dst4 (order 0), then Dst6 (order 1).</summary>
    public Simulation Candidates(params CandidatePath[] paths) =>
        Candidates(paths.Select(p => new Candidate(p, p.Dst == Dst4 ? 0 : 1)).ToArray());

    public Simulation Candidates(params Candidate[] candidates)
    {
        foreach (var gone in _links.Keys.Where(k => !candidates.Any(c => c.Path == k)).ToList())
            _links.Remove(gone);
        foreach (var c in candidates)
            if (!_links.ContainsKey(c.Path))
                _links[c.Path] = new Link { NextProbe = Now };
        return Post(new CandidatesResolved(Peer, Now, candidates));
    }

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

    public Simulation Reply(CandidatePath path, double rttMs) => Post(new ProbeReplied(Peer, Now, path, rttMs));
    public Simulation Miss(CandidatePath path) => Post(new ProbeMissed(Peer, Now, path));

    /// <summary>Folds one event at <see cref="Now"/> through the loop.</summary>
    public Simulation Post(PeerEvent e)
    {
        Fold(e, store: e is not ProbeResult);
        var reported = Policy.Report(State, Now);
        if (reported is not null)
            foreach (var r in reported)
                Fold(r, store: true);
        var d = Policy.Decide(State, Now);
        if (d is not null)
            FoldDecision(d);
        AfterStep?.Invoke(State, Now);
        return this;
    }

    /// <summary>Advances time to <paramref name="ms"/> after T0, probing and waking at the policy's deadlines.</summary>
    public Simulation RunTo(double ms)
    {
        var end = At(ms);
        for (var guard = 0; ; guard++)
        {
            if (guard > 1_000_000)
                throw new InvalidOperationException("simulation does not advance");
            var deadline = Policy.NextDeadline(State);
            if (deadline is { } due && due <= Now)
            {
                // The daemon would wake at once: that must lead to a decision, or it spins.
                var d = Policy.Decide(State, Now);
                if (d is null)
                    throw new InvalidOperationException($"NextDeadline {due:HH:mm:ss.fffffff} is not after the last Decide at {Now:HH:mm:ss.fffffff} (+{Ms} ms) that decided nothing: the loop would spin");
                FoldDecision(d);
                AfterStep?.Invoke(State, Now);
                continue;
            }
            var probeAt = Probing && _links.Count > 0 ? _links.Values.Min(l => l.NextProbe) : DateTimeOffset.MaxValue;
            var next = deadline is { } dl && dl < probeAt ? dl : probeAt;
            if (next > end)
                break;
            Now = next;
            if (next < probeAt)
            {
                var d = Policy.Decide(State, Now);
                if (d is not null)
                    FoldDecision(d);
                AfterStep?.Invoke(State, Now);
                continue;
            }
            // Replies come back in RTT order; losses are noticed last.
            foreach (var (path, link) in _links.Where(l => l.Value.NextProbe == next).OrderBy(l => l.Value.RttMs ?? double.MaxValue).ToList())
            {
                Probes++;
                link.NextProbe = next + (State.Active == path ? ActiveProbe : StandbyProbe);
                if (!link.Stalled)
                    Post(link.RttMs is { } rtt ? new ProbeReplied(Peer, Now, path, rtt) : new ProbeMissed(Peer, Now, path));
            }
        }
        Now = end;
        return this;
    }

    public Simulation RunFor(double ms) => RunTo(Ms + ms);

    private void FoldDecision(PeerEvent d)
    {
        if (Decisions.Count > 0 && Decisions[^1].At == d.At && Decisions.Count(x => x.At == d.At) >= 3)
            throw new InvalidOperationException($"the policy keeps deciding at {d.At:HH:mm:ss.fff}: {string.Join(", ", Decisions.Where(x => x.At == d.At))}");
        OnDecision?.Invoke(State, d);
        Decisions.Add(d);
        Fold(d, store: true);
        // The prober moves to the active rate for the new active path.
        if (d is EndpointSwitchDecided s && _links.TryGetValue(s.To, out var link) && link.NextProbe > Now + ActiveProbe)
            link.NextProbe = Now + ActiveProbe;
    }

    private void Fold(PeerEvent e, bool store)
    {
        State = Policy.Evolve(State, e);
        if (store)
            Stored.Add(e);
    }

    /// <summary>The decisions as "+ms To Reason" lines, for readable assertions.</summary>
    public string Timeline() => string.Join("\n", Decisions.Select(Describe));

    public static string Describe(PeerEvent e) => e switch
    {
        EndpointSwitchDecided s => $"{(s.At - T0).TotalMilliseconds} {Name(s.To)} {s.Reason}",
        PeerUnreachable u => $"{(u.At - T0).TotalMilliseconds} unreachable",
        _ => e.ToString(),
    };

    public static string Name(CandidatePath p) =>
        p == A4 ? "A4" : p == B4 ? "B4" : p == A6 ? "A6" : p == B6 ? "B6" : p.ToString();

    public PathState Path(CandidatePath p) => State.Find(p) ?? throw new InvalidOperationException($"{p} is not a candidate");
}
