using System.Net;

namespace WgRouted.Integrations.Netlink;

/// <summary>What `ip route get DST [from SRC] [mark MARK] [oif DEV]` asks.</summary>
public sealed record RouteQuery(IPAddress Destination, IPAddress? Source = null, uint? Mark = null, int? OutputInterface = null);
