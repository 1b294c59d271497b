using System.Text;

namespace WgRouted.Integrations.Netlink;

/// <summary>One WireGuard interface as either transport reports it. The private key never appears in ToString.</summary>
public sealed record WireGuardDevice(
    string Name,
    string? PublicKey,
    byte[]? PrivateKey,
    ushort ListenPort,
    uint FirewallMark,
    IReadOnlyList<WireGuardPeer> Peers)
{
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"Name = {Name}, PublicKey = {PublicKey}, PrivateKey = {(PrivateKey is null ? "(none)" : "(hidden)")}, ");
        builder.Append($"ListenPort = {ListenPort}, FirewallMark = {FirewallMark}, Peers = {Peers.Count}");
        return true;
    }
}
