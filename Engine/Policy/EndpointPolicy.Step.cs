using WgRouted.Engine.Events;

namespace WgRouted.Engine.Policy;

public sealed partial class EndpointPolicy
{
    /// <summary>
    /// One turn of the daemon's loop for one input: fold it, then fold and emit what <see cref="Report"/> and
    /// <see cref="Decide"/> produce. <paramref name="emitted"/> receives the new events (never the input).
    /// </summary>
    public PeerState Step(PeerState? state, PeerEvent input, List<PeerEvent> emitted)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(emitted);
        state = Evolve(state, input);
        if (Report(state, input.At) is { } reports)
            foreach (var r in reports)
            {
                Evolve(state, r);
                emitted.Add(r);
            }
        Tick(state, input.At, emitted);
        return state;
    }

    /// <summary>A turn without input, at a deadline from <see cref="NextDeadline"/>.</summary>
    public void Tick(PeerState state, DateTimeOffset now, List<PeerEvent> emitted)
    {
        ArgumentNullException.ThrowIfNull(emitted);
        if (Decide(state, now) is { } decision)
        {
            Evolve(state, decision);
            emitted.Add(decision);
        }
    }
}
