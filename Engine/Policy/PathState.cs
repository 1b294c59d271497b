using WgRouted.Engine.Events;

namespace WgRouted.Engine.Policy;

/// <summary>The policy's view of one candidate path.</summary>
public sealed class PathState
{
    public CandidatePath Path { get; set; }
    public int Order { get; set; }
    public PathQuality Quality { get; set; }
    /// <summary>Reported down (link, address, misses); cleared by the next successful probe.</summary>
    public bool Down { get; set; }
    /// <summary>When it was last reported down: a stock peer's path is tried again a backoff after (<see cref="EndpointPolicy.TrialBackoff"/>).</summary>
    public DateTimeOffset? DownAt { get; set; }
    /// <summary>Why it was last reported down; meaningful only while <see cref="Down"/>.</summary>
    public PathDownReason DownReason { get; set; }
    /// <summary>A stock peer's switches to this path that failed in a row (no handshake response).</summary>
    public int FailedTrials { get; set; }
    /// <summary>When the path last became usable; meaningful only while it is usable.</summary>
    public DateTimeOffset? UsableSince { get; set; }
    /// <summary>Since when its RTT has been clearly better than the active path's (same preference only).</summary>
    public DateTimeOffset? RttBetterSince { get; set; }
    /// <summary>The sequence of the newest probe it answered (the prober numbers each peer's probes in order).</summary>
    public ulong RepliedSequence { get; set; }
    /// <summary>The quality last stored as PathMeasured/PathCameUp, to store only significant changes.</summary>
    public PathQuality Reported { get; set; }

    public PathState Clone() => (PathState)MemberwiseClone();
}
