using Microsoft.Extensions.Time.Testing;

namespace WgRouted.Service.Tests.Probing;

/// <summary>A fake clock whose wall time can be stepped (as NTP or an operator steps it) while monotonic time runs on.</summary>
internal sealed class SteppedClock(FakeTimeProvider inner) : TimeProvider
{
    public TimeSpan Step { get; set; }

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + Step;

    public override long GetTimestamp() => inner.GetTimestamp();

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        inner.CreateTimer(callback, state, dueTime, period);
}
