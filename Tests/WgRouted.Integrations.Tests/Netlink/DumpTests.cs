using WgRouted.Tests.Shared;
using System.Net.Sockets;
using System.Text.Json;
using WgRouted.Integrations.Netlink;

namespace WgRouted.Integrations.Tests.Netlink;

[Trait("Category", "Integration")]
public sealed class DumpTests : IDisposable
{
    private readonly TestNamespace _ns = new();

    public DumpTests()
    {
        _ns.Ip("link add up1 type veth peer name up1p");
        _ns.Ip("link add dn type veth peer name dnp");
        _ns.Ip("link set up1 up");
        _ns.Ip("link set up1p up");
        _ns.Ip("link set dn up mtu 1400");
        _ns.Ip("addr add 198.18.1.1/24 dev up1");
        _ns.Ip("addr add 198.18.1.2/24 dev up1");
        _ns.Ip("addr add 198.18.3.1/24 dev dn");
        _ns.Ip("addr add fd00:1::1/64 dev up1 nodad");
        _ns.Ip("addr add fd00:3::1/64 dev dn nodad");
        _ns.Ip("route add default via 198.18.1.254 metric 100");
        _ns.Ip("route add 198.19.3.0/24 via 198.18.3.254 metric 5");
        _ns.Ip("route add 198.19.0.0/16 via 198.18.1.253 table 1000 src 198.18.1.2");
        _ns.Ip("route add blackhole 198.19.7.0/24 table 42");
        _ns.Ip("-6 route add default via fd00:1::fe metric 100");
        _ns.Ip("-6 route add fd00:9::/48 via fd00:3::fe table 70000");
    }

    [Fact]
    public void Links_match_ip_link_show()
    {
        using var rtnl = Rtnetlink.Open(_ns.Name);
        var ours = rtnl.DumpLinks().Select(l => $"{l.Index} {l.Name} {l.Mtu} {l.OperState.ToString().ToUpperInvariant()} up={l.IsUp} lower={l.IsLowerUp}");
        var theirs = Json(_ns.Ip("-j link show")).Select(l =>
        {
            var flags = l.GetProperty("flags").EnumerateArray().Select(f => f.GetString()).ToList();
            var state = l.GetProperty("operstate").GetString()!.Replace("LOWERLAYERDOWN", "LOWERLAYERDOWN", StringComparison.Ordinal);
            return $"{l.GetProperty("ifindex").GetInt32()} {l.GetProperty("ifname").GetString()} {l.GetProperty("mtu").GetInt32()} {state} up={flags.Contains("UP")} lower={flags.Contains("LOWER_UP")}";
        });
        Assert.Equal(theirs.Order(), ours.Order());
        Assert.Contains(rtnl.DumpLinks(), l => l.Name == "dn" && l.IsUp && !l.Carrier && l.OperState == OperState.LowerLayerDown && l.Kind == "veth");
    }

    [Fact]
    public void Addresses_match_ip_addr_show()
    {
        using var rtnl = Rtnetlink.Open(_ns.Name);
        var ours = rtnl.DumpAddresses().Select(a => $"{a.Index} {(a.Family == AddressFamily.InterNetwork ? "inet" : "inet6")} {a.Local}/{a.PrefixLength} secondary={(a.Flags & AddressFlags.Secondary) != 0}");
        var theirs = Json(_ns.Ip("-j addr show")).SelectMany(l => l.GetProperty("addr_info").EnumerateArray().Select(a =>
            $"{l.GetProperty("ifindex").GetInt32()} {a.GetProperty("family").GetString()} {a.GetProperty("local").GetString()}/{a.GetProperty("prefixlen").GetInt32()} secondary={a.TryGetProperty("secondary", out _)}"));
        Assert.Equal(theirs.Order(), ours.Order());
    }

    [Fact]
    public void Routes_of_all_tables_match_ip_route_show_table_all()
    {
        using var rtnl = Rtnetlink.Open(_ns.Name);
        var names = rtnl.DumpLinks().ToDictionary(l => l.Index, l => l.Name);
        // The kernel adds IPv6 link-local and multicast routes a moment after a link comes up (DAD): the two dumps
        // are compared again until they are taken on the same routes, a few times at most.
        var (ours, theirs) = Both(rtnl, names);
        for (var i = 0; i < 20 && !theirs.SetEquals(ours); i++)
        {
            Thread.Sleep(100);
            (ours, theirs) = Both(rtnl, names);
        }
        Assert.Equal(theirs.Order(), ours.Order());
        Assert.Contains("table=70000", string.Join('\n', ours), StringComparison.Ordinal);
        Assert.Contains(ours, k => k.Contains("198.19.3.0/24", StringComparison.Ordinal) && k.EndsWith("linkdown=True", StringComparison.Ordinal));
    }

    private (HashSet<string> Ours, HashSet<string> Theirs) Both(Rtnetlink rtnl, Dictionary<int, string> names)
    {
        var ours = rtnl.DumpRoutes().Where(r => (r.Flags & RouteFlags.Cloned) == 0).Select(r => Key(
            r.Type == RouteType.Unicast ? null : r.Type.ToString().ToLowerInvariant(),
            r.PrefixLength == 0 ? "default" : r.PrefixLength == (r.Family == AddressFamily.InterNetwork ? 32 : 128) ? r.Destination.ToString() : $"{r.Destination}/{r.PrefixLength}",
            r.OutputInterface == 0 ? null : names[r.OutputInterface],
            r.Gateway?.ToString(),
            r.Table switch { 254 => "main", 255 => "local", var t => t.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            r.Priority,
            r.PreferredSource?.ToString(),
            (r.Flags & RouteFlags.LinkDown) != 0)).ToHashSet();
        var theirs = Json(_ns.Ip("-j route show table all")).Concat(Json(_ns.Ip("-6 -j route show table all"))).Select(r => Key(
            Text(r, "type"), Text(r, "dst")!, Text(r, "dev"), Text(r, "gateway"), Text(r, "table") ?? "main",
            r.TryGetProperty("metric", out var m) ? m.GetUInt32() : 0, Text(r, "prefsrc"),
            r.GetProperty("flags").EnumerateArray().Any(f => f.GetString() == "linkdown"))).ToHashSet();
        return (ours, theirs);
    }

    private static string Key(string? type, string dst, string? dev, string? gateway, string table, uint metric, string? prefsrc, bool linkdown) =>
        $"{type ?? "unicast"} {dst} dev={dev} via={gateway} table={table} metric={metric} src={prefsrc} linkdown={linkdown}";

    private static string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetString() : null;

    private static List<JsonElement> Json(string text) => [.. JsonDocument.Parse(text).RootElement.EnumerateArray()];

    public void Dispose() => _ns.Dispose();
}
