namespace WgRouted.Service.Configuration;

/// <summary>The configuration file's shape (JSON, overridable by WGROUTED__ environment variables).</summary>
public sealed class WgRoutedOptions
{
    public string DataDirectory { get; set; } = "/var/lib/wg-routed";
    public StoreOptions Store { get; set; } = new();
    public ProbeOptions Probe { get; set; } = new();
    public PolicySection Policy { get; set; } = new();
    public BabelOptions Babel { get; set; } = new();
    public OtlpOptions Otlp { get; set; } = new();
    public HistoryOptions History { get; set; } = new();
    public List<InterfaceOptions> Interfaces { get; set; } = [];
}

public sealed class StoreOptions
{
    /// <summary>Empty: start a private PostgreSQL cluster under DataDirectory/postgres.</summary>
    public string ConnectionString { get; set; } = "";
}

public sealed class ProbeOptions
{
    public int Port { get; set; } = 51821;
    public int ActiveIntervalMs { get; set; } = 250;
    public int StandbyIntervalMs { get; set; } = 1000;
    public int LossThreshold { get; set; } = 3;
}

public sealed class PolicySection
{
    public int HoldDownMs { get; set; } = 400;
    /// <summary>A stock peer's failback: how long routing must hold still before the handshake over the preferred path.</summary>
    public int TrialHoldDownMs { get; set; } = 100;
    public double RttImprovementPercent { get; set; } = 10;
    public double RttImprovementMinMs { get; set; } = 2;
    public int RttSustainMs { get; set; } = 5000;
    public int MinSwitchIntervalMs { get; set; } = 10000;
}

public sealed class BabelOptions
{
    public string Control { get; set; } = "tcp://[::1]:33123";
    /// <summary>
    /// Settings of a managed tunnel WgRouted adds to babeld (babeld's interface parameters). With these defaults
    /// babeld's RTT for a tunnel follows a change of the underlay to 90 % in about 10 s (see BabelTunnel).
    /// </summary>
    public int HelloIntervalMs { get; set; } = 1000;
    public int RttDecay { get; set; } = 128;
    public int RttMinMs { get; set; } = 10;
    public int RttMaxMs { get; set; } = 120;
    public int MaxRttPenalty { get; set; } = 96;
}

public sealed class OtlpOptions
{
    public string Endpoint { get; set; } = "";
    /// <summary>"grpc" or "http/protobuf" (the OTEL_EXPORTER_OTLP_PROTOCOL values).</summary>
    public string Protocol { get; set; } = "grpc";
}

public sealed class HistoryOptions
{
    /// <summary>Probe outcomes older than this are dropped, a whole day at a time.</summary>
    public int ProbeRetentionDays { get; set; } = 7;
}

public sealed class InterfaceOptions
{
    public string Name { get; set; } = "";
    public string Fwmark { get; set; } = "";
    /// <summary>The routing table for this interface's pins; empty: the fwmark's number.</summary>
    public string PinTable { get; set; } = "";
    public bool Babel { get; set; }
    public List<PeerOptions> Peers { get; set; } = [];
}

public sealed class PeerOptions
{
    public string PublicKey { get; set; } = "";
    public List<string> Endpoints { get; set; } = [];
    public int? ProbePort { get; set; }
    /// <summary>False for a stock peer: WireGuard only, no WgRouted responder (handshakes are the probes).</summary>
    public bool Responder { get; set; } = true;
}
