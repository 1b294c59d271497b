using System.Net;

namespace WgRouted.Engine.Events;

// ---- Inputs: what was observed. ----

/// <summary>
/// The daemon (re)started with this peer configured: the fold starts over from here. <paramref name="BabelInterface"/>:
/// the tunnel is managed for babeld, and this is the `interface ...` line that adds it when babeld lacks it.
/// <paramref name="Responder"/>: false for a stock peer (WireGuard only): its probes are handshakes, and a switch is
/// a handshake over the new path.
/// </summary>
[EventKind(EventKind.Input)]
public sealed record PeerConfigured(PeerKey Peer, DateTimeOffset At, string Interface, IReadOnlyList<string> Endpoints, int ProbePort, string? BabelInterface = null, bool Responder = true)
    : PeerEvent(Peer, At);

/// <summary>
/// What the peer's candidate paths are derived from: its endpoints (literals and DNS answers, with their position
/// in the configuration) and our usable sources. The engine crosses them (<see cref="Candidates.Cross"/>).
/// </summary>
[EventKind(EventKind.Input)]
public sealed record CandidatesResolved(PeerKey Peer, DateTimeOffset At, IReadOnlyList<ResolvedEndpoint> Endpoints, IReadOnlyList<Source> Sources)
    : PeerEvent(Peer, At);

/// <summary>The source the kernel would choose for <paramref name="Dst"/> (like `ip route get`); null when it has no route.</summary>
[EventKind(EventKind.Input)]
public sealed record PreferredSourceChanged(PeerKey Peer, DateTimeOffset At, IPAddress Dst, IPAddress? Src)
    : PeerEvent(Peer, At);

/// <summary>
/// A probe outcome. Stored by the probe recorder (a plain table beside Marten's), not as Marten events; replay
/// merges them with the events by <see cref="PeerEvent.At"/>.
/// </summary>
public abstract record ProbeResult(PeerKey Peer, DateTimeOffset At, CandidatePath Path, ulong Sequence) : PeerEvent(Peer, At);

/// <param name="Observed">Our source address and port as the responder saw the request.</param>
/// <param name="PeerEndpoint">The responder's WireGuard endpoint for us when it answered.</param>
[EventKind(EventKind.Input)]
public sealed record ProbeReplied(PeerKey Peer, DateTimeOffset At, CandidatePath Path, ulong Sequence, double RttMs, Endpoint? Observed, Endpoint? PeerEndpoint)
    : ProbeResult(Peer, At, Path, Sequence);

[EventKind(EventKind.Input)]
public sealed record ProbeMissed(PeerKey Peer, DateTimeOffset At, CandidatePath Path, ulong Sequence)
    : ProbeResult(Peer, At, Path, Sequence);

/// <summary>The link the path leaves by lost its carrier or went down (routes may stay: no route message comes).</summary>
[EventKind(EventKind.Input)]
public sealed record PathLinkDown(PeerKey Peer, DateTimeOffset At, CandidatePath Path, string Link)
    : PeerEvent(Peer, At);

[EventKind(EventKind.Input)]
public sealed record HandshakeObserved(PeerKey Peer, DateTimeOffset At, DateTimeOffset LatestHandshake)
    : PeerEvent(Peer, At);

/// <summary>
/// WireGuard's own signal: since the last read it sent the peer <paramref name="SentBytes"/> and received nothing
/// (recorded when it starts, not every second it lasts). A hint that the active path may have died: the daemon checks
/// it at once; the probes decide.
/// </summary>
[EventKind(EventKind.Input)]
public sealed record ReceiveStalled(PeerKey Peer, DateTimeOffset At, ulong SentBytes)
    : PeerEvent(Peer, At);

/// <summary>WireGuard reports an endpoint for the peer that differs from the last one seen (the remote roamed, or we switched).</summary>
[EventKind(EventKind.Input)]
public sealed record EndpointObserved(PeerKey Peer, DateTimeOffset At, Endpoint Endpoint)
    : PeerEvent(Peer, At);

/// <summary>The peer appeared on the WireGuard device (configured there by wg, wg-quick or a restart).</summary>
[EventKind(EventKind.Input)]
public sealed record PeerAdded(PeerKey Peer, DateTimeOffset At, string Interface)
    : PeerEvent(Peer, At);

