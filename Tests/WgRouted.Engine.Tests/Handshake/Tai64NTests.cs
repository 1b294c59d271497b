using System.Buffers.Binary;
using WgRouted.Engine.Handshake;

namespace WgRouted.Engine.Tests.Handshake;

public class Tai64NTests
{
    private static readonly DateTimeOffset At = new DateTimeOffset(2027, 1, 15, 8, 0, 0, TimeSpan.Zero).AddTicks(1_234_567);

    [Fact]
    public void Seconds_are_labelled_and_nanoseconds_rounded_down_to_the_grain()
    {
        var stamp = new byte[12];
        Tai64N.Write(At, stamp);
        Assert.Equal(0x400000000000000aUL + 1_800_000_000UL, BinaryPrimitives.ReadUInt64BigEndian(stamp));
        Assert.Equal(7u << 24, BinaryPrimitives.ReadUInt32BigEndian(stamp.AsSpan(8)));
    }

    [Fact]
    public void Ours_stay_a_grain_behind_what_WireGuard_stamps_now()
    {
        for (var ms = 0; ms < 2000; ms += 3)
        {
            var now = At.AddMilliseconds(ms);
            var ours = Tai64N.Next(now, null)!.Value;
            Assert.True(ours < Tai64N.Floor(now), $"{ours:O} not behind {Tai64N.Floor(now):O}");
        }
    }

    [Fact]
    public void Ours_increase_strictly_and_wait_for_the_next_grain()
    {
        var first = Tai64N.Next(At, null)!.Value;
        Assert.Null(Tai64N.Next(At.AddMilliseconds(1), first));
        var later = At.AddMilliseconds(17);
        Assert.True(Tai64N.Next(later, first) > first);
    }
}
