using System.Runtime.InteropServices;
using WgRouted.Engine.Events;

namespace WgRouted.Engine.Policy;

/// <summary>
/// Every peer's state and its next deadline: the daemon's loop and a replay of all peers turn through this.
/// Peers are independent: an input folds into its own peer after that peer's due deadlines.
/// </summary>
public sealed class PeerTable(EndpointPolicy policy)
{
    private readonly Dictionary<PeerKey, PeerState> _peers = [];
    private readonly Dictionary<PeerKey, DateTimeOffset> _due = [];
    // Lazy deletion: an entry whose time is not the peer's current deadline is skipped.
    private readonly PriorityQueue<PeerKey, DateTimeOffset> _deadlines = new();

    public EndpointPolicy Policy { get; } = policy;

    public IEnumerable<PeerState> States => _peers.Values;

    public PeerState? Find(PeerKey peer) => _peers.GetValueOrDefault(peer);

    /// <summary>One turn for one input (<see cref="EndpointPolicy.Turn"/>: the input in <paramref name="history"/> among its outputs); the peer's state after it.</summary>
    public PeerState Turn(PeerEvent input, List<PeerEvent> history)
    {
        ArgumentNullException.ThrowIfNull(input);
        _peers.TryGetValue(input.Peer, out var before);
        // No deadline scheduled means none: Schedule keeps _due exactly the state's NextDeadline.
        var state = Policy.Turn(before, input, history, _due.TryGetValue(input.Peer, out var due) ? due : DateTimeOffset.MaxValue);
        if (!ReferenceEquals(state, before))
            _peers[input.Peer] = state;
        Schedule(input.Peer, state);
        return state;
    }

    /// <summary>Every peer's deadlines up to <paramref name="now"/>.</summary>
    public void AdvanceTo(DateTimeOffset now, List<PeerEvent> emitted)
    {
        while (_deadlines.TryPeek(out var peer, out var due) && due <= now)
        {
            _deadlines.Dequeue();
            if (!_due.TryGetValue(peer, out var current) || current != due)
                continue;
            _due.Remove(peer);
            var state = _peers[peer];
            Policy.AdvanceTo(state, now, emitted);
            Schedule(peer, state);
        }
    }

    /// <summary>The earliest deadline of any peer, or null.</summary>
    public DateTimeOffset? NextDeadline()
    {
        while (_deadlines.TryPeek(out var peer, out var due))
        {
            if (_due.TryGetValue(peer, out var current) && current == due)
                return due;
            _deadlines.Dequeue();
        }
        return null;
    }

    private void Schedule(PeerKey peer, PeerState state)
    {
        if (Policy.NextDeadline(state) is { } next)
        {
            ref var current = ref CollectionsMarshal.GetValueRefOrAddDefault(_due, peer, out var exists);
            if (exists && current == next)
                return;
            current = next;
            _deadlines.Enqueue(peer, next);
        }
        else
            _due.Remove(peer);
    }
}
