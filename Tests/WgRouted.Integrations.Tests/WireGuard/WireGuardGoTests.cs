using WgRouted.Tests.Shared;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using WgRouted.Integrations.Netlink;
using WgRouted.Integrations.Tests.Netlink;

namespace WgRouted.Integrations.Tests.WireGuard;

/// <summary>
/// Two wireguard-go devices in two namespaces joined by a veth (a0 198.18.10.1 + 198.18.11.1, b0 198.18.10.2),
/// tunnel 198.19.100.1 - 198.19.100.2, read and set over UAPI and compared with `wg show IFACE dump`.
/// </summary>
[Trait("Category", "Integration")]
public sealed class WireGuardGoTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly string[] PeerFields = ["publicKey", "presharedKey", "endpoint", "allowedIps"];
    private readonly TestNamespace _a = new();
    private readonly TestNamespace _b = new();
    private readonly List<Process> _daemons = [];
    private readonly string _keys = Directory.CreateTempSubdirectory("wgr").FullName;
    private readonly string _suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
    private readonly byte[] _privateA = NewKey();
    private readonly byte[] _privateB = NewKey();

    private string IfaceA => $"wgr{_suffix}a";

    private string IfaceB => $"wgr{_suffix}b";

    /// <summary>A clamped Curve25519 private key, as `wg genkey` makes them (wireguard-go stores keys clamped).</summary>
    private static byte[] NewKey()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        key[0] &= 248;
        key[31] = (byte)((key[31] & 127) | 64);
        return key;
    }

    // Not in the constructor: a keepalive makes wireguard-go handshake at once, before a test can read the
    // handshake-less state (the roam test needs it).
    private void KeepAlive() => Wg(_a, $"set {IfaceA} peer {Public(_privateB)} persistent-keepalive 25");

    private static string Public(byte[] key) => Convert.ToBase64String(WireGuardKeys.PublicKey(key));

    public WireGuardGoTests()
    {
        // A failing setup must not leave namespaces or processes behind: xunit calls Dispose only after a
        // constructor that returned.
        try
        {
            TestNamespace.Run("ip", $"link add a0 netns {_a.Name} type veth peer name b0 netns {_b.Name}");
            _a.Ip("link set a0 up");
            _b.Ip("link set b0 up");
            _a.Ip("addr add 198.18.10.1/24 dev a0");
            _a.Ip("addr add 198.18.11.1/24 dev a0");
            _b.Ip("addr add 198.18.10.2/24 dev b0");
            _b.Ip("route add 198.18.11.0/24 dev b0");
            Launch(_a, IfaceA, _privateA, 51820, "198.19.100.1/24");
            Launch(_b, IfaceB, _privateB, 51821, "198.19.100.2/24");
            Wg(_a, $"set {IfaceA} peer {Public(_privateB)} allowed-ips 198.19.100.2/32,fd00:100::2/128 endpoint 198.18.10.2:51821");
            Wg(_b, $"set {IfaceB} peer {Public(_privateA)} allowed-ips 198.19.100.1/32");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    [Fact]
    public void Get_over_uapi_agrees_with_wg_show_dump()
    {
        KeepAlive();
        Ping();
        using var control = new WireGuardControl(_a.Name);
        var device = control.GetDevice(IfaceA);
        var dump = Wg(_a, $"show {IfaceA} dump").TrimEnd('\n').Split('\n').Select(l => l.Split('\t')).ToList();

        Assert.Equal([Convert.ToBase64String(_privateA), Public(_privateA), "51820", "off"], dump[0]);
        Assert.Equal(_privateA, device.PrivateKey);
        Assert.Equal((dump[0][1], (ushort)51820, 0u), (device.PublicKey, device.ListenPort, device.FirewallMark));
        var peer = Assert.Single(device.Peers);
        var line = dump[1];
        Assert.Equal(line[0], peer.PublicKey);
        Assert.Equal(line[1] == "(none)", !peer.HasPresharedKey);
        Assert.Equal(line[2], WireGuardControl.FormatEndpoint(peer.Endpoint!));
        Assert.Equal(line[3], string.Join(',', peer.AllowedIps));
        Assert.Equal(long.Parse(line[4], CultureInfo.InvariantCulture), peer.LatestHandshake!.Value.ToUnixTimeSeconds());
        Assert.Equal(line[7], peer.PersistentKeepalive.ToString(CultureInfo.InvariantCulture));
        Assert.True(peer.TxBytes > 0 && peer.RxBytes > 0);
        Assert.DoesNotContain(Convert.ToBase64String(_privateA), device.ToString(), StringComparison.Ordinal);
        Assert.Contains(IfaceA, control.ListDevices());
    }

    [Fact]
    public void Set_fwmark_and_endpoint_over_uapi()
    {
        using var control = new WireGuardControl(_a.Name);
        control.SetFirewallMark(IfaceA, 0xca6c);
        Assert.Equal("0xca6c", Wg(_a, $"show {IfaceA} dump").Split('\n')[0].Split('\t')[3]);
        Assert.Equal(0xca6cu, control.GetDevice(IfaceA).FirewallMark);

        control.SetPeerEndpoint(IfaceA, Public(_privateB), IPEndPoint.Parse("198.18.10.2:51821"));
        Assert.Equal("198.18.10.2:51821", Wg(_a, $"show {IfaceA} endpoints").Trim().Split('\t')[1]);
        Assert.Throws<NetlinkException>(() => control.SetPeerEndpoint("wgrnone" + _suffix, Public(_privateB), IPEndPoint.Parse("198.18.10.2:1")));
    }

    [Fact]
    public async Task The_diff_sees_a_handshake_and_a_roaming_remote()
    {
        using var control = new WireGuardControl(_b.Name);
        var before = control.GetDevice(IfaceB);
        Assert.Null(before.Peers[0].Endpoint);

        Ping();
        WireGuardDevice after = before;
        await Wait.Until(() => (after = control.GetDevice(IfaceB)).Peers[0].LatestHandshake is not null, Timeout, () => "no handshake");
        var changes = WireGuardDiff.Compare(before, after);
        Assert.Contains(changes, c => c is HandshakeObserved h && h.Peer == Public(_privateA));
        Assert.Contains(changes, c => c is EndpointChanged { Old: null } e && e.New!.Equals(IPEndPoint.Parse("198.18.10.1:51820")));

        // The remote's route now prefers 198.18.11.1, and re-setting its endpoint drops wireguard-go's cached source:
        // it sends from the new address, it roams.
        _a.Ip("route add 198.18.10.2/32 dev a0 src 198.18.11.1");
        using (var remote = new WireGuardControl(_a.Name))
            remote.SetPeerEndpoint(IfaceA, Public(_privateB), IPEndPoint.Parse("198.18.10.2:51821"));
        var roamed = after;
        await Wait.Until(() =>
        {
            _a.Exec("ping", "-c 1 -W 1 198.19.100.2");
            roamed = control.GetDevice(IfaceB);
            return roamed.Peers[0].Endpoint?.Address.ToString() == "198.18.11.1";
        }, Timeout, () => $"endpoint still {roamed.Peers[0].Endpoint}");
        Assert.Contains(WireGuardDiff.Compare(after, roamed),
            c => c is EndpointChanged e && e.Old!.Equals(IPEndPoint.Parse("198.18.10.1:51820")) && e.New!.Equals(IPEndPoint.Parse("198.18.11.1:51820")));
    }

    [Fact]
    public void The_cli_prints_what_wg_show_dump_prints_and_hides_the_private_key()
    {
        KeepAlive();
        Ping();
        var dll = Repository.Cli();
        var (code, output, error) = _a.Exec("dotnet", $"{dll} wg show {IfaceA} --json");
        Assert.True(code == 0, error);
        var json = JsonDocument.Parse(output).RootElement;
        var dump = Wg(_a, $"show {IfaceA} dump").TrimEnd('\n').Split('\n').Select(l => l.Split('\t')).ToList();
        Assert.Equal("(hidden)", json.GetProperty("privateKey").GetString());
        Assert.DoesNotContain(Convert.ToBase64String(_privateA), output, StringComparison.Ordinal);
        Assert.Equal(string.Join('\t', dump[0].Skip(1)), $"{json.GetProperty("publicKey").GetString()}\t{json.GetProperty("listenPort").GetInt32()}\t{json.GetProperty("fwmark").GetString()}");
        var peer = json.GetProperty("peers")[0];
        var handshakeNow = Wg(_a, $"show {IfaceA} dump").Split('\n')[1].Split('\t')[4];
        Assert.Equal(string.Join('\t', dump[1].Take(4)), string.Join('\t', PeerFields.Select(f => peer.GetProperty(f).GetString())));
        Assert.Equal(handshakeNow, peer.GetProperty("latestHandshake").GetInt64().ToString(CultureInfo.InvariantCulture));
        Assert.Equal(dump[1][7], peer.GetProperty("persistentKeepalive").GetString());

        var (missing, _, missingError) = _a.Exec("dotnet", $"{dll} wg show wgrnone{_suffix}");
        Assert.Equal(1, missing);
        Assert.Contains($"wgrnone{_suffix}", missingError, StringComparison.Ordinal);
    }


    private void Ping()
    {
        for (var attempt = 0; attempt < 10; attempt++)
            if (_a.Exec("ping", "-c 1 -W 1 198.19.100.2").Code == 0)
                return;
        Assert.Fail("no ping over the tunnel in 10 attempts");
    }

    private void Launch(TestNamespace ns, string iface, byte[] privateKey, int port, string address)
    {
        var daemon = TestNamespace.Start("ip", $"netns exec {ns.Name} wireguard-go -f {iface}");
        _daemons.Add(daemon);
        var socket = $"/var/run/wireguard/{iface}.sock";
        var deadline = DateTime.UtcNow + Timeout;
        while (!File.Exists(socket))
        {
            Assert.False(daemon.HasExited, $"wireguard-go {iface} exited: {(daemon.HasExited ? daemon.StandardError.ReadToEnd() : "")}");
            Assert.True(DateTime.UtcNow < deadline, $"{socket} did not appear");
            Thread.Sleep(20);
        }
        var keyFile = Path.Combine(_keys, iface);
        File.WriteAllText(keyFile, Convert.ToBase64String(privateKey));
        Wg(ns, $"set {iface} private-key {keyFile} listen-port {port}");
        ns.Ip($"addr add {address} dev {iface}");
        ns.Ip($"link set {iface} up");
    }

    private static string Wg(TestNamespace ns, string args)
    {
        var (code, output, error) = ns.Exec("wg", args);
        return code == 0 ? output : throw new InvalidOperationException($"wg {args}: {error}");
    }

    public void Dispose()
    {
        foreach (var daemon in _daemons)
        {
            // SIGTERM lets wireguard-go remove its socket in /var/run/wireguard; SIGKILL only if it hangs.
            if (!daemon.HasExited)
                TestNamespace.Run("kill", $"-TERM {daemon.Id}");
            if (!daemon.WaitForExit(5000))
                daemon.Kill();
            daemon.Dispose();
        }
        foreach (var iface in new[] { IfaceA, IfaceB })
            File.Delete($"/var/run/wireguard/{iface}.sock");
        _a.Dispose();
        _b.Dispose();
        Directory.Delete(_keys, recursive: true);
    }
}
