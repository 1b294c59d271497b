using System.Net;
using System.Net.Sockets;

namespace WgRouted.Integrations.Netlink;

/// <summary>What tells two routes apart in a table: same key, different record is a change (flags, prefsrc, protocol).</summary>
internal readonly record struct RouteKey(
    AddressFamily Family, uint Table, IPAddress Destination, byte PrefixLength, IPAddress? Source, byte SourceLength,
    byte Tos, uint Priority, IPAddress? Gateway, int OutputInterface)
{
    public static RouteKey Of(Route r) =>
        new(r.Family, r.Table, r.Destination, r.PrefixLength, r.Source, r.SourceLength, r.Tos, r.Priority, r.Gateway, r.OutputInterface);

    /// <summary>What NLM_F_REPLACE replaces: the same destination, metric and table, whatever the next hop.</summary>
    public bool SameSlot(RouteKey other) =>
        Family == other.Family && Table == other.Table && Destination.Equals(other.Destination) && PrefixLength == other.PrefixLength
        && Equals(Source, other.Source) && SourceLength == other.SourceLength && Tos == other.Tos && Priority == other.Priority;
}