/// <summary>The peer is gone from the WireGuard device.</summary>
[EventKind(EventKind.Input)]
public sealed record PeerRemoved(PeerKey Peer, DateTimeOffset At, string Interface)
    : PeerEvent(Peer, At);

/// <summary>The switcher pinned the source and set the WireGuard endpoint (for a decision or a re-assertion).</summary>
[EventKind(EventKind.Input)]
public sealed record EndpointSwitched(PeerKey Peer, DateTimeOffset At, CandidatePath Path)
    : PeerEvent(Peer, At);

/// <summary>The kernel or WireGuard refused the pin or the endpoint.</summary>
[EventKind(EventKind.Input)]
public sealed record SwitchNotApplied(PeerKey Peer, DateTimeOffset At, CandidatePath Path, string Error)
    : PeerEvent(Peer, At);

/// <summary>
/// An authenticated, fresh move request: the peer asks to be reached at <paramref name="Requested"/>;
/// <paramref name="Previous"/> is our WireGuard endpoint for it then. <paramref name="Sequence"/> is the request's.
/// </summary>
[EventKind(EventKind.Input)]
public sealed record MoveRequested(PeerKey Peer, DateTimeOffset At, Endpoint Requested, Endpoint? Previous, ulong Sequence)
    : PeerEvent(Peer, At);

/// <summary>Setting the endpoint a move asked for failed.</summary>
[EventKind(EventKind.Input)]
public sealed record MoveNotApplied(PeerKey Peer, DateTimeOffset At, Endpoint Requested, string Error)
    : PeerEvent(Peer, At);

// ---- Outputs: what the engine decided. ----

/// <summary>A path's quality changed significantly (stored instead of every probe).</summary>
[EventKind(EventKind.Output)]
public sealed record PathMeasured(PeerKey Peer, DateTimeOffset At, CandidatePath Path, PathQuality Quality)
    : PeerEvent(Peer, At);

/// <summary>LossThreshold probes in a row were missed.</summary>
[EventKind(EventKind.Output)]
public sealed record PathWentDown(PeerKey Peer, DateTimeOffset At, CandidatePath Path, PathDownReason Reason)
    : PeerEvent(Peer, At);

[EventKind(EventKind.Output)]
public sealed record PathCameUp(PeerKey Peer, DateTimeOffset At, CandidatePath Path, PathQuality Quality)
    : PeerEvent(Peer, At);

/// <summary>The policy chose <paramref name="To"/>; <paramref name="Inputs"/> is every path as the policy saw it.</summary>
[EventKind(EventKind.Output)]
public sealed record EndpointSwitchDecided(
    PeerKey Peer, DateTimeOffset At, CandidatePath? From, CandidatePath To, SwitchReason Reason, IReadOnlyList<PathSnapshot> Inputs)
    : PeerEvent(Peer, At);

/// <summary>No path is usable; the endpoint is left as it is.</summary>
[EventKind(EventKind.Output)]
public sealed record PeerUnreachable(PeerKey Peer, DateTimeOffset At, CandidatePath? Active, IReadOnlyList<PathSnapshot> Inputs)
    : PeerEvent(Peer, At);

/// <summary>
/// Pin, endpoint and move request again: the peer has not reported our new source yet (<paramref name="Seen"/>
/// null), or reports another address of ours again (<paramref name="Seen"/>: a late packet restored the old source).
/// </summary>
[EventKind(EventKind.Output)]
public sealed record SwitchReasserted(PeerKey Peer, DateTimeOffset At, CandidatePath Path, int Attempt, Endpoint? Seen)
    : PeerEvent(Peer, At);

/// <summary>Probe replies show the remote now sees our new source as our endpoint.</summary>
[EventKind(EventKind.Output)]
public sealed record SwitchConverged(PeerKey Peer, DateTimeOffset At, CandidatePath Path, double ElapsedMs)
    : PeerEvent(Peer, At);

[EventKind(EventKind.Output)]
public sealed record SwitchFailed(PeerKey Peer, DateTimeOffset At, CandidatePath Path, string Reason)
    : PeerEvent(Peer, At);

/// <summary>We set our WireGuard endpoint for the peer to <paramref name="Requested"/> as it asked (request <paramref name="Sequence"/>).</summary>
[EventKind(EventKind.Output)]
public sealed record MoveFollowed(PeerKey Peer, DateTimeOffset At, Endpoint Requested, Endpoint? Previous, ulong Sequence)
    : PeerEvent(Peer, At);
