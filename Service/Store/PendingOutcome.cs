namespace WgRouted.Service.Store;

/// <summary>
/// An outcome waiting to be stored, with the recorder's local numbers for its path and answer instead of the
/// objects: 40 bytes, so a million of them held through an outage is 40 MB. <see cref="Answer"/> -1: neither
/// endpoint known.
/// </summary>
internal readonly record struct PendingOutcome(long Ticks, ulong Sequence, double Rtt, int Path, int Answer, bool Replied);
