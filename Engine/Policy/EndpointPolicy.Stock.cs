using WgRouted.Engine.Events;

namespace WgRouted.Engine.Policy;

/// <summary>
/// Stock peers (WireGuard only). Nothing answers probes out of band, and a handshake from another source moves the
/// peer's endpoint for us, so only the active path is probed (handshakes from its source and our listen port: the
/// peer's endpoint stays where it is), and a switch is a trial: the switch is decided for a path that has not
/// answered, the prober sends handshakes over it, and the switch is done when one is answered (the peer then sends to
/// the new source) or failed after LossThreshold unanswered. A path that failed is tried again after a backoff, or at
/// once when routing changes.
/// </summary>
public sealed partial class EndpointPolicy
{
    /// <summary>First retry of a stock peer's path that went down or failed a trial; doubled per failure in a row.</summary>
    public static readonly TimeSpan TrialRetry = TimeSpan.FromSeconds(2);

    /// <summary>The longest wait between trials of a path that keeps failing.</summary>
    public static readonly TimeSpan TrialRetryMax = TimeSpan.FromSeconds(60);

    public static TimeSpan TrialBackoff(int failedTrials) =>
        TimeSpan.FromTicks(Math.Min(TrialRetryMax.Ticks, TrialRetry.Ticks << Math.Min(failedTrials, 10)));

    /// <summary>Whether a switch to the path may be tried now: not down, or its backoff over, or routing changed since.</summary>
    public static bool IsTriable(PeerState state, PathState path, DateTimeOffset now)
    {
        if (!path.Down)
            return true;
        if (path.DownAt is not { } down)
            return false;
        return now >= down + TrialBackoff(path.FailedTrials) || state.PreferencesChangedAt > down;
    }

    private PeerEvent? DecideStockPath(PeerState state, DateTimeOffset now)
    {
        // A trial under way: its outcome first (DecideConvergence).
        if (state.Switch is SwitchStatus.Decided or SwitchStatus.Applied)
            return null;
        var active = state.Active is { } a ? state.Find(a) : null;
        if (active is not null && IsUsable(state, active, now))
        {
            // Failback: the path routing prefers, once the preference has held still for the trial's hold-down.
            var preferred = BestTriable(state, now, except: active);
            return preferred is not null && ComparePreference(state, preferred, active, now) < 0
                && (state.PreferencesChangedAt is not { } changed || now - changed >= Options.TrialHoldDown)
                ? Switch(state, preferred, SwitchReason.Preferred, now)
                : null;
        }
        // The first choice waits for the kernel's preferred source of every destination, so that it is the primary.
        if (state.Active is null && !PreferencesKnown(state))
            return null;
        if (BestTriable(state, now, except: null) is { } best)
        {
            var reason = state.Active is null ? SwitchReason.Initial
                : active is null ? SwitchReason.ActiveRemoved
                : SwitchReason.ActiveDown;
            return Switch(state, best, reason, now);
        }
        if (!state.Unreachable && state.Paths.Count > 0 && (state.Active is not null || AllDown(state)))
            return new PeerUnreachable(PeerKey.Parse(state.Id), now, state.Active, Snapshot(state, now));
        return null;
    }

    /// <summary>The best path by rule 2 that may be tried now: usable ones first, then the others.</summary>
    private PathState? BestTriable(PeerState state, DateTimeOffset now, PathState? except)
    {
        PathState? best = null;
        foreach (var p in state.PathSpan)
            if (p != except && IsTriable(state, p, now) && (best is null || Rank(state, p, best, now) < 0))
                best = p;
        return best;
    }

    private static bool PreferencesKnown(PeerState state)
    {
        foreach (var p in state.PathSpan)
            if (!state.PreferredSources.Exists(x => x.Dst.Equals(p.Path.Dst.Address)))
                return false;
        return true;
    }

    /// <summary>
    /// A stock peer's deadlines: the active path going stale, the end of a trial's time, a hold-down ending, a failed
    /// path's backoff ending. Each fires once (<see cref="Earliest"/> skips what the state's clock has passed).
    /// </summary>
    private DateTimeOffset? NextStockDeadline(PeerState state)
    {
        DateTimeOffset? next = null;
        var active = state.Active is { } a ? state.Find(a) : null;
        if (state.MismatchSince is { } mismatch && !state.MismatchReported)
            next = Earliest(state, next, mismatch + Options.BabelConvergence);
        if (state.Switch is SwitchStatus.Decided or SwitchStatus.Applied && state.SwitchDecidedAt is { } decided)
            return Earliest(state, next, decided + Options.ConvergeWithin);
        if (active is not null && !state.Unreachable && !active.Down && active.Quality.ConsecutiveMisses < Options.LossThreshold
            && FreshUntil(state, active) is { } fresh)
            next = Earliest(state, next, fresh + TimeSpan.FromTicks(1));
        if (state.PreferencesChangedAt is { } changed)
            next = Earliest(state, next, changed + Options.TrialHoldDown);
        foreach (var p in state.PathSpan)
            if (p.Down && p.DownAt is { } down)
                next = Earliest(state, next, down + TrialBackoff(p.FailedTrials));
        return next;
    }
}
