namespace WgRouted.Engine.Probe;

/// <summary>A probe packet, decoded (see <see cref="ProbeCodec"/> for the wire format).</summary>
/// <param name="Sender">The sender's WireGuard public key; selects the key the MAC is checked with.</param>
/// <param name="Sequence">The sender's sequence number (see <see cref="ProbeSequence"/>), checked by <see cref="ProbeGuard"/>.</param>
/// <param name="Timestamp">The sender's clock when it sent the packet (nanosecond resolution on the wire).</param>
public abstract record ProbeMessage(PeerKey Sender, ulong Sequence, DateTimeOffset Timestamp)
{
    public abstract ProbeType Type { get; }

    /// <summary>Request and MoveRequest: padded to <see cref="ProbeCodec.RequestSize"/>.</summary>
    public bool IsRequest => Type is ProbeType.Request or ProbeType.MoveRequest;
}
