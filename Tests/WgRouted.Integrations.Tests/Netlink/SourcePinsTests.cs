using WgRouted.Tests.Shared;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using WgRouted.Integrations.Netlink;

namespace WgRouted.Integrations.Tests.Netlink;

[Trait("Category", "Integration")]
public sealed class SourcePinsTests : IDisposable
{
    private const uint Table = 51234;
    private const uint Mark = 0xca6c;
    private readonly TestNamespace _ns = new();

    public SourcePinsTests()
    {
        foreach (var n in new[] { 1, 2 })
        {
            _ns.Ip($"link add up{n} type veth peer name up{n}p");
            _ns.Ip($"link set up{n} up");
            _ns.Ip($"link set up{n}p up");
            _ns.Ip($"addr add 198.18.{n}.1/24 dev up{n}");
            _ns.Ip($"addr add fd00:{n}::1/64 dev up{n} nodad");
        }
        _ns.Ip("route add default via 198.18.1.254 metric 100");
        _ns.Ip("route add default via 198.18.2.254 metric 200");
        _ns.Ip("-6 route add default via fd00:1::fe metric 100");
        _ns.Ip("rule add from 198.18.2.1 lookup 1002 pref 1000");
    }

    [Fact]
    public void A_pin_steers_marked_lookups_and_flush_removes_everything()
    {
        using var rtnl = Rtnetlink.Open(_ns.Name);
        var pins = new SourcePins(rtnl, Table, rulePriority: 100);
        var up2 = rtnl.FindLink("up2")!.Index;
        pins.Flush();

        pins.Add(IPAddress.Parse("198.19.0.7"), IPAddress.Parse("198.18.2.1"), up2, IPAddress.Parse("198.18.2.254"));
        pins.Add(IPAddress.Parse("198.18.2.50"), IPAddress.Parse("198.18.2.1"), up2); // on-link, no gateway
        pins.Add(IPAddress.Parse("fd00:9::7"), IPAddress.Parse("fd00:2::1"), up2, IPAddress.Parse("fd00:2::fe"));
        pins.AddRule(AddressFamily.InterNetwork, Mark);
        pins.AddRule(AddressFamily.InterNetworkV6, Mark);
        Assert.Throws<NetlinkException>(() => pins.Add(IPAddress.Parse("198.19.0.7"), IPAddress.Parse("198.18.2.1"), up2, IPAddress.Parse("198.18.2.254")));

        var routed = Get("198.19.0.7 mark 0xca6c");
        Assert.Equal(("198.18.2.1", "up2", "198.18.2.254", Table.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            (Text(routed, "prefsrc"), Text(routed, "dev"), Text(routed, "gateway"), Text(routed, "table")));
        Assert.Equal("up2", Text(Get("198.18.2.50 mark 0xca6c"), "dev"));
        Assert.Equal("fd00:2::1", Text(Get("fd00:9::7 mark 0xca6c"), "prefsrc"));
        Assert.Equal("198.18.1.1", Text(Get("198.19.0.7"), "prefsrc")); // unmarked traffic keeps the main table

        pins.Replace(IPAddress.Parse("198.19.0.7"), IPAddress.Parse("198.18.1.1"), rtnl.FindLink("up1")!.Index, IPAddress.Parse("198.18.1.254"));
        Assert.Equal("198.18.1.1", Text(Get("198.19.0.7 mark 0xca6c"), "prefsrc"));
        pins.Delete(IPAddress.Parse("198.18.2.50"));
        Assert.DoesNotContain("198.18.2.50", _ns.Ip($"route show table {Table}"), StringComparison.Ordinal);

        Assert.Equal(4, pins.Flush()); // two rules, the remaining v4 pin and the v6 pin
        Assert.Equal("", _ns.Ip($"route show table {Table}").Trim());
        Assert.Equal("", _ns.Ip($"-6 route show table {Table}").Trim());
        Assert.DoesNotContain($"lookup {Table}", _ns.Ip("rule show") + _ns.Ip("-6 rule show"), StringComparison.Ordinal);
        Assert.Contains("lookup 1002", _ns.Ip("rule show"), StringComparison.Ordinal); // the operator's rules stay
    }

    [Fact]
    public void Only_what_WgRouted_made_is_removed_and_what_others_made_is_named()
    {
        // The operator's route and rule in the table WgRouted is given, as with a fwmark of 51820 (wg-quick's table).
        _ns.Ip($"route add 198.19.5.0/24 via 198.18.1.254 table {Table}");
        _ns.Ip($"rule add from 198.18.1.1 lookup {Table} pref 2000");
        using var rtnl = Rtnetlink.Open(_ns.Name);
        var pins = new SourcePins(rtnl, Table, rulePriority: 100);
        var foreign = pins.Foreign();
        Assert.Equal(2, foreign.Count);
        Assert.Contains(foreign, f => f.StartsWith("route 198.19.5.0/24", StringComparison.Ordinal));
        Assert.Contains(foreign, f => f.StartsWith("rule priority 2000", StringComparison.Ordinal));

        pins.Add(IPAddress.Parse("198.19.0.7"), IPAddress.Parse("198.18.2.1"), rtnl.FindLink("up2")!.Index, IPAddress.Parse("198.18.2.254"));
        pins.AddRule(AddressFamily.InterNetwork, Mark);
        Assert.Contains("proto 157", _ns.Ip($"route show table {Table} 198.19.0.7"), StringComparison.Ordinal);
        Assert.Equal(2, pins.Foreign().Count);
        Assert.Equal(2, pins.Flush());
        Assert.Contains("198.19.5.0/24", _ns.Ip($"route show table {Table}"), StringComparison.Ordinal);
        Assert.Contains("pref 2000", _ns.Ip("rule show").Replace("2000:", "pref 2000", StringComparison.Ordinal), StringComparison.Ordinal);

        // Cleanup after a crash: WgRouted's objects in any table, nothing else.
        new SourcePins(rtnl, 777, rulePriority: 100).Add(IPAddress.Parse("198.19.0.8"), IPAddress.Parse("198.18.2.1"), rtnl.FindLink("up2")!.Index, IPAddress.Parse("198.18.2.254"));
        pins.AddRule(AddressFamily.InterNetwork, Mark);
        Assert.Equal(2, SourcePins.RemoveAll(rtnl));
        Assert.Equal("", _ns.Ip("route show table 777").Trim());
        Assert.Contains("198.19.5.0/24", _ns.Ip($"route show table {Table}"), StringComparison.Ordinal);
        Assert.Equal(2, pins.Foreign().Count);
    }

    private JsonElement Get(string args) => JsonDocument.Parse(_ns.Ip($"-j route get {args}")).RootElement[0];

    private static string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetString() : null;

    public void Dispose() => _ns.Dispose();
}
