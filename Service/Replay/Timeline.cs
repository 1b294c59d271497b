using System.Globalization;
using System.Net;
using System.Text;
using WgRouted.Engine;
using WgRouted.Engine.Events;

namespace WgRouted.Service.Replay;

/// <summary>A peer's history as text an operator reads top to bottom: what was seen, what was decided and why.</summary>
public sealed class Timeline
{
    private readonly Dictionary<CandidatePath, string> _names = [];
    private readonly History _history;
    private readonly Dictionary<IPAddress, string> _links = [];

    public Timeline(History history)
    {
        ArgumentNullException.ThrowIfNull(history);
        _history = history;
        foreach (var c in history.Inputs.OfType<CandidatesResolved>())
            foreach (var s in c.Sources)
                _links[s.Address] = s.Link;
        foreach (var e in history.Inputs.Concat(history.Outputs))
            foreach (var p in PathsOf(e))
                if (!_names.ContainsKey(p))
                    _names[p] = "p" + (_names.Count + 1).ToString(CultureInfo.InvariantCulture);
    }

    public string Name(CandidatePath p) => _names.TryGetValue(p, out var n) ? n : p.ToString();

    public string Label(CandidatePath p) => $"{Name(p)} {p.Src}{(_links.TryGetValue(p.Src, out var l) ? $" ({l})" : "")} -> {p.Dst}";

    /// <summary>
    /// The timeline; <paramref name="diffs"/> (from --verify) marks each recorded output matched or not. PathMeasured
    /// (RTT or loss moved) is listed only with <paramref name="measurements"/>: every decision shows the paths as it saw them.
    /// </summary>
    public string Render(IReadOnlyList<OutputDiff>? diffs, bool measurements = false)
    {
        var sb = new StringBuilder();
        var h = _history;
        var iface = h.Inputs.OfType<PeerConfigured>().LastOrDefault()?.Interface ?? "?";
        sb.AppendLine(CultureInfo.InvariantCulture, $"peer {h.Peer} on {iface}, {h.From.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff} to {h.To.UtcDateTime:HH:mm:ss.fff} UTC");
        foreach (var p in _names.Keys)
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {Label(p)}");
        var hidden = measurements ? 0 : h.Outputs.Count(e => e is PathMeasured && h.InWindow(e.At));
        var bad = diffs?.Where(d => d.Recorded is not null).Select(d => d.Recorded!).ToHashSet(ReferenceEqualityComparer.Instance);
        var rows = new List<(DateTimeOffset At, int Order, string Text)>();
        var i = 0;
        foreach (var e in h.Inputs.Where(e => e is not ProbeResult && h.InWindow(e.At)))
            if (Describe(e) is { } text)
                rows.Add((e.At, i++, "in   " + text));
        foreach (var e in h.Outputs.Where(e => h.InWindow(e.At) && (measurements || e is not PathMeasured)))
            if (Describe(e) is { } text)
            {
                var mark = bad is null ? "" : bad.Contains(e) ? "✗ " : "✓ ";
                rows.Add((e.At, i++, "OUT  " + mark + text + (e.TraceId is { } t && e is EndpointSwitchDecided or PeerUnreachable ? $"  [trace {t}]" : "")));
            }
        foreach (var e in h.Host.Where(e => Matters(e)))
            rows.Add((e.At, i++, "host " + DescribeHost(e)));
        foreach (var (at, _, text) in rows.OrderBy(r => r.At).ThenBy(r => r.Order))
            sb.AppendLine(CultureInfo.InvariantCulture, $"{at.UtcDateTime:HH:mm:ss.fff}  {text}");
        var probes = h.Inputs.OfType<ProbeResult>().Count(p => h.InWindow(p.At));
        var missed = h.Inputs.OfType<ProbeMissed>().Count(p => h.InWindow(p.At));
        sb.AppendLine(CultureInfo.InvariantCulture, $"  ({probes} probe outcomes in the window, {missed} unanswered; folded, not listed{(hidden > 0 ? $"; {hidden} RTT/loss changes (PathMeasured) not listed: --measurements lists them" : "")})");
        return sb.ToString();
    }

