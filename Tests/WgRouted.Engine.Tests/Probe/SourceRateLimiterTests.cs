using WgRouted.Engine.Probe;
using static WgRouted.Engine.Tests.Probe.ProbeVectors;

namespace WgRouted.Engine.Tests.Probe;

public sealed class SourceRateLimiterTests
{
    private static readonly DateTimeOffset T0 = AliceTime;

    [Fact]
    public void A_source_gets_its_burst_then_nothing()
    {
        var limiter = new SourceRateLimiter(perSecond: 10, burst: 5, maxSources: 16);
        for (var i = 0; i < 5; i++)
            Assert.True(limiter.TryAcquire(Ip("198.51.100.7"), T0));
        Assert.False(limiter.TryAcquire(Ip("198.51.100.7"), T0));
        Assert.False(limiter.TryAcquire(Ip("198.51.100.7"), T0.AddMilliseconds(99)));
        // Another source has its own bucket.
        Assert.True(limiter.TryAcquire(Ip("198.51.100.8"), T0));
    }

    [Fact]
    public void Tokens_refill_at_the_rate_up_to_the_burst()
    {
        var limiter = new SourceRateLimiter(perSecond: 10, burst: 5, maxSources: 16);
        var source = Ip("2001:db8::7");
        for (var i = 0; i < 5; i++)
            Assert.True(limiter.TryAcquire(source, T0));
        Assert.True(limiter.TryAcquire(source, T0.AddMilliseconds(100)));
        Assert.False(limiter.TryAcquire(source, T0.AddMilliseconds(100)));
        // An hour of silence refills the burst, not 36,000 tokens.
        var later = T0.AddHours(1);
        for (var i = 0; i < 5; i++)
            Assert.True(limiter.TryAcquire(source, later));
        Assert.False(limiter.TryAcquire(source, later));
    }

    [Fact]
    public void A_clock_stepping_back_refills_nothing()
    {
        var limiter = new SourceRateLimiter(perSecond: 10, burst: 1, maxSources: 16);
        Assert.True(limiter.TryAcquire(Ip("198.51.100.7"), T0));
        Assert.False(limiter.TryAcquire(Ip("198.51.100.7"), T0.AddSeconds(-10)));
        Assert.False(limiter.TryAcquire(Ip("198.51.100.7"), T0.AddMilliseconds(50)));
        Assert.True(limiter.TryAcquire(Ip("198.51.100.7"), T0.AddMilliseconds(100)));
    }

    [Fact]
    public void Memory_is_bounded_by_forgetting_the_least_recently_seen_source()
    {
        var limiter = new SourceRateLimiter(perSecond: 1, burst: 1, maxSources: 3);
        Assert.True(limiter.TryAcquire(Ip("10.0.0.1"), T0));
        Assert.True(limiter.TryAcquire(Ip("10.0.0.2"), T0));
        Assert.True(limiter.TryAcquire(Ip("10.0.0.3"), T0));
        // 10.0.0.1 seen again (refused): now 10.0.0.2 is the least recently seen.
        Assert.False(limiter.TryAcquire(Ip("10.0.0.1"), T0));
        Assert.True(limiter.TryAcquire(Ip("10.0.0.4"), T0));
        Assert.Equal(3, limiter.Count);
        Assert.False(limiter.TryAcquire(Ip("10.0.0.1"), T0));
        Assert.False(limiter.TryAcquire(Ip("10.0.0.3"), T0));
        // 10.0.0.2 was forgotten: it comes back with a full bucket.
        Assert.True(limiter.TryAcquire(Ip("10.0.0.2"), T0));

        for (var i = 0; i < 10_000; i++)
            limiter.TryAcquire(Ip($"198.18.{i / 256}.{i % 256}"), T0);
        Assert.Equal(3, limiter.Count);
    }

    [Fact]
    public void IPv6_sources_share_a_bucket_per_64_and_IPv4_mapped_sources_are_IPv4()
    {
        var limiter = new SourceRateLimiter(perSecond: 1, burst: 1, maxSources: 16);
        Assert.True(limiter.TryAcquire(Ip("2001:db8:1:2::1"), T0));
        Assert.False(limiter.TryAcquire(Ip("2001:db8:1:2:ffff:ffff:ffff:ffff"), T0));
        Assert.True(limiter.TryAcquire(Ip("2001:db8:1:3::1"), T0));

        Assert.True(limiter.TryAcquire(Ip("198.51.100.7"), T0));
        Assert.False(limiter.TryAcquire(Ip("::ffff:198.51.100.7"), T0));
        Assert.True(limiter.TryAcquire(Ip("::ffff:198.51.100.8"), T0));
        Assert.False(limiter.TryAcquire(Ip("198.51.100.8"), T0));
    }

    [Theory]
    [InlineData(0, 1, 1)]
    [InlineData(1, 0, 1)]
    [InlineData(1, 1, 0)]
    public void Limits_must_be_positive(double perSecond, int burst, int maxSources) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new SourceRateLimiter(perSecond, burst, maxSources));
}
