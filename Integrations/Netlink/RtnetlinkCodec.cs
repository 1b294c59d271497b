using System.Net;
using System.Net.Sockets;

namespace WgRouted.Integrations.Netlink;

/// <summary>Encodes the rtnetlink requests we send and decodes replies and notifications into records.</summary>
internal static class RtnetlinkCodec
{
    public const ushort RTM_NEWLINK = 16;
    public const ushort RTM_DELLINK = 17;
    public const ushort RTM_GETLINK = 18;
    public const ushort RTM_NEWADDR = 20;
    public const ushort RTM_DELADDR = 21;
    public const ushort RTM_GETADDR = 22;
    public const ushort RTM_NEWROUTE = 24;
    public const ushort RTM_DELROUTE = 25;
    public const ushort RTM_GETROUTE = 26;
    public const ushort RTM_NEWRULE = 32;
    public const ushort RTM_DELRULE = 33;
    public const ushort RTM_GETRULE = 34;

    public const int RTNLGRP_LINK = 1;
    public const int RTNLGRP_IPV4_IFADDR = 5;
    public const int RTNLGRP_IPV4_ROUTE = 7;
    public const int RTNLGRP_IPV4_RULE = 8;
    public const int RTNLGRP_IPV6_IFADDR = 9;
    public const int RTNLGRP_IPV6_ROUTE = 11;
    public const int RTNLGRP_IPV6_RULE = 19;

    private const ushort IFLA_IFNAME = 3;
    private const ushort IFLA_MTU = 4;
    private const ushort IFLA_OPERSTATE = 16;
    private const ushort IFLA_LINKINFO = 18;
    private const ushort IFLA_CARRIER = 33;
    private const ushort IFLA_INFO_KIND = 1;

    private const ushort IFA_ADDRESS = 1;
    private const ushort IFA_LOCAL = 2;
    private const ushort IFA_LABEL = 3;
    private const ushort IFA_FLAGS = 8;

    private const ushort RTA_DST = 1;
    private const ushort RTA_SRC = 2;
    private const ushort RTA_OIF = 4;
    private const ushort RTA_GATEWAY = 5;
    private const ushort RTA_PRIORITY = 6;
    private const ushort RTA_PREFSRC = 7;
    private const ushort RTA_TABLE = 15;
    private const ushort RTA_MARK = 16;

    private const ushort FRA_DST = 1;
    private const ushort FRA_SRC = 2;
    private const ushort FRA_IIFNAME = 3;
    private const ushort FRA_PRIORITY = 6;
    private const ushort FRA_FWMARK = 10;
    private const ushort FRA_TABLE = 15;
    private const ushort FRA_FWMASK = 16;
    private const ushort FRA_OIFNAME = 17;
    private const ushort FRA_PROTOCOL = 21;

    private const byte RT_TABLE_UNSPEC = 0;
    private const ushort Request = NetlinkMessage.NLM_F_REQUEST;
    private const ushort Ack = NetlinkMessage.NLM_F_REQUEST | NetlinkMessage.NLM_F_ACK;

