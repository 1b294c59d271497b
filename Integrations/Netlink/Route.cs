using System.Net;
using System.Net.Sockets;

namespace WgRouted.Integrations.Netlink;

/// <summary>A route as RTM_NEWROUTE describes it. Table is RTA_TABLE (full 32 bits) when present.</summary>
public sealed record Route(
    AddressFamily Family,
    uint Table,
    IPAddress Destination,
    byte PrefixLength,
    IPAddress? Source,
    byte SourceLength,
    byte Tos,
    IPAddress? PreferredSource,
    IPAddress? Gateway,
    int OutputInterface,
    uint Priority,
    byte Protocol,
    byte Scope,
    RouteType Type,
    RouteFlags Flags)
{
    public const uint TableDefault = 253;
    public const uint TableMain = 254;
    public const uint TableLocal = 255;
    public const byte ProtocolKernel = 2; // RTPROT_KERNEL
    public const byte ProtocolStatic = 4; // RTPROT_STATIC
    public const byte ScopeUniverse = 0; // RT_SCOPE_UNIVERSE
    public const byte ScopeLink = 253; // RT_SCOPE_LINK
    public const byte ScopeHost = 254; // RT_SCOPE_HOST
    public const byte ScopeNowhere = 255; // RT_SCOPE_NOWHERE: "any scope" in a delete request
}
