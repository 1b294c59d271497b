namespace WgRouted.Engine.Events;

/// <summary>An event on a peer's stream (stream id: the peer's public key). <see cref="At"/> is engine time.</summary>
public abstract record PeerEvent(PeerKey Peer, DateTimeOffset At)
{
    /// <summary>The W3C trace id of the failover this event belongs to, if any.</summary>
    public string? TraceId { get; init; }
}