    public static byte[] EncodeDump(ushort type, uint seq, byte family = 0)
    {
        var w = new NetlinkWriter(type, Request | NetlinkMessage.NLM_F_DUMP, seq);
        switch (type)
        {
            case RTM_GETLINK: w.Put(new IfInfoMsg { Family = family }); break;
            case RTM_GETADDR: w.Put(new IfAddrMsg { Family = family }); break;
            case RTM_GETROUTE: w.Put(new RtMsg { Family = family }); break;
            case RTM_GETRULE: w.Put(new FibRuleHdr { Family = family }); break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, "not a dump request we know");
        }
        return w.ToArray();
    }

    public static byte[] EncodeGetLink(int index, uint seq)
    {
        var w = new NetlinkWriter(RTM_GETLINK, Ack, seq);
        w.Put(new IfInfoMsg { Index = index });
        return w.ToArray();
    }

    /// <summary>RTM_NEWLINK changing only IFF_UP (ifi_change), like `ip link set DEV up|down`.</summary>
    public static byte[] EncodeSetLinkUp(int index, bool up, uint seq)
    {
        var w = new NetlinkWriter(RTM_NEWLINK, Ack, seq);
        w.Put(new IfInfoMsg { Index = index, Flags = up ? IFF_UP : 0, Change = IFF_UP });
        return w.ToArray();
    }

    private const uint IFF_UP = 1;

    /// <summary>RTM_GETROUTE as `ip route get` sends it: RTM_F_LOOKUP_TABLE so the reply names the table.</summary>
    public static byte[] EncodeGetRoute(RouteQuery query, uint seq)
    {
        var family = query.Destination.AddressFamily;
        if (query.Source is { } s && s.AddressFamily != family)
            throw new ArgumentException($"source {s} and destination {query.Destination} are of different families", nameof(query));
        var bits = (byte)(family == AddressFamily.InterNetwork ? 32 : 128);
        var w = new NetlinkWriter(RTM_GETROUTE, Ack, seq);
        w.Put(new RtMsg
        {
            Family = Wire.Family(family),
            DstLength = bits,
            SrcLength = query.Source is null ? (byte)0 : bits,
            Flags = (uint)RouteFlags.LookupTable,
        });
        w.Address(RTA_DST, query.Destination);
        if (query.Source is not null)
            w.Address(RTA_SRC, query.Source);
        if (query.OutputInterface is { } oif)
            w.U32(RTA_OIF, (uint)oif);
        if (query.Mark is { } mark)
            w.U32(RTA_MARK, mark);
        return w.ToArray();
    }

    /// <summary>RTM_NEWROUTE (add: NLM_F_EXCL, replace: NLM_F_REPLACE) or RTM_DELROUTE for the fields of route.</summary>
    public static byte[] EncodeRoute(ushort type, Route route, uint seq, bool replace = false)
    {
        var flags = type == RTM_NEWROUTE
            ? (ushort)(Ack | NetlinkMessage.NLM_F_CREATE | (replace ? NetlinkMessage.NLM_F_REPLACE : NetlinkMessage.NLM_F_EXCL))
            : Ack;
        var w = new NetlinkWriter(type, flags, seq);
        w.Put(new RtMsg
        {
            Family = Wire.Family(route.Family),
            DstLength = route.PrefixLength,
            SrcLength = route.SourceLength,
            Tos = route.Tos,
            // Tables above 255 do not fit rtm_table: iproute2 sends RT_TABLE_UNSPEC there and the full id in RTA_TABLE.
            Table = route.Table < 256 ? (byte)route.Table : RT_TABLE_UNSPEC,
            Protocol = route.Protocol,
            Scope = route.Scope,
            Type = (byte)route.Type,
            Flags = (uint)route.Flags & 0xff,
        });
        w.U32(RTA_TABLE, route.Table);
        if (route.PrefixLength > 0)
            w.Address(RTA_DST, route.Destination);
        if (route.Source is not null && route.SourceLength > 0)
            w.Address(RTA_SRC, route.Source);
        if (route.PreferredSource is not null)
            w.Address(RTA_PREFSRC, route.PreferredSource);
        if (route.Gateway is not null)
            w.Address(RTA_GATEWAY, route.Gateway);
        if (route.OutputInterface != 0)
            w.U32(RTA_OIF, (uint)route.OutputInterface);
        if (route.Priority != 0)
            w.U32(RTA_PRIORITY, route.Priority);
        return w.ToArray();
    }

    public static byte[] EncodeRule(ushort type, Rule rule, uint seq)
    {
        var flags = type == RTM_NEWRULE ? (ushort)(Ack | NetlinkMessage.NLM_F_CREATE | NetlinkMessage.NLM_F_EXCL) : Ack;
        var w = new NetlinkWriter(type, flags, seq);
        w.Put(new FibRuleHdr
        {
            Family = Wire.Family(rule.Family),
            DstLength = rule.DestinationLength,
            SrcLength = rule.SourceLength,
            Tos = rule.Tos,
            Table = rule.Table < 256 ? (byte)rule.Table : RT_TABLE_UNSPEC,
            Action = (byte)rule.Action,
            Flags = rule.Invert ? Rule.FIB_RULE_INVERT : 0,
        });
        w.U32(FRA_TABLE, rule.Table);
        w.U32(FRA_PRIORITY, rule.Priority);
        if (rule.FirewallMark is { } mark)
            w.U32(FRA_FWMARK, mark);
        if (rule.FirewallMask is { } mask)
            w.U32(FRA_FWMASK, mask);
        if (rule.Source is not null && rule.SourceLength > 0)
            w.Address(FRA_SRC, rule.Source);
        if (rule.Destination is not null && rule.DestinationLength > 0)
            w.Address(FRA_DST, rule.Destination);
        if (rule.InputInterface is not null)
            w.String(FRA_IIFNAME, rule.InputInterface);
        if (rule.OutputInterface is not null)
            w.String(FRA_OIFNAME, rule.OutputInterface);
        if (rule.Protocol != 0)
            w.U8(FRA_PROTOCOL, rule.Protocol);
        return w.ToArray();
    }

    public static Link DecodeLink(ReadOnlySpan<byte> payload)
    {
        var header = Wire.Read<IfInfoMsg>(payload, "ifinfomsg");
        string? name = null, kind = null;
        uint mtu = 0;
        var operState = OperState.Unknown;
        var carrier = (header.Flags & (uint)LinkFlags.LowerUp) != 0;
        var attributes = new NetlinkAttributes(payload[Wire.Align(16)..]);
        while (attributes.Next(out var type, out var value))
        {
            switch (type)
            {
                case IFLA_IFNAME: name = Wire.String(value); break;
                case IFLA_MTU: mtu = Wire.U32(value, "IFLA_MTU"); break;
                case IFLA_OPERSTATE: operState = (OperState)Wire.U8(value, "IFLA_OPERSTATE"); break;
                case IFLA_CARRIER: carrier = Wire.U8(value, "IFLA_CARRIER") != 0; break;
                case IFLA_LINKINFO:
                    var info = new NetlinkAttributes(value);
                    while (info.Next(out var infoType, out var infoValue))
                        if (infoType == IFLA_INFO_KIND)
                            kind = Wire.String(infoValue);
                    break;
            }
        }
        return new Link(header.Index, name ?? throw new NetlinkFormatException($"link {header.Index} without IFLA_IFNAME"),
            (LinkFlags)header.Flags, mtu, operState, carrier, kind);
    }

    /// <summary>Null for families other than IPv4/IPv6.</summary>
    public static Address? DecodeAddress(ReadOnlySpan<byte> payload)
    {
        var header = Wire.Read<IfAddrMsg>(payload, "ifaddrmsg");
        var family = Wire.Family(header.Family);
        if (family == AddressFamily.Unknown)
            return null;
        IPAddress? address = null, local = null;
        string? label = null;
        var flags = (uint)header.Flags;
        var attributes = new NetlinkAttributes(payload[8..]);
        while (attributes.Next(out var type, out var value))
        {
            switch (type)
            {
                case IFA_ADDRESS: address = Wire.Address(value, family, "IFA_ADDRESS"); break;
                case IFA_LOCAL: local = Wire.Address(value, family, "IFA_LOCAL"); break;
                case IFA_LABEL: label = Wire.String(value); break;
                case IFA_FLAGS: flags = Wire.U32(value, "IFA_FLAGS"); break;
            }
        }
        var chosen = local ?? address ?? throw new NetlinkFormatException($"address on {header.Index} without IFA_ADDRESS");
        return new Address(header.Index, family, chosen, header.PrefixLength, (AddressFlags)flags, header.Scope, label);
    }

    /// <summary>Null for families other than IPv4/IPv6.</summary>
    public static Route? DecodeRoute(ReadOnlySpan<byte> payload)
    {
        var header = Wire.Read<RtMsg>(payload, "rtmsg");
        var family = Wire.Family(header.Family);
        if (family == AddressFamily.Unknown)
            return null;
        IPAddress? dst = null, src = null, prefsrc = null, gateway = null;
        uint table = header.Table, priority = 0;
        var oif = 0;
        var attributes = new NetlinkAttributes(payload[12..]);
        while (attributes.Next(out var type, out var value))
        {
            switch (type)
            {
                case RTA_DST: dst = Wire.Address(value, family, "RTA_DST"); break;
                case RTA_SRC: src = Wire.Address(value, family, "RTA_SRC"); break;
                case RTA_PREFSRC: prefsrc = Wire.Address(value, family, "RTA_PREFSRC"); break;
                case RTA_GATEWAY: gateway = Wire.Address(value, family, "RTA_GATEWAY"); break;
                case RTA_OIF: oif = (int)Wire.U32(value, "RTA_OIF"); break;
                case RTA_PRIORITY: priority = Wire.U32(value, "RTA_PRIORITY"); break;
                case RTA_TABLE: table = Wire.U32(value, "RTA_TABLE"); break;
            }
        }
        return new Route(family, table, dst ?? Wire.Any(family), header.DstLength, src, header.SrcLength, header.Tos,
            prefsrc, gateway, oif, priority, header.Protocol, header.Scope, (RouteType)header.Type, (RouteFlags)header.Flags);
    }

    public static RouteLookup DecodeLookup(ReadOnlySpan<byte> payload, Func<int, string?> deviceName)
    {
        var route = DecodeRoute(payload) ?? throw new NetlinkFormatException("route lookup reply of an unknown family");
        return new RouteLookup(route.Destination, route.PreferredSource ?? route.Source, route.Gateway, route.OutputInterface,
            route.OutputInterface == 0 ? null : deviceName(route.OutputInterface), route.Table, route.Type);
    }

    /// <summary>Null for families other than IPv4/IPv6.</summary>
    public static Rule? DecodeRule(ReadOnlySpan<byte> payload)
    {
        var header = Wire.Read<FibRuleHdr>(payload, "fib_rule_hdr");
        var family = Wire.Family(header.Family);
        if (family == AddressFamily.Unknown)
            return null;
        IPAddress? src = null, dst = null;
        uint? mark = null, mask = null;
        uint table = header.Table, priority = 0;
        string? iif = null, oif = null;
        byte protocol = 0;
        var attributes = new NetlinkAttributes(payload[12..]);
        while (attributes.Next(out var type, out var value))
        {
            switch (type)
            {
                case FRA_SRC: src = Wire.Address(value, family, "FRA_SRC"); break;
                case FRA_DST: dst = Wire.Address(value, family, "FRA_DST"); break;
                case FRA_PRIORITY: priority = Wire.U32(value, "FRA_PRIORITY"); break;
                case FRA_FWMARK: mark = Wire.U32(value, "FRA_FWMARK"); break;
                case FRA_FWMASK: mask = Wire.U32(value, "FRA_FWMASK"); break;
                case FRA_TABLE: table = Wire.U32(value, "FRA_TABLE"); break;
                case FRA_IIFNAME: iif = Wire.String(value); break;
                case FRA_OIFNAME: oif = Wire.String(value); break;
                case FRA_PROTOCOL: protocol = Wire.U8(value, "FRA_PROTOCOL"); break;
            }
        }
        return new Rule(family, priority, mark, mask, table, src, header.SrcLength, dst, header.DstLength,
            (RuleAction)header.Action, header.Tos, iif, oif, (header.Flags & Rule.FIB_RULE_INVERT) != 0, protocol);
    }
}
