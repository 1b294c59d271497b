using WgRouted.Engine.Probe;

namespace WgRouted.Engine.Tests.Probe;

public sealed class ReplayWindowTests
{
    [Fact]
    public void In_order_numbers_are_accepted_once()
    {
        var window = new ReplayWindow();
        for (ulong s = 0; s < 10_000; s++)
            Assert.True(window.TryAccept(s), $"{s}");
        Assert.False(window.TryAccept(9_999));
        Assert.False(window.TryAccept(9_000));
    }

    [Fact]
    public void Out_of_order_numbers_within_the_window_are_accepted_once()
    {
        var window = new ReplayWindow();
        Assert.True(window.TryAccept(5_000));
        for (var s = 4_999UL; s >= 5_000 - ReplayWindow.WindowSize; s--)
            Assert.True(window.TryAccept(s), $"{s}");
        for (var s = 5_000UL; s >= 5_000 - ReplayWindow.WindowSize; s--)
            Assert.False(window.TryAccept(s), $"{s}");
        Assert.True(window.TryAccept(5_002));
        Assert.True(window.TryAccept(5_001));
    }

    [Fact]
    public void Numbers_more_than_the_window_behind_the_greatest_are_too_old()
    {
        var window = new ReplayWindow();
        Assert.True(window.TryAccept(5_000));
        Assert.False(window.TryAccept(5_000 - ReplayWindow.WindowSize - 1));
        Assert.False(window.TryAccept(0));
        Assert.True(window.TryAccept(5_000 - ReplayWindow.WindowSize));
    }

    [Fact]
    public void Zero_is_an_ordinary_first_number_and_the_last_number_is_refused()
    {
        var window = new ReplayWindow();
        Assert.True(window.TryAccept(0));
        Assert.False(window.TryAccept(0));
        Assert.True(window.TryAccept(ulong.MaxValue - 1));
        Assert.False(window.TryAccept(ulong.MaxValue));
        Assert.False(window.TryAccept(ulong.MaxValue - 1));
        Assert.True(window.TryAccept(ulong.MaxValue - 2));
    }

    [Fact]
    public void A_jump_ahead_forgets_nothing_it_should_remember_and_remembers_nothing_stale()
    {
        var window = new ReplayWindow();
        for (ulong s = 0; s < 4_096; s++)
            Assert.True(window.TryAccept(s));
        // Jump a little more than one ring: the bits of 0..4095 must not mark the new numbers as seen.
        var top = 4_096UL + 2_048 + 65;
        Assert.True(window.TryAccept(top));
        for (var s = top - 1; s >= top - ReplayWindow.WindowSize; s--)
            Assert.True(window.TryAccept(s), $"{s}");
        // A new epoch (ProbeSequence after a restart): everything from before is too old.
        var epoch = 1UL << 40;
        Assert.True(window.TryAccept(epoch));
        Assert.False(window.TryAccept(top));
        Assert.True(window.TryAccept(epoch + 1));
    }

    [Fact]
    public void The_window_agrees_with_a_set_of_seen_numbers_and_the_greatest()
    {
        var random = new Random(7748);
        var window = new ReplayWindow();
        var seen = new HashSet<ulong>();
        ulong? greatest = null;
        var cursor = 1_000_000UL;
        for (var i = 0; i < 200_000; i++)
        {
            cursor += (ulong)random.Next(0, 3) + (random.Next(1000) == 0 ? (ulong)random.Next(0, 10_000) : 0);
            var s = cursor - (ulong)random.Next(0, 2_200);
            var expected = !seen.Contains(s) && (greatest is not { } g || s + ReplayWindow.WindowSize >= g);
            Assert.Equal(expected, window.TryAccept(s));
            if (expected)
            {
                seen.Add(s);
                greatest = Math.Max(greatest ?? 0, s);
            }
        }
    }
}
