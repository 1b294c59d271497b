using WgRouted.Engine.Probe;

namespace WgRouted.Engine.Tests.Probe;

public sealed class ProbeSequenceTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Numbers_are_the_clock_in_milliseconds_and_strictly_increase_within_one()
    {
        var sequence = new ProbeSequence();
        var ms = (ulong)T0.ToUnixTimeMilliseconds();
        Assert.Equal(ms, sequence.Next(T0));
        Assert.Equal(ms + 1, sequence.Next(T0));
        Assert.Equal(ms + 2, sequence.Next(T0.AddTicks(1)));
        Assert.Equal(ms + 10, sequence.Next(T0.AddMilliseconds(10)));
    }

    [Fact]
    public void A_clock_stepping_back_does_not_make_numbers_go_back()
    {
        var sequence = new ProbeSequence();
        var first = sequence.Next(T0);
        Assert.Equal(first + 1, sequence.Next(T0.AddHours(-1)));
    }

    [Fact]
    public void A_restart_a_millisecond_later_numbers_above_everything_sent_before_at_a_peers_rate()
    {
        var before = new ProbeSequence();
        ulong last = 0;
        // 20 a second for a minute: a peer's probes and moves on 4 paths, far more than the daemon sends.
        for (var i = 0; i < 1200; i++)
            last = before.Next(T0.AddMilliseconds(i * 50));
        var after = new ProbeSequence();
        Assert.True(after.Next(T0.AddMilliseconds(1200 * 50 + 1)) > last);
    }

    [Fact]
    public void Two_senders_on_one_clock_stay_within_each_others_replay_window()
    {
        var daemon = new ProbeSequence();
        var cli = new ProbeSequence();
        var window = new ReplayWindow();
        var accepted = 0;
        for (var i = 0; i < 400; i++)
        {
            var at = T0.AddMilliseconds(i * 25);
            accepted += window.TryAccept(daemon.Next(at)) ? 1 : 0;
            accepted += window.TryAccept(cli.Next(at.AddMilliseconds(3))) ? 1 : 0;
        }
        Assert.Equal(800, accepted);
    }

    [Fact]
    public void Times_before_1970_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProbeSequence().Next(DateTimeOffset.UnixEpoch.AddSeconds(-1)));
    }
}
