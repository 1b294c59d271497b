using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;
using WgRouted.Engine;
using WgRouted.Engine.Policy;
using WgRouted.Integrations.Babel;

namespace WgRouted.Service.Configuration;

/// <summary>Loads and validates the configuration; every error names the key and the value.</summary>
public static class ConfigurationLoader
{
    public const string EnvironmentPrefix = "WGROUTED__";

    public static WgRoutedConfig Load(string path, IDictionary<string, string?>? environment = null)
    {
        if (!File.Exists(path))
            throw new ConfigurationException([$"configuration file '{path}' does not exist"]);
        var builder = new ConfigurationBuilder();
        try
        {
            builder.AddJsonFile(Path.GetFullPath(path), optional: false, reloadOnChange: false);
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or IOException)
        {
            throw new ConfigurationException([$"{path}: {e.Message}"]);
        }
        if (environment is null)
            builder.AddEnvironmentVariables(EnvironmentPrefix);
        else
            builder.AddInMemoryCollection(environment
                .Where(kv => kv.Key.StartsWith(EnvironmentPrefix, StringComparison.Ordinal))
                .Select(kv => new KeyValuePair<string, string?>(kv.Key[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal), kv.Value)));
        IConfigurationRoot root;
        try
        {
            root = builder.Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or System.Text.Json.JsonException)
        {
            throw new ConfigurationException([$"{path}: {e.InnerException?.Message ?? e.Message}"]);
        }
        if (ConfigurationKeys.Check(root, typeof(WgRoutedOptions)) is { Count: > 0 } shapeErrors)
            throw new ConfigurationException(shapeErrors);
        WgRoutedOptions options;
        try
        {
            options = root.Get<WgRoutedOptions>(o => o.ErrorOnUnknownConfiguration = true) ?? new WgRoutedOptions();
        }
        catch (InvalidOperationException e)
        {
            throw new ConfigurationException([Describe(e)]);
        }
        return Validate(options);
    }

    private static string Describe(InvalidOperationException e)
    {
        var inner = e.InnerException is null ? "" : $" ({e.InnerException.Message})";
        return e.Message + inner;
    }

