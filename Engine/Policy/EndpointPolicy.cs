using WgRouted.Engine.Events;

namespace WgRouted.Engine.Policy;

/// <summary>
/// The endpoint policy: <see cref="Evolve"/> folds a peer's events into its state, <see cref="Report"/> says which
/// path changes are worth storing, <see cref="Decide"/> picks the path. Pure: time comes only from events and
/// from the <c>now</c> the caller passes.
/// </summary>
public sealed partial class EndpointPolicy(PolicyOptions options)
{
    public PolicyOptions Options { get; } = options;

    // Asked several times for each probe outcome: a TimeSpan times a number is a floating-point multiply and a round.
    private readonly TimeSpan _freshActive = PolicyOptions.FreshIntervals * options.ActiveInterval;
    private readonly TimeSpan _freshStandby = PolicyOptions.FreshIntervals * options.StandbyInterval;

    public PeerState Evolve(PeerState? state, PeerEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        // A (re)started daemon knows nothing of its predecessor's state: the fold starts over.
        if (state is null || e is PeerConfigured)
            state = new PeerState { Id = e.Peer.Base64 };
        state.EventCount++;
        state.LastEventAt = e.At;
        if (state.Clock is not { } clock || e.At > clock)
            state.Clock = e.At;
        switch (e)
        {
            case PeerConfigured c:
                state.Interface = c.Interface;
                state.Endpoints = [.. c.Endpoints];
                state.ProbePort = c.ProbePort;
                state.BabelInterface = c.BabelInterface;
                state.Stock = !c.Responder;
                break;
            case BabelInterfaceObserved b:
                state.BabelPresent = b.Present;
                state.BabelAdding = false;
                break;
            case BabelInterfaceAdded:
                state.BabelAdding = true;
                break;
            case BabelCommandRefused:
                // Not asked again until babeld's next dump (a reconnection) says the interface is still missing.
                state.BabelPresent = null;
                state.BabelAdding = false;
                break;
            case BabelNeighbourObserved n:
                state.BabelRttMs = n.Present ? n.RttMs : null;
                state.BabelCost = n.Present ? n.Cost : null;
                state.BabelRttCost = n.Present ? n.RttCost : null;
                UpdateMismatch(state, e.At);
                break;
            case BabelRouteObserved r:
                state.BabelRoutes.RemoveAll(p => p.Prefix == r.Prefix);
                if (r.Present)
                    state.BabelRoutes.Add(new BabelPrefix(r.Prefix, r.Installed, r.Metric));
                break;
            case TunnelWithdrawn:
                state.TunnelDown = true;
                break;
            case TunnelRestored:
                state.TunnelDown = false;
                break;
            case PathMismatch:
                state.MismatchReported = true;
                break;
            case CandidatesResolved r:
                ApplyCandidates(state, r);
                break;
            case PathLinkDown l when state.Find(l.Path) is { } path:
                MarkDown(state, path, e.At, PathDownReason.LinkDown);
                break;
            case PreferredSourceChanged p:
                SetPreferredSource(state, p);
                UpdateRttBetter(state, e.At);
                break;
            case ProbeReplied r when state.Find(r.Path) is { } path:
            {
                if (!state.Stock && r.Sequence > path.RepliedSequence)
                    path.RepliedSequence = r.Sequence;
                var was = IsUsable(state, path, e.At);
                path.Quality = path.Quality.WithReply(r.At, r.RttMs);
                if (r.Path == state.Active && r.PeerEndpoint is { } seen)
                    state.PeerSees = seen;
                PathChanged(state, path, was, e.At);
                if (r.Path == state.Active)
                    UpdateMismatch(state, e.At);
                break;
            }
            // A probe older than one the path has answered since (sent while a route was coming back, and lost) says
            // nothing about the path now: counted, it took the path down again just after it came back, and the
            // failback waited for a second hold-down. A stock peer's handshakes are not numbered in order.
            case ProbeMissed m when state.Find(m.Path) is { } path && (state.Stock || m.Sequence > path.RepliedSequence):
            {
                if (state.Stock && m.Path == state.Active && state.Switch is SwitchStatus.Decided or SwitchStatus.Applied)
                    state.TrialMisses++;
                var was = IsUsable(state, path, e.At);
                path.Quality = path.Quality.WithMiss(m.At);
                PathChanged(state, path, was, e.At);
                break;
            }
            case PathMeasured m when state.Find(m.Path) is { } path:
            {
                var was = IsUsable(state, path, e.At);
                path.Quality = path.Reported = m.Quality;
                PathChanged(state, path, was, e.At);
                break;
            }
            case PathWentDown d when state.Find(d.Path) is { } path:
                MarkDown(state, path, e.At, d.Reason);
                break;
            case PathCameUp u when state.Find(u.Path) is { } path:
            {
                var was = IsUsable(state, path, e.At);
                path.Down = false;
                path.FailedTrials = 0;
                path.Quality = path.Reported = u.Quality;
                PathChanged(state, path, was, e.At);
                break;
            }
            case HandshakeObserved h:
                state.LatestHandshake = h.LatestHandshake;
                break;
            case EndpointObserved o:
                state.ObservedEndpoint = o.Endpoint;
                break;
            case EndpointSwitchDecided d:
                // The path left because it stopped being usable stays out until it answers again: gone stale at
                // the active rate, it would otherwise count as fresh again at the standby rate and be taken back.
                if (d.Reason == SwitchReason.ActiveDown && d.From is { } from && state.Find(from) is { } left)
                {
                    if (IsMissing(left, e.At))
                        state.LeftMissingSince = left.Quality.MissingSince;
                    if (!left.Down)
                    {
                        left.Down = true;
                        left.DownReason = PathDownReason.ProbesMissed;
                        left.DownAt = e.At;
                        left.Reported = left.Quality;
                        left.UsableSince = null;
                    }
                }
                state.Active = d.To;
                state.ActiveSince = e.At;
                state.LastSwitchAt = e.At;
                state.Switch = SwitchStatus.Decided;
                state.SwitchDecidedAt = e.At;
                state.LastReassertAt = null;
                state.ReassertAttempts = 0;
                state.TrialMisses = 0;
                state.PeerSees = null;
                state.SwitchError = null;
                // A stock peer's trial may fail again: still unreachable until a path answers (PathChanged clears it).
                if (!state.Stock)
                    state.Unreachable = false;
                // babeld's RTT now has to follow the new path: a disagreement counts from here.
                state.MismatchSince = null;
                state.MismatchReported = false;
                UpdateRttBetter(state, e.At);
                break;
            case EndpointSwitched s when s.Path == state.Active && state.Switch == SwitchStatus.Decided:
                state.Switch = SwitchStatus.Applied;
                break;
            case SwitchNotApplied n when n.Path == state.Active && state.Switch is SwitchStatus.Decided or SwitchStatus.Applied:
                state.SwitchError = n.Error;
                break;
            case SwitchReasserted r when r.Path == state.Active:
                state.LastReassertAt = e.At;
                state.ReassertAttempts = r.Attempt;
                state.PeerSees = null;
                break;
            case SwitchConverged c when c.Path == state.Active:
                state.Switch = SwitchStatus.Converged;
                break;
            case MoveRequested m:
                state.PendingMove = m;
                break;
            case MoveFollowed:
                state.PendingMove = null;
                break;
            case SwitchFailed f:
                if (f.Path == state.Active)
                    state.Switch = SwitchStatus.Failed;
                // Like PathWentDown: only a reply after the failure brings the path back (Report compares with Reported).
                if (state.Find(f.Path) is { } failed)
                {
                    MarkDown(state, failed, e.At, PathDownReason.SwitchFailed);
                    if (state.Stock)
                        failed.FailedTrials++;
                }
                break;
            case PeerUnreachable:
                state.Unreachable = true;
                break;
        }
        return state;
    }

