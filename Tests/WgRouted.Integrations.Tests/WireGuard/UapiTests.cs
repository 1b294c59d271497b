using System.Net;
using WgRouted.Integrations.Netlink;

namespace WgRouted.Integrations.Tests.WireGuard;

public class UapiTests
{
    // The example reply of https://www.wireguard.com/xplatform/ (get=1), trimmed to two peers.
    private const string Reply =
        "private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a\n"
        + "listen_port=12912\n"
        + "public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33\n"
        + "preshared_key=188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52\n"
        + "allowed_ip=192.168.4.4/32\n"
        + "endpoint=[abcd:23::33%2]:51820\n"
        + "last_handshake_time_sec=1700000000\n"
        + "last_handshake_time_nsec=5000000\n"
        + "tx_bytes=38333\n"
        + "rx_bytes=2224\n"
        + "persistent_keepalive_interval=111\n"
        + "protocol_version=1\n"
        + "public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376\n"
        + "preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
        + "endpoint=182.122.22.19:3233\n"
        + "allowed_ip=192.168.4.6/32\n"
        + "allowed_ip=fd00::/64\n"
        + "last_handshake_time_sec=0\n"
        + "last_handshake_time_nsec=0\n"
        + "tx_bytes=0\n"
        + "rx_bytes=0\n"
        + "persistent_keepalive_interval=0\n"
        + "errno=0\n\n";

    [Fact]
    public void A_get_reply_parses_into_the_device_record()
    {
        var device = WireGuardControl.ParseUapi("wg0", Reply);
        Assert.Equal(12912, device.ListenPort);
        Assert.Equal(Convert.FromHexString("e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a"), device.PrivateKey);
        Assert.Equal(2, device.Peers.Count);
        var a = device.Peers[0];
        Assert.Equal(Convert.ToBase64String(Convert.FromHexString("b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33")), a.PublicKey);
        Assert.True(a.HasPresharedKey);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("abcd:23::33%2"), 51820), a.Endpoint);
        Assert.Equal([IPNetwork.Parse("192.168.4.4/32")], a.AllowedIps);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000).AddMilliseconds(5), a.LatestHandshake);
        Assert.Equal((2224ul, 38333ul, (ushort)111), (a.RxBytes, a.TxBytes, a.PersistentKeepalive));
        var b = device.Peers[1];
        Assert.False(b.HasPresharedKey);
        Assert.Null(b.LatestHandshake);
        Assert.Equal([IPNetwork.Parse("192.168.4.6/32"), IPNetwork.Parse("fd00::/64")], b.AllowedIps);
    }

    [Fact]
    public void The_public_key_is_derived_from_the_private_key()
    {
        // RFC 7748 section 6.1, Alice's key pair.
        var device = WireGuardControl.ParseUapi("wg0",
            "private_key=77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a\nerrno=0\n\n");
        Assert.Equal(Convert.ToBase64String(Convert.FromHexString("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")), device.PublicKey);
    }

    [Theory]
    [InlineData("errno=0\n\n", 0)]
    [InlineData("errno=22\n\n", 22)]
    public void Set_replies_carry_errno(string reply, int errno) => Assert.Equal(errno, WireGuardControl.ParseErrno(reply));

    [Fact]
    public void An_error_reply_to_get_names_the_device()
    {
        var e = Assert.Throws<NetlinkException>(() => WireGuardControl.ParseUapi("wg9", "errno=19\n\n"));
        Assert.Contains("wg9", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("listen_port=1\n\n")]
    [InlineData("endpoint=1.2.3.4:5\nerrno=0\n\n")]
    [InlineData("private_key=zz\nerrno=0\n\n")]
    [InlineData("garbage\nerrno=0\n\n")]
    public void Malformed_replies_are_rejected(string reply) =>
        Assert.Throws<InvalidDataException>(() => WireGuardControl.ParseUapi("wg0", reply));
}
