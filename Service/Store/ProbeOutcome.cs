using WgRouted.Engine;
using WgRouted.Engine.Events;

namespace WgRouted.Service.Store;

/// <summary>
/// One probe's outcome as the recorder keeps it. <paramref name="RttMs"/> null: no answer in time.
/// <paramref name="Observed"/>: our source address and port as the responder saw them.
/// <paramref name="PeerEndpoint"/>: the responder's WireGuard endpoint for us.
/// </summary>
public sealed record ProbeOutcome(
    PeerKey Peer, CandidatePath Path, ulong Sequence, DateTimeOffset At, double? RttMs, Endpoint? Observed, Endpoint? PeerEndpoint)
{
    /// <summary>The engine's input as the recorder keeps it.</summary>
    public static ProbeOutcome From(ProbeResult result) => result switch
    {
        ProbeReplied r => new ProbeOutcome(r.Peer, r.Path, r.Sequence, r.At, r.RttMs, r.Observed, r.PeerEndpoint),
        _ => new ProbeOutcome(result.Peer, result.Path, result.Sequence, result.At, null, null, null),
    };

    /// <summary>The engine's input again (a replay).</summary>
    public ProbeResult ToEvent() => RttMs is { } rtt
        ? new ProbeReplied(Peer, At, Path, Sequence, rtt, Observed, PeerEndpoint)
        : new ProbeMissed(Peer, At, Path, Sequence);
}
