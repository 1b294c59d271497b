using System.Net;
using System.Text;

namespace WgRouted.Integrations.Netlink;

/// <summary>
/// A WireGuard peer. The preshared key is kept (a stock peer's handshakes need it) but never printed: ToString says
/// only whether there is one.
/// </summary>
public sealed record WireGuardPeer(
    string PublicKey,
    bool HasPresharedKey,
    IPEndPoint? Endpoint,
    IReadOnlyList<IPNetwork> AllowedIps,
    DateTimeOffset? LatestHandshake,
    ulong RxBytes,
    ulong TxBytes,
    ushort PersistentKeepalive)
{
    /// <summary>The 32-byte preshared key; null when there is none (all zero on the device).</summary>
    public byte[]? PresharedKey { get; init; }

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"PublicKey = {PublicKey}, HasPresharedKey = {HasPresharedKey}, Endpoint = {Endpoint}, AllowedIps = {AllowedIps.Count}, ");
        builder.Append($"LatestHandshake = {LatestHandshake:O}, RxBytes = {RxBytes}, TxBytes = {TxBytes}, PersistentKeepalive = {PersistentKeepalive}");
        return true;
    }
}
