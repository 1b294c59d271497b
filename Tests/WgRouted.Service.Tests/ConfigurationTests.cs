using WgRouted.Service.Configuration;

namespace WgRouted.Service.Tests;

public sealed class ConfigurationTests : IDisposable
{
    private const string Key = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
    private readonly string _dir = Directory.CreateTempSubdirectory("wgr-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string json)
    {
        var path = Path.Combine(_dir, "config.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static string Valid(string peer = $$"""{ "PublicKey": "{{Key}}", "Endpoints": ["peer.example.net:51820", "198.18.3.2:51820", "[fd00:3::2]:51820"], "ProbePort": 51821 }""") => $$"""
        {
          "DataDirectory": "/var/lib/wg-routed",
          "Store":   { "ConnectionString": "" },
          "Probe":   { "Port": 51821, "ActiveIntervalMs": 250, "StandbyIntervalMs": 1000, "LossThreshold": 3 },
          "Policy":  { "HoldDownMs": 400, "RttImprovementPercent": 10, "RttImprovementMinMs": 2, "RttSustainMs": 5000, "MinSwitchIntervalMs": 10000 },
          "Babel":   { "Control": "tcp://[::1]:33123" },
          "Otlp":    { "Endpoint": "" },
          "Interfaces": [ { "Name": "wg0", "Fwmark": "0x5157", "Babel": true, "Peers": [ {{peer}} ] } ]
        }
        """;

    [Fact]
    public void The_documented_example_loads_with_its_values()
    {
        var config = ConfigurationLoader.Load(Write(Valid()), new Dictionary<string, string?>());
        var itf = Assert.Single(config.Interfaces);
        Assert.Equal("wg0", itf.Name);
        Assert.Equal(0x5157u, itf.Fwmark);
        var peer = Assert.Single(itf.Peers);
        Assert.Equal(Key, peer.PublicKey.Base64);
        Assert.Equal(["peer.example.net:51820", "198.18.3.2:51820", "[fd00:3::2]:51820"], peer.Endpoints.Select(e => e.ToString()));
        Assert.Null(peer.Endpoints[0].Literal);
        Assert.Equal(2, peer.Endpoints[2].Order);
        Assert.Equal(TimeSpan.FromMilliseconds(400), config.Policy.HoldDown);
        Assert.Equal(TimeSpan.FromMilliseconds(250), config.Policy.ActiveInterval);
    }

    [Fact]
    public void Defaults_apply_when_sections_are_missing()
    {
        var config = ConfigurationLoader.Load(Write("{}"), new Dictionary<string, string?>());
        Assert.Equal("/var/lib/wg-routed", config.Options.DataDirectory);
        Assert.Equal(51821, config.Options.Probe.Port);
        Assert.Empty(config.Interfaces);
    }

    [Fact]
    public void Environment_variables_override_the_file()
    {
        var config = ConfigurationLoader.Load(Write(Valid()), new Dictionary<string, string?>
        {
            ["WGROUTED__Probe__Port"] = "6000",
            ["WGROUTED__Store__ConnectionString"] = "Host=/run/postgresql",
            ["OTHER__Probe__Port"] = "7000",
        });
        Assert.Equal(6000, config.Options.Probe.Port);
        Assert.Equal("Host=/run/postgresql", config.Options.Store.ConnectionString);
    }

    [Theory]
    [InlineData("\"Probe\": { \"Port\": 0 }", "Probe:Port: '0'")]
    [InlineData("\"Probe\": { \"Port\": 70000 }", "Probe:Port: '70000'")]
    [InlineData("\"Probe\": { \"LossThreshold\": 0 }", "Probe:LossThreshold: '0'")]
    [InlineData("\"Probe\": { \"ActiveIntervalMs\": 2000, \"StandbyIntervalMs\": 1000 }", "Probe:StandbyIntervalMs: '1000' must not be shorter")]
    [InlineData("\"Policy\": { \"HoldDownMs\": -1 }", "Policy:HoldDownMs: '-1'")]
    [InlineData("\"Policy\": { \"RttImprovementPercent\": 150 }", "Policy:RttImprovementPercent: '150'")]
    [InlineData("\"DataDirectory\": \"relative/dir\"", "DataDirectory: 'relative/dir' must be an absolute path")]
    [InlineData("\"Babel\": { \"Control\": \"udp://x\" }", "Babel:Control: 'udp://x'")]
    [InlineData("\"Otlp\": { \"Endpoint\": \"not a uri\" }", "Otlp:Endpoint: 'not a uri'")]
    [InlineData("\"Otlp\": { \"Protocol\": \"http/json\" }", "Otlp:Protocol: 'http/json' is not grpc or http/protobuf")]
    [InlineData("\"History\": { \"ProbeRetentionDays\": 0 }", "History:ProbeRetentionDays: '0' must be 1..3650")]
    [InlineData("\"Babel\": { \"RttDecay\": 300 }", "Babel:RttDecay: '300' must be 1..256")]
    [InlineData("\"Babel\": { \"RttMinMs\": 50, \"RttMaxMs\": 40 }", "Babel:RttMaxMs: '40' must be above Babel:RttMinMs")]
    [InlineData("\"Babel\": { \"HelloIntervalMs\": 0 }", "Babel:HelloIntervalMs: '0' must be 1..655350")]
    public void A_bad_value_names_its_key_and_value(string section, string expected)
    {
        var e = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(Write("{" + section + "}"), new Dictionary<string, string?>()));
        Assert.Contains(e.Errors, m => m.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{ "PublicKey": "not-base64!", "Endpoints": [] }""", "Interfaces:0:Peers:0:PublicKey: 'not-base64!' is not base64")]
    [InlineData("""{ "PublicKey": "AAAA", "Endpoints": [] }""", "Interfaces:0:Peers:0:PublicKey: 'AAAA' decodes to 3 bytes")]
    [InlineData($$"""{ "PublicKey": "{{Key}}", "Endpoints": ["198.18.3.2"] }""", "Interfaces:0:Peers:0:Endpoints:0: '198.18.3.2' is not host:port")]
    [InlineData($$"""{ "PublicKey": "{{Key}}", "Endpoints": ["198.18.3.2:0"] }""", "Interfaces:0:Peers:0:Endpoints:0: '198.18.3.2:0' has no valid port")]
    [InlineData($$"""{ "PublicKey": "{{Key}}", "Endpoints": ["fd00::1:51820"] }""", "Interfaces:0:Peers:0:Endpoints:0: 'fd00::1:51820' is not host:port (write IPv6 addresses as [address]:port)")]
    [InlineData($$"""{ "PublicKey": "{{Key}}", "Endpoints": ["bad_name!:51820"] }""", "neither an IP address nor a DNS name")]
    [InlineData($$"""{ "PublicKey": "{{Key}}", "Endpoints": [], "ProbePort": 0 }""", "Interfaces:0:Peers:0:ProbePort: '0'")]
    public void A_bad_peer_names_its_key_and_value(string peer, string expected)
    {
        var e = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(Write(Valid(peer)), new Dictionary<string, string?>()));
        Assert.Contains(e.Errors, m => m.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void A_babel_interface_with_two_peers_is_refused_saying_why()
    {
        var second = $$"""{ "PublicKey": "{{Key}}", "Endpoints": [] }, { "PublicKey": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "Endpoints": [] }""";
        var e = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(Write(Valid(second)), new Dictionary<string, string?>()));
        Assert.Contains(e.Errors, m => m.StartsWith("Interfaces:0:Babel: true needs exactly one peer on wg0 (it has 2)", StringComparison.Ordinal));
    }

    [Fact]
    public void Babel_settings_give_the_tunnel_command_and_babelds_convergence()
    {
        var config = ConfigurationLoader.Load(Write(Valid()), new Dictionary<string, string?>());
        // hello 1 s, decay 128: an IHU sample every 3 s, 90 % after ln 0.1 / ln 0.5 = 3.32 samples; the cross-check
        // waits for 99 % (6.64 samples) and one sample more.
        Assert.Equal(9966, BabelTunnel.Follows90(config.Options.Babel).TotalMilliseconds, 0);
        Assert.Equal(22932, config.Policy.BabelConvergence.TotalMilliseconds, 0);
        Assert.Equal("interface wg0 type tunnel enable-timestamps true hello-interval 1 rtt-decay 128 rtt-min 10 rtt-max 120 max-rtt-penalty 96",
            BabelTunnel.Command("wg0", config.Options.Babel));
        // babeld's own defaults (hello 4 s, decay 42): half after ~47 s, 90 % after ~154 s.
        Assert.Equal(154, BabelTunnel.Follows90(new BabelOptions { HelloIntervalMs = 4000, RttDecay = 42 }).TotalSeconds, 0);
    }

    [Theory]
    [InlineData("zz")]
    [InlineData("0")]
    [InlineData("0x1FFFFFFFF")]
    public void A_bad_fwmark_is_rejected(string fwmark)
    {
        var json = Valid().Replace("\"0x5157\"", $"\"{fwmark}\"", StringComparison.Ordinal);
        var e = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(Write(json), new Dictionary<string, string?>()));
        Assert.Contains(e.Errors, m => m.StartsWith($"Interfaces:0:Fwmark: '{fwmark}'", StringComparison.Ordinal));
    }

