using System.Net;
using WgRouted.Integrations.Babel;

namespace WgRouted.Integrations.Tests.Babel;

/// <summary>Lines as babeld 1.12.1 wrote them (taken from the captured fixtures), parsed field by field.</summary>
public class BabelCodecTests
{
    private static readonly BabelRouterId RouterB = new(0x02000000_00000b01);

    public static TheoryData<string, BabelLine> Lines => new()
    {
        { "BABEL 1.0", new BabelProtocol("1.0") },
        { "version babeld-1.12.1", new BabelVersion("babeld-1.12.1") },
        { "host vm", new BabelHost("vm") },
        { "my-id 02:00:00:00:00:00:0a:01", new BabelMyId(new BabelRouterId(0x02000000_00000a01)) },
        { "ok", BabelReply.Ok },
        { "bad", new BabelReply(BabelReplyKind.Bad) },
        { "no No such interface", new BabelReply(BabelReplyKind.No, "No such interface") },
        { "no", new BabelReply(BabelReplyKind.No) },
        {
            "add interface ba0 up true ipv6 fe80::24f7:afff:fe53:6686 ipv4 198.18.20.1",
            new BabelNotification(BabelNotificationKind.Add,
                new BabelInterface("ba0", true, IPAddress.Parse("198.18.20.1"), IPAddress.Parse("fe80::24f7:afff:fe53:6686")))
        },
        {
            "change interface ba1 up true ipv6 fe80::fc4c:a4ff:fee1:687b",
            new BabelNotification(BabelNotificationKind.Change, new BabelInterface("ba1", true, null, IPAddress.Parse("fe80::fc4c:a4ff:fee1:687b")))
        },
        { "change interface ba0 up false", new BabelNotification(BabelNotificationKind.Change, new BabelInterface("ba0", false, null, null)) },
        {
            "add neighbour 563bec55d6a0 address fe80::f049:e2ff:fe38:17f5 if ba0 reach fe00 ureach 0000 rxcost 96 txcost 96 cost 96",
            new BabelNotification(BabelNotificationKind.Add, new BabelNeighbour("563bec55d6a0", IPAddress.Parse("fe80::f049:e2ff:fe38:17f5"),
                "ba0", 0xfe00, 0, 96, 96, null, null, 96))
        },
        {
            "change neighbour 55d5dbb52210 address fe80::f049:e2ff:fe38:17f5 if ba0 reach ff00 ureach 0000 rxcost 96 txcost 96 rtt 0.216 rttcost 0 cost 96",
            new BabelNotification(BabelNotificationKind.Change, new BabelNeighbour("55d5dbb52210", IPAddress.Parse("fe80::f049:e2ff:fe38:17f5"),
                "ba0", 0xff00, 0, 96, 96, TimeSpan.FromMicroseconds(216), 0, 96))
        },
        {
            "flush neighbour 55d5dbb52210 address fe80::f049:e2ff:fe38:17f5 if ba0 reach 0000 ureach 0000 rxcost 65535 txcost 96 rtt 0.197 rttcost 0 cost 65535",
            new BabelNotification(BabelNotificationKind.Flush, new BabelNeighbour("55d5dbb52210", IPAddress.Parse("fe80::f049:e2ff:fe38:17f5"),
                "ba0", 0, 0, 65535, 96, TimeSpan.FromMicroseconds(197), 0, 65535))
        },
        {
            "add xroute 198.18.20.1/32-0.0.0.0/0 prefix 198.18.20.1/32 from 0.0.0.0/0 metric 0",
            new BabelNotification(BabelNotificationKind.Add, new BabelXRoute(IPNetwork.Parse("198.18.20.1/32"), IPNetwork.Parse("0.0.0.0/0"), 0))
        },
        {
            "flush xroute fd00:20::1/128-::/0 prefix fd00:20::1/128 from ::/0 metric 0",
            new BabelNotification(BabelNotificationKind.Flush, new BabelXRoute(IPNetwork.Parse("fd00:20::1/128"), IPNetwork.Parse("::/0"), 0))
        },
        {
            "add route 55d5dbb53660 prefix 198.18.22.0/24 from 0.0.0.0/0 installed yes id 02:00:00:00:00:00:0b:01 metric 224 refmetric 128 via fe80::f049:e2ff:fe38:17f5 if ba0",
            new BabelNotification(BabelNotificationKind.Add, new BabelRoute("55d5dbb53660", IPNetwork.Parse("198.18.22.0/24"), IPNetwork.Parse("0.0.0.0/0"),
                true, RouterB, 224, 128, IPAddress.Parse("fe80::f049:e2ff:fe38:17f5"), "ba0"))
        },
        {
            "flush route 55d5dbb511a0 prefix fd00:20::2/128 from ::/0 installed no id 02:00:00:00:00:00:0b:01 metric 65535 refmetric 65535 via fe80::f049:e2ff:fe38:17f5 if ba0",
            new BabelNotification(BabelNotificationKind.Flush, new BabelRoute("55d5dbb511a0", IPNetwork.Parse("fd00:20::2/128"), IPNetwork.Parse("::/0"),
                false, RouterB, 65535, 65535, IPAddress.Parse("fe80::f049:e2ff:fe38:17f5"), "ba0"))
        },
        // A newer babeld's extra field is skipped with its value.
        {
            "add xroute 198.18.20.1/32-0.0.0.0/0 prefix 198.18.20.1/32 colour blue from 0.0.0.0/0 metric 0",
            new BabelNotification(BabelNotificationKind.Add, new BabelXRoute(IPNetwork.Parse("198.18.20.1/32"), IPNetwork.Parse("0.0.0.0/0"), 0))
        },
        { "add filter 1 ip 198.18.0.0/15", new BabelUnknownLine("add filter 1 ip 198.18.0.0/15") },
        { "add thing", new BabelUnknownLine("add thing") },
        { "hello world", new BabelUnknownLine("hello world") },
    };

