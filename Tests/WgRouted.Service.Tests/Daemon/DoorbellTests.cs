using Microsoft.Extensions.Time.Testing;
using WgRouted.Engine;
using WgRouted.Service.Daemon;
using WgRouted.Service.Tests.Probing;

namespace WgRouted.Service.Tests.Daemon;

public sealed class DoorbellTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));

    /// <summary>Waits on a thread of its own, as the loops do.</summary>
    private static Task Waiting(Doorbell bell, DateTimeOffset? deadline, MonotonicClock clock, TimeProvider time) =>
        Task.Factory.StartNew(() => bell.Wait(deadline, clock, time), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    [Fact]
    public async Task A_wait_ends_at_its_deadline_on_the_clock_and_not_before()
    {
        var bell = new Doorbell();
        var clock = new MonotonicClock(_time);
        var wait = Waiting(bell, clock.Now + TimeSpan.FromMilliseconds(60), clock, _time);
        await Task.Delay(100);
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(59));
        await Task.Delay(100);
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await wait.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_ring_ends_a_wait_and_a_ring_before_the_wait_ends_the_next_one_at_once()
    {
        var bell = new Doorbell();
        var clock = new MonotonicClock(_time);
        var wait = Waiting(bell, null, clock, _time);
        await Task.Delay(100);
        Assert.False(wait.IsCompleted);
        bell.Ring();
        await wait.WaitAsync(TimeSpan.FromSeconds(5));
        bell.Ring();
        await Waiting(bell, null, clock, _time).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_clock_moved_past_the_deadline_while_the_timer_is_made_ends_the_wait_at_once()
    {
        // The prober's wait after its first probes while a test moved its clock 250 ms: a timer made for 60 ms from the
        // moved time never rang.
        var bell = new Doorbell();
        var clock = new MonotonicClock(_time);
        var time = new MovedWhileSetting(_time, TimeSpan.FromMilliseconds(250));
        await Waiting(bell, clock.Now + TimeSpan.FromMilliseconds(60), clock, time).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_clock_moved_short_of_the_deadline_while_the_timer_is_made_still_rings_at_the_deadline()
    {
        var bell = new Doorbell();
        var clock = new MonotonicClock(_time);
        var deadline = clock.Now + TimeSpan.FromMilliseconds(60);
        var time = new MovedWhileSetting(_time, TimeSpan.FromMilliseconds(10));
        var wait = Waiting(bell, deadline, clock, time);
        await ProbingFixture.Until(() => time.Timers == 2, "the timer made again");
        await Task.Delay(100);
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(50));
        await wait.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(deadline, clock.Now);
    }
}
