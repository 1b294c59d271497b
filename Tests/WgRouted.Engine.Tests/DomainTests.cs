using System.Net;
using System.Net.Sockets;

namespace WgRouted.Engine.Tests;

public class DomainTests
{
    private static readonly DateTimeOffset T0 = Simulation.T0;

    [Fact]
    public void PathQuality_first_sample_sets_srtt_to_R_and_rttvar_to_R_over_2()
    {
        var q = default(PathQuality).WithReply(T0, 100);
        Assert.Equal((100.0, 50.0, 100.0), (q.SrttMs!.Value, q.RttVarMs, q.LastRttMs!.Value));
        Assert.Equal((1, 1, 0, 0.0), (q.Samples, q.ConsecutiveSuccesses, q.ConsecutiveMisses, q.Loss));
        Assert.Equal(T0, q.LastSuccessAt);
    }

    [Fact]
    public void PathQuality_later_samples_use_alpha_1_8_and_beta_1_4_with_rttvar_from_the_old_srtt()
    {
        var q = default(PathQuality).WithReply(T0, 100).WithReply(T0.AddSeconds(1), 60);
        // RFC 6298 2.3: rttvar = 3/4 * 50 + 1/4 * |100 - 60| = 47.5; srtt = 7/8 * 100 + 1/8 * 60 = 95.
        Assert.Equal(47.5, q.RttVarMs, 12);
        Assert.Equal(95.0, q.SrttMs!.Value, 12);
        q = q.WithReply(T0.AddSeconds(2), 135);
        // rttvar = 3/4 * 47.5 + 1/4 * 40 = 45.625; srtt = 7/8 * 95 + 1/8 * 135 = 100.
        Assert.Equal(45.625, q.RttVarMs, 12);
        Assert.Equal(100.0, q.SrttMs!.Value, 12);
    }

    [Fact]
    public void PathQuality_loss_counts_misses_over_the_last_32_probes()
    {
        var q = default(PathQuality);
        for (var i = 0; i < 8; i++)
            q = q.WithMiss(T0);
        Assert.Equal((8, 8, 1.0), (q.Samples, q.ConsecutiveMisses, q.Loss));
        for (var i = 0; i < 24; i++)
            q = q.WithReply(T0, 10);
        Assert.Equal((32, 0, 24, 0.25), (q.Samples, q.ConsecutiveMisses, q.ConsecutiveSuccesses, q.Loss));
        // The window slides: the 8 misses fall out one by one.
        for (var i = 0; i < 4; i++)
            q = q.WithReply(T0, 10);
        Assert.Equal(4.0 / 32, q.Loss);
        for (var i = 0; i < 4; i++)
            q = q.WithReply(T0, 10);
        Assert.Equal((32, 0.0), (q.Samples, q.Loss));
    }

    [Fact]
    public void PathQuality_a_miss_keeps_the_srtt_and_ends_the_run_of_successes()
    {
        var q = default(PathQuality).WithReply(T0, 10).WithReply(T0, 10).WithMiss(T0.AddSeconds(1));
        Assert.Equal((10.0, 0, 1, T0, T0.AddSeconds(1)), (q.SrttMs!.Value, q.ConsecutiveSuccesses, q.ConsecutiveMisses, q.LastSuccessAt!.Value, q.LastProbeAt!.Value));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void PathQuality_rejects_an_impossible_RTT(double rtt) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => default(PathQuality).WithReply(T0, rtt));

    [Theory]
    [InlineData("198.18.3.2:51820", "198.18.3.2", 51820)]
    [InlineData("[fd00:3::2]:51820", "fd00:3::2", 51820)]
    [InlineData("[::ffff:198.18.3.2]:1", "198.18.3.2", 1)]
    [InlineData("10.0.0.1:65535", "10.0.0.1", 65535)]
    public void Endpoint_parses_literal_addresses(string text, string address, int port)
    {
        var e = Endpoint.Parse(text);
        Assert.Equal((IPAddress.Parse(address), port), (e.Address, e.Port));
        Assert.Equal(e, Endpoint.Parse(e.ToString()));
    }

