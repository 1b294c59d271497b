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
        }
        else if (due < _at)
            _timer.CancelAfter(delay);
        else
            return _wait!.Token;
        _at = due;
        // A test's clock moved by another thread while the timer was set would make it ring late by the move (see
        // Doorbell): set again from the moved time, a few times at most.
        for (var attempt = 1; attempt < TimerAttempts && !ReferenceEquals(time, TimeProvider.System); attempt++)
        {
            var after = clock.Now;
            if (after == now)
                break;
            now = after;
            _timer.CancelAfter(due > now ? due - now : TimeSpan.Zero);
        }
        return _wait!.Token;
    }

    private const int TimerAttempts = 3;

    private void Disarm()
    {
        _wait?.Dispose();
        _timer?.Dispose();
        _wait = null;
        _timer = null;
    }

    public void Dispose() => Disarm();
}
