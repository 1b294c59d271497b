namespace WgRouted.Engine.Probe;

/// <summary>
/// The responder's checks of an authenticated move request: fresh within <see cref="Freshness"/>, sent from the
/// address it asks for, and numbered above every move accepted from its sender before, here or before a restart
/// (the caller persists <see cref="Accepted"/> before following a move). A sender with no record must number above
/// <c>floor</c>: the responder's start on the millisecond clock (<see cref="ProbeSequence"/>), so moves sent before it
/// started are refused even when the record is lost. Not thread-safe.
/// </summary>
public sealed class MoveGuard
{
    /// <summary>
    /// An initiator re-asserts a move every 100 ms until the switch converges or fails (2 s, PolicyOptions.ConvergeWithin):
    /// a move older than that belongs to a switch already over. 3 s is that plus about a second for the two clocks'
    /// offset and the path's delay, and it is all the time an on-path host has to deliver a move it held back.
    /// </summary>
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(3);

    private readonly Dictionary<PeerKey, ulong> _last;
    private readonly ulong _floor;

    public MoveGuard(IEnumerable<KeyValuePair<PeerKey, ulong>>? accepted = null, ulong floor = 0)
    {
        _last = accepted?.ToDictionary() ?? [];
        _floor = floor;
    }

    /// <summary>The greatest sequence number accepted per sender.</summary>
    public IReadOnlyDictionary<PeerKey, ulong> Accepted => _last;

    /// <summary>Accepts <paramref name="move"/> that arrived from <paramref name="source"/>, or says why not.</summary>
    public bool TryAccept(MoveRequest move, Endpoint source, DateTimeOffset now, out ProbeError error)
    {
        ArgumentNullException.ThrowIfNull(move);
        var age = now - move.Timestamp;
        error = age > Freshness ? ProbeError.Stale
            : -age > Freshness ? ProbeError.FutureDated
            : !move.Requested.Address.Equals(source.Address) ? ProbeError.MoveFromAnotherAddress
            : move.Sequence <= _last.GetValueOrDefault(move.Sender, _floor) ? ProbeError.MoveNotNewer
            : ProbeError.None;
        if (error != ProbeError.None)
            return false;
        _last[move.Sender] = move.Sequence;
        return true;
    }
}
