using System.Buffers.Binary;

namespace WgRouted.Engine.Handshake;

/// <summary>
/// The initiation's timestamp: TAI64N, 8 bytes of seconds labelled 2^62 + 10 + seconds since 1970 (TAI, 10 s ahead
/// of UTC in 1970), then 4 bytes of nanoseconds, both big-endian. A responder takes an initiation only if its
/// timestamp is greater than the last one it took from that key (replay protection).
/// </summary>
public static class Tai64N
{
    public const int Size = 12;
    private const ulong Base = 0x400000000000000a;

    /// <summary>
    /// WireGuard rounds nanoseconds down to a multiple of 2^24 (about 16.8 ms; both the kernel's
    /// INITIATIONS_PER_SECOND = 50 and wireguard-go's whitener), so that a timestamp does not reveal the clock finely.
    /// </summary>
    public const long GrainNanoseconds = 1 << 24;

    /// <summary>TAI64N of <paramref name="at"/> with nanoseconds rounded down to the grain.</summary>
    public static void Write(DateTimeOffset at, Span<byte> destination)
    {
        var (seconds, nanos) = Split(at);
        BinaryPrimitives.WriteUInt64BigEndian(destination, Base + (ulong)seconds);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], (uint)nanos);
    }

    /// <summary>
    /// The latest timestamp to send at <paramref name="now"/> that keeps our own WireGuard's next initiations ahead of
    /// it: one grain before the current one (WireGuard stamps its own with the current grain, so anything it sends
    /// later is strictly greater than ours, and the responder keeps taking them). Never at or below
    /// <paramref name="previous"/> (ours, strictly increasing); null when that would need a timestamp ahead of now.
    /// </summary>
    public static DateTimeOffset? Next(DateTimeOffset now, DateTimeOffset? previous)
    {
        var stamp = Floor(Floor(now) - TimeSpan.FromTicks(1));
        return previous is { } last && stamp <= last ? null : stamp;
    }

    /// <summary><paramref name="at"/> rounded down to the grain (the instant its TAI64N stands for).</summary>
    public static DateTimeOffset Floor(DateTimeOffset at)
    {
        var (seconds, nanos) = Split(at);
        return DateTimeOffset.UnixEpoch.AddTicks(seconds * TimeSpan.TicksPerSecond + nanos / 100);
    }

    /// <summary>Seconds since 1970 and nanoseconds rounded down to the grain.</summary>
    private static (long Seconds, long Nanos) Split(DateTimeOffset at)
    {
        var seconds = Math.DivRem(at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks, TimeSpan.TicksPerSecond, out var rest);
        return (seconds, rest * 100 / GrainNanoseconds * GrainNanoseconds);
    }
}
