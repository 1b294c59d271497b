using WgRouted.Engine.Events;

namespace WgRouted.Engine.Policy;

public sealed partial class EndpointPolicy
{
    /// <summary>
    /// The next decision for the peer at <paramref name="now"/>, or null: a move to follow, then the path
    /// (<see cref="EndpointSwitchDecided"/>, <see cref="PeerUnreachable"/>), then the switch's convergence
    /// (<see cref="SwitchConverged"/>, <see cref="SwitchReasserted"/>, <see cref="SwitchFailed"/>). Fold the decision
    /// back with <see cref="Evolve"/> and ask again until null (<see cref="Step"/> does).
    /// </summary>
    public PeerEvent? Decide(PeerState state, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.PendingMove is { } move)
            return new MoveFollowed(move.Peer, now, move.Requested, move.Previous, move.Sequence);
        return DecidePath(state, now) ?? DecideBabel(state, now) ?? DecideConvergence(state, now);
    }

    /// <summary>
    /// For a tunnel managed for babeld: its interface added when babeld lacks it, its link down while no path reaches
    /// the peer (babeld drops its routes at once instead of after hello timeouts) and up again when one answers, and
    /// babeld's RTT cross-checked with the probes.
    /// </summary>
    private PeerEvent? DecideBabel(PeerState state, DateTimeOffset now)
    {
        if (state.BabelInterface is not { } command || state.Interface is not { } itf)
            return null;
        if (state.Unreachable && !state.TunnelDown)
            return new TunnelWithdrawn(PeerKey.Parse(state.Id), now, itf);
        if (state.TunnelDown && !state.Unreachable && HasUsable(state, now))
            return new TunnelRestored(PeerKey.Parse(state.Id), now, itf);
        if (state.BabelPresent == false && !state.BabelAdding)
            return new BabelInterfaceAdded(PeerKey.Parse(state.Id), now, itf, command);
        if (state.MismatchSince is { } since && !state.MismatchReported && now - since >= Options.BabelConvergence
            && state.Active is { } active && state.Find(active)?.Quality.SrttMs is { } srtt && state.BabelRttMs is { } babel)
            return new PathMismatch(PeerKey.Parse(state.Id), now, active, babel, srtt, since);
        return null;
    }

    private bool HasUsable(PeerState state, DateTimeOffset now)
    {
        foreach (var p in state.PathSpan)
            if (IsUsable(state, p, now))
                return true;
        return false;
    }

    /// <summary>
    /// A switch is done when a reply on the new path shows the peer sees our new source. Until then pin, endpoint
    /// and move request are re-asserted every ReassertInterval, for ConvergeWithin. Once done, a reply showing the
    /// peer on another address of ours again (a late packet restored the old source) re-asserts it.
    /// </summary>
    private PeerEvent? DecideConvergence(PeerState state, DateTimeOffset now)
    {
        if (state.Active is not { } active || state.SwitchDecidedAt is not { } decided)
            return null;
        if (state.Switch is SwitchStatus.Decided or SwitchStatus.Applied)
        {
            if (state.SwitchError is { } error)
                return new SwitchFailed(PeerKey.Parse(state.Id), now, active, error);
            if (state.PeerSees is { } seen && seen.Address.Equals(active.Src))
                return new SwitchConverged(PeerKey.Parse(state.Id), now, active, (now - decided).TotalMilliseconds);
            // A stock peer's switch is a handshake over the new path, sent again at once after each miss (the prober
            // does): LossThreshold unanswered is a failure; there is nothing else to re-assert.
            if (state.Stock && state.TrialMisses >= Options.LossThreshold)
                return new SwitchFailed(PeerKey.Parse(state.Id), now, active,
                    $"the peer answered none of {state.TrialMisses} handshakes over {active}");
            if (now - decided >= Options.ConvergeWithin)
                return new SwitchFailed(PeerKey.Parse(state.Id), now, active,
                    $"the peer did not report our new source {active.Src} within {Options.ConvergeWithin.TotalMilliseconds:0} ms");
            if (!state.Stock && now - (state.LastReassertAt ?? decided) >= ReassertDelay(state))
                return new SwitchReasserted(PeerKey.Parse(state.Id), now, active, state.ReassertAttempts + 1, Seen: null);
            return null;
        }
        if (state.Switch == SwitchStatus.Converged && state.PeerSees is { } back && !back.Address.Equals(active.Src)
            && (state.LastReassertAt is not { } last || now - last >= Options.ReassertInterval))
            return new SwitchReasserted(PeerKey.Parse(state.Id), now, active, state.ReassertAttempts + 1, back);
        return null;
    }

    private PeerEvent? DecidePath(PeerState state, DateTimeOffset now)
    {
        if (state.Stock)
            return DecideStockPath(state, now);
        var active = state.Active is { } a ? state.Find(a) : null;
        var activeUsable = active is not null && IsUsable(state, active, now);

        var best = BestUsable(state, now);

        if (!activeUsable)
        {
            // Rules 3 and 6: leave a dead path at once, but only for a path that has just answered: one lost to
            // missed probes only for a path that answered while it was missing them.
            if (active is not null && IsMissing(active, now))
            {
                var witness = Witness(state, active, now);
                if (witness is null && best is not null)
                    return null;
                best = witness;
            }
            if (best is not null)
            {
                // A clean start: the first choice waits for the first probe of every path preferred over it, so that a
                // backup answering a moment before the primary is not chosen only to be left again (a flap at start).
                if (state.Active is null && HasUnprobedPreferredOver(state, best))
                    return null;
                var reason = state.Active is null ? SwitchReason.Initial
                    : active is null ? SwitchReason.ActiveRemoved
                    : SwitchReason.ActiveDown;
                return Switch(state, best, reason, now);
            }
            // Rule 7, once per outage. A candidate not probed yet (a new address, a new DNS answer) may still
            // answer: wait for its first probe rather than report the peer unreachable on a mere change.
            // Before any choice, unreachable means every path failed LossThreshold probes: a responder starting a
            // moment after us is not an outage.
            if (!state.Unreachable && (state.Active is not null ? !HasUnprobed(state) : AllDown(state)))
                return new PeerUnreachable(PeerKey.Parse(state.Id), now, state.Active, Snapshot(state, now));
            return null;
        }

        // Rule 4: the best path, when routing or endpoint order prefers it, once it has held up. Only the best:
        // a lesser path that happens to be held up already would mean two switches instead of one.
        // Routing changes come as a burst of messages (each route, each family): the preference itself must also
        // have held still for the hold-down, or the tunnel would follow every intermediate state.
        // Nor a path that has not answered since the one we left for missed probes began missing them: it may share
        // that path's fault (an IPv4 outage takes the other IPv4 path too), and the path just chosen answered since.
        if (best is not null && best != active && ComparePreference(state, best, active!, now) < 0)
            return HasHeldUp(best, now) && PreferencesSettled(state, now) && AnsweredSinceLeft(state, best)
                ? Switch(state, best, SwitchReason.Preferred, now) : null;

        // Rule 5: equal preference, clearly lower RTT for long enough, and not too often.
        if (state.LastSwitchAt is { } last && now - last < Options.MinSwitchInterval)
            return null;
        PathState? faster = null;
        foreach (var p in state.PathSpan)
            if (p != active
                && p.RttBetterSince is { } since
                && now - since >= Options.RttSustain
                && IsUsable(state, p, now)
                && ComparePreference(state, p, active!, now) == 0
                && p.Quality.SrttMs is { } srtt
                && active!.Quality.SrttMs is { } activeSrtt
                && IsRttBetter(srtt, activeSrtt)
                && (faster is null || Rank(state, p, faster, now) < 0))
                faster = p;
        return faster is null ? null : Switch(state, faster, SwitchReason.Rtt, now);
    }

    /// <summary>
    /// Unusable because its last LossThreshold probes went unanswered, not because of a fact (its link, a failed switch).
    /// </summary>
    /// <remarks>
    /// Only while its probes go on: a run whose latest miss is <see cref="PolicyOptions.FreshIntervals"/> active intervals
    /// old (its prober silent) no longer says what the path does, and it is left like a stale one.
    /// </remarks>
    private bool IsMissing(PathState path, DateTimeOffset now) =>
        path.Quality.ConsecutiveMisses >= Options.LossThreshold
        && path.Quality.MissingSince is not null
        && now <= MissingUntil(path)
        && (!path.Down || path.DownReason == PathDownReason.ProbesMissed);

    private DateTimeOffset? MissingUntil(PathState path) => path.Quality.LastProbeAt + _freshActive;

    /// <summary>
    /// The best usable path that answered between the first and the latest miss of <paramref name="missing"/>'s run:
    /// proof that the peer was reachable while that path was not. An answer from before the run is no proof: a stall
    /// of our own (a loaded router reading nothing for 150 ms) or of the network near us misses every path's probes at
    /// once, and the path that happened to answer last before it is no better than the active one. Nor is an answer
    /// from after the latest miss: once a stall ends every path answers again, the active one too at its next probe.
    /// </summary>
    private PathState? Witness(PeerState state, PathState missing, DateTimeOffset now)
    {
        var since = missing.Quality.MissingSince;
        var until = missing.Quality.LastProbeAt;
        PathState? witness = null;
        foreach (var p in state.PathSpan)
            if (p != missing && p.Quality.LastSuccessAt is { } answered && answered >= since && answered <= until
                && IsUsable(state, p, now) && (witness is null || Rank(state, p, witness, now) < 0))
                witness = p;
        return witness;
    }

    /// <summary>
    /// The active path is missing its probes and another path is usable, but none answered while it was missing them:
    /// the policy holds (neither a switch nor PeerUnreachable) until one does, or until the active path answers again.
    /// Lasts at most until the usable paths' last answers go stale (<see cref="FreshUntil"/>).
    /// </summary>
    public bool AwaitsWitness(PeerState state, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Stock || state.Active is not { } a || state.Find(a) is not { } active || !IsMissing(active, now)
            || Witness(state, active, now) is not null)
            return false;
        foreach (var p in state.PathSpan)
            if (p != active && IsUsable(state, p, now))
                return true;
        return false;
    }

    /// <summary>
    /// While the policy <see cref="AwaitsWitness"/>, another path answered after the active path's latest miss, returned:
    /// one more miss of the active path makes that answer a witness, so the active path is to be probed again at once
    /// (the daemon's loop asks the prober, once per miss).
    /// </summary>
    public DateTimeOffset? WitnessProbeWanted(PeerState state, DateTimeOffset now)
    {
        if (!AwaitsWitness(state, now))
            return null;
        var active = state.Find(state.Active!.Value)!;
        foreach (var p in state.PathSpan)
            if (p != active && p.Quality.LastSuccessAt > active.Quality.LastProbeAt && IsUsable(state, p, now))
                return active.Quality.LastProbeAt;
        return null;
    }

    private bool PreferencesSettled(PeerState state, DateTimeOffset now) =>
        state.PreferencesChangedAt is not { } changed || now - changed >= Options.HoldDown;

    private static bool AnsweredSinceLeft(PeerState state, PathState p) =>
        state.LeftMissingSince is not { } since || p.Quality.LastSuccessAt >= since;

    private bool HasHeldUp(PathState p, DateTimeOffset now) =>
        p.UsableSince is { } since && now - since >= Options.HoldDown && p.Quality.ConsecutiveSuccesses >= 2;

    private EndpointSwitchDecided Switch(PeerState state, PathState to, SwitchReason reason, DateTimeOffset now) =>
        new(PeerKey.Parse(state.Id), now, state.Active, to.Path, reason, Snapshot(state, now));

    private static bool AllDown(PeerState state)
    {
        foreach (var p in state.PathSpan)
            if (!p.Down)
                return false;
        return state.Paths.Count > 0;
    }

    /// <remarks>
    /// The kernel's own preference counts here, not its stand-in (<see cref="IsPreferredSource"/>): a preferred path
    /// not probed yet is not usable, so every other path to its destination stood in for it and ranked as high, and at
    /// 1,000 peers (4,000 first probes paced over 200 ms) half the first choices took the backup that happened to
    /// answer first and moved to the primary a moment later.
    /// </remarks>
    private static bool HasUnprobedPreferredOver(PeerState state, PathState best)
    {
        foreach (var p in state.PathSpan)
        {
            if (p == best || p.Quality.Samples > 0 || p.Down)
                continue;
            var c = IsKernelPreferred(state, best).CompareTo(IsKernelPreferred(state, p));
            if (c < 0 || c == 0 && p.Order < best.Order)
                return true;
        }
        return false;
    }

    private static bool IsKernelPreferred(PeerState state, PathState path) =>
        state.PreferredSourceFor(path.Path.Dst.Address) is { } src && src.Equals(path.Path.Src);

    private static bool HasUnprobed(PeerState state)
    {
        foreach (var p in state.PathSpan)
            if (p.Quality.Samples == 0 && !p.Down)
                return true;
        return false;
    }

    /// <summary>
    /// How long after the decision or the last re-assertion the next one waits: ReassertInterval, doubled after each
    /// re-assertion up to <see cref="MaxReassertDoublings"/> times. The first catches a move or an answer lost at once;
    /// spacing out the rest keeps a thousand unconfirmed switches (a start on a loaded router) from being ten thousand
    /// pins, endpoint sets, move requests and stored events a second while the peers cannot answer anyway.
    /// </summary>
    private TimeSpan ReassertDelay(PeerState state) =>
        Options.ReassertInterval * (1 << Math.Min(state.ReassertAttempts, MaxReassertDoublings));

    /// <summary>100, 200, 400, 800 ms, then every 800 ms: four re-assertions within the default 2 s instead of nineteen.</summary>
    private const int MaxReassertDoublings = 3;

    /// <summary>
    /// When <see cref="Decide"/> should run next without any new event: a hold-down or sustain period ends,
    /// the switch interval ends, or the active path goes stale. Null when nothing is pending.
    /// </summary>
    /// <remarks>
    /// Only deadlines at which Decide will decide something are returned: one whose other conditions are not
    /// met (a single success, a path stale by then, a peer already reported unreachable) would wake the loop
    /// again and again. The loop has run Decide after the last event, so nothing at or before it is pending.
    /// </remarks>
    public DateTimeOffset? NextDeadline(PeerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Stock)
            return NextStockDeadline(state);
        DateTimeOffset? next = null;
        var active = state.Active is { } a ? state.Find(a) : null;
        // Decisions without an active path (none yet, or removed) are taken on events only.
        if (active is null)
            return null;
        if (state.MismatchSince is { } mismatch && !state.MismatchReported)
            next = Earliest(state, next, mismatch + Options.BabelConvergence);
        if (state.Switch is SwitchStatus.Decided or SwitchStatus.Applied && state.SwitchDecidedAt is { } decided)
        {
            var reassert = (state.LastReassertAt ?? decided) + ReassertDelay(state);
            var fail = decided + Options.ConvergeWithin;
            next = Earliest(state, next, reassert < fail ? reassert : fail);
        }
        if (!state.Unreachable && !active.Down && active.Quality.ConsecutiveMisses < Options.LossThreshold
            && FreshUntil(state, active) is { } fresh)
            next = Earliest(state, next, fresh + TimeSpan.FromTicks(1));
        if (state.Clock is { } clock && AwaitsWitness(state, clock) && MissingUntil(active) is { } silent)
            next = Earliest(state, next, silent + TimeSpan.FromTicks(1));
        // Rule 4 looks only at the best usable path: its hold-down is the only one that can end in a switch, and
        // while it is pending, rule 5 waits.
        var now = state.Clock ?? DateTimeOffset.MinValue;
        var best = BestUsable(state, now);
        if (best is not null && best != active && ComparePreference(state, best, active, now) < 0)
        {
            if (best.UsableSince is { } since
                && best.Quality.ConsecutiveSuccesses >= 2
                && FreshUntil(state, best) is { } until
                && since + Options.HoldDown <= until)
            {
                var due = since + Options.HoldDown;
                if (state.PreferencesChangedAt is { } changed && changed + Options.HoldDown > due)
                    due = changed + Options.HoldDown;
                if (due <= until)
                    next = Earliest(state, next, due);
            }
            return next;
        }
        foreach (var p in state.PathSpan)
        {
            if (p == active || p.Down || p.Quality.ConsecutiveMisses >= Options.LossThreshold
                || FreshUntil(state, p) is not { } until)
                continue;
            if (p.RttBetterSince is { } better)
            {
                var due = better + Options.RttSustain;
                if (state.LastSwitchAt is { } last && last + Options.MinSwitchInterval > due)
                    due = last + Options.MinSwitchInterval;
                if (due <= until)
                    next = Earliest(state, next, due);
            }
        }
        return next;
    }

    private static DateTimeOffset? Earliest(PeerState state, DateTimeOffset? next, DateTimeOffset due) =>
        state.Clock >= due || next <= due ? next : due;

    /// <summary>Rule 2: the kernel's preferred source first, then configured endpoint order, then smoothed RTT.</summary>
    public int Rank(PeerState state, PathState x, PathState y, DateTimeOffset now) =>
        RankKnown(x, IsPreferredSource(state, x, now), y, IsPreferredSource(state, y, now));

    /// <summary>
    /// The usable path first by <see cref="Rank"/>, each path's <see cref="IsPreferredSource"/> worked out once (Rank
    /// works out both sides' for each comparison, and each may look at every path): asked twice for each probe outcome.
    /// </summary>
    private PathState? BestUsable(PeerState state, DateTimeOffset now)
    {
        PathState? best = null;
        var bestPreferred = false;
        foreach (var p in state.PathSpan)
        {
            if (!IsUsable(state, p, now))
                continue;
            var preferred = IsPreferredSource(state, p, now);
            if (best is null || RankKnown(p, preferred, best, bestPreferred) < 0)
            {
                best = p;
                bestPreferred = preferred;
            }
        }
        return best;
    }

    /// <summary><see cref="Rank"/> with both paths' <see cref="IsPreferredSource"/> known.</summary>
    private static int RankKnown(PathState x, bool xPreferred, PathState y, bool yPreferred)
    {
        var c = ComparePreferenceKnown(x, xPreferred, y, yPreferred);
        if (c != 0)
            return c;
        c = (x.Quality.SrttMs ?? double.MaxValue).CompareTo(y.Quality.SrttMs ?? double.MaxValue);
        return c != 0 ? c : AddressComparer.Compare(x.Path, y.Path);
    }

    /// <summary>Rule 2's first two keys only.</summary>
    public int ComparePreference(PeerState state, PathState x, PathState y, DateTimeOffset now) =>
        ComparePreferenceKnown(x, IsPreferredSource(state, x, now), y, IsPreferredSource(state, y, now));

    /// <summary><see cref="ComparePreference"/> with both paths' <see cref="IsPreferredSource"/> known.</summary>
    private static int ComparePreferenceKnown(PathState x, bool xPreferred, PathState y, bool yPreferred)
    {
        var c = xPreferred.CompareTo(yPreferred);
        return c != 0 ? -c : x.Order.CompareTo(y.Order);
    }

    /// <summary>
    /// The path leaves from the kernel's preferred source for its destination — or that source cannot carry the
    /// tunnel now (no usable path from it), and then every path to the destination stands in for it. Without the
    /// stand-in, a dead primary would make every path to that endpoint lose to any other endpoint's preferred path,
    /// and the tunnel would hop to the other family and back on every failover.
    /// </summary>
    public bool IsPreferredSource(PeerState state, PathState path, DateTimeOffset now)
    {
        if (state.PreferredSourceFor(path.Path.Dst.Address) is not { } src)
            return false;
        if (src.Equals(path.Path.Src))
            return true;
        // A stock peer's standby paths are not probed: the preferred path stands for itself while it may be tried.
        foreach (var p in state.PathSpan)
            if (p.Path.Src.Equals(src) && p.Path.Dst.Address.Equals(path.Path.Dst.Address)
                && (IsUsable(state, p, now) || state.Stock && IsTriable(state, p, now)))
                return false;
        return true;
    }

    public IReadOnlyList<PathSnapshot> Snapshot(PeerState state, DateTimeOffset now)
    {
        var result = new PathSnapshot[state.Paths.Count];
        for (var i = 0; i < result.Length; i++)
        {
            var p = state.Paths[i];
            var usable = IsUsable(state, p, now);
            result[i] = new PathSnapshot(
                p.Path, p.Order, IsPreferredSource(state, p, now), usable, p.Quality.SrttMs, p.Quality.Loss,
                p.Quality.ConsecutiveMisses, p.Quality.ConsecutiveSuccesses, p.Quality.LastSuccessAt,
                usable ? p.UsableSince : null);
        }
        return result;
    }
}
