using WgRouted.Engine.Probe;

namespace WgRouted.Engine.Tests.Probe;

public sealed class MoveGuardTests
{
    private static readonly DateTimeOffset Now = ProbeVectors.AliceTime;
    private static readonly Endpoint Source = Endpoint.Parse("198.51.100.7:40000");
    private static readonly Endpoint Wanted = Endpoint.Parse("198.51.100.7:51820");

    private static MoveRequest Move(ulong seq, DateTimeOffset? at = null, Endpoint? requested = null) =>
        new(ProbeVectors.Alice, seq, at ?? Now, requested ?? Wanted);

    [Fact]
    public void A_move_is_accepted_from_the_address_it_asks_for_with_any_source_port()
    {
        var guard = new MoveGuard();
        Assert.True(guard.TryAccept(Move(10), Source, Now, out var error));
        Assert.Equal(ProbeError.None, error);
        Assert.Equal(10UL, guard.Accepted[ProbeVectors.Alice]);
    }

    [Theory]
    [InlineData("198.51.100.8:40000")]
    [InlineData("[2001:db8::7]:40000")]
    public void A_move_from_another_address_is_refused(string from)
    {
        var guard = new MoveGuard();
        Assert.False(guard.TryAccept(Move(10), Endpoint.Parse(from), Now, out var error));
        Assert.Equal(ProbeError.MoveFromAnotherAddress, error);
        Assert.Empty(guard.Accepted);
    }

    [Fact]
    public void Numbers_must_strictly_increase_per_sender()
    {
        var guard = new MoveGuard();
        Assert.True(guard.TryAccept(Move(10), Source, Now, out _));
        Assert.False(guard.TryAccept(Move(10), Source, Now, out var error));
        Assert.Equal(ProbeError.MoveNotNewer, error);
        Assert.False(guard.TryAccept(Move(9), Source, Now, out error));
        Assert.Equal(ProbeError.MoveNotNewer, error);
        Assert.True(guard.TryAccept(Move(11), Source, Now, out _));
        Assert.True(guard.TryAccept(new MoveRequest(ProbeVectors.Bob, 5, Now, Wanted), Source, Now, out _));
    }

    [Theory]
    [InlineData(-3.0, ProbeError.None)]
    [InlineData(-3.001, ProbeError.Stale)]
    [InlineData(3.0, ProbeError.None)]
    [InlineData(3.001, ProbeError.FutureDated)]
    public void Moves_are_fresh_for_3_s_either_way(double offsetSeconds, ProbeError expected)
    {
        var guard = new MoveGuard();
        Assert.Equal(expected == ProbeError.None, guard.TryAccept(Move(1, Now.AddSeconds(offsetSeconds)), Source, Now, out var error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void Records_from_before_a_restart_and_the_floor_hold()
    {
        var guard = new MoveGuard([new(ProbeVectors.Alice, 100UL)], floor: 50);
        Assert.False(guard.TryAccept(Move(100), Source, Now, out var error));
        Assert.Equal(ProbeError.MoveNotNewer, error);
        Assert.True(guard.TryAccept(Move(101), Source, Now, out _));
        Assert.False(guard.TryAccept(new MoveRequest(ProbeVectors.Bob, 50, Now, Wanted), Source, Now, out error));
        Assert.Equal(ProbeError.MoveNotNewer, error);
        Assert.True(guard.TryAccept(new MoveRequest(ProbeVectors.Bob, 51, Now, Wanted), Source, Now, out _));
    }
}
