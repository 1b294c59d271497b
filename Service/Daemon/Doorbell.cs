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
    /// Until rung or <paramref name="delay"/> has passed on <paramref name="time"/> (null: until rung), then clears
    /// the ring: the caller takes what was posted before. On the system clock the wait is the kernel's timed wait; on
    /// any other (tests) a timer of that clock rings.
    /// </summary>
    public void Wait(TimeSpan? delay, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        ITimer? timer = null;
        var wait = Timeout.Infinite;
        if (delay is { } d)
        {
            if (d <= TimeSpan.Zero)
                wait = 0;
            else if (ReferenceEquals(time, TimeProvider.System))
                // Whole milliseconds, rounded up: a wait cut short would wake the loop early to find nothing due.
                wait = (int)Math.Min(int.MaxValue, Math.Ceiling(d.TotalMilliseconds));
            else
                timer = time.CreateTimer(static s => ((Doorbell)s!).Ring(), this, d, Timeout.InfiniteTimeSpan);
        }
        using (timer)
            lock (_gate)
            {
                if (!_rung && wait != 0)
                    Monitor.Wait(_gate, wait);
                _rung = false;
            }
    }
}
