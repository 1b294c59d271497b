namespace WgRouted.Engine;

/// <summary>A candidate path with the position of its endpoint in the peer's configured list.</summary>
public readonly record struct Candidate(CandidatePath Path, int Order);
