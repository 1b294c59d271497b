using WgRouted.Engine;

namespace WgRouted.Service.Probing;

/// <summary>What the policy loop tells the prober: which paths to probe, which is active, when to hurry.</summary>
public abstract record ProbeSchedule;

/// <summary>The peer's candidate paths now, each with the uplink its source lives on (null: unknown).</summary>
public sealed record ProbePaths(PeerKey Peer, IReadOnlyList<(CandidatePath Path, string? Link)> Paths) : ProbeSchedule;

/// <summary>The peer's active path (probed at the active rate).</summary>
public sealed record ProbeActive(PeerKey Peer, CandidatePath? Path) : ProbeSchedule;

/// <summary>Probe every path (of <paramref name="Peer"/>, or of every peer after a host change) now and at the active rate while things settle.</summary>
public sealed record ProbeNow(PeerKey? Peer) : ProbeSchedule;

/// <summary>
/// A link's carrier (up, lower layer up): nothing leaves a link without one, so its paths are not probed until it
/// returns, and then at once (a host change probes every path now).
/// </summary>
public sealed record ProbeLink(string Link, bool Carrier) : ProbeSchedule;

/// <summary>What the policy loop tells the handshake prober of a stock peer (the same commands as the prober's).</summary>
public sealed record HandshakeSchedule(ProbeSchedule Command);
