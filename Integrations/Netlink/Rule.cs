using System.Net;
using System.Net.Sockets;

namespace WgRouted.Integrations.Netlink;

/// <summary>A policy routing rule as RTM_NEWRULE describes it. A mask of 0xffffffff is what `ip rule` omits.</summary>
public sealed record Rule(
    AddressFamily Family,
    uint Priority,
    uint? FirewallMark,
    uint? FirewallMask,
    uint Table,
    IPAddress? Source,
    byte SourceLength,
    IPAddress? Destination,
    byte DestinationLength,
    RuleAction Action,
    byte Tos,
    string? InputInterface,
    string? OutputInterface,
    bool Invert,
    byte Protocol)
{
    public const uint FIB_RULE_INVERT = 0x2;
}
