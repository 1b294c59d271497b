using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;

namespace WgRouted.Engine.Replay;

/// <summary>
/// Re-derives a peer's outputs from its recorded inputs with a policy (the recorded one or a what-if), turning the
/// engine exactly as the daemon's loop did: inputs in engine-time order, deadlines in between. A PeerConfigured
/// starts a daemon run over; a run's deadlines are advanced only up to its last recorded event (the daemon was not
/// there to decide after it).
/// </summary>
public static class PeerReplay
{
    /// <param name="inputs">Every recorded input of the peer (probe outcomes included), in engine-time order.</param>
    /// <param name="runEnds">For each PeerConfigured in <paramref name="inputs"/> (and a run before the first), the time of
    /// its last recorded event: <see cref="RunEnds"/> computes them.</param>
    /// <param name="observe">Sees the state after every turn (an input or a deadline) and its time.</param>
    /// <param name="variant">From this time on, turn with this other policy (a what-if from the incident on; the
    /// history before it as it was).</param>
    public static List<PeerEvent> Run(
        EndpointPolicy policy, IReadOnlyList<PeerEvent> inputs, IReadOnlyList<DateTimeOffset> runEnds,
        Action<PeerState, DateTimeOffset>? observe = null, (DateTimeOffset From, EndpointPolicy Policy)? variant = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(runEnds);
        var outputs = new List<PeerEvent>();
        PeerState? state = null;
        var run = 0;
        // Deadlines up to `until`: the recorded policy's before the variant's start, the variant's from then on.
        void Advance(DateTimeOffset until)
        {
            if (state is null)
                return;
            if (variant is { } v && until >= v.From)
            {
                policy.AdvanceTo(state, v.From.AddTicks(-1), outputs, observe);
                v.Policy.AdvanceTo(state, until, outputs, observe);
            }
            else
                policy.AdvanceTo(state, until, outputs, observe);
        }
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            if (input is PeerConfigured && i > 0)
            {
                Advance(runEnds[run]);
                run++;
            }
            if (input is not PeerConfigured)
                Advance(input.At);
            var turn = variant is { } w && input.At >= w.From ? w.Policy : policy;
            state = turn.Step(state, input, outputs);
            observe?.Invoke(state, input.At);
        }
        if (run < runEnds.Count)
            Advance(runEnds[run]);
        return outputs;
    }

    /// <summary>
    /// The options for a what-if replay: every path's freshness judged at the standby interval. The recording probed
    /// only the recorded active path at the active rate; a variant that keeps another path active would find it stale
    /// between its (standby-rate) probes. Silent loss still shows: LossThreshold missed probes take a path down.
    /// Compare a variant with the recorded settings under the same rule.
    /// </summary>
    public static PolicyOptions WhatIf(PolicyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with { ActiveInterval = options.StandbyInterval };
    }

    /// <summary>
    /// The end of each run: the latest time of any recorded event (input or output) before the next PeerConfigured,
    /// capped at <paramref name="until"/>. One entry per run, the first run starting at the first input.
    /// </summary>
    public static List<DateTimeOffset> RunEnds(IReadOnlyList<PeerEvent> inputs, IReadOnlyList<PeerEvent> outputs, DateTimeOffset until)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        var starts = new List<DateTimeOffset>();
        for (var i = 0; i < inputs.Count; i++)
            if (i == 0 || inputs[i] is PeerConfigured)
                starts.Add(inputs[i].At);
        var ends = new List<DateTimeOffset>(starts.Count);
        for (var r = 0; r < starts.Count; r++)
        {
            var next = r + 1 < starts.Count ? starts[r + 1] : DateTimeOffset.MaxValue;
            var last = starts[r];
            foreach (var e in inputs)
                if (e.At >= starts[r] && e.At < next && e.At > last)
                    last = e.At;
            foreach (var e in outputs)
                if (e.At >= starts[r] && e.At < next && e.At > last)
                    last = e.At;
            ends.Add(last < until ? last : until);
        }
        return ends;
    }
}
