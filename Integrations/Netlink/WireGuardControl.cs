using System.Net;

namespace WgRouted.Integrations.Netlink;

/// <summary>
/// Reads and sets WireGuard devices the way wireguard-tools does: the UAPI text protocol when the device's
/// socket in /var/run/wireguard answers (wireguard-go and other userspace implementations), else generic netlink
/// (the kernel module). Genl sockets are made in the given network namespace.
/// </summary>
public sealed partial class WireGuardControl(string? networkNamespace = null, string socketDirectory = "/var/run/wireguard") : IDisposable
{
    public WireGuardDevice GetDevice(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return UapiGet(name) ?? GenlGet(name);
    }

    public void SetPeerEndpoint(string name, string peerPublicKey, IPEndPoint endpoint)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(endpoint);
        var key = DecodeKey(peerPublicKey);
        if (!UapiSet(name, $"public_key={Convert.ToHexStringLower(key)}\nupdate_only=true\nendpoint={FormatEndpoint(endpoint)}\n"))
            GenlSetEndpoint(name, key, endpoint);
    }

    public void SetFirewallMark(string name, uint mark)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!UapiSet(name, $"fwmark={mark}\n"))
            GenlSetFirewallMark(name, mark);
    }

    /// <summary>Userspace devices (sockets in the socket directory) and kernel ones (links of kind wireguard).</summary>
    public IReadOnlyList<string> ListDevices()
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        if (Directory.Exists(socketDirectory))
            foreach (var path in Directory.EnumerateFiles(socketDirectory, "*.sock"))
                names.Add(Path.GetFileNameWithoutExtension(path));
        using var rtnl = Rtnetlink.Open(networkNamespace);
        foreach (var link in rtnl.DumpLinks())
            if (link.Kind == "wireguard")
                names.Add(link.Name);
        return [.. names];
    }

    public void Dispose() => _genl?.Dispose();

    internal static byte[] DecodeKey(string base64)
    {
        Span<byte> key = stackalloc byte[33];
        if (!Convert.TryFromBase64String(base64 ?? "", key, out var written) || written != 32)
            throw new ArgumentException($"not a WireGuard key (32 bytes in base64): {base64}", nameof(base64));
        return key[..32].ToArray();
    }

    /// <summary>As UAPI and wg(8) write it: [v6]:port.</summary>
    public static string FormatEndpoint(IPEndPoint endpoint) =>
        endpoint.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{endpoint.Address}]:{endpoint.Port}"
            : $"{endpoint.Address}:{endpoint.Port}";
}
