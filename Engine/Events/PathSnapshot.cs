namespace WgRouted.Engine.Events;

/// <summary>One path as the policy saw it when it decided: the inputs a replay checks a decision against.</summary>
public sealed record PathSnapshot(
    CandidatePath Path,
    int Order,
    bool PreferredSource,
    bool Usable,
    double? SrttMs,
    double Loss,
    int ConsecutiveMisses,
    int ConsecutiveSuccesses,
    DateTimeOffset? LastSuccessAt,
    DateTimeOffset? UsableSince);
