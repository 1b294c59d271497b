using System.Net;

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
    public List<PathState> Paths { get; set; } = [];
    public List<PreferredSource> PreferredSources { get; set; } = [];
    /// <summary>When the kernel's preferred sources last changed: a preference must hold still before it moves the tunnel.</summary>
    public DateTimeOffset? PreferencesChangedAt { get; set; }
    public CandidatePath? Active { get; set; }
    public DateTimeOffset? ActiveSince { get; set; }
    public DateTimeOffset? LastSwitchAt { get; set; }
    public SwitchStatus Switch { get; set; }
    public bool Unreachable { get; set; }
    public DateTimeOffset? LatestHandshake { get; set; }
    public Endpoint? ObservedEndpoint { get; set; }
    /// <summary>How many events were folded (not Marten's stream version, which Marten keeps itself).</summary>
    public long EventCount { get; set; }
    public DateTimeOffset? LastEventAt { get; set; }

    public PathState? Find(CandidatePath path)
    {
        foreach (var p in Paths)
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
        return copy;
    }
}

public sealed record PreferredSource(IPAddress Dst, IPAddress? Src);
