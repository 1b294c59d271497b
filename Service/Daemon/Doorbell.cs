using WgRouted.Engine;

namespace WgRouted.Service.Daemon;

/// <summary>
/// Wakes a loop that runs on a thread of its own: rung by every post to the loop's queue, waited on until the loop's
/// next deadline. The policy loop and the prober ran as async loops woken through the thread pool: at 1,000 peers the
/// pool's workers then woke each other (the pool asks for another worker whenever one takes an item) and the timer
/// thread (each deadline a new timer), ~1,100 of the daemon's ~2,350 wake-ups a second (perf sched_wakeup). A thread of
/// its own sleeps in one wait and is woken by the post or the wait's own timeout.
/// </summary>
public sealed class Doorbell
{
    // An object, not a Lock: Monitor.Wait and Pulse need a monitor.
    private readonly object _gate = new();
    private bool _rung;

    public void Ring()
    {
        // Rung already: the loop has yet to take what was posted, and will take this too.
        if (Volatile.Read(ref _rung))
            return;
        lock (_gate)
        {
            _rung = true;
            Monitor.Pulse(_gate);
        }
    }

    /// <summary>
    /// Until rung or <paramref name="deadline"/> has come on <paramref name="clock"/> (null: until rung), then clears the
    /// ring: the caller takes what was posted before. On the system clock the wait is the kernel's timed wait; on any
    /// other (tests) a timer of that clock rings.
    /// </summary>
    public void Wait(DateTimeOffset? deadline, MonotonicClock clock, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(time);
        ITimer? timer = null;
        var wait = Timeout.Infinite;
        if (deadline is { } at)
        {
            if (ReferenceEquals(time, TimeProvider.System))
            {
                var d = at - clock.Now;
                // Whole milliseconds, rounded up: a wait cut short would wake the loop early to find nothing due.
                wait = d <= TimeSpan.Zero ? 0 : (int)Math.Min(int.MaxValue, Math.Ceiling(d.TotalMilliseconds));
            }
            else
                timer = TimerAt(at, clock, time, ref wait);
        }
        using (timer)
            lock (_gate)
            {
                if (!_rung && wait != 0)
                    Monitor.Wait(_gate, wait);
                _rung = false;
            }
    }

    /// <summary>
    /// A timer of a test's clock that rings at <paramref name="at"/>, or none and <paramref name="wait"/> 0 when that has
    /// come. The clock takes a timer's delay from the moment it makes it: moved on by another thread between our reading
    /// and that moment, the timer would ring late by the move (forever, for a test that moves the clock only after the
    /// loop's next step), so a timer made while the clock moved is made again. A few times at most: a clock that moves
    /// on its own (one that advances as it is read) keeps the last.
    /// </summary>
    private ITimer? TimerAt(DateTimeOffset at, MonotonicClock clock, TimeProvider time, ref int wait)
    {
        for (var attempt = 1; ; attempt++)
        {
            var now = clock.Now;
            if (at <= now)
            {
                wait = 0;
                return null;
            }
            var timer = time.CreateTimer(static s => ((Doorbell)s!).Ring(), this, at - now, Timeout.InfiniteTimeSpan);
            if (clock.Now == now || attempt == TimerAttempts)
                return timer;
            timer.Dispose();
        }
    }

    private const int TimerAttempts = 3;
}
