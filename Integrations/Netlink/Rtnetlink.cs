using System.Net.Sockets;

namespace WgRouted.Integrations.Netlink;

/// <summary>Requests over one NETLINK_ROUTE socket: dumps, route lookups, route and rule changes.</summary>
public sealed class Rtnetlink : IDisposable
{
    private const int ENODEV = 19;

    private readonly NetlinkSocket _socket;

    private Rtnetlink(NetlinkSocket socket) => _socket = socket;

    /// <summary>Opens the socket in the named network namespace, or in the caller's when null.</summary>
    public static Rtnetlink Open(string? networkNamespace = null) =>
        new(NetworkNamespace.Run(networkNamespace, () => NetlinkSocket.Open(NetlinkSocket.NETLINK_ROUTE)));

    public IReadOnlyList<Link> DumpLinks() =>
        Dump(RtnetlinkCodec.RTM_GETLINK, "RTM_GETLINK dump", RtnetlinkCodec.RTM_NEWLINK, p => RtnetlinkCodec.DecodeLink(p.Span));

    public IReadOnlyList<Address> DumpAddresses() =>
        Dump(RtnetlinkCodec.RTM_GETADDR, "RTM_GETADDR dump", RtnetlinkCodec.RTM_NEWADDR, p => RtnetlinkCodec.DecodeAddress(p.Span));

    public IReadOnlyList<Route> DumpRoutes() =>
        Dump(RtnetlinkCodec.RTM_GETROUTE, "RTM_GETROUTE dump", RtnetlinkCodec.RTM_NEWROUTE, p => RtnetlinkCodec.DecodeRoute(p.Span));

    public IReadOnlyList<Rule> DumpRules() =>
        Dump(RtnetlinkCodec.RTM_GETRULE, "RTM_GETRULE dump", RtnetlinkCodec.RTM_NEWRULE, p => RtnetlinkCodec.DecodeRule(p.Span));

    public HostSnapshot DumpAll() => new(DumpLinks(), DumpAddresses(), DumpRoutes(), DumpRules());

    public Link? FindLink(string name) => DumpLinks().FirstOrDefault(l => l.Name == name);

    /// <summary>The route the kernel would use, as `ip route get` asks for it.</summary>
    public RouteLookup GetRoute(RouteQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var name = $"RTM_GETROUTE {query.Destination}"
            + (query.Source is null ? "" : $" from {query.Source}")
            + (query.Mark is null ? "" : $" mark {query.Mark}")
            + (query.OutputInterface is null ? "" : $" oif {query.OutputInterface}");
        var replies = _socket.Transact(RtnetlinkCodec.EncodeGetRoute(query, _socket.NextSeq()), name);
        var reply = replies.Find(m => m.Type == RtnetlinkCodec.RTM_NEWROUTE);
        if (reply.Payload.IsEmpty)
            throw new NetlinkFormatException($"{name}: no RTM_NEWROUTE in the reply");
        return RtnetlinkCodec.DecodeLookup(reply.Payload.Span, index => GetLink(index)?.Name);
    }

    /// <summary>One link by index; null when there is none (ENODEV).</summary>
    public Link? GetLink(int index)
    {
        try
        {
            var replies = _socket.Transact(RtnetlinkCodec.EncodeGetLink(index, _socket.NextSeq()), $"RTM_GETLINK {index}");
            var reply = replies.Find(m => m.Type == RtnetlinkCodec.RTM_NEWLINK);
            return reply.Payload.IsEmpty ? null : RtnetlinkCodec.DecodeLink(reply.Payload.Span);
        }
        catch (NetlinkException e) when (e.Errno == ENODEV)
        {
            return null;
        }
    }

    /// <summary>Sets the link administratively up or down (`ip link set DEV up|down`).</summary>
    public void SetLinkUp(int index, bool up) =>
        _socket.Transact(RtnetlinkCodec.EncodeSetLinkUp(index, up, _socket.NextSeq()), $"RTM_NEWLINK {index} {(up ? "up" : "down")}");

    public void AddRoute(Route route) => Change(RtnetlinkCodec.RTM_NEWROUTE, route, replace: false, "add");

    public void ReplaceRoute(Route route) => Change(RtnetlinkCodec.RTM_NEWROUTE, route, replace: true, "replace");

    public void DeleteRoute(Route route) => Change(RtnetlinkCodec.RTM_DELROUTE, route, replace: false, "delete");

    public void AddRule(Rule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        _socket.Transact(RtnetlinkCodec.EncodeRule(RtnetlinkCodec.RTM_NEWRULE, rule, _socket.NextSeq()), $"RTM_NEWRULE {Describe(rule)}");
    }

    public void DeleteRule(Rule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        _socket.Transact(RtnetlinkCodec.EncodeRule(RtnetlinkCodec.RTM_DELRULE, rule, _socket.NextSeq()), $"RTM_DELRULE {Describe(rule)}");
    }

    public void Dispose() => _socket.Dispose();

    private void Change(ushort type, Route route, bool replace, string verb)
    {
        ArgumentNullException.ThrowIfNull(route);
        var name = $"{(type == RtnetlinkCodec.RTM_NEWROUTE ? "RTM_NEWROUTE" : "RTM_DELROUTE")} ({verb}) {route.Destination}/{route.PrefixLength} table {route.Table}"
            + (route.Gateway is null ? "" : $" via {route.Gateway}")
            + (route.OutputInterface == 0 ? "" : $" oif {route.OutputInterface}")
            + (route.PreferredSource is null ? "" : $" src {route.PreferredSource}");
        _socket.Transact(RtnetlinkCodec.EncodeRoute(type, route, _socket.NextSeq(), replace), name);
    }

    private static string Describe(Rule rule) =>
        $"{(rule.Family == AddressFamily.InterNetworkV6 ? "-6 " : "")}pref {rule.Priority}"
        + (rule.FirewallMark is null ? "" : $" fwmark {rule.FirewallMark:x}")
        + $" lookup {rule.Table}";

    private List<T> Dump<T>(ushort request, string name, ushort reply, Func<ReadOnlyMemory<byte>, T?> decode) where T : class
    {
        var messages = _socket.Dump(seq => RtnetlinkCodec.EncodeDump(request, seq), name);
        var records = new List<T>(messages.Count);
        foreach (var message in messages)
            if (message.Type == reply && decode(message.Payload) is { } record)
                records.Add(record);
        return records;
    }
}
