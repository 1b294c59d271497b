using System.Globalization;

namespace WgRouted.Service.Replay;

internal static partial class IncidentSvg
{
    // The RTT axis ends at the largest sample unless that is more than this many times the typical RTT (the median)
    // of the slowest path; then it ends near that bound and the samples above it are drawn on the top edge.
    // A median, not a percentile: a spike in a smoothed RTT decays over many samples.
    private const double OutlierFactor = 3;
    private const double EmptyRttTopMs = 10;
    private const int RttTicks = 5;
    private const int MaxTimeTicks = 10;

    // Steps a reader can add up: decimal steps below a minute, clock steps above.
    private static readonly double[] TimeSteps =
    [
        0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30,
        60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
    ];

    /// <summary>The top of the RTT axis, its tick step, and the largest sample; the axis always starts at 0.</summary>
    private static (double Top, double Step, double Max) RttAxis(List<List<double>> samplesByPath)
    {
        var nonEmpty = samplesByPath.Where(s => s.Count > 0).ToList();
        if (nonEmpty.Count == 0)
            return (EmptyRttTopMs, EmptyRttTopMs / RttTicks, 0);
        var max = nonEmpty.Max(s => s.Max());
        var typical = nonEmpty.Max(s => s.Order().ElementAt(s.Count / 2));
        var cap = Math.Max(Math.Min(max, OutlierFactor * typical), 1);
        var step = NiceStep(cap / RttTicks);
        // A sample exactly on a tick would touch the frame: leave a little headroom.
        var top = Math.Ceiling(cap * 1.04 / step) * step;
        return (top, step, max);
    }

    private static double NiceStep(double rough)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        foreach (var m in (ReadOnlySpan<double>)[1, 2, 2.5, 5, 10])
            if (m * magnitude >= rough)
                return m * magnitude;
        return 10 * magnitude;
    }

    private static double TimeStep(double seconds)
    {
        foreach (var step in TimeSteps)
            if (seconds / step <= MaxTimeTicks)
                return step;
        return Math.Ceiling(seconds / MaxTimeTicks / TimeSteps[^1]) * TimeSteps[^1];
    }

    /// <summary>A tick label: offset from the start, in the unit the step is counted in.</summary>
    private static string FormatOffset(double seconds, double step, double range)
    {
        if (step < 60)
            return Num(Math.Round(seconds, 6), 3) + " s";
        var minutes = (long)Math.Round(seconds / 60);
        if (range >= 2 * 3600 && minutes == 0)
            return "0";
        if (range < 2 * 3600 || minutes < 60)
            return string.Create(CultureInfo.InvariantCulture, $"{minutes} min");
        return minutes % 60 == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{minutes / 60} h")
            : string.Create(CultureInfo.InvariantCulture, $"{minutes / 60} h {minutes % 60:00}");
    }

    private static string FormatDuration(double seconds)
    {
        if (seconds < 120)
            return Num(seconds, 3) + " s";
        var total = (long)Math.Round(seconds);
        return total < 7200
            ? string.Create(CultureInfo.InvariantCulture, $"{total / 60} min {total % 60:00} s")
            : string.Create(CultureInfo.InvariantCulture, $"{total / 3600} h {total / 60 % 60:00} min");
    }

    /// <summary>Labels marks (in time order, at <paramref name="xs"/>) in lanes, so that labels in one lane do not overlap.</summary>
    /// <remarks>
    /// When all <paramref name="maxLanes"/> lanes are taken, a mark joins the label before it, which then speaks for
    /// several marks: <paramref name="width"/> (first mark, count) is the width of such a label.
    /// </remarks>
    private static List<(int First, int Count, int Lane, double Start)> Stagger(List<double> xs, Func<int, int, double> width, int maxLanes)
    {
        const double gap = 6;
        var ends = new List<double>();
        var labels = new List<(int First, int Count, int Lane, double Start)>();
        for (var i = 0; i < xs.Count; i++)
        {
            var (start, end) = Box(xs[i], width(i, 1));
            var lane = ends.FindIndex(e => e + gap <= start);
            if (lane < 0 && ends.Count < maxLanes)
            {
                ends.Add(double.NegativeInfinity);
                lane = ends.Count - 1;
            }
            if (lane >= 0)
            {
                labels.Add((i, 1, lane, start));
                ends[lane] = end;
                continue;
            }
            var last = labels[^1];
            (start, end) = Box(xs[last.First], width(last.First, last.Count + 1));
            labels[^1] = last with { Count = last.Count + 1, Start = start };
            ends[last.Lane] = Math.Max(ends[last.Lane], end);
        }
        return labels;
    }
}