    private void ApplyCandidates(PeerState state, CandidatesResolved r)
    {
        state.Resolved = [.. r.Endpoints];
        state.Sources = [.. r.Sources];
        var candidates = Candidates.Cross(r.Endpoints.Select(x => (x.Order, x.Endpoint)), r.Sources.Select(x => x.Address));
        var paths = new List<PathState>(candidates.Count);
        foreach (var c in candidates)
        {
            if (Contains(paths, c.Path))
                continue;
            var existing = state.Find(c.Path);
            if (existing is null)
                paths.Add(new PathState { Path = c.Path, Order = c.Order });
            else
            {
                existing.Order = c.Order;
                paths.Add(existing);
            }
        }
        state.Paths = paths;
        UpdateRttBetter(state, r.At);
    }

    /// <summary>Whether babeld's RTT and the active path's probe RTT disagree (rule of <see cref="PolicyOptions.MismatchFraction"/>).</summary>
    private static void UpdateMismatch(PeerState state, DateTimeOffset at)
    {
        var srtt = state.Active is { } a ? state.Find(a)?.Quality.SrttMs : null;
        var differ = state.BabelInterface is not null && state.BabelRttMs is { } babel && srtt is { } probe
            && Math.Abs(babel - probe) > Math.Max(probe * PolicyOptions.MismatchFraction, PolicyOptions.MismatchMinMs);
        if (!differ)
        {
            state.MismatchSince = null;
            state.MismatchReported = false;
        }
        else
            state.MismatchSince ??= at;
    }

