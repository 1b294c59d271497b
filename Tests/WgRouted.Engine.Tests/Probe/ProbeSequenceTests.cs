using WgRouted.Engine.Probe;

namespace WgRouted.Engine.Tests.Probe;

public sealed class ProbeSequenceTests
{
    [Fact]
    public void Numbers_start_at_the_start_second_shifted_up_and_count_by_one()
    {
        var start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000).AddMilliseconds(999);
        var sequence = new ProbeSequence(start);
        Assert.Equal(1_800_000_000UL << 32, sequence.Next());
        Assert.Equal((1_800_000_000UL << 32) + 1, sequence.Next());
    }

    [Fact]
    public void A_restart_a_second_later_is_ahead_of_everything_sent_before_so_the_peer_accepts_it()
    {
        var t = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        var before = new ProbeSequence(t);
        var window = new ReplayWindow();
        for (var i = 0; i < 100_000; i++)
            Assert.True(window.TryAccept(before.Next()));
        var after = new ProbeSequence(t.AddSeconds(1));
        Assert.True(window.TryAccept(after.Next()));
    }

    [Fact]
    public void Numbers_are_unique_across_threads()
    {
        var sequence = new ProbeSequence(DateTimeOffset.FromUnixTimeSeconds(1));
        var numbers = new ulong[2][];
        Parallel.For(0, 2, t => numbers[t] = Enumerable.Range(0, 10_000).Select(_ => sequence.Next()).ToArray());
        Assert.Equal(20_000, numbers.SelectMany(n => n).Distinct().Count());
    }

    [Fact]
    public void Times_outside_32_bit_unix_seconds_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProbeSequence(DateTimeOffset.UnixEpoch.AddSeconds(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProbeSequence(DateTimeOffset.FromUnixTimeSeconds(uint.MaxValue + 1L)));
    }
}
