using Microsoft.Extensions.Time.Testing;
using WgRouted.Engine;
using WgRouted.Service.Daemon;

namespace WgRouted.Service.Tests.Daemon;

public sealed class AlarmTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void An_alarm_rings_at_its_deadline_and_an_earlier_deadline_moves_it()
    {
        var clock = new MonotonicClock(_time);
        using var alarm = new Alarm(_time, clock, CancellationToken.None);
        var start = clock.Now;
        var token = alarm.Until(start + TimeSpan.FromMilliseconds(100));
        Assert.Equal(token, alarm.Until(start + TimeSpan.FromMilliseconds(300)));
        _time.Advance(TimeSpan.FromMilliseconds(30));
        alarm.Until(start + TimeSpan.FromMilliseconds(60));
        _time.Advance(TimeSpan.FromMilliseconds(29));
        Assert.False(token.IsCancellationRequested);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(token.IsCancellationRequested);
    }

    [Fact]
    public void A_clock_moved_short_of_the_deadline_while_the_timer_is_set_still_rings_at_the_deadline()
    {
        // The handshake prober's wait while a test moved its clock: a timer set for 60 ms from the moved time rang late.
        var clock = new MonotonicClock(_time);
        using var alarm = new Alarm(new MovedWhileSetting(_time, TimeSpan.FromMilliseconds(10)), clock, CancellationToken.None);
        var deadline = clock.Now + TimeSpan.FromMilliseconds(60);
        var token = alarm.Until(deadline);
        _time.Advance(TimeSpan.FromMilliseconds(49));
        Assert.False(token.IsCancellationRequested);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(token.IsCancellationRequested);
        Assert.Equal(deadline, clock.Now);
    }

    [Fact]
    public void A_clock_moved_past_the_deadline_while_the_timer_is_set_rings_at_once()
    {
        var clock = new MonotonicClock(_time);
        using var alarm = new Alarm(new MovedWhileSetting(_time, TimeSpan.FromMilliseconds(250)), clock, CancellationToken.None);
        var token = alarm.Until(clock.Now + TimeSpan.FromMilliseconds(60));
        Assert.True(token.IsCancellationRequested);
    }
}
