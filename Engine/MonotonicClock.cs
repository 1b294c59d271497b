namespace WgRouted.Engine;

/// <summary>
/// Engine time: the wall clock when it was made, advanced by the monotonic clock since. Intervals, deadlines and
/// hold-downs measured on it are immune to the wall clock being stepped (NTP at boot, an operator's date): a jump
/// forward would otherwise expire every deadline at once (probes missed en masse, paths declared down), a jump back
/// would freeze them. Stored times are engine times, so they drift from the wall clock only by such steps.
/// </summary>
public sealed class MonotonicClock
{
    private readonly TimeProvider _time;
    private readonly DateTimeOffset _origin;
    private readonly long _start;

    public MonotonicClock(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _origin = time.GetUtcNow();
        _start = time.GetTimestamp();
    }

    public DateTimeOffset Now => _origin + _time.GetElapsedTime(_start);
}
