using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;
using WgRouted.Engine.Replay;

namespace WgRouted.Service.Replay;

/// <summary>A history replayed with one policy: the outputs it re-derives, what they cost, and the picture's series.</summary>
public sealed class Analysis
{
    private Analysis(History history, EndpointPolicy policy)
    {
        History = history;
        Policy = policy;
    }

    public History History { get; }
    public EndpointPolicy Policy { get; }
    public List<PeerEvent> Derived { get; private set; } = [];
    /// <summary>Dark time and time on a backup, over the window.</summary>
    public Exposure Exposure { get; } = new();
    public Dictionary<CandidatePath, List<(DateTimeOffset At, double SrttMs)>> Srtt { get; } = [];
    public Dictionary<CandidatePath, List<(DateTimeOffset From, DateTimeOffset To)>> Down { get; } = [];
    public List<(DateTimeOffset From, DateTimeOffset To, CandidatePath Path)> Active { get; } = [];

    /// <param name="observe">Also measure exposure and collect the picture's series (a turn costs about twice as much).</param>
    /// <param name="variant">A what-if policy, used from the window's start on (the history before it as recorded).</param>
    public static Analysis Run(History history, EndpointPolicy policy, bool observe = true, EndpointPolicy? variant = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        var analysis = new Analysis(history, variant ?? policy);
        var ends = PeerReplay.RunEnds(history.Inputs, history.Outputs, history.To);
        analysis.Derived = PeerReplay.Run(policy, history.Inputs, ends, observe ? analysis.Observe : null,
            variant is null ? null : (history.From, variant));
        analysis.Close(history.To);
        return analysis;
    }

    private readonly Dictionary<CandidatePath, DateTimeOffset> _downSince = [];
    private (DateTimeOffset From, CandidatePath Path)? _active;

    private void Observe(PeerState state, DateTimeOffset at)
    {
        if (at < History.From || at > History.To)
        {
            if (at < History.From)
                Exposure.Observe(state, History.From);
            return;
        }
        Exposure.Observe(state, at);
        foreach (var p in state.Paths)
        {
            if (p.Quality.SrttMs is { } srtt)
            {
                if (!Srtt.TryGetValue(p.Path, out var points))
                    Srtt[p.Path] = points = [];
                if (points.Count == 0 || points[^1].SrttMs != srtt)
                    points.Add((at, srtt));
            }
            var down = p.Down || p.Quality.ConsecutiveMisses >= Policy.Options.LossThreshold;
            if (down && !_downSince.ContainsKey(p.Path))
                _downSince[p.Path] = at;
            else if (!down && _downSince.Remove(p.Path, out var since))
                AddDown(p.Path, since, at);
        }
        foreach (var gone in _downSince.Keys.Where(k => state.Find(k) is null).ToList())
        {
            AddDown(gone, _downSince[gone], at);
            _downSince.Remove(gone);
        }
        if (_active?.Path != state.Active)
        {
            if (_active is { } a && at > a.From)
                Active.Add((a.From, at, a.Path));
            _active = state.Active is { } now ? (at, now) : null;
        }
    }

    private void AddDown(CandidatePath path, DateTimeOffset from, DateTimeOffset to)
    {
        if (!Down.TryGetValue(path, out var list))
            Down[path] = list = [];
        list.Add((from, to));
    }

    private void Close(DateTimeOffset end)
    {
        foreach (var (path, since) in _downSince)
            AddDown(path, since, end);
        _downSince.Clear();
        if (_active is { } a && end > a.From)
            Active.Add((a.From, end, a.Path));
    }

    /// <summary>Path decisions re-derived in the window (switches and unreachable), for what-if comparisons.</summary>
    public IEnumerable<PeerEvent> Decisions =>
        Derived.Where(e => e is EndpointSwitchDecided or PeerUnreachable && History.InWindow(e.At));
}
