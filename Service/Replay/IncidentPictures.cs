using WgRouted.Engine.Events;

namespace WgRouted.Service.Replay;

/// <summary>A replayed history as an <see cref="IncidentPicture"/>: the series the replay saw, the recorded switches.</summary>
internal static class IncidentPictures
{
    public static IncidentPicture Build(Analysis analysis, Timeline timeline)
    {
        var h = analysis.History;
        var paths = analysis.Srtt.Keys.Concat(analysis.Down.Keys).Distinct().OrderBy(timeline.Name, StringComparer.Ordinal).ToList();
        var series = paths.Select(p => new PathSeries(
            timeline.Label(p),
            analysis.Srtt.GetValueOrDefault(p) ?? [],
            analysis.Down.GetValueOrDefault(p) ?? [])).ToList();
        var active = analysis.Active.Select(a => new ActiveSpan(a.From, a.To, timeline.Label(a.Path))).ToList();
        var converged = h.Outputs.OfType<SwitchConverged>().Select(c => c.At).ToList();
        var decided = h.Outputs.OfType<EndpointSwitchDecided>().Where(d => h.InWindow(d.At)).ToList();
        var switches = new List<SwitchMark>();
        for (var i = 0; i < decided.Count; i++)
        {
            var d = decided[i];
            var next = i + 1 < decided.Count ? decided[i + 1].At : DateTimeOffset.MaxValue;
            switches.Add(new SwitchMark(d.At, d.Reason.ToString(), timeline.Label(d.To), converged.Any(c => c >= d.At && c < next)));
        }
        var notes = h.Inputs.Where(e => h.InWindow(e.At)).Select(e => e switch
        {
            PathLinkDown l => new NoteMark(l.At, $"{l.Link} down"),
            PreferredSourceChanged p => new NoteMark(p.At, p.Src is { } s ? $"route to {p.Dst} from {s}" : $"no route to {p.Dst}"),
            _ => null,
        }).OfType<NoteMark>().ToList();
        notes.AddRange(h.Outputs.OfType<PeerUnreachable>().Where(u => h.InWindow(u.At)).Select(u => new NoteMark(u.At, "unreachable")));
        return new IncidentPicture($"peer {h.Peer.Base64[..8]}… ({h.Inputs.OfType<PeerConfigured>().LastOrDefault()?.Interface ?? "?"})",
            h.From, h.To, series, active, switches, notes.OrderBy(n => n.At).ToList());
    }

    public static string Render(Analysis analysis, Timeline timeline) => IncidentSvg.Render(Build(analysis, timeline));
}
