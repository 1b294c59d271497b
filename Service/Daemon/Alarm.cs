using WgRouted.Engine;

namespace WgRouted.Service.Daemon;

/// <summary>
/// A loop's wake-up at its next deadline, as a token to wait with: one timer kept across waits and moved only when the
/// deadline comes earlier. A timer made for every wait meant a timer-queue insert and removal, and often a wake of the
/// timer thread, for every input the loop took: thousands a second at 1,000 peers. When the deadline moves later the
/// timer rings early; the loop finds nothing due and waits again. Times are the loop's monotonic ones, and the delay
/// runs from the moment the timer is set, not from the turn's start: a turn that took long (or a clock moved meanwhile)
/// does not make the ring late.
/// </summary>
internal sealed class Alarm(TimeProvider time, MonotonicClock clock, CancellationToken stopping) : IDisposable
{
    private CancellationTokenSource? _timer;
    private CancellationTokenSource? _wait;
    private DateTimeOffset _at;

    /// <summary>Cancelled at <paramref name="at"/> (at the latest), or on stopping; without a deadline, on stopping or an earlier one's ring.</summary>
    public CancellationToken Until(DateTimeOffset? at)
    {
        if (_timer is { IsCancellationRequested: true })
            Disarm();
        if (at is not { } due)
            return _wait?.Token ?? stopping;
        var now = clock.Now;
        var delay = due > now ? due - now : TimeSpan.Zero;
        if (_timer is null)
        {
            _timer = new CancellationTokenSource(delay, time);
            _wait = CancellationTokenSource.CreateLinkedTokenSource(stopping, _timer.Token);
            _at = due;
        }
        else if (due < _at)
        {
            _timer.CancelAfter(delay);
            _at = due;
        }
        return _wait!.Token;
    }

    private void Disarm()
    {
        _wait?.Dispose();
        _timer?.Dispose();
        _wait = null;
        _timer = null;
    }

    public void Dispose() => Disarm();
}
