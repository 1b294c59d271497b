using WgRouted.Tests.Shared;
using System.Text.Json;
using WgRouted.Integrations.Tests.WireGuard;

namespace WgRouted.Integrations.Tests.Netlink;

/// <summary>`wg-routed netlink ...` run inside a namespace and compared with `ip -j`.</summary>
[Trait("Category", "Integration")]
public sealed class NetlinkCliTests : IDisposable
{
    // The CLI first: a missing build must fail before a namespace exists that Dispose would never remove.
    private readonly string _cli = Repository.Cli();
    private readonly TestNamespace _ns = new();

    public NetlinkCliTests()
    {
        _ns.Ip("link add up1 type veth peer name up1p");
        _ns.Ip("link set up1 up");
        _ns.Ip("link set up1p up");
        _ns.Ip("addr add 198.18.1.1/24 dev up1");
        _ns.Ip("addr add fd00:1::1/64 dev up1 nodad");
        _ns.Ip("route add default via 198.18.1.254");
        _ns.Ip("route add 198.19.5.0/24 via 198.18.1.253 table 1000");
        _ns.Ip("rule add fwmark 0x10 lookup 1000 pref 100");
    }

    [Theory]
    [InlineData("198.19.0.1", "")]
    [InlineData("198.19.5.1", "--mark 0x10")]
    [InlineData("198.18.1.9", "--from 198.18.1.1")]
    [InlineData("fd00:1::9", "--oif up1")]
    public void Route_get_prints_what_ip_route_get_prints(string dst, string options)
    {
        var (code, output, error) = _ns.Exec("dotnet", $"{_cli} netlink route-get {dst} {options} --json");
        Assert.True(code == 0, error);
        var ours = JsonDocument.Parse(output).RootElement;
        var ipOptions = options.Replace("--", "", StringComparison.Ordinal);
        var theirs = JsonDocument.Parse(_ns.Ip($"-j route get {dst} {ipOptions}")).RootElement[0];
        Assert.Equal(Text(theirs, "dst"), Text(ours, "dst"));
        Assert.Equal(Text(theirs, "prefsrc") ?? Text(theirs, "from"), Text(ours, "src"));
        Assert.Equal(Text(theirs, "dev"), Text(ours, "dev"));
        Assert.Equal(Text(theirs, "gateway"), Text(ours, "gateway"));
        Assert.Equal(Text(theirs, "table") ?? "main", Text(ours, "table"));
    }

    [Theory]
    [InlineData("netlink route-get not-an-address", 2, "not an IP address")]
    [InlineData("netlink route-get 198.19.0.1 --oif nosuchdev", 1, "no such interface: nosuchdev")]
    [InlineData("netlink route-get 198.19.0.1 --mark zz", 2, "not a mark")]
    [InlineData("netlink route-get 198.19.0.1 --from fd00:1::1", 2, "different families")]
    public void Bad_arguments_give_a_message_and_an_exit_code(string args, int expected, string message)
    {
        var (code, _, error) = _ns.Exec("dotnet", $"{_cli} {args}");
        Assert.Equal(expected, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Routes_of_a_table_and_links_as_json()
    {
        var (code, output, error) = _ns.Exec("dotnet", $"{_cli} netlink routes --table 1000 --json");
        Assert.True(code == 0, error);
        var route = Assert.Single(JsonDocument.Parse(output).RootElement.EnumerateArray());
        Assert.Equal(("198.19.5.0/24", "198.18.1.253", "up1", "1000"), (Text(route, "dst"), Text(route, "gateway"), Text(route, "dev"), Text(route, "table")));

        (code, output, error) = _ns.Exec("dotnet", $"{_cli} netlink links --json");
        Assert.True(code == 0, error);
        var names = JsonDocument.Parse(output).RootElement.EnumerateArray().Select(l => Text(l, "ifname")).Order();
        var theirs = JsonDocument.Parse(_ns.Ip("-j link show")).RootElement.EnumerateArray().Select(l => Text(l, "ifname")).Order();
        Assert.Equal(theirs, names);

        (code, output, _) = _ns.Exec("dotnet", $"{_cli} netlink rules");
        Assert.Equal(0, code);
        Assert.Contains("100: inet from all fwmark 0x10/0xffffffff lookup 1000", output, StringComparison.Ordinal);
        (code, output, _) = _ns.Exec("dotnet", $"{_cli} netlink addresses");
        Assert.Equal(0, code);
        Assert.Contains("fd00:1::1/64", output, StringComparison.Ordinal);
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public void Dispose() => _ns.Dispose();
}