    [Theory]
    [InlineData("", "an endpoint is empty")]
    [InlineData("   ", "an endpoint is empty")]
    [InlineData("198.18.3.2", "'198.18.3.2' is not host:port")]
    [InlineData("198.18.3.2:0", "has no valid port (1..65535)")]
    [InlineData("198.18.3.2:65536", "has no valid port (1..65535)")]
    [InlineData("198.18.3.2:+80", "has no valid port")]
    [InlineData("198.18.3.2:", "has no valid port")]
    [InlineData("fd00::2:51820", "write IPv6 addresses as [address]:port")]
    [InlineData("[fd00::2]51820", "is not [address]:port")]
    [InlineData("[fd00::2", "is not [address]:port")]
    [InlineData("[fe80::1%eth0]:51820", "'fe80::1%eth0' is not an IP address")]
    [InlineData("peer.example.net:51820", "'peer.example.net' is not an IP address")]
    [InlineData(":51820", "is not host:port")]
    public void Endpoint_rejects_bad_input_with_a_clear_message(string text, string message)
    {
        Assert.False(Endpoint.TryParse(text, out _, out var error));
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Contains(message, Assert.Throws<FormatException>(() => Endpoint.Parse(text)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.1:51820", "did you mean 10.0.0.1?")]
    [InlineData("0x7f.1.2.3:51820", "did you mean 127.1.2.3?")]
    [InlineData("1234:51820", "did you mean 0.0.4.210?")]
    public void Regression_Endpoint_accepted_inet_aton_shorthand_as_another_address(string text, string message)
    {
        Assert.False(Endpoint.TryParse(text, out _, out var error));
        Assert.Contains("is not a dotted-quad IPv4 address", error, StringComparison.Ordinal);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Endpoint_splits_a_DNS_name_and_port()
    {
        Assert.True(Endpoint.TrySplitHostPort("peer.example.net:51820", out var host, out var port, out _));
        Assert.Equal(("peer.example.net", 51820), (host, port));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Endpoint(IPAddress.Loopback, 0));
    }

    private static readonly string Key = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)(i * 7)).ToArray());

    [Fact]
    public void PeerKey_round_trips_base64_and_bytes()
    {
        var key = PeerKey.Parse(Key);
        Assert.Equal(Key, key.Base64);
        Assert.Equal(key, PeerKey.FromBytes(key.ToBytes()));
        Assert.Equal(Key, key.ToString());
    }

    [Fact]
    public void PeerKeys_are_equal_exactly_when_their_bytes_are()
    {
        var bytes = PeerKey.Parse(Key).ToBytes();
        Assert.Equal(Convert.FromBase64String(Key), bytes);
        var same = PeerKey.FromBytes(bytes);
        Assert.True(PeerKey.Parse(Key) == same);
        Assert.Equal(PeerKey.Parse(Key).GetHashCode(), same.GetHashCode());
        // A key differing in any one byte differs, whichever word of the key holds it.
        for (var i = 0; i < PeerKey.KeyLength; i++)
        {
            var other = (byte[])bytes.Clone();
            other[i] ^= 1;
            Assert.NotEqual(same, PeerKey.FromBytes(other));
        }
        Assert.NotEqual(default, PeerKey.FromBytes(new byte[32]));
        Span<byte> copy = stackalloc byte[PeerKey.KeyLength];
        same.CopyTo(copy);
        Assert.Equal(bytes, copy.ToArray());
        Assert.Throws<InvalidOperationException>(() => default(PeerKey).ToBytes());
    }

