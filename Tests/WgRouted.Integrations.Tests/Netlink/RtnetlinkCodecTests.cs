using System.Net;
using System.Net.Sockets;
using WgRouted.Integrations.Netlink;

namespace WgRouted.Integrations.Tests.Netlink;

public class RtnetlinkCodecTests
{
    [Theory]
    // nlmsghdr(len 36, RTM_GETROUTE, REQUEST|ACK, seq 1) rtmsg(AF_INET, dst_len 32, RTM_F_LOOKUP_TABLE) RTA_DST
    [InlineData("198.18.0.1", null, null, null,
        "24000000" + "1a00" + "0500" + "01000000" + "00000000" + "0220000000000000" + "00100000" + "08000100c6120001")]
    [InlineData("198.18.0.1", "198.18.0.2", 16u, 3,
        "3c000000" + "1a00" + "0500" + "01000000" + "00000000" + "0220200000000000" + "00100000" + "08000100c6120001"
        + "08000200c6120002" + "0800040003000000" + "0800100010000000")]
    [InlineData("fd00::5", null, null, null,
        "30000000" + "1a00" + "0500" + "01000000" + "00000000" + "0a80000000000000" + "00100000" + "14000100fd000000000000000000000000000005")]
    public void Route_get_request_is_what_ip_route_get_sends(string dst, string? src, uint? mark, int? oif, string expected)
    {
        var query = new RouteQuery(IPAddress.Parse(dst), src is null ? null : IPAddress.Parse(src), mark, oif);
        Assert.Equal(expected, Convert.ToHexStringLower(RtnetlinkCodec.EncodeGetRoute(query, 1)));
    }

    [Theory]
    [InlineData(RtnetlinkCodec.RTM_GETLINK, "2000000012000103020000000000000000000000000000000000000000000000")]
    [InlineData(RtnetlinkCodec.RTM_GETADDR, "180000001600010302000000000000000000000000000000")]
    [InlineData(RtnetlinkCodec.RTM_GETROUTE, "1c0000001a00010302000000000000000000000000000000" + "00000000")]
    [InlineData(RtnetlinkCodec.RTM_GETRULE, "1c0000002200010302000000000000000000000000000000" + "00000000")]
    public void Dump_requests_carry_the_family_header(ushort type, string expected) =>
        Assert.Equal(expected, Convert.ToHexStringLower(RtnetlinkCodec.EncodeDump(type, 2)));

    [Fact]
    public void A_pin_in_a_table_above_255_puts_the_id_in_RTA_TABLE()
    {
        var route = new Route(AddressFamily.InterNetwork, 1000, IPAddress.Parse("198.19.0.9"), 32, null, 0, 0,
            IPAddress.Parse("198.18.0.1"), IPAddress.Parse("198.18.0.2"), 3, 0, Route.ProtocolStatic, Route.ScopeUniverse,
            RouteType.Unicast, RouteFlags.None);
        var bytes = Convert.ToHexStringLower(RtnetlinkCodec.EncodeRoute(RtnetlinkCodec.RTM_NEWROUTE, route, 5, replace: true));
        Assert.Equal(
            "44000000" + "1800" + "0505" + "05000000" + "00000000" // NLM_F_REQUEST|ACK|REPLACE|CREATE
            + "0220000000040001" + "00000000" // table byte RT_TABLE_UNSPEC, proto static, scope universe, unicast
            + "08000f00e8030000" + "08000100c6130009" + "08000700c6120001" + "08000500c6120002" + "0800040003000000",
            bytes);
    }

    [Fact]
    public void A_fwmark_rule_encodes_like_ip_rule_add()
    {
        var rule = new Rule(AddressFamily.InterNetwork, 100, 0x10, 0xffffffff, 1000, null, 0, null, 0, RuleAction.ToTable, 0, null, null, false, 0);
        Assert.Equal(
            "3c000000" + "2000" + "0506" + "09000000" + "00000000" + "0200000000000001" + "00000000"
            + "08000f00e8030000" + "0800060064000000" + "08000a0010000000" + "08001000ffffffff",
            Convert.ToHexStringLower(RtnetlinkCodec.EncodeRule(RtnetlinkCodec.RTM_NEWRULE, rule, 9)));
    }

