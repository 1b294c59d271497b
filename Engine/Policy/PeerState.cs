using System.Net;
using System.Runtime.InteropServices;
using WgRouted.Engine.Events;

namespace WgRouted.Engine.Policy;

public enum SwitchStatus
{
    None,
    Decided,
    Applied,
    Converged,
    Failed,
}

/// <summary>
/// A peer's state, folded from its stream by <see cref="EndpointPolicy.Evolve"/>. The fold owns it:
/// Evolve updates it in place and returns it; use <see cref="Clone"/> to keep a copy.
/// </summary>
public sealed class PeerState
{
    /// <summary>The stream id: the peer's public key in base64.</summary>
    public string Id { get; set; } = "";
    public string? Interface { get; set; }
    public List<string> Endpoints { get; set; } = [];
    public int ProbePort { get; set; }
    /// <summary>
    /// A stock peer (WireGuard only, no responder): only the active path is probed, by handshakes, and a switch is a
    /// trial: a handshake over the new path, done when the peer answers it.
    /// </summary>
    public bool Stock { get; set; }
    /// <summary>Handshakes over the path of a stock peer's switch under way that went unanswered.</summary>
    public int TrialMisses { get; set; }
    /// <summary>The endpoints' addresses (literals and DNS answers) the candidates were crossed from.</summary>
    public List<ResolvedEndpoint> Resolved { get; set; } = [];
    /// <summary>Our usable sources and their links, the other side of the cross.</summary>
    public List<Source> Sources { get; set; } = [];
    public List<PathState> Paths { get; set; } = [];

    /// <summary>
    /// <see cref="Paths"/> to walk: the policy walks a peer's paths several times for each probe outcome, and a List's
    /// enumerator is a call and a version check a step (perf at 1,000 peers).
    /// </summary>
    internal ReadOnlySpan<PathState> PathSpan => CollectionsMarshal.AsSpan(Paths);
    public List<PreferredSource> PreferredSources { get; set; } = [];
    /// <summary>When the kernel's preferred sources last changed: a preference must hold still before it moves the tunnel.</summary>
    public DateTimeOffset? PreferencesChangedAt { get; set; }
    public CandidatePath? Active { get; set; }
    public DateTimeOffset? ActiveSince { get; set; }
    public DateTimeOffset? LastSwitchAt { get; set; }
    /// <summary>
    /// When the path last left for missed probes began missing them: a path whose latest answer is older may share
    /// its fault, and is taken as preferred only once it answers again.
    /// </summary>
    public DateTimeOffset? LeftMissingSince { get; set; }
    public SwitchStatus Switch { get; set; }
    /// <summary>When the current switch was decided, its last re-assertion, and how many there were.</summary>
    public DateTimeOffset? SwitchDecidedAt { get; set; }
    public DateTimeOffset? LastReassertAt { get; set; }
    public int ReassertAttempts { get; set; }
    /// <summary>Our endpoint as the peer's responder last reported it on the active path (null once acted on).</summary>
    public Endpoint? PeerSees { get; set; }
    /// <summary>The kernel or WireGuard refused the current switch.</summary>
    public string? SwitchError { get; set; }
    /// <summary>A move request received and not yet followed.</summary>
    public MoveRequested? PendingMove { get; set; }
    public bool Unreachable { get; set; }
    public DateTimeOffset? LatestHandshake { get; set; }
    public Endpoint? ObservedEndpoint { get; set; }
    /// <summary>The `interface ...` command for babeld when the tunnel is managed for babeld; null otherwise.</summary>
    public string? BabelInterface { get; set; }
    /// <summary>Whether babeld's last dump had the tunnel's interface (null: not seen yet), and an add is under way.</summary>
    public bool? BabelPresent { get; set; }
    public bool BabelAdding { get; set; }
    /// <summary>The tunnel's link was taken down for babeld (no path reaches the peer).</summary>
    public bool TunnelDown { get; set; }
    /// <summary>babeld's RTT over the tunnel, and since when it has disagreed with the active path's probe RTT.</summary>
    public double? BabelRttMs { get; set; }
    /// <summary>babeld's neighbour on the tunnel: its link cost and the part of it the RTT adds (null: no neighbour).</summary>
    public int? BabelCost { get; set; }
    public int? BabelRttCost { get; set; }
    /// <summary>Prefixes babeld has learnt through the tunnel, and whether it installed each.</summary>
    public List<BabelPrefix> BabelRoutes { get; set; } = [];
    public DateTimeOffset? MismatchSince { get; set; }
    public bool MismatchReported { get; set; }
    /// <summary>How many events were folded (not Marten's stream version, which Marten keeps itself).</summary>
    public long EventCount { get; set; }
    public DateTimeOffset? LastEventAt { get; set; }
    /// <summary>The latest engine time the state has seen (an event or a deadline): nothing at or before it is pending.</summary>
    public DateTimeOffset? Clock { get; set; }

    public PathState? Find(CandidatePath path)
    {
        foreach (var p in PathSpan)
            if (p.Path == path)
                return p;
        return null;
    }

    public IPAddress? PreferredSourceFor(IPAddress dst)
    {
        foreach (var p in PreferredSources)
            if (p.Dst.Equals(dst))
                return p.Src;
        return null;
    }

    public PeerState Clone()
    {
        var copy = (PeerState)MemberwiseClone();
        copy.Endpoints = [.. Endpoints];
        copy.Paths = Paths.ConvertAll(p => p.Clone());
        copy.PreferredSources = [.. PreferredSources];
        copy.Resolved = [.. Resolved];
        copy.Sources = [.. Sources];
        copy.BabelRoutes = [.. BabelRoutes];
        return copy;
    }
}

public sealed record PreferredSource(IPAddress Dst, IPAddress? Src);

public sealed record BabelPrefix(string Prefix, bool Installed, int Metric);
