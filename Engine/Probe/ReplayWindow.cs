namespace WgRouted.Engine.Probe;

/// <summary>
/// Sliding replay window over one sender's sequence numbers: WireGuard's counter_validate (noise.c) with a
/// 2048-bit ring bitmap. Accepts each number once, in any order, while it is at most <see cref="WindowSize"/>
/// behind the greatest accepted. Not thread-safe. Feed it authenticated messages only.
/// </summary>
public sealed class ReplayWindow
{
    private const int BitsTotal = 2048;
    private const int Words = BitsTotal / 64;
    /// <summary>One word of the ring is the one being refilled, so the usable window is a word short of the bitmap.</summary>
    public const int WindowSize = BitsTotal - 64;

    private readonly ulong[] _bitmap = new ulong[Words];
    // Greatest accepted sequence plus one (0: none yet), as in WireGuard, so sequence 0 is a normal number.
    private ulong _top;

    /// <summary>True the first time <paramref name="sequence"/> is seen within the window; false for a duplicate or one too old.</summary>
    public bool TryAccept(ulong sequence)
    {
        if (sequence == ulong.MaxValue)
            return false;
        var n = sequence + 1;
        if (n < _top && _top - n > WindowSize)
            return false;
        var index = n >> 6;
        if (n > _top)
        {
            var current = _top >> 6;
            var clear = Math.Min(index - current, Words);
            for (ulong i = 1; i <= clear; i++)
                _bitmap[(int)((current + i) % Words)] = 0;
            _top = n;
        }
        ref var word = ref _bitmap[(int)(index % Words)];
        var bit = 1UL << (int)(n & 63);
        if ((word & bit) != 0)
            return false;
        word |= bit;
        return true;
    }
}
