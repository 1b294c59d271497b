using System.Net;
using WgRouted.Integrations.Netlink;

namespace WgRouted.Integrations.Tests.WireGuard;

public class WireGuardGenlCodecTests
{
    [Fact]
    public void Set_endpoint_encodes_byte_by_byte_as_wireguard_h_lays_it_out()
    {
        var key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        var bytes = WireGuardGenlCodec.EncodeSetEndpoint(0x15, "wgx", key, IPEndPoint.Parse("198.18.0.2:51820"), 7);
        Assert.Equal(
            "64000000" + "1500" + "0500" + "07000000" + "00000000" // nlmsghdr: family id 0x15, REQUEST|ACK
            + "01010000" // genlmsghdr: WG_CMD_SET_DEVICE, version 1
            + "0800" + "0200" + "77677800" // WGDEVICE_A_IFNAME "wgx"
            + "4800" + "0880" // WGDEVICE_A_PEERS | NLA_F_NESTED
            + "4400" + "0080" // peer 0 | NLA_F_NESTED
            + "2400" + "0100" + Convert.ToHexStringLower(key) // WGPEER_A_PUBLIC_KEY
            + "0800" + "0300" + "04000000" // WGPEER_A_FLAGS = WGPEER_F_UPDATE_ONLY
            + "1400" + "0400" + "0200" + "ca6c" + "c6120002" + "0000000000000000", // WGPEER_A_ENDPOINT sockaddr_in
            Convert.ToHexStringLower(bytes));
    }

    [Fact]
    public void Set_fwmark_encodes_byte_by_byte()
    {
        Assert.Equal(
            "24000000" + "1500" + "0500" + "03000000" + "00000000" + "01010000"
            + "08000200" + "77677800" + "08000700" + "ca000000", // WGDEVICE_A_FWMARK 0xca
            Convert.ToHexStringLower(WireGuardGenlCodec.EncodeSetFirewallMark(0x15, "wgx", 0xca, 3)));
    }

    [Fact]
    public void Get_device_asks_by_name_as_a_dump()
    {
        Assert.Equal(
            "1c000000" + "1500" + "0503" + "04000000" + "00000000" + "00010000" + "0800" + "0200" + "77677800",
            Convert.ToHexStringLower(WireGuardGenlCodec.EncodeGetDevice(0x15, "wgx", 4)));
    }

    [Fact]
    public void Controller_lookup_asks_for_the_wireguard_family()
    {
        Assert.Equal(
            "24000000" + "1000" + "0500" + "01000000" + "00000000" + "03010000" + "0e000200" + "77697265677561726400" + "0000",
            Convert.ToHexStringLower(WireGuardGenlCodec.EncodeGetFamily(1)));
        Assert.Equal(0x15, WireGuardGenlCodec.DecodeFamilyId([1, 2, 0, 0, .. GenlFixtures.Attr(1, [0x15, 0])]));
    }

    [Fact]
    public void A_peer_split_across_two_messages_is_coalesced()
    {
        var device = WireGuardGenlCodec.DecodeDevice([GenlFixtures.FirstMessage(), GenlFixtures.SecondMessage()]);
        Assert.Equal("wgx", device.Name);
        Assert.Equal(Convert.ToBase64String(GenlFixtures.PublicKey), device.PublicKey);
        Assert.Equal(GenlFixtures.PrivateKey, device.PrivateKey);
        Assert.Equal(51820, device.ListenPort);
        Assert.Equal(0x10u, device.FirewallMark);
        Assert.Equal(2, device.Peers.Count);
        var a = device.Peers[0];
        Assert.Equal(Convert.ToBase64String(GenlFixtures.PeerA), a.PublicKey);
        Assert.False(a.HasPresharedKey);
        Assert.Equal(IPEndPoint.Parse("198.18.0.2:51820"), a.Endpoint);
        Assert.Equal([IPNetwork.Parse("198.19.0.0/16"), IPNetwork.Parse("fd00:1::/64")], a.AllowedIps);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000).AddMilliseconds(500), a.LatestHandshake);
        Assert.Equal((100ul, 200ul, (ushort)25), (a.RxBytes, a.TxBytes, a.PersistentKeepalive));
        var b = device.Peers[1];
        Assert.Equal(Convert.ToBase64String(GenlFixtures.PeerB), b.PublicKey);
        Assert.True(b.HasPresharedKey);
        Assert.Equal(IPEndPoint.Parse("[fd00::2]:51821"), b.Endpoint);
        Assert.Empty(b.AllowedIps);
        Assert.Null(b.LatestHandshake);
    }

    [Fact]
    public void The_private_key_never_shows_in_ToString()
    {
        var device = WireGuardGenlCodec.DecodeDevice([GenlFixtures.FirstMessage()]);
        var text = device.ToString();
        Assert.DoesNotContain(Convert.ToBase64String(GenlFixtures.PrivateKey), text, StringComparison.Ordinal);
        Assert.DoesNotContain("System.Byte[]", text, StringComparison.Ordinal);
        Assert.Contains("PrivateKey = (hidden)", text, StringComparison.Ordinal);
    }
}
