namespace WgRouted.Engine.Probe;

/// <summary>"Are you there over this path?" The responder answers with a <see cref="ProbeReply"/>.</summary>
public sealed record ProbeRequest(PeerKey Sender, ulong Sequence, DateTimeOffset Timestamp)
    : ProbeMessage(Sender, Sequence, Timestamp)
{
    public override ProbeType Type => ProbeType.Request;

    /// <summary>The reply a responder sends: what it saw of this request, and its WireGuard endpoint for the sender.</summary>
    public ProbeReply Reply(PeerKey responder, ulong sequence, DateTimeOffset now, Endpoint observedSource, Endpoint? wireGuardEndpoint) =>
        new(responder, sequence, now, Sequence, Timestamp, observedSource, wireGuardEndpoint);
}

/// <summary>
/// Coordinated switch: "set your WireGuard endpoint for me to <paramref name="Requested"/>". The address is the one
/// the request is sent from (as the responder sees it), the port the sender's WireGuard listen port. Both are under
/// the MAC, and the responder follows only a request that arrives from the address it names
/// (<see cref="MoveGuard"/>): a captured request cannot be delivered from anywhere else. Answered with a <see cref="MoveReply"/>.
/// </summary>
public sealed record MoveRequest(PeerKey Sender, ulong Sequence, DateTimeOffset Timestamp, Endpoint Requested)
    : ProbeMessage(Sender, Sequence, Timestamp)
{
    public override ProbeType Type => ProbeType.MoveRequest;

    public MoveReply Reply(PeerKey responder, ulong sequence, DateTimeOffset now, Endpoint observedSource, Endpoint? wireGuardEndpoint) =>
        new(responder, sequence, now, Sequence, Timestamp, observedSource, wireGuardEndpoint);
}

/// <summary>What a responder reports back; the initiator's RTT is its own clock minus <paramref name="EchoTimestamp"/>.</summary>
/// <param name="EchoSequence">The request's sequence number.</param>
/// <param name="EchoTimestamp">The request's timestamp (the initiator's clock).</param>
/// <param name="ObservedSource">The request's source address and port as the responder saw them.</param>
/// <param name="WireGuardEndpoint">The responder's WireGuard endpoint for the initiator's key, if it has one.</param>
public abstract record ProbeAnswer(
    PeerKey Sender, ulong Sequence, DateTimeOffset Timestamp,
    ulong EchoSequence, DateTimeOffset EchoTimestamp, Endpoint ObservedSource, Endpoint? WireGuardEndpoint)
    : ProbeMessage(Sender, Sequence, Timestamp)
{
    /// <summary>Round trip time on the initiator's clock; <paramref name="now"/> is when the answer arrived.</summary>
    public TimeSpan RoundTrip(DateTimeOffset now) => now - EchoTimestamp;
}

public sealed record ProbeReply(
    PeerKey Sender, ulong Sequence, DateTimeOffset Timestamp,
    ulong EchoSequence, DateTimeOffset EchoTimestamp, Endpoint ObservedSource, Endpoint? WireGuardEndpoint)
    : ProbeAnswer(Sender, Sequence, Timestamp, EchoSequence, EchoTimestamp, ObservedSource, WireGuardEndpoint)
{
    public override ProbeType Type => ProbeType.Reply;
}

/// <summary>Ack of a <see cref="MoveRequest"/>; <see cref="ProbeAnswer.WireGuardEndpoint"/> is the endpoint the responder now has.</summary>
public sealed record MoveReply(
    PeerKey Sender, ulong Sequence, DateTimeOffset Timestamp,
    ulong EchoSequence, DateTimeOffset EchoTimestamp, Endpoint ObservedSource, Endpoint? WireGuardEndpoint)
    : ProbeAnswer(Sender, Sequence, Timestamp, EchoSequence, EchoTimestamp, ObservedSource, WireGuardEndpoint)
{
    public override ProbeType Type => ProbeType.MoveReply;
}