    [Fact]
    public void Captured_link_decodes()
    {
        var link = RtnetlinkCodec.DecodeLink(Fixtures.Bytes(Fixtures.LinkD0));
        Assert.Equal(new Link(3, "d0", LinkFlags.Up | LinkFlags.Broadcast | LinkFlags.Running | LinkFlags.Multicast | LinkFlags.LowerUp,
            1500, OperState.Up, true, "veth"), link);
    }

    [Fact]
    public void Captured_addresses_decode()
    {
        Assert.Equal(new Address(3, AddressFamily.InterNetwork, IPAddress.Parse("198.18.0.1"), 24, AddressFlags.Permanent, 0, "d0"),
            RtnetlinkCodec.DecodeAddress(Fixtures.Bytes(Fixtures.AddressV4)));
        Assert.Equal(new Address(3, AddressFamily.InterNetworkV6, IPAddress.Parse("fd00::1"), 64, AddressFlags.Permanent | AddressFlags.NoDad, 0, null),
            RtnetlinkCodec.DecodeAddress(Fixtures.Bytes(Fixtures.AddressV6)));
    }

    [Fact]
    public void Captured_route_in_table_1000_takes_the_table_from_RTA_TABLE()
    {
        var route = RtnetlinkCodec.DecodeRoute(Fixtures.Bytes(Fixtures.RouteV4Table1000));
        Assert.Equal(new Route(AddressFamily.InterNetwork, 1000, IPAddress.Parse("198.19.0.0"), 16, null, 0, 0, null,
            IPAddress.Parse("198.18.0.2"), 3, 50, 3, Route.ScopeUniverse, RouteType.Unicast, RouteFlags.None), route);
    }

    [Fact]
    public void Captured_ipv6_route_decodes()
    {
        var route = RtnetlinkCodec.DecodeRoute(Fixtures.Bytes(Fixtures.RouteV6));
        Assert.Equal(new Route(AddressFamily.InterNetworkV6, Route.TableMain, IPAddress.Parse("fd00:1::"), 64, null, 0, 0, null,
            IPAddress.Parse("fd00::2"), 3, 7, 3, Route.ScopeUniverse, RouteType.Unicast, RouteFlags.None), route);
    }

    [Fact]
    public void Route_flags_carry_linkdown()
    {
        var bytes = Fixtures.Bytes(Fixtures.RouteV4Table1000);
        bytes[8] = 0x10; // rtm_flags = RTNH_F_LINKDOWN
        Assert.Equal(RouteFlags.LinkDown, RtnetlinkCodec.DecodeRoute(bytes)!.Flags);
    }

    [Fact]
    public void An_error_ack_gives_errno_and_the_extended_ack_text()
    {
        // NLMSG_ERROR, NLM_F_CAPPED|NLM_F_ACK_TLVS: error -17, echoed header, NLMSGERR_ATTR_MSG "File exists"
        var payload = Convert.FromHexString("efffffff" + "24000000180005050100000000000000" + "10000100" + "46696c652065786973747300");
        var message = new NetlinkMessage(NetlinkMessage.NLMSG_ERROR, 0x300, 1, payload);
        Assert.Equal((17, "File exists"), message.ReadError());
    }

    [Fact]
    public void A_truncated_message_is_a_format_error()
    {
        var datagram = Convert.FromHexString("2400000018000000010000000000000002");
        Assert.Throws<NetlinkFormatException>(() => NetlinkMessage.Split(datagram));
        Assert.Throws<NetlinkFormatException>(() => RtnetlinkCodec.DecodeRoute(new byte[5]));
    }
}
