namespace WgRouted.Engine.Probe;

/// <summary>
/// Our sequence numbers: the Unix second we started in the high 32 bits, a counter in the low 32. The peer's
/// <see cref="ReplayWindow"/> keeps its state across our restarts, so numbers must keep growing across them;
/// a plain counter from 0 would be rejected as replayed until it passed the old one. Consecutive numbers stay
/// dense, so probes reordered across paths still fit the window. (A restart within the same second reuses
/// numbers: the peer drops those few as replays until the counter passes the old one.) Thread-safe.
/// </summary>
public sealed class ProbeSequence
{
    private ulong _next;

    public ProbeSequence(DateTimeOffset start)
    {
        var seconds = start.ToUnixTimeSeconds();
        if (seconds is < 0 or > uint.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(start), start, "a probe sequence starts between 1970 and 2106");
        _next = (ulong)seconds << 32;
    }

    public ulong Next() => Interlocked.Increment(ref _next) - 1;
}