    private string? Describe(PeerEvent e) => e switch
    {
        PeerConfigured c => $"daemon started on {c.Interface}: endpoints {string.Join(", ", c.Endpoints)}, probe port {c.ProbePort}",
        CandidatesResolved c => $"candidates from endpoints {string.Join(", ", c.Endpoints.Select(x => x.Endpoint))} and sources {string.Join(", ", c.Sources.Select(s => $"{s.Address} ({s.Link})"))}",
        PreferredSourceChanged p => p.Src is { } src ? $"the kernel routes {p.Dst} from {src}" : $"the kernel has no route to {p.Dst}",
        PathLinkDown l => $"{Name(l.Path)} down: link {l.Link} lost carrier or went down",
        EndpointObserved o => $"WireGuard endpoint for the peer is {o.Endpoint}",
        HandshakeObserved => null,
        ReceiveStalled r => $"WireGuard sent {r.SentBytes} bytes to the peer and received nothing",
        PeerAdded a => $"peer added on {a.Interface}",
        PeerRemoved r => $"peer removed from {r.Interface}",
        EndpointSwitched s => $"pinned {Name(s.Path)} and set the endpoint",
        SwitchNotApplied n => $"could not pin or set the endpoint for {Name(n.Path)}: {n.Error}",
        MoveRequested m => $"the peer asks to be reached at {m.Requested} (endpoint was {m.Previous?.ToString() ?? "none"})",
        MoveNotApplied m => $"could not move to {m.Requested}: {m.Error}",
        PathWentDown d => $"{Name(d.Path)} down ({d.Reason})",
        PathCameUp u => $"{Name(u.Path)} up again, srtt {Ms(u.Quality.SrttMs)}",
        PathMeasured m => $"{Name(m.Path)} srtt {Ms(m.Quality.SrttMs)}, loss {m.Quality.Loss:P0}",
        EndpointSwitchDecided d => $"SWITCH ({d.Reason}) {(d.From is { } f ? Name(f) : "none")} -> {Name(d.To)}; saw {Inputs(d.Inputs, d.From)}",
        PeerUnreachable u => $"UNREACHABLE: no usable path, endpoint stays {(u.Active is { } a ? Name(a) : "unset")}; saw {Inputs(u.Inputs, u.Active)}",
        SwitchReasserted r => r.Seen is { } seen ? $"re-asserted {Name(r.Path)}: the peer sees us at {seen} again" : $"re-asserted {Name(r.Path)} (#{r.Attempt}): the peer has not reported our new source yet",
        SwitchConverged c => $"{Name(c.Path)} converged after {c.ElapsedMs:0} ms: the peer reaches us at {c.Path.Src}",
        SwitchFailed f => $"switch to {Name(f.Path)} FAILED: {f.Reason}",
        MoveFollowed m => $"moved our endpoint for the peer to {m.Requested}",
        _ => e.GetType().Name,
    };

    private string Inputs(IReadOnlyList<PathSnapshot> inputs, CandidatePath? active) => string.Join(" | ", inputs.Select(p =>
        $"{Name(p.Path)}{(p.Path == active ? "*" : "")} {(p.Usable ? "usable" : "unusable")}{(p.PreferredSource ? " preferred" : "")} srtt {Ms(p.SrttMs)} loss {p.Loss:P0}{(p.ConsecutiveMisses > 0 ? $" {p.ConsecutiveMisses} missed" : "")}"));

    private static string Ms(double? ms) => ms is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v:0.0} ms") : "-";

    /// <summary>Host facts about the links and addresses the peer's paths leave from.</summary>
    private bool Matters(HostEvent e) => e switch
    {
        LinkChanged l => _links.ContainsValue(l.Name),
        AddressAdded a => _links.ContainsKey(a.Address),
        AddressRemoved a => _links.ContainsKey(a.Address),
        // Default routes, and routes naming one of our sources; not host routes (WgRouted's own pins are /32 and /128).
        RouteAdded r => Matters(r.Dst, r.PreferredSource),
        RouteRemoved r => Matters(r.Dst, r.PreferredSource),
        ResponderListenerRestarted or ServiceRestarted => true,
        _ => false,
    };

    private bool Matters(string dst, IPAddress? source) =>
        dst is "0.0.0.0/0" or "::/0" || (source is { } s && _links.ContainsKey(s) && !dst.EndsWith("/32", StringComparison.Ordinal) && !dst.EndsWith("/128", StringComparison.Ordinal));

    private static string DescribeHost(HostEvent e) => e switch
    {
        LinkChanged l => $"link {l.Name}: {(l.Up ? "up" : "down")}, {(l.Carrier ? "carrier" : "no carrier")} ({l.OperState})",
        AddressAdded a => $"address {a.Address}/{a.PrefixLength} added",
        AddressRemoved a => $"address {a.Address}/{a.PrefixLength} removed",
        RouteAdded r => $"route {r.Dst} table {r.Table} via {r.Gateway?.ToString() ?? "-"} metric {r.Metric} added",
        RouteRemoved r => $"route {r.Dst} table {r.Table} via {r.Gateway?.ToString() ?? "-"} metric {r.Metric} removed",
        ResponderListenerRestarted r => $"responder's listener on {r.Address} failed ({r.Error}) and was started again",
        ServiceRestarted r => $"{r.Service} failed ({r.Error}) and was started again (failure {r.Failures} in a row)",
        _ => e.GetType().Name,
    };

    private static IEnumerable<CandidatePath> PathsOf(PeerEvent e)
    {
        switch (e)
        {
            case CandidatesResolved c:
                foreach (var x in Candidates.Cross(c.Endpoints.Select(x => (x.Order, x.Endpoint)), c.Sources.Select(s => s.Address)))
                    yield return x.Path;
                break;
            case EndpointSwitchDecided d:
                yield return d.To;
                break;
        }
    }
}
