using WgRouted.Engine.Events;

namespace WgRouted.Engine.Policy;

public sealed partial class EndpointPolicy
{
    /// <summary>Decide is asked again after each decision; more than this many in one turn is a policy bug.</summary>
    private const int MaxDecisionsPerTurn = 8;

    /// <summary>
    /// The input's part of a turn, once the deadlines before it are done (<see cref="Turn"/> does both): fold the
    /// input, then fold and emit what <see cref="Report"/> and <see cref="Decide"/> produce. <paramref name="emitted"/>
    /// receives the outputs (never the input), in order.
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

    /// <summary>
    /// One turn of the loop for one input, the same in the daemon, the simulation, the demo and replay, as a stream
    /// records it: into <paramref name="history"/> the outputs of the deadlines due
    /// before the input, then the input itself, then what it leads to. Stored in this order, a fold of the stream is
    /// the loop's state.
    /// </summary>
    /// <param name="deadline">The state's <see cref="NextDeadline"/> when the caller keeps it (<see cref="PeerTable"/>
    /// does): none due before the input is then known without working it out again.</param>
    public PeerState Turn(PeerState? state, PeerEvent input, List<PeerEvent> history, DateTimeOffset? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(history);
        if (state is not null && input is not PeerConfigured && !(deadline > input.At))
            AdvanceTo(state, input.At, history);
        history.Add(input);
        return Step(state, input, history);
    }

    /// <summary>
    /// Every deadline (<see cref="NextDeadline"/>) up to <paramref name="until"/>, in order, each a turn without input;
    /// <paramref name="afterTick"/> sees the state after each.
    /// </summary>
    public void AdvanceTo(PeerState state, DateTimeOffset until, List<PeerEvent> emitted, Action<PeerState, DateTimeOffset>? afterTick = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        while (NextDeadline(state) is { } due && due <= until)
        {
            Tick(state, due, emitted);
            afterTick?.Invoke(state, due);
        }
    }

    /// <summary>A turn without input at <paramref name="now"/>: decide until nothing more is decided.</summary>
    public void Tick(PeerState state, DateTimeOffset now, List<PeerEvent> emitted)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(emitted);
        for (var i = 0; Decide(state, now) is { } decision; i++)
        {
            if (i == MaxDecisionsPerTurn)
                throw new InvalidOperationException($"peer {state.Id}: the policy keeps deciding at {now:O} ({decision})");
            Evolve(state, decision);
            emitted.Add(decision);
        }
        if (state.Clock is not { } clock || now > clock)
            state.Clock = now;
    }
}