    /// <summary>Down until a probe answers after this (Report compares with Reported).</summary>
    private void MarkDown(PeerState state, PathState path, DateTimeOffset at, PathDownReason reason)
    {
        var was = IsUsable(state, path, at);
        path.Down = true;
        path.DownReason = reason;
        path.DownAt = at;
        path.Reported = path.Quality;
        PathChanged(state, path, was, at);
    }

    /// <summary>After a change to <paramref name="path"/> that was usable or not (<paramref name="wasUsable"/>) just before.</summary>
    private static void SetPreferredSource(PeerState state, PreferredSourceChanged change)
    {
        if (!Equals(state.PreferredSourceFor(change.Dst), change.Src) || !state.PreferredSources.Exists(p => p.Dst.Equals(change.Dst)))
            state.PreferencesChangedAt = change.At;
        for (var i = state.PreferredSources.Count - 1; i >= 0; i--)
            if (state.PreferredSources[i].Dst.Equals(change.Dst))
                state.PreferredSources.RemoveAt(i);
        state.PreferredSources.Add(new PreferredSource(change.Dst, change.Src));
    }

    private static bool Contains(List<PathState> paths, CandidatePath path)
    {
        foreach (var p in paths)
            if (p.Path == path)
                return true;
        return false;
    }

    private void PathChanged(PeerState state, PathState path, bool wasUsable, DateTimeOffset at)
    {
        var usable = IsUsable(state, path, at);
        if (!usable)
            path.UsableSince = null;
        else
        {
            if (!wasUsable || path.UsableSince is null)
                path.UsableSince = at;
            // The active path answers again: a later outage is a new one, reported again (rule 7).
            if (state.Active == path.Path)
                state.Unreachable = false;
        }
        UpdateRttBetter(state, at);
    }

    /// <summary>Rule 1: a present, not reported down, recently answering path with fewer than LossThreshold misses in a row.</summary>
    public bool IsUsable(PeerState state, PathState path, DateTimeOffset now) =>
        !path.Down
        && path.Quality.ConsecutiveMisses < Options.LossThreshold
        && FreshUntil(state, path) is { } until
        && now <= until;

    /// <summary>Until when the last successful probe keeps the path usable (three probe intervals).</summary>
    public DateTimeOffset? FreshUntil(PeerState state, PathState path)
    {
        if (path.Quality.LastSuccessAt is not { } last)
            return null;
        var standby = last + _freshStandby;
        if (state.Active != path.Path)
            return standby;
        var active = last + _freshActive;
        // A path that just became active was probed at the standby rate: give the prober three active
        // intervals from the switch to probe it at the active rate.
        if (state.ActiveSince is { } since)
        {
            var grace = since + _freshActive;
            var graced = grace < standby ? grace : standby;
            return graced > active ? graced : active;
        }
        return active;
    }

    private void UpdateRttBetter(PeerState state, DateTimeOffset at)
    {
        var active = state.Active is { } a ? state.Find(a) : null;
        var activeSrtt = active is not null && IsUsable(state, active, at) ? active.Quality.SrttMs : null;
        foreach (var p in state.PathSpan)
        {
            // The RTT first: it rules out most paths, and the preference is the dearest test (every path of the peer).
            var better = activeSrtt is { } reference
                && p != active
                && p.Quality.SrttMs is { } srtt
                && IsRttBetter(srtt, reference)
                && IsUsable(state, p, at)
                && ComparePreference(state, p, active!, at) == 0;
            if (!better)
                p.RttBetterSince = null;
            else
                p.RttBetterSince ??= at;
        }
    }

    /// <summary>Rule 5: better by at least max(RttImprovementPercent %, RttImprovementMinMs).</summary>
    public bool IsRttBetter(double candidateMs, double activeMs) =>
        activeMs - candidateMs >= Math.Max(activeMs * Options.RttImprovementPercent / 100, Options.RttImprovementMinMs);
}
