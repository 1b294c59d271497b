namespace WgRouted.Integrations.Babel;

/// <summary>
/// The parameters of an `interface NAME ...` command (babeld.conf's interface parameters); null leaves babeld's
/// default. Ranges are configuration.c's: babeld answers `bad` to a value outside them.
/// </summary>
public sealed record BabelInterfaceConfig
{
    public BabelInterfaceType? Type { get; init; }

    /// <summary>`enable-timestamps`: RTT measurement (true by default on tunnels only).</summary>
    public bool? EnableTimestamps { get; init; }

    /// <summary>`hello-interval`, whole milliseconds, up to 655.35 s.</summary>
    public TimeSpan? HelloInterval { get; init; }

    /// <summary>`update-interval`, whole milliseconds, up to 655.35 s (default four hello intervals).</summary>
    public TimeSpan? UpdateInterval { get; init; }

    /// <summary>`rxcost` 1..65535 (default 96 wired and tunnel, 256 wireless).</summary>
    public int? RxCost { get; init; }

    /// <summary>`rtt-decay` 1..256, in 1/256: the weight of a new RTT sample (default 42).</summary>
    public int? RttDecay { get; init; }

    /// <summary>`rtt-min`, whole microseconds: below it the RTT adds no cost (default 10 ms).</summary>
    public TimeSpan? RttMin { get; init; }

    /// <summary>`rtt-max`, whole microseconds, above rtt-min: from it the RTT adds max-rtt-penalty (default 120 ms).</summary>
    public TimeSpan? RttMax { get; init; }

    /// <summary>`max-rtt-penalty` 1..65535 (default 96 on tunnels, 0 elsewhere).</summary>
    public int? MaxRttPenalty { get; init; }
}