    [Theory]
    [MemberData(nameof(Lines))]
    public void Parses_what_babeld_writes(string line, BabelLine expected) => Assert.Equal(expected, BabelCodec.Parse(line));

    [Theory]
    [InlineData("", "empty line")]
    [InlineData("ok then", "'ok' followed by text")]
    [InlineData("BABEL", "'BABEL' without one protocol version")]
    [InlineData("BABEL 1.0 extra", "'BABEL' without one protocol version")]
    [InlineData("version", "'version' without a value")]
    [InlineData("my-id 02:00:00:00:00:00:0a", "my-id '02:00:00:00:00:00:0a' is not a router-id")]
    [InlineData("add", "'add' without an object")]
    [InlineData("flush neighbour", "'flush neighbour' without a name or id")]
    [InlineData("add interface ba0 up", "field 'up' without a value")]
    [InlineData("add interface ba0", "no 'up' field")]
    [InlineData("add interface ba0 up maybe", "up 'maybe' is not true or false")]
    [InlineData("add interface ba0 up true ipv4 fe80::1", "ipv4 'fe80::1' is not an IPv4 address")]
    [InlineData("add interface ba0 up true ipv4 10.1", "ipv4 '10.1' is not an IPv4 address")]
    [InlineData("add neighbour 0x55 address fe80::1 if ba0 reach ff00 ureach 0000 rxcost 96 txcost 96 cost 96", "neighbour id '0x55' is not a hexadecimal pointer")]
    [InlineData("add neighbour 55 address fe80::1 if ba0 reach ff0 ureach 0000 rxcost 96 txcost 96 cost 96", "reach 'ff0' is not 4 hexadecimal digits")]
    [InlineData("add neighbour 55 address fe80::1 if ba0 reach ff00 ureach 0000 rxcost -96 txcost 96 cost 96", "rxcost '-96' is not a non-negative integer")]
    [InlineData("add neighbour 55 address fe80::1 if ba0 reach ff00 ureach 0000 rxcost 96 txcost 99999999999 cost 96", "txcost '99999999999' is not a non-negative integer")]
    [InlineData("add neighbour 55 address fe80::1 if ba0 reach ff00 ureach 0000 rxcost 96 txcost 96 rtt 1.5 rttcost 0 cost 96", "rtt '1.5' is not milliseconds with three decimals")]
    [InlineData("add neighbour 55 address fe80::1%ba0 if ba0 reach ff00 ureach 0000 rxcost 96 txcost 96 cost 96", "address 'fe80::1%ba0' is not an IP address")]
    [InlineData("add neighbour 55 address fe80::1 reach ff00 ureach 0000 rxcost 96 txcost 96 cost 96", "no 'if' field")]
    [InlineData("add route 55 prefix 198.18.22.1/24 from 0.0.0.0/0 installed yes id 02:00:00:00:00:00:0b:01 metric 1 refmetric 0 via fe80::1 if ba0", "prefix '198.18.22.1/24' is not a prefix (address/length, no host bits)")]
    [InlineData("add route 55 prefix 198.18.22.0/33 from 0.0.0.0/0 installed yes id 02:00:00:00:00:00:0b:01 metric 1 refmetric 0 via fe80::1 if ba0", "prefix '198.18.22.0/33' is not a prefix (address/length, no host bits)")]
    [InlineData("add route 55 prefix 198.18.22.0/24 from 0.0.0.0/0 installed true id 02:00:00:00:00:00:0b:01 metric 1 refmetric 0 via fe80::1 if ba0", "installed 'true' is not yes or no")]
    [InlineData("add route 55 prefix 198.18.22.0/24 from 0.0.0.0/0 installed yes id 02:00 metric 1 refmetric 0 via fe80::1 if ba0", "id '02:00' is not a router-id")]
    [InlineData("add xroute x prefix 198.18.20.1/32 from 0.0.0.0/0 metric", "field 'metric' without a value")]
    [InlineData("add xroute x prefix 198.18.20.1/32 metric 0", "no 'from' field")]
    [InlineData("add interface ba0 up true\r", "control character")]
    public void Bad_input_names_its_line_and_problem(string line, string problem)
    {
        var parsed = Assert.IsType<BabelInvalidLine>(BabelCodec.Parse(line));
        Assert.Equal(line, parsed.Text);
        Assert.Equal(problem, parsed.Problem);
        Assert.Contains(line.TrimEnd('\r'), parsed.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_overlong_line_is_invalid()
    {
        var parsed = Assert.IsType<BabelInvalidLine>(BabelCodec.Parse("add interface " + new string('x', BabelCodec.MaxLineBytes)));
        Assert.Equal($"longer than {BabelCodec.MaxLineBytes} characters", parsed.Problem);
    }

    [Theory]
    [InlineData("02:00:00:00:00:00:0a:01", 0x02000000_00000a01UL)]
    [InlineData("ff:ff:ff:ff:ff:ff:ff:ff", ulong.MaxValue)]
    [InlineData("00:00:00:00:00:00:00:00", 0UL)]
    public void Router_ids_round_trip(string text, ulong value)
    {
        Assert.Equal(new BabelRouterId(value), BabelRouterId.Parse(text));
        Assert.Equal(text, new BabelRouterId(value).ToString());
    }

    [Theory]
    [InlineData("02:00:00:00:00:0a:01")]
    [InlineData("02-00-00-00-00-00-0a-01")]
    [InlineData("02:00:00:00:00:00:0a:0g")]
    [InlineData("02:00:00:00:00:00:0a:+1")]
    public void Malformed_router_ids_are_refused(string text) => Assert.False(BabelRouterId.TryParse(text, out _));

    [Theory]
    [InlineData("unix:/run/babeld.sock", "/run/babeld.sock")]
    [InlineData("tcp://[::1]:33123", "[::1]:33123")]
    [InlineData("tcp://127.0.0.1:33123", "127.0.0.1:33123")]
    public void The_control_setting_gives_an_endpoint(string text, string expected) =>
        Assert.Equal(expected, BabelEndpoint.Parse(text).ToString());

    [Theory]
    [InlineData("unix:")]
    [InlineData("tcp://[::1]")]
    [InlineData("tcp://::1:33123")]
    [InlineData("tcp://[127.0.0.1]:33123")]
    [InlineData("tcp://10.1:33123")]
    [InlineData("tcp://localhost:33123")]
    [InlineData("tcp://[::1]:0")]
    [InlineData("tcp://[::1]:65536")]
    [InlineData("tcp://[fe80::1%eth0]:33123")]
    [InlineData("udp://[::1]:33123")]
    [InlineData("[::1]:33123")]
    public void A_malformed_control_setting_is_refused(string text) => Assert.False(BabelEndpoint.TryParse(text, out _));

    [Fact]
    public void A_unix_path_longer_than_sun_path_is_refused()
    {
        Assert.True(BabelEndpoint.TryParse("unix:/" + new string('x', 106), out _));
        Assert.False(BabelEndpoint.TryParse("unix:/" + new string('x', 107), out _));
    }
}
