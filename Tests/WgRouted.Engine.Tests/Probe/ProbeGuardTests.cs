using WgRouted.Engine.Probe;

namespace WgRouted.Engine.Tests.Probe;

public sealed class ProbeGuardTests
{
    private static readonly DateTimeOffset Now = ProbeVectors.AliceTime;

    private static ProbeRequest Request(ulong seq, DateTimeOffset at) => new(ProbeVectors.Alice, seq, at);

    [Fact]
    public void A_message_is_accepted_once()
    {
        var guard = new ProbeGuard();
        Assert.True(guard.TryAccept(Request(1, Now), Now, out var error));
        Assert.Equal(ProbeError.None, error);
        Assert.False(guard.TryAccept(Request(1, Now), Now.AddSeconds(1), out error));
        Assert.Equal(ProbeError.Replayed, error);
        Assert.True(guard.TryAccept(Request(2, Now), Now, out _));
    }

    [Theory]
    [InlineData(-30.0, ProbeError.None)]
    [InlineData(-30.001, ProbeError.Stale)]
    [InlineData(-3600.0, ProbeError.Stale)]
    [InlineData(30.0, ProbeError.None)]
    [InlineData(30.001, ProbeError.FutureDated)]
    [InlineData(86400.0, ProbeError.FutureDated)]
    public void Timestamps_beyond_the_default_30_s_either_way_are_refused(double offsetSeconds, ProbeError expected)
    {
        var guard = new ProbeGuard();
        Assert.Equal(expected == ProbeError.None, guard.TryAccept(Request(1, Now.AddSeconds(offsetSeconds)), Now, out var error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void The_freshness_bound_is_configurable_and_positive()
    {
        var guard = new ProbeGuard(TimeSpan.FromSeconds(5));
        Assert.False(guard.TryAccept(Request(1, Now.AddSeconds(-6)), Now, out var error));
        Assert.Equal(ProbeError.Stale, error);
        Assert.True(guard.TryAccept(Request(2, Now.AddSeconds(-5)), Now, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProbeGuard(TimeSpan.Zero));
    }

    [Fact]
    public void A_stale_message_does_not_use_up_its_sequence_number()
    {
        var guard = new ProbeGuard();
        Assert.False(guard.TryAccept(Request(1, Now.AddMinutes(-5)), Now, out _));
        Assert.True(guard.TryAccept(Request(1, Now), Now, out _));
    }

    [Fact]
    public void Senders_and_directions_have_their_own_windows()
    {
        var guard = new ProbeGuard();
        var observed = Endpoint.Parse("198.51.100.7:40000");
        Assert.True(guard.TryAccept(Request(7, Now), Now, out _));
        Assert.True(guard.TryAccept(new ProbeRequest(ProbeVectors.Bob, 7, Now), Now, out _));
        // Alice's answers are numbered by her responder, independently of her requests.
        Assert.True(guard.TryAccept(new ProbeReply(ProbeVectors.Alice, 7, Now, 1, Now, observed, null), Now, out _));
        Assert.False(guard.TryAccept(new MoveReply(ProbeVectors.Alice, 7, Now, 1, Now, observed, null), Now, out _));
        // A move request shares the request direction.
        Assert.False(guard.TryAccept(new MoveRequest(ProbeVectors.Alice, 7, Now, observed), Now, out var error));
        Assert.Equal(ProbeError.Replayed, error);
    }

    [Fact]
    public void A_forgotten_peer_starts_over()
    {
        var guard = new ProbeGuard();
        Assert.True(guard.TryAccept(Request(7, Now), Now, out _));
        guard.Forget(ProbeVectors.Alice);
        Assert.True(guard.TryAccept(Request(7, Now), Now, out _));
    }

    [Fact]
    public void Decoded_packets_replayed_on_the_wire_are_refused_by_the_guard()
    {
        var guard = new ProbeGuard();
        var packet = ProbeVectors.Encode(ProbeVectors.Messages["request"]);
        for (var i = 0; i < 2; i++)
        {
            Assert.True(ProbeCodec.TryDecode(packet, ProbeVectors.KeyFor, out var message, out _));
            Assert.Equal(i == 0, guard.TryAccept(message, ProbeVectors.AliceTime.AddMilliseconds(5), out var error));
            Assert.Equal(i == 0 ? ProbeError.None : ProbeError.Replayed, error);
        }
    }
}
