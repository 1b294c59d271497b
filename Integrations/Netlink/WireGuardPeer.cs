using System.Net;

namespace WgRouted.Integrations.Netlink;

/// <summary>A WireGuard peer; of the preshared key only its presence is kept.</summary>
public sealed record WireGuardPeer(
    string PublicKey,
    bool HasPresharedKey,
    IPEndPoint? Endpoint,
    IReadOnlyList<IPNetwork> AllowedIps,
    DateTimeOffset? LatestHandshake,
    ulong RxBytes,
    ulong TxBytes,
    ushort PersistentKeepalive);
