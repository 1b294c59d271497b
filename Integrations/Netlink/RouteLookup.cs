using System.Net;

namespace WgRouted.Integrations.Netlink;

/// <summary>The kernel's answer to a route lookup: Source is RTA_PREFSRC, or RTA_SRC when the query fixed it.</summary>
public sealed record RouteLookup(IPAddress Destination, IPAddress? Source, IPAddress? Gateway, int OutputInterface, string? Device, uint Table, RouteType Type);
