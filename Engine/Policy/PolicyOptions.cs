namespace WgRouted.Engine.Policy;

/// <summary>The endpoint policy's knobs; defaults are the documented ones.</summary>
public sealed record PolicyOptions
{
    public TimeSpan HoldDown { get; init; } = TimeSpan.FromMilliseconds(400);
    /// <summary>
    /// A stock peer's failback waits this long for routing to hold still (a route change is a burst of messages), then
    /// tries the preferred path. Shorter than <see cref="HoldDown"/>: the trial is its own proof, and one that fails
    /// leaves the tunnel where it was.
    /// </summary>
    public TimeSpan TrialHoldDown { get; init; } = TimeSpan.FromMilliseconds(100);
    public double RttImprovementPercent { get; init; } = 10;
    public double RttImprovementMinMs { get; init; } = 2;
    public TimeSpan RttSustain { get; init; } = TimeSpan.FromMilliseconds(5000);
    public TimeSpan MinSwitchInterval { get; init; } = TimeSpan.FromMilliseconds(10000);
    public int LossThreshold { get; init; } = 3;
    public TimeSpan ActiveInterval { get; init; } = TimeSpan.FromMilliseconds(250);
    public TimeSpan StandbyInterval { get; init; } = TimeSpan.FromMilliseconds(1000);
    /// <summary>Until the peer reports our new source, pin, endpoint and move request are re-asserted this often ...</summary>
    public TimeSpan ReassertInterval { get; init; } = TimeSpan.FromMilliseconds(100);
    /// <summary>... and for this long before the switch counts as failed.</summary>
    public TimeSpan ConvergeWithin { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long babeld's RTT for a tunnel takes to follow a change of the underlay (90 %): a disagreement with the
    /// probes that outlasts it is a PathMismatch. Derived from the Babel settings (see the configuration loader).
    /// </summary>
    public TimeSpan BabelConvergence { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>babeld's RTT and the probes' disagree when apart by more than this fraction of the probe RTT, and ...</summary>
    public const double MismatchFraction = 0.30;
    /// <summary>... by more than this: sub-millisecond tunnels differ by babeld's own processing.</summary>
    public const double MismatchMinMs = 5;

    /// <summary>A path must have answered within this many of its probe intervals to be usable.</summary>
    public const int FreshIntervals = 3;

    /// <summary>PathMeasured is stored when srtt moves by this fraction (or by <see cref="ReportRttMinMs"/>) since the last one stored.</summary>
    public const double ReportRttFraction = 0.10;
    public const double ReportRttMinMs = 1.0;
    /// <summary>
    /// ... and at most once in this long for a move of the RTT alone: under load RTTs wander past those bounds all the
    /// time (500 peers: 800 PathMeasured a second, most of the daemon's store work and PostgreSQL's CPU; at 10 s, 1,000
    /// peers still stored 400 a second, every path every 10 s), and every probe's RTT is kept by the recorder anyway.
    /// Loss, eligibility and up/down are stored at once.
    /// </summary>
    public static readonly TimeSpan ReportRttInterval = TimeSpan.FromSeconds(60);

    public static readonly PolicyOptions Default = new();
}
