using Microsoft.Extensions.Time.Testing;

namespace WgRouted.Service.Tests.Daemon;

/// <summary>
/// A test's clock that another thread moves on at the worst moment: after the loop read the time, before the clock
/// makes its timer (once).
/// </summary>
internal sealed class MovedWhileSetting(FakeTimeProvider inner, TimeSpan move) : TimeProvider
{
    private int _moved;

    private int _timers;

    public int Timers => Volatile.Read(ref _timers);

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

    public override long GetTimestamp() => inner.GetTimestamp();

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Interlocked.Increment(ref _timers);
        if (Interlocked.Exchange(ref _moved, 1) == 0)
            inner.Advance(move);
        return inner.CreateTimer(callback, state, dueTime, period);
    }
}
