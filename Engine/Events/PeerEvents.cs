using System.Net;

namespace WgRouted.Engine.Events;

public sealed record PeerConfigured(PeerKey Peer, DateTimeOffset At, string Interface, IReadOnlyList<string> Endpoints, int ProbePort)
    : PeerEvent(Peer, At);

/// <summary>The peer's candidate paths: its endpoints (DNS answers included) crossed with our usable source addresses.</summary>
public sealed record CandidatesResolved(PeerKey Peer, DateTimeOffset At, IReadOnlyList<Candidate> Candidates)
    : PeerEvent(Peer, At);

/// <summary>The source the kernel would choose for <paramref name="Dst"/> (like `ip route get`); null when it has no route.</summary>
public sealed record PreferredSourceChanged(PeerKey Peer, DateTimeOffset At, IPAddress Dst, IPAddress? Src)
    : PeerEvent(Peer, At);

/// <summary>A probe result. Folded in memory, never stored: PathMeasured summarises them.</summary>
public abstract record ProbeResult(PeerKey Peer, DateTimeOffset At, CandidatePath Path) : PeerEvent(Peer, At);

public sealed record ProbeReplied(PeerKey Peer, DateTimeOffset At, CandidatePath Path, double RttMs)
    : ProbeResult(Peer, At, Path);

public sealed record ProbeMissed(PeerKey Peer, DateTimeOffset At, CandidatePath Path)
    : ProbeResult(Peer, At, Path);

/// <summary>A path's quality changed significantly (stored instead of every probe).</summary>
public sealed record PathMeasured(PeerKey Peer, DateTimeOffset At, CandidatePath Path, PathQuality Quality)
    : PeerEvent(Peer, At);

public sealed record PathWentDown(PeerKey Peer, DateTimeOffset At, CandidatePath Path, PathDownReason Reason)
    : PeerEvent(Peer, At);

public sealed record PathCameUp(PeerKey Peer, DateTimeOffset At, CandidatePath Path, PathQuality Quality)
    : PeerEvent(Peer, At);

public sealed record HandshakeObserved(PeerKey Peer, DateTimeOffset At, DateTimeOffset LatestHandshake)
    : PeerEvent(Peer, At);

/// <summary>WireGuard reports an endpoint for the peer that differs from the last one seen (the remote roamed, or we switched).</summary>
public sealed record EndpointObserved(PeerKey Peer, DateTimeOffset At, Endpoint Endpoint)
    : PeerEvent(Peer, At);

/// <summary>The policy chose <paramref name="To"/>; <paramref name="Inputs"/> is every path as the policy saw it.</summary>
public sealed record EndpointSwitchDecided(
    PeerKey Peer, DateTimeOffset At, CandidatePath? From, CandidatePath To, SwitchReason Reason, IReadOnlyList<PathSnapshot> Inputs)
    : PeerEvent(Peer, At);

/// <summary>No path is usable; the endpoint is left as it is.</summary>
public sealed record PeerUnreachable(PeerKey Peer, DateTimeOffset At, CandidatePath? Active, IReadOnlyList<PathSnapshot> Inputs)
    : PeerEvent(Peer, At);

/// <summary>The switcher pinned the source and set the WireGuard endpoint.</summary>
public sealed record EndpointSwitched(PeerKey Peer, DateTimeOffset At, CandidatePath Path, SwitchReason Reason)
    : PeerEvent(Peer, At);

/// <summary>Probe replies show the remote now sees our new source as our endpoint.</summary>
public sealed record SwitchConverged(PeerKey Peer, DateTimeOffset At, CandidatePath Path, double ElapsedMs)
    : PeerEvent(Peer, At);

public sealed record SwitchFailed(PeerKey Peer, DateTimeOffset At, CandidatePath Path, string Reason)
    : PeerEvent(Peer, At);

/// <summary>The peer appeared on the WireGuard device (configured there by wg, wg-quick or a restart).</summary>
public sealed record PeerAdded(PeerKey Peer, DateTimeOffset At, string Interface)
    : PeerEvent(Peer, At);

/// <summary>The peer is gone from the WireGuard device.</summary>
public sealed record PeerRemoved(PeerKey Peer, DateTimeOffset At, string Interface)
    : PeerEvent(Peer, At);
