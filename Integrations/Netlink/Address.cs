using System.Net;
using System.Net.Sockets;

namespace WgRouted.Integrations.Netlink;

/// <summary>An interface address as RTM_NEWADDR describes it; Local is IFA_LOCAL, or IFA_ADDRESS when absent (IPv6).</summary>
public sealed record Address(int Index, AddressFamily Family, IPAddress Local, byte PrefixLength, AddressFlags Flags, byte Scope, string? Label);
