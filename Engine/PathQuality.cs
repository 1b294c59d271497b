using System.Numerics;

namespace WgRouted.Engine;

/// <summary>
/// What probing has learned about one path: smoothed RTT and its variance (RFC 6298, 2.2-2.3),
/// loss over the last <see cref="Window"/> probes, and runs of successes and misses.
/// </summary>
public readonly record struct PathQuality
{
    /// <summary>Loss is measured over the last 32 probes: at 250 ms that is 8 s, long enough to see a 3 % loss, short enough to forget an outage.</summary>
    public const int Window = 32;

    // RFC 6298's gains: alpha = 1/8, beta = 1/4.
    private const double Alpha = 0.125;
    private const double Beta = 0.25;

    public double? SrttMs { get; init; }
    public double RttVarMs { get; init; }
    public double? LastRttMs { get; init; }
    /// <summary>Outcome bits of the last <see cref="Samples"/> probes, newest in bit 0; 1 is a miss.</summary>
    public uint Outcomes { get; init; }
    public int Samples { get; init; }
    public int ConsecutiveMisses { get; init; }
    public int ConsecutiveSuccesses { get; init; }
    public DateTimeOffset? LastSuccessAt { get; init; }
    public DateTimeOffset? LastProbeAt { get; init; }
    /// <summary>The first miss of the current run of misses (null after a reply).</summary>
    public DateTimeOffset? MissingSince { get; init; }

    public double Loss => Samples == 0 ? 0 : (double)BitOperations.PopCount(Outcomes) / Samples;

    public PathQuality WithReply(DateTimeOffset at, double rttMs)
    {
        if (rttMs < 0 || double.IsNaN(rttMs) || double.IsInfinity(rttMs))
            throw new ArgumentOutOfRangeException(nameof(rttMs), rttMs, "an RTT is a finite, non-negative number of milliseconds");
        double srtt, rttvar;
        if (SrttMs is not { } s)
        {
            srtt = rttMs;
            rttvar = rttMs / 2;
        }
        else
        {
            rttvar = (1 - Beta) * RttVarMs + Beta * Math.Abs(s - rttMs);
            srtt = (1 - Alpha) * s + Alpha * rttMs;
        }
        return this with
        {
            SrttMs = srtt,
            RttVarMs = rttvar,
            LastRttMs = rttMs,
            Outcomes = Outcomes << 1,
            Samples = Math.Min(Samples + 1, Window),
            ConsecutiveMisses = 0,
            ConsecutiveSuccesses = ConsecutiveSuccesses + 1,
            LastSuccessAt = at,
            LastProbeAt = at,
            MissingSince = null,
        };
    }

    public PathQuality WithMiss(DateTimeOffset at) => this with
    {
        Outcomes = (Outcomes << 1) | 1u,
        Samples = Math.Min(Samples + 1, Window),
        ConsecutiveMisses = ConsecutiveMisses + 1,
        ConsecutiveSuccesses = 0,
        LastProbeAt = at,
        MissingSince = ConsecutiveMisses == 0 ? at : MissingSince,
    };
}
