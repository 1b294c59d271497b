using WgRouted.Tests.Shared;
using System.Net;
using System.Text.Json;
using WgRouted.Integrations.Netlink;

namespace WgRouted.Integrations.Tests.Netlink;

/// <summary>
/// Two uplinks (veth up1 198.18.1.0/24 + fd00:1::/64, up2 198.18.2.0/24 + fd00:2::/64), default routes by metric,
/// source rules, a fwmark rule, and a link whose peer is down; every lookup is compared with `ip -j route get`.
/// </summary>
[Trait("Category", "Integration")]
public sealed class RouteGetTests : IDisposable
{
    private readonly TestNamespace _ns = new();

    public RouteGetTests()
    {
        foreach (var (dev, n) in new[] { ("up1", 1), ("up2", 2), ("dn", 3) })
        {
            _ns.Ip($"link add {dev} type veth peer name {dev}p");
            _ns.Ip($"link set {dev} up");
            _ns.Ip($"addr add 198.18.{n}.1/24 dev {dev}");
            _ns.Ip($"addr add fd00:{n}::1/64 dev {dev} nodad");
        }
        _ns.Ip("link set up1p up");
        _ns.Ip("link set up2p up"); // dnp stays down: dn has no carrier, its routes are linkdown
        _ns.Ip("route add default via 198.18.1.254 metric 100");
        _ns.Ip("route add default via 198.18.2.254 metric 200");
        _ns.Ip("route add 198.19.3.0/24 via 198.18.3.254 dev dn onlink");
        _ns.Ip("-6 route add default via fd00:1::fe metric 100");
        _ns.Ip("-6 route add default via fd00:2::fe metric 200");
        _ns.Ip("route add default via 198.18.2.254 table 1002");
        _ns.Ip("route add 198.19.9.0/24 via 198.18.2.253 table 1002");
        _ns.Ip("-6 route add default via fd00:2::fe table 1002");
        _ns.Ip("rule add from 198.18.2.1 lookup 1002 pref 1000");
        _ns.Ip("-6 rule add from fd00:2::1 lookup 1002 pref 1000");
        _ns.Ip("rule add fwmark 0x77 lookup 1002 pref 900");
        _ns.Ip("-6 rule add fwmark 0x77 lookup 1002 pref 900");
        _ns.Ip("route add 198.19.4.0/24 via 198.18.1.253 table 200");
        _ns.Ip("rule add fwmark 0x5/0xf lookup 200 pref 950");
    }

    [Theory]
    [InlineData("198.19.0.1", null, null, null)]
    [InlineData("198.19.9.9", null, null, null)]
    [InlineData("198.18.1.7", null, null, null)]
    [InlineData("198.18.2.7", null, null, null)]
    [InlineData("198.18.1.1", null, null, null)]
    [InlineData("198.19.0.1", "198.18.2.1", null, null)]
    [InlineData("198.19.9.9", "198.18.2.1", null, null)]
    [InlineData("198.19.0.1", "198.18.1.1", null, null)]
    [InlineData("198.19.0.1", null, "0x77", null)]
    [InlineData("198.19.9.9", null, "0x77", null)]
    [InlineData("198.19.4.4", null, "0x5", null)]
    [InlineData("198.19.4.4", null, "0x15", null)]
    [InlineData("198.19.4.4", null, "0x6", null)]
    [InlineData("198.19.0.1", null, null, "up2")]
    [InlineData("198.18.2.9", null, null, "up2")]
    [InlineData("198.19.3.3", null, null, null)]
    [InlineData("198.18.3.9", null, null, null)]
    [InlineData("fd00:9::1", null, null, null)]
    [InlineData("fd00:1::9", null, null, null)]
    [InlineData("fd00:2::9", null, null, null)]
    [InlineData("fd00:9::1", "fd00:2::1", null, null)]
    [InlineData("fd00:9::1", null, "0x77", null)]
    [InlineData("fd00:9::1", null, null, "up2")]
    [InlineData("fd00:3::9", null, null, null)]
    public void Lookup_matches_ip_route_get(string dst, string? from, string? mark, string? oif)
    {
        var args = $"-j route get {dst}" + (from is null ? "" : $" from {from}") + (mark is null ? "" : $" mark {mark}") + (oif is null ? "" : $" oif {oif}");
        var (code, output, error) = _ns.Exec("ip", args);

        using var rtnl = Rtnetlink.Open(_ns.Name);
        int? index = oif is null ? null : rtnl.FindLink(oif)!.Index;
        uint? fwmark = mark is null ? null : Convert.ToUInt32(mark, 16);
        var query = new RouteQuery(IPAddress.Parse(dst), from is null ? null : IPAddress.Parse(from), fwmark, index);
        if (code != 0)
        {
            var e = Assert.Throws<NetlinkException>(() => rtnl.GetRoute(query));
            Assert.Contains(e.Message.Split(" (errno")[0].Split(": ")[^1], error, StringComparison.Ordinal);
            return;
        }
        var expected = JsonDocument.Parse(output).RootElement[0];
        var actual = rtnl.GetRoute(query);
        Assert.Equal(Text(expected, "dst"), actual.Destination.ToString());
        Assert.Equal(Text(expected, "prefsrc") ?? Text(expected, "from"), actual.Source?.ToString());
        Assert.Equal(Text(expected, "dev"), actual.Device);
        Assert.Equal(Text(expected, "gateway"), actual.Gateway?.ToString());
        // ip prints the table only when it is not main.
        Assert.Equal(Text(expected, "table") ?? "main", actual.Table switch { 254 => "main", 255 => "local", var t => t.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    private static string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetString() : null;

    public void Dispose() => _ns.Dispose();
}
