using System.Net;
using System.Net.Sockets;

namespace WgRouted.Integrations.Netlink;

/// <summary>
/// Host routes in a pin table (`DST/32 via GW dev DEV src SRC table T proto 157`) and the rule that sends the
/// WireGuard socket's traffic there (`fwmark MARK lookup T proto 157`), ahead of the operator's `from SRC` rules.
/// Everything it adds carries WgRouted's routing protocol number, and it removes nothing that does not: the
/// operator's routes and rules are never touched, even in the same table.
/// </summary>
public sealed class SourcePins(Rtnetlink rtnl, uint table, uint rulePriority = 100)
{
    /// <summary>
    /// WgRouted's route and rule protocol (RTPROT): unassigned in iproute2's rt_protos (0..18, 42 babel, 99, 186..192),
    /// so `ip route show proto 157` lists exactly what WgRouted made.
    /// </summary>
    public const byte Protocol = 157;

    public uint Table => table;

    public uint RulePriority => rulePriority;

    /// <summary>Adds the pin; fails with EEXIST when one is there already.</summary>
    public void Add(IPAddress destination, IPAddress source, int outputInterface, IPAddress? gateway = null) =>
        rtnl.AddRoute(PinRoute(destination, source, outputInterface, gateway));

    /// <summary>Adds the pin or moves an existing one for the same destination.</summary>
    public void Replace(IPAddress destination, IPAddress source, int outputInterface, IPAddress? gateway = null) =>
        rtnl.ReplaceRoute(PinRoute(destination, source, outputInterface, gateway));

    /// <summary>Removes the pin; a pin already gone (its uplink went down and took its routes along) is no error.</summary>
    public void Delete(IPAddress destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        try
        {
            DeleteRoute(destination);
        }
        catch (NetlinkException e) when (e.Errno == Esrch)
        {
        }
    }

    private const int Esrch = 3; // "No such process": no such route

    private void DeleteRoute(IPAddress destination)
    {
        rtnl.DeleteRoute(new Route(destination.AddressFamily, table, destination, HostBits(destination), null, 0, 0, null, null, 0, 0,
            0, Route.ScopeNowhere, RouteType.Unspecified, RouteFlags.None));
    }

    public void AddRule(AddressFamily family, uint mark) => rtnl.AddRule(PinRule(family, mark));

    public void DeleteRule(AddressFamily family, uint mark) => rtnl.DeleteRule(PinRule(family, mark));

    /// <summary>Removes WgRouted's routes in the table and its rules pointing at it (stale pins of an earlier run).</summary>
    public int Flush()
    {
        var removed = 0;
        foreach (var rule in rtnl.DumpRules().Where(r => r.Table == table && r.Protocol == Protocol))
        {
            rtnl.DeleteRule(rule);
            removed++;
        }
        foreach (var route in rtnl.DumpRoutes().Where(r => r.Table == table && r.Protocol == Protocol))
        {
            rtnl.DeleteRoute(route);
            removed++;
        }
        return removed;
    }

    /// <summary>What in the table, or pointing at it, someone else made: a pin table must hold none of it.</summary>
    public IReadOnlyList<string> Foreign()
    {
        var found = new List<string>();
        found.AddRange(rtnl.DumpRoutes().Where(r => r.Table == table && r.Protocol != Protocol)
            .Select(r => $"route {r.Destination}/{r.PrefixLength} (proto {r.Protocol})"));
        found.AddRange(rtnl.DumpRules().Where(r => r.Table == table && r.Protocol != Protocol)
            .Select(r => $"rule priority {r.Priority} (proto {r.Protocol})"));
        return found;
    }

    /// <summary>Every route and rule WgRouted made, in any table (`wg-routed cleanup`, after a crash).</summary>
    public static int RemoveAll(Rtnetlink rtnl)
    {
        ArgumentNullException.ThrowIfNull(rtnl);
        var removed = 0;
        foreach (var rule in rtnl.DumpRules().Where(r => r.Protocol == Protocol))
        {
            rtnl.DeleteRule(rule);
            removed++;
        }
        foreach (var route in rtnl.DumpRoutes().Where(r => r.Protocol == Protocol))
        {
            rtnl.DeleteRoute(route);
            removed++;
        }
        return removed;
    }

    private Route PinRoute(IPAddress destination, IPAddress source, int outputInterface, IPAddress? gateway)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(source);
        if (source.AddressFamily != destination.AddressFamily || (gateway is not null && gateway.AddressFamily != destination.AddressFamily))
            throw new ArgumentException($"pin {destination} src {source} via {gateway}: mixed address families");
        return new Route(destination.AddressFamily, table, destination, HostBits(destination), null, 0, 0, source, gateway,
            outputInterface, 0, Protocol, gateway is null ? Route.ScopeLink : Route.ScopeUniverse, RouteType.Unicast,
            RouteFlags.None);
    }

    private Rule PinRule(AddressFamily family, uint mark) =>
        new(family, rulePriority, mark, 0xffffffff, table, null, 0, null, 0, RuleAction.ToTable, 0, null, null, false, Protocol);

    private static byte HostBits(IPAddress address) => (byte)(address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
}
