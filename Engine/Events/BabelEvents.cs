namespace WgRouted.Engine.Events;

// babeld's view of a managed tunnel (one WireGuard interface per neighbour), and what WgRouted does about it.

/// <summary>After each (re)dump of babeld's state: whether babeld runs the peer's tunnel interface.</summary>
[EventKind(EventKind.Input)]
public sealed record BabelInterfaceObserved(PeerKey Peer, DateTimeOffset At, string Interface, bool Present)
    : PeerEvent(Peer, At);

/// <summary>
/// babeld's neighbour on the peer's tunnel, when its reachability, cost or RTT moved (the bridge keeps out the
/// noise); <paramref name="Present"/> false: babeld flushed it. <paramref name="RttMs"/> is babeld's own measurement
/// over the tunnel (timestamps), absent when babeld has no recent sample.
/// </summary>
[EventKind(EventKind.Input)]
public sealed record BabelNeighbourObserved(
    PeerKey Peer, DateTimeOffset At, string Interface, string Address, bool Present, int Reach, int Cost, double? RttMs, int? RttCost)
    : PeerEvent(Peer, At);

/// <summary>A route babeld learnt through the peer's tunnel: installed in the kernel or not, its metric; Present false: retracted.</summary>
[EventKind(EventKind.Input)]
public sealed record BabelRouteObserved(PeerKey Peer, DateTimeOffset At, string Prefix, bool Present, bool Installed, int Metric, string? Via)
    : PeerEvent(Peer, At);

/// <summary>babeld answered a command with `no ...` or `bad` (a read-only socket, an unknown interface...).</summary>
[EventKind(EventKind.Input)]
public sealed record BabelCommandRefused(PeerKey Peer, DateTimeOffset At, string Command, string Reply)
    : PeerEvent(Peer, At);

/// <summary>The tunnel's link was set up or down as decided (or setting it failed).</summary>
[EventKind(EventKind.Input)]
public sealed record TunnelLinkSet(PeerKey Peer, DateTimeOffset At, string Interface, bool Up, string? Error)
    : PeerEvent(Peer, At);

/// <summary>babeld does not run the tunnel's interface: add it over the read-write socket with this command.</summary>
[EventKind(EventKind.Output)]
public sealed record BabelInterfaceAdded(PeerKey Peer, DateTimeOffset At, string Interface, string Command)
    : PeerEvent(Peer, At);

/// <summary>No path reaches the peer: its tunnel's link goes down, so babeld drops its routes at once.</summary>
[EventKind(EventKind.Output)]
public sealed record TunnelWithdrawn(PeerKey Peer, DateTimeOffset At, string Interface)
    : PeerEvent(Peer, At);

/// <summary>A path answers again: the tunnel's link comes back up (babeld sends a hello and a route request).</summary>
[EventKind(EventKind.Output)]
public sealed record TunnelRestored(PeerKey Peer, DateTimeOffset At, string Interface)
    : PeerEvent(Peer, At);

/// <summary>
/// babeld's RTT over the tunnel and the active path's probe RTT have disagreed for longer than babeld needs to
/// follow a change: the tunnel is not where WgRouted thinks it is.
/// </summary>
[EventKind(EventKind.Output)]
public sealed record PathMismatch(PeerKey Peer, DateTimeOffset At, CandidatePath Active, double BabelRttMs, double ProbeSrttMs, DateTimeOffset Since)
    : PeerEvent(Peer, At);
