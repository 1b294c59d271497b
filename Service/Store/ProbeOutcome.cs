using WgRouted.Engine;

namespace WgRouted.Service.Store;

/// <summary>
/// One probe's outcome as the recorder keeps it. <paramref name="RttMs"/> null: no answer in time.
/// <paramref name="Observed"/>: our source address and port as the responder saw them.
/// <paramref name="PeerEndpoint"/>: the responder's WireGuard endpoint for us.
/// </summary>
public sealed record ProbeOutcome(
    PeerKey Peer, CandidatePath Path, ulong Sequence, DateTimeOffset At, double? RttMs, Endpoint? Observed, Endpoint? PeerEndpoint);