    public static WgRoutedConfig Validate(WgRoutedOptions o)
    {
        var errors = new List<string>();
        void Check(bool ok, string key, object? value, string rule)
        {
            if (!ok)
                errors.Add($"{key}: '{value}' {rule}");
        }
        Check(Path.IsPathRooted(o.DataDirectory), "DataDirectory", o.DataDirectory, "must be an absolute path");
        Check(o.Probe.Port is >= 1 and <= 65535, "Probe:Port", o.Probe.Port, "is not a UDP port (1..65535)");
        Check(o.Probe.ActiveIntervalMs is >= 10 and <= 60000, "Probe:ActiveIntervalMs", o.Probe.ActiveIntervalMs, "must be 10..60000");
        Check(o.Probe.StandbyIntervalMs is >= 10 and <= 600000, "Probe:StandbyIntervalMs", o.Probe.StandbyIntervalMs, "must be 10..600000");
        Check(o.Probe.StandbyIntervalMs >= o.Probe.ActiveIntervalMs, "Probe:StandbyIntervalMs", o.Probe.StandbyIntervalMs, "must not be shorter than Probe:ActiveIntervalMs");
        Check(o.Probe.LossThreshold is >= 1 and <= 32, "Probe:LossThreshold", o.Probe.LossThreshold, "must be 1..32");
        Check(o.Policy.HoldDownMs is >= 0 and <= 600000, "Policy:HoldDownMs", o.Policy.HoldDownMs, "must be 0..600000");
        Check(o.Policy.TrialHoldDownMs is >= 0 and <= 600000, "Policy:TrialHoldDownMs", o.Policy.TrialHoldDownMs, "must be 0..600000");
        Check(o.Policy.RttImprovementPercent is >= 0 and <= 100, "Policy:RttImprovementPercent", o.Policy.RttImprovementPercent, "must be 0..100");
        Check(o.Policy.RttImprovementMinMs is >= 0 and <= 10000, "Policy:RttImprovementMinMs", o.Policy.RttImprovementMinMs, "must be 0..10000");
        Check(o.Policy.RttSustainMs is >= 0 and <= 3600000, "Policy:RttSustainMs", o.Policy.RttSustainMs, "must be 0..3600000");
        Check(o.Policy.MinSwitchIntervalMs is >= 0 and <= 3600000, "Policy:MinSwitchIntervalMs", o.Policy.MinSwitchIntervalMs, "must be 0..3600000");
        Check(TryParseControl(o.Babel.Control, out _), "Babel:Control", o.Babel.Control, "is not tcp://ADDRESS:PORT (a literal address, IPv6 in brackets) or unix:PATH");
        // babeld's ranges (configuration.c): intervals 1 ms..655.35 s, rtt-decay in 1/256, rtt-min and rtt-max above 0,
        // max-rtt-penalty 1..65535; it answers `bad` outside them.
        Check(o.Babel.HelloIntervalMs is >= 1 and <= 655_350, "Babel:HelloIntervalMs", o.Babel.HelloIntervalMs, "must be 1..655350");
        Check(o.Babel.RttDecay is >= 1 and <= 256, "Babel:RttDecay", o.Babel.RttDecay, "must be 1..256 (in 1/256)");
        Check(o.Babel.RttMinMs is >= 1 and <= 65_535, "Babel:RttMinMs", o.Babel.RttMinMs, "must be 1..65535");
        Check(o.Babel.RttMaxMs > o.Babel.RttMinMs && o.Babel.RttMaxMs <= 65_535, "Babel:RttMaxMs", o.Babel.RttMaxMs, "must be above Babel:RttMinMs and at most 65535");
        Check(o.Babel.MaxRttPenalty is >= 1 and <= 65_535, "Babel:MaxRttPenalty", o.Babel.MaxRttPenalty, "must be 1..65535");
        Check(o.Otlp.Protocol is "grpc" or "http/protobuf", "Otlp:Protocol", o.Otlp.Protocol, "is not grpc or http/protobuf");
        Check(o.History.ProbeRetentionDays is >= 1 and <= 3650, "History:ProbeRetentionDays", o.History.ProbeRetentionDays, "must be 1..3650");
        Check(o.Otlp.Endpoint.Length == 0 || Uri.TryCreate(o.Otlp.Endpoint, UriKind.Absolute, out _), "Otlp:Endpoint", o.Otlp.Endpoint, "is not an absolute URI");

        var interfaces = new List<InterfaceConfig>();
        var seenInterfaces = new HashSet<string>(StringComparer.Ordinal);
        var seenPeers = new Dictionary<PeerKey, string>();
        var seenMarks = new Dictionary<uint, string>();
        var seenTables = new Dictionary<uint, string>();
        for (var i = 0; i < o.Interfaces.Count; i++)
        {
            var itf = o.Interfaces[i];
            var key = $"Interfaces:{i}";
            Check(IsInterfaceName(itf.Name), $"{key}:Name", itf.Name, "is not an interface name (1..15 characters, no '/', ':' or white space)");
            Check(seenInterfaces.Add(itf.Name), $"{key}:Name", itf.Name, "appears twice");
            uint fwmark = 0;
            Check(TryParseFwmark(itf.Fwmark, out fwmark), $"{key}:Fwmark", itf.Fwmark, "is not a non-zero 32-bit number (decimal or 0x hex)");
            if (fwmark != 0 && !seenMarks.TryAdd(fwmark, key))
                errors.Add($"{key}:Fwmark: '{itf.Fwmark}' is already the fwmark of {seenMarks[fwmark]} (each interface's pins need their own mark)");
            uint table = fwmark;
            if (itf.PinTable.Length > 0)
                Check(TryParseFwmark(itf.PinTable, out table), $"{key}:PinTable", itf.PinTable, "is not a non-zero 32-bit number (decimal or 0x hex)");
            // 253..255 are the kernel's default, main and local tables.
            Check(table is not (>= 253 and <= 255), itf.PinTable.Length > 0 ? $"{key}:PinTable" : $"{key}:Fwmark",
                itf.PinTable.Length > 0 ? itf.PinTable : itf.Fwmark, "would name a kernel routing table (253 default, 254 main, 255 local); set PinTable");
            if (table != 0 && !seenTables.TryAdd(table, key))
                errors.Add($"{key}:PinTable: table {table} is already the pin table of {seenTables[table]}");
            var peers = new List<PeerConfig>();
            for (var j = 0; j < itf.Peers.Count; j++)
            {
                var p = itf.Peers[j];
                var pkey = $"{key}:Peers:{j}";
                if (!PeerKey.TryParse(p.PublicKey, out var peerKey, out var keyError))
                {
                    errors.Add($"{pkey}:PublicKey: {keyError}");
                    continue;
                }
                if (seenPeers.TryGetValue(peerKey, out var other))
                    errors.Add($"{pkey}:PublicKey: '{p.PublicKey}' is already configured at {other}");
                else
                    seenPeers[peerKey] = pkey;
                var endpoints = new List<EndpointSpec>();
                for (var k = 0; k < p.Endpoints.Count; k++)
                {
                    if (EndpointSpec.TryParse(p.Endpoints[k], k, out var spec, out var error))
                        endpoints.Add(spec);
                    else
                        errors.Add($"{pkey}:Endpoints:{k}: {error}");
                }
                var probePort = p.ProbePort ?? o.Probe.Port;
                Check(probePort is >= 1 and <= 65535, $"{pkey}:ProbePort", probePort, "is not a UDP port (1..65535)");
                peers.Add(new PeerConfig(peerKey, endpoints, probePort, p.Responder));
            }
            // babeld speaks to one neighbour per tunnel (its hellos are multicast, WireGuard routes by key): a
            // managed tunnel's link state and RTT are that one peer's.
            if (itf.Babel && itf.Peers.Count != 1)
                errors.Add($"{key}:Babel: true needs exactly one peer on {itf.Name} (it has {itf.Peers.Count}): babeld sees a tunnel as one link to one neighbour; give each neighbour its own WireGuard interface");
            interfaces.Add(new InterfaceConfig(itf.Name, fwmark, itf.Babel, peers, table, i));
        }
        if (errors.Count > 0)
            throw new ConfigurationException(errors);

        var policy = new PolicyOptions
        {
            HoldDown = TimeSpan.FromMilliseconds(o.Policy.HoldDownMs),
            TrialHoldDown = TimeSpan.FromMilliseconds(o.Policy.TrialHoldDownMs),
            RttImprovementPercent = o.Policy.RttImprovementPercent,
            RttImprovementMinMs = o.Policy.RttImprovementMinMs,
            RttSustain = TimeSpan.FromMilliseconds(o.Policy.RttSustainMs),
            MinSwitchInterval = TimeSpan.FromMilliseconds(o.Policy.MinSwitchIntervalMs),
            LossThreshold = o.Probe.LossThreshold,
            ActiveInterval = TimeSpan.FromMilliseconds(o.Probe.ActiveIntervalMs),
            StandbyInterval = TimeSpan.FromMilliseconds(o.Probe.StandbyIntervalMs),
            BabelConvergence = BabelTunnel.Convergence(o.Babel),
        };
        return new WgRoutedConfig(o, policy, interfaces);
    }

    public static bool TryParseFwmark(string text, out uint fwmark)
    {
        fwmark = 0;
        var ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out fwmark)
            : uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out fwmark);
        return ok && fwmark != 0;
    }

    /// <summary>One parser for the setting and the client that connects to it.</summary>
    public static bool TryParseControl(string text, out EndPoint? endpoint) => BabelEndpoint.TryParse(text, out endpoint);

    private static bool IsInterfaceName(string name) =>
        name.Length is >= 1 and <= 15 && name != "." && name != ".." && !name.Any(c => c is '/' or ':' || char.IsWhiteSpace(c));
}