    [Theory]
    [InlineData("", "a WireGuard key is empty")]
    [InlineData("not base64!", "is not base64")]
    [InlineData("AAAA", "decodes to 3 bytes; a WireGuard key has 32")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", "decodes to 64 bytes; a WireGuard key has 32")]
    public void PeerKey_rejects_bad_input_with_a_clear_message(string text, string message)
    {
        Assert.False(PeerKey.TryParse(text, out _, out var error));
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Contains(message, Assert.Throws<FormatException>(() => PeerKey.Parse(text)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PeerKey_FromBytes_rejects_a_wrong_length() =>
        Assert.Contains("not 31", Assert.Throws<ArgumentException>(() => PeerKey.FromBytes(new byte[31])).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("192.0.2.1", "[2001:db8::1]:51820")]
    [InlineData("2001:db8::1", "198.51.100.1:51820")]
    public void CandidatePath_rejects_mixed_families(string src, string dst) =>
        Assert.Contains("different families", Assert.Throws<ArgumentException>(() => new CandidatePath(IPAddress.Parse(src), Endpoint.Parse(dst))).Message, StringComparison.Ordinal);

    [Fact]
    public void CandidatePath_maps_an_IPv4_mapped_source_to_IPv4()
    {
        var p = new CandidatePath(IPAddress.Parse("::ffff:192.0.2.1"), Endpoint.Parse("198.51.100.1:51820"));
        Assert.Equal((IPAddress.Parse("192.0.2.1"), AddressFamily.InterNetwork), (p.Src, p.Family));
        Assert.Equal("192.0.2.1 -> 198.51.100.1:51820", p.ToString());
    }

    private static IPAddress[] Ips(params string[] a) => a.Select(IPAddress.Parse).ToArray();

    private static string Cross(string[] endpoints, string[] sources) =>
        string.Join(" | ", Candidates.Cross(endpoints.Select((e, i) => (i, Endpoint.Parse(e))), Ips(sources)).Select(c => $"{c.Order} {c.Path}"));

    [Fact]
    public void Cross_pairs_sources_with_endpoints_of_the_same_family_in_endpoint_order()
    {
        var paths = Cross(["[2001:db8:ff::1]:51820", "198.51.100.1:51820"], ["203.0.113.1", "2001:db8:b::1", "192.0.2.1", "2001:db8:a::1"]);
        Assert.Equal(
            "0 2001:db8:a::1 -> [2001:db8:ff::1]:51820 | 0 2001:db8:b::1 -> [2001:db8:ff::1]:51820 | 1 192.0.2.1 -> 198.51.100.1:51820 | 1 203.0.113.1 -> 198.51.100.1:51820",
            paths);
    }

    [Fact]
    public void Cross_excludes_loopback_link_local_multicast_and_unspecified_sources()
    {
        var paths = Cross(["198.51.100.1:51820", "[2001:db8:ff::1]:51820"],
            ["127.0.0.1", "169.254.1.1", "224.0.0.1", "0.0.0.0", "::1", "fe80::1", "ff02::1", "::", "192.0.2.1", "2001:db8:a::1"]);
        Assert.Equal("0 192.0.2.1 -> 198.51.100.1:51820 | 1 2001:db8:a::1 -> [2001:db8:ff::1]:51820", paths);
    }

    [Fact]
    public void Cross_gives_nothing_when_no_source_has_the_endpoint_family()
    {
        Assert.Equal("", Cross(["[2001:db8:ff::1]:51820"], ["192.0.2.1", "203.0.113.1"]));
    }

    [Fact]
    public void Regression_Cross_threw_on_an_IPv4_mapped_source_with_an_IPv6_endpoint()
    {
        var paths = Cross(["[2001:db8:ff::1]:51820", "198.51.100.1:51820"], ["::ffff:192.0.2.1", "192.0.2.1", "2001:db8:a::1"]);
        Assert.Equal("0 2001:db8:a::1 -> [2001:db8:ff::1]:51820 | 1 192.0.2.1 -> 198.51.100.1:51820", paths);
    }

    [Fact]
    public void Regression_Cross_returned_a_path_twice_when_two_endpoints_resolved_to_the_same_address()
    {
        var paths = Cross(["198.51.100.1:51820", "198.51.100.2:51820", "198.51.100.1:51820"], ["192.0.2.1"]);
        Assert.Equal("0 192.0.2.1 -> 198.51.100.1:51820 | 1 192.0.2.1 -> 198.51.100.2:51820", paths);
    }
}
