using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using WgRouted.Integrations.Netlink;

namespace WgRouted.Service.Cli;

/// <summary>`wg-routed wg show IFACE`: the device as WgRouted reads it; --json fields match `wg show IFACE dump`.</summary>
internal static class WgCommands
{
    private const string Hidden = "(hidden)";
    private const string None = "(none)";

    public static Command Create()
    {
        var iface = new Argument<string>("IFACE") { Description = "WireGuard interface" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var show = new Command("show", "A WireGuard device and its peers (the private key is never shown)") { iface, json };
        show.SetAction(r =>
        {
            var name = r.GetValue(iface)!;
            WireGuardDevice device;
            try
            {
                using var control = new WireGuardControl();
                device = control.GetDevice(name);
            }
            catch (Exception e) when (e is NetlinkException or IOException or InvalidDataException)
            {
                Console.Error.WriteLine($"wg show {name}: {e.Message}");
                return 1;
            }
            Console.WriteLine(r.GetValue(json) ? JsonSerializer.Serialize(Fields(device), CliJsonContext.Default.DictionaryStringObject) : Text(device));
            return 0;
        });
        return new Command("wg", "WireGuard devices as WgRouted reads them") { show };
    }

    internal static Dictionary<string, object?> Fields(WireGuardDevice device) => new()
    {
        ["interface"] = device.Name,
        ["privateKey"] = device.PrivateKey is null ? None : Hidden,
        ["publicKey"] = device.PublicKey ?? None,
        ["listenPort"] = device.ListenPort,
        ["fwmark"] = Mark(device.FirewallMark),
        ["peers"] = device.Peers.Select(p => new Dictionary<string, object?>
        {
            ["publicKey"] = p.PublicKey,
            ["presharedKey"] = p.HasPresharedKey ? Hidden : None,
            ["endpoint"] = p.Endpoint is null ? None : WireGuardControl.FormatEndpoint(p.Endpoint),
            ["allowedIps"] = AllowedIps(p),
            ["latestHandshake"] = p.LatestHandshake?.ToUnixTimeSeconds() ?? 0,
            ["transferRx"] = p.RxBytes,
            ["transferTx"] = p.TxBytes,
            ["persistentKeepalive"] = p.PersistentKeepalive == 0 ? "off" : p.PersistentKeepalive.ToString(CultureInfo.InvariantCulture),
        }).ToList(),
    };

    private static string Mark(uint mark) => mark == 0 ? "off" : $"0x{mark:x}";

    private static string AllowedIps(WireGuardPeer peer) =>
        peer.AllowedIps.Count == 0 ? None : string.Join(',', peer.AllowedIps.Select(n => n.ToString()));

    private static string Text(WireGuardDevice device)
    {
        var lines = new List<string>
        {
            $"interface: {device.Name}",
            $"  public key: {device.PublicKey ?? None}",
            $"  private key: {(device.PrivateKey is null ? None : Hidden)}",
            $"  listening port: {device.ListenPort}",
        };
        if (device.FirewallMark != 0)
            lines.Add($"  fwmark: {Mark(device.FirewallMark)}");
        foreach (var peer in device.Peers)
        {
            lines.Add("");
            lines.Add($"peer: {peer.PublicKey}");
            if (peer.HasPresharedKey)
                lines.Add($"  preshared key: {Hidden}");
            if (peer.Endpoint is not null)
                lines.Add($"  endpoint: {WireGuardControl.FormatEndpoint(peer.Endpoint)}");
            lines.Add($"  allowed ips: {AllowedIps(peer)}");
            if (peer.LatestHandshake is { } at)
                lines.Add($"  latest handshake: {at.UtcDateTime:u}");
            lines.Add($"  transfer: {peer.RxBytes} B received, {peer.TxBytes} B sent");
            if (peer.PersistentKeepalive != 0)
                lines.Add($"  persistent keepalive: every {peer.PersistentKeepalive} seconds");
        }
        return string.Join('\n', lines);
    }
}