    [Fact]
    public void The_same_peer_twice_is_rejected()
    {
        var peer = $$"""{ "PublicKey": "{{Key}}", "Endpoints": [] }""";
        var e = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(Write(Valid(peer + ", " + peer)), new Dictionary<string, string?>()));
        Assert.Contains(e.Errors, m => m.Contains("is already configured at Interfaces:0:Peers:0", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_error_is_reported_at_once()
    {
        var e = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(Write("""{ "Probe": { "Port": 0, "LossThreshold": 0 }, "DataDirectory": "x" }"""), new Dictionary<string, string?>()));
        Assert.Equal(3, e.Errors.Count);
    }

    [Fact]
    public void An_unknown_key_is_rejected_by_name()
    {
        var e = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(Write("""{ "Probe": { "Prot": 5 } }"""), new Dictionary<string, string?>()));
        Assert.Contains("Prot", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_unknown_key_and_bad_value_is_named_by_its_path_at_once_with_a_guess()
    {
        var peer = $$"""{ "PublicKey": "{{Key}}", "Endpoints": [], "Responnder": false, "ProbePort": "x" }""";
        var json = $$"""
            { "Probe": { "Prot": 5 }, "Interfaces": [ { "Name": "wg0", "Fwmrk": "0x10", "Fwmark": "0x10",
              "Peers": [ { "PublicKey": "{{Key}}", "Endpoints": [] }, {{peer}} ] } ] }
            """;
        var e = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(Write(json), new Dictionary<string, string?>()));
        Assert.Contains(e.Errors, m => m.StartsWith("Probe:Prot: unknown key; did you mean Port?", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("Interfaces:0:Fwmrk: unknown key; did you mean Fwmark?", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("Interfaces:0:Peers:1:Responnder: unknown key; did you mean Responder? (known here: PublicKey, Endpoints, ProbePort, Responder)", StringComparison.Ordinal));
        Assert.Contains("Interfaces:0:Peers:1:ProbePort: 'x' is not a whole number", e.Errors);
        Assert.Equal(4, e.Errors.Count);
    }

    [Fact]
    public void A_value_of_the_wrong_type_names_its_key()
    {
        var e = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(Write("""{ "Probe": { "Port": "abc" } }"""), new Dictionary<string, string?>()));
        Assert.Contains("Probe:Port", e.Message, StringComparison.Ordinal);
        Assert.Contains("abc", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_json_is_reported_with_the_file()
    {
        var path = Write("{ \"Probe\": ");
        var e = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(path, new Dictionary<string, string?>()));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_reported()
    {
        var e = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(Path.Combine(_dir, "nope.json"), new Dictionary<string, string?>()));
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
    }
}
