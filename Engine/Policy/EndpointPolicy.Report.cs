using WgRouted.Engine.Events;

namespace WgRouted.Engine.Policy;

public sealed partial class EndpointPolicy
{
    /// <summary>
    /// The path events worth storing after probe results were folded: a path went down (misses) or came
    /// back, became eligible for failback (two successes), or its RTT or loss moved significantly. Never one
    /// event per probe. Fold each returned event back with <see cref="Evolve"/>.
    /// </summary>
    public List<PeerEvent>? Report(PeerState state, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(state);
        List<PeerEvent>? events = null;
        PeerKey? peer = null;
        foreach (var p in state.PathSpan)
        {
            var q = p.Quality;
            var r = p.Reported;
            PeerEvent? e = null;
            if (!p.Down && q.ConsecutiveMisses >= Options.LossThreshold)
                e = new PathWentDown(peer ??= PeerKey.Parse(state.Id), now, p.Path, PathDownReason.ProbesMissed);
            else if (p.Down && q.ConsecutiveSuccesses > 0 && q.LastProbeAt > r.LastProbeAt)
                e = new PathCameUp(peer ??= PeerKey.Parse(state.Id), now, p.Path, q);
            else if (!p.Down && IsSignificant(q, r))
                e = new PathMeasured(peer ??= PeerKey.Parse(state.Id), now, p.Path, q);
            if (e is not null)
                (events ??= []).Add(e);
        }
        return events;
    }

    /// <summary>Loss is reported when it crosses a band edge, not on every probe of a recovering window.</summary>
    private static int LossBand(double loss) => loss switch
    {
        0 => 0,
        < 0.05 => 1,
        < 0.20 => 2,
        < 0.50 => 3,
        _ => 4,
    };

    private static bool IsSignificant(PathQuality q, PathQuality r)
    {
        if (q.ConsecutiveSuccesses >= 2 && r.ConsecutiveSuccesses < 2)
            return true;
        if (q.SrttMs is not { } srtt)
            return false;
        if (r.SrttMs is not { } reported)
            return true;
        if (LossBand(q.Loss) != LossBand(r.Loss))
            return true;
        return Math.Abs(srtt - reported) >= Math.Max(reported * PolicyOptions.ReportRttFraction, PolicyOptions.ReportRttMinMs)
            && (r.LastProbeAt is not { } last || q.LastProbeAt - last >= PolicyOptions.ReportRttInterval);
    }
}
