using System.Globalization;
using System.Xml.Linq;

namespace WgRouted.Service.Replay;

/// <summary>Draws one peer's incident as an SVG 1.1 document, on one time axis (seconds since <see cref="IncidentPicture.From"/>).</summary>
/// <remarks>
/// Top to bottom: title, and the UTC start as subtitle; switch labels, staggered in lanes; the smoothed RTT per path,
/// one polyline each, broken where the path was down; the active path as a band coloured by path (hatched grey where
/// there was none); one row per path, which is the legend: its colour, its label, a bar where it was active and hatching
/// where it was down; host notes. A switch is a vertical line through all of these (dashed when it did not converge).
/// The RTT axis is linear from 0. It ends at the largest sample, unless that is more than three times the median of the
/// slowest path: then it ends there, samples above it run along the top edge, each such run marked with a triangle and
/// its peak, and the subtitle says how many and how high. Labels that would collide are staggered in lanes; past the
/// last lane, marks share a label ("3 switches"). Marks outside From..To are left out, spans cut to it.
/// Pure: no I/O, no clock, invariant culture.
/// </remarks>
internal static partial class IncidentSvg
{
    private const double Width = 1000;
    private const double Pad = 16;
    private const double PlotHeight = 240;
    private const double LaneHeight = 16;
    private const double RowHeight = 16;
    private const double RowGap = 5;
    private const double Swatch = 10;
    private const int MaxSwitchLanes = 4;
    private const int MaxNoteLanes = 3;
    private const int MaxLabelChars = 48;
    private const int MaxTitleChars = 100;
    private const int MaxReasonChars = 20;
    private const int MaxNoteChars = 60;
    // Widths are estimated, not measured: 11 px DejaVu Sans Mono advances 0.6 em; 11 px sans-serif averages less than 0.58 em.
    private const double MonoChar = 6.6;
    private const double SansChar = 6.4;
    private const string Sans = "DejaVu Sans, Helvetica, Arial, sans-serif";
    private const string Mono = "DejaVu Sans Mono, Menlo, Consolas, monospace";
    private const string Ink = "#222222";
    private const string Muted = "#666666";
    private const string Grid = "#e4e4e4";
    private const string NoPath = "#9a9a9a";
    private const string NoActivePath = "no active path";

    // Okabe & Ito, "Color Universal Design" (2008): told apart under the common colour-vision deficiencies.
    // Yellow last: it is the weakest on white. Past eight paths the colours repeat.
    private static readonly string[] Palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"];
    private static readonly string[] TextOnPalette = ["#ffffff", "#000000", "#ffffff", "#ffffff", "#000000", "#000000", "#ffffff", "#000000"];

    public static string Render(IncidentPicture picture)
    {
        var from = picture.From;
        var seconds = picture.To > from ? (picture.To - from).TotalSeconds : 1;
        var to = from.AddSeconds(seconds);
        bool InRange(DateTimeOffset t) => t >= from && t <= to;

        var paths = picture.Paths;
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < paths.Count; i++)
            index.TryAdd(paths[i].Label ?? "", i);
        var names = ShortNames(paths);
        int IndexOf(string? label) => index.TryGetValue(label ?? "", out var i) ? i : -1;
        string ColourOf(int i) => i < 0 ? NoPath : Palette[i % Palette.Length];

        // Across: the left margin holds the path labels (the legend), as wide as the longest.
        var longest = paths.Select(p => Shorten(Clean(p.Label), MaxLabelChars).Length).DefaultIfEmpty(0).Max();
        var left = Pad + Math.Max(72, longest * MonoChar + Swatch + 16);
        var right = Width - Pad - 8;
        var plotWidth = right - left;
        double X(DateTimeOffset t) => left + (t - from).TotalSeconds / seconds * plotWidth;
        double XIn(DateTimeOffset t) => Math.Clamp(X(t), left, right);

        var switches = picture.Switches.Where(s => InRange(s.At)).OrderBy(s => s.At).ToList();
        string SwitchText(int first, int count) =>
            count == 1 ? Shorten(Clean(switches[first].Reason), MaxReasonChars) : count.ToString(CultureInfo.InvariantCulture) + " switches";
        var switchLabels = Stagger([.. switches.Select(s => X(s.At))], (i, n) => Swatch + 4 + SwitchText(i, n).Length * SansChar, MaxSwitchLanes);
        var notes = picture.Notes.Where(n => InRange(n.At)).OrderBy(n => n.At).ToList();
        string NoteText(int first, int count) =>
            Shorten(Clean(notes[first].Text), MaxNoteChars) + (count == 1 ? "" : " (+" + (count - 1).ToString(CultureInfo.InvariantCulture) + " more)");
        var noteLabels = Stagger([.. notes.Select(n => X(n.At))], (i, n) => 8 + NoteText(i, n).Length * SansChar, MaxNoteLanes);

        // Down: title, switch label lanes, plot, time ticks, active band, path rows, note lanes.
        var plotTop = Pad + 46 + Lanes(switchLabels) * LaneHeight + 8;
        var plotBottom = plotTop + PlotHeight;
        var bandTop = plotBottom + 28;
        var rowsTop = bandTop + RowHeight + 10;
        double RowTop(int i) => rowsTop + i * (RowHeight + RowGap);
        var rowsBottom = paths.Count == 0 ? bandTop + RowHeight : RowTop(paths.Count - 1) + RowHeight;
        var notesTop = rowsBottom + 14;
        var height = (notes.Count == 0 ? rowsBottom : notesTop + Lanes(noteLabels) * LaneHeight) + Pad;

        var rtts = paths.Select(p => p.Srtt.Where(s => InRange(s.At) && Usable(s.SrttMs)).Select(s => s.SrttMs).ToList()).ToList();
        var (rttTop, rttStep, rttMax) = RttAxis(rtts);
        var clipped = rtts.Sum(r => r.Count(v => v > rttTop));
        double Y(double ms) => plotBottom - Math.Min(ms, rttTop) / rttTop * PlotHeight;

        var defs = El("defs",
            El("clipPath", A("id", "plot-area"),
                El("rect", A("x", left), A("y", plotTop - 4), A("width", plotWidth), A("height", PlotHeight + 8))),
            Hatch("hatch-none", NoPath));
        for (var i = 0; i < paths.Count && i < Palette.Length; i++)
            defs.Add(Hatch("hatch-" + i.ToString(CultureInfo.InvariantCulture), Palette[i]));
        string HatchOf(int i) => "url(#hatch-" + (i % Palette.Length).ToString(CultureInfo.InvariantCulture) + ")";

        var svg = El("svg", A("version", "1.1"), A("width", Width), A("height", height),
            A("viewBox", "0 0 " + Num(Width, 2) + " " + Num(height, 2)),
            A("font-family", Sans), A("font-size", 11), A("fill", Ink),
            defs,
            El("rect", A("width", Width), A("height", height), A("fill", "#ffffff")));

        // Grid and axes.
        var timeStep = TimeStep(seconds);
        // Time tick labels go on top, with the other labels, below.
        var grid = El("g", A("class", "x-grid"), A("stroke", Grid));
        var ticks = El("g", A("class", "x-axis"), A("text-anchor", "middle"), A("fill", Muted));
        for (var k = 0; k * timeStep <= seconds * (1 + 1e-9); k++)
        {
            var x = X(from.AddSeconds(k * timeStep));
            var label = FormatOffset(k * timeStep, timeStep, seconds);
            var half = label.Length * SansChar / 2;
            grid.Add(El("line", A("x1", x), A("x2", x), A("y1", plotTop), A("y2", rowsBottom)));
            ticks.Add(El("g", A("class", "xtick"),
                Haloed(El("text", A("x", Math.Clamp(x, left + half, Width - Pad - half)), A("y", plotBottom + 15), label))));
        }
        svg.Add(grid);
        var yAxis = El("g", A("class", "y-axis"), A("text-anchor", "end"), A("fill", Muted));
        for (var k = 0; k * rttStep <= rttTop * (1 + 1e-9); k++)
        {
            var y = Y(k * rttStep);
            yAxis.Add(El("g", A("class", "ytick"),
                El("line", A("x1", left), A("x2", right), A("y1", y), A("y2", y), A("stroke", k == 0 ? "#888888" : Grid)),
                El("text", A("x", left - 6), A("y", y + 4), Num(k * rttStep, 3))));
        }
        var yTitleX = left - 42;
        var yTitleY = plotTop + PlotHeight / 2;
        yAxis.Add(El("text", A("x", yTitleX), A("y", yTitleY), A("text-anchor", "middle"),
            A("transform", "rotate(-90 " + Num(yTitleX, 2) + " " + Num(yTitleY, 2) + ")"), "smoothed RTT (ms)"));
        svg.Add(yAxis);

        // Active band: grey hatching shows through where no path was active.
        var band = El("g", A("class", "band"),
            El("rect", A("x", left), A("y", bandTop), A("width", plotWidth), A("height", RowHeight), A("fill", "url(#hatch-none)")),
            El("text", A("x", left - 8), A("y", bandTop + 12), A("text-anchor", "end"), A("font-weight", "bold"), "active path"));
        var active = picture.Active.Where(a => Max(a.From, a.To) >= from && Min(a.From, a.To) <= to).ToList();
        foreach (var (x1, x2) in Gaps([.. active.Select(a => (XIn(Min(a.From, a.To)), XIn(Max(a.From, a.To))))], left, right))
            if (x2 - x1 >= NoActivePath.Length * SansChar + 12)
                band.Add(Haloed(El("text", A("x", (x1 + x2) / 2), A("y", bandTop + 12), A("text-anchor", "middle"), A("fill", "#555555"), NoActivePath)));
        foreach (var span in active)
        {
            var i = IndexOf(span.PathLabel);
            var (x, w) = Extent(XIn(Min(span.From, span.To)), XIn(Max(span.From, span.To)));
            var label = Clean(span.PathLabel);
            var rect = El("rect", A("class", "active"), A("x", x), A("y", bandTop), A("width", w), A("height", RowHeight),
                A("fill", ColourOf(i)), Title(label));
            band.Add(rect);
            if (new[] { label, i < 0 ? "" : names[i] }.FirstOrDefault(n => n.Length > 0 && n.Length * MonoChar + 8 <= w) is { } fits)
                band.Add(El("text", A("x", x + w / 2), A("y", bandTop + 12), A("text-anchor", "middle"),
                    A("font-family", Mono), A("fill", i < 0 ? "#000000" : TextOnPalette[i % Palette.Length]), fits));
        }
        svg.Add(band);

        // Path rows (the legend), their active bars and down hatching.
        for (var i = 0; i < paths.Count; i++)
        {
            var path = paths[i];
            var colour = ColourOf(i);
            var label = Clean(path.Label);
            var rowTop = RowTop(i);
            var mid = rowTop + RowHeight / 2;
            var row = El("g", A("class", "row"), Title(label),
                El("text", A("x", left - Swatch - 12), A("y", mid + 4), A("text-anchor", "end"), A("font-family", Mono),
                    Shorten(label, MaxLabelChars)),
                El("rect", A("x", left - Swatch - 6), A("y", mid - Swatch / 2), A("width", Swatch), A("height", Swatch), A("fill", colour)),
                El("line", A("x1", left), A("x2", right), A("y1", mid), A("y2", mid), A("stroke", colour), A("stroke-opacity", 0.5)));
            foreach (var span in active.Where(a => IndexOf(a.PathLabel) == i))
            {
                var (x, w) = Extent(XIn(Min(span.From, span.To)), XIn(Max(span.From, span.To)));
                row.Add(El("rect", A("x", x), A("y", mid - 3), A("width", w), A("height", 6), A("fill", colour)));
            }
            foreach (var (downFrom, downTo) in path.Down.Where(d => Max(d.From, d.To) >= from && Min(d.From, d.To) <= to))
            {
                var (x, w) = Extent(XIn(Min(downFrom, downTo)), XIn(Max(downFrom, downTo)));
                row.Add(El("rect", A("class", "down"), A("x", x), A("y", rowTop), A("width", w), A("height", RowHeight),
                    A("fill", HatchOf(i)), A("stroke", colour),
                    Title("down " + FormatDuration(Math.Abs((downTo - downFrom).TotalSeconds)) + " from +" + Num((Min(downFrom, downTo) - from).TotalSeconds, 3) + " s")));
            }
            svg.Add(row);
        }

        // RTT series, broken where the path was down; a lone sample is a dot.
        for (var i = 0; i < paths.Count; i++)
        {
            var path = paths[i];
            var colour = ColourOf(i);
            var series = El("g", A("class", "series"), A("id", "series-" + i.ToString(CultureInfo.InvariantCulture)),
                A("clip-path", "url(#plot-area)"), A("fill", "none"), A("stroke", colour), A("stroke-width", 1.8),
                A("stroke-linejoin", "round"), Title(Clean(path.Label)));
            var segments = Segments(path, from, to);
            foreach (var segment in segments)
            {
                if (segment.Count == 1)
                    series.Add(El("circle", A("cx", X(segment[0].At)), A("cy", Y(segment[0].SrttMs)), A("r", 2.5), A("fill", colour), A("stroke", "none")));
                else
                    series.Add(El("polyline", A("points", string.Join(' ', segment.Select(s => Num(X(s.At), 2) + "," + Num(Y(s.SrttMs), 2))))));
            }
            svg.Add(series);
            foreach (var (at, ms) in Peaks(segments, rttTop, from, to))
            {
                var x = X(at);
                var text = Num(ms, 0) + " ms";
                var (start, _) = Box(x, text.Length * SansChar);
                svg.Add(El("g", A("class", "clipped"), Title("peak " + Num(ms, 1) + " ms at +" + Num((at - from).TotalSeconds, 3) + " s"),
                    El("polygon", A("fill", colour), A("stroke", "#ffffff"), A("stroke-width", 0.8),
                        A("points", Num(x, 2) + "," + Num(plotTop - 3, 2) + " " + Num(x - 5, 2) + "," + Num(plotTop + 6, 2) + " " + Num(x + 5, 2) + "," + Num(plotTop + 6, 2))),
                    Haloed(El("text", A("x", start + 2), A("y", plotTop + 15), A("font-size", 10), text))));
            }
        }
        svg.Add(El("rect", A("x", left), A("y", plotTop), A("width", plotWidth), A("height", PlotHeight),
            A("fill", "none"), A("stroke", "#bbbbbb")));
        if (rtts.All(r => r.Count == 0))
            svg.Add(El("text", A("x", left + plotWidth / 2), A("y", plotTop + PlotHeight / 2), A("text-anchor", "middle"), A("fill", Muted),
                A("font-size", 13), "no RTT samples"));

        // Marks: lines first, then their labels, each haloed in white, so a line passing behind a label of another lane stays whole.
        if (notes.Count > 0)
            svg.Add(El("text", A("x", left - 8), A("y", notesTop + 11), A("text-anchor", "end"), A("font-weight", "bold"), "host"));
        var labels = new List<XElement>();
        foreach (var (first, count, lane, start) in noteLabels)
        {
            var baseline = notesTop + 11 + lane * LaneHeight;
            for (var n = first; n < first + count; n++)
            {
                var x = X(notes[n].At);
                svg.Add(El("g", A("class", "note"), Title(Clean(notes[n].Text) + " at +" + Num((notes[n].At - from).TotalSeconds, 3) + " s"),
                    El("line", A("x1", x), A("x2", x), A("y1", plotTop), A("y2", baseline - 4), A("stroke", Muted), A("stroke-dasharray", "1 3")),
                    El("polygon", A("points", Diamond(x, baseline - 4)), A("fill", Muted))));
            }
            labels.Add(El("g", A("class", "note-label"), A("fill", "#444444"), A("font-style", "italic"),
                Haloed(El("text", A("x", start + 8), A("y", baseline), NoteText(first, count)))));
        }
        var unconverged = false;
        foreach (var (first, count, lane, start) in switchLabels)
        {
            var baseline = plotTop - 7 - lane * LaneHeight;
            for (var s = first; s < first + count; s++)
            {
                var mark = switches[s];
                unconverged |= !mark.Converged;
                var x = X(mark.At);
                var line = El("line", A("x1", x), A("x2", x), A("y1", baseline - 10), A("y2", rowsBottom), A("stroke", "#333333"), A("stroke-width", 1.2));
                if (!mark.Converged)
                    line.Add(A("stroke-dasharray", "5 3"));
                svg.Add(El("g", A("class", "switch"),
                    Title(Clean(mark.Reason) + " at +" + Num((mark.At - from).TotalSeconds, 3) + " s to " + Clean(mark.ToLabel) + (mark.Converged ? "" : " (not converged)")),
                    line));
            }
            labels.Add(El("g", A("class", "switch-label"),
                Haloed(El("text", A("x", start + Swatch + 4), A("y", baseline), SwitchText(first, count))),
                El("rect", A("x", start), A("y", baseline - 8.5), A("width", Swatch), A("height", Swatch),
                    A("fill", ColourOf(IndexOf(switches[first + count - 1].ToLabel))), A("stroke", "#ffffff"))));
        }
        svg.Add(labels, ticks);

        var subtitle = FormatDuration(seconds) + " from " + from.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)
            + " UTC; times are since then";
        if (clipped > 0)
            subtitle += "; RTT above " + Num(rttTop, 3) + " ms drawn at the top (" + clipped.ToString(CultureInfo.InvariantCulture)
                + " sample" + (clipped == 1 ? "" : "s") + ", peak " + Num(rttMax, 0) + " ms)";
        if (unconverged)
            subtitle += "; dashed: switch did not converge";
        svg.Add(El("text", A("class", "title"), A("x", Pad), A("y", Pad + 14), A("font-size", 15), A("font-weight", "bold"),
            Shorten(Clean(picture.Title), MaxTitleChars)));
        svg.Add(El("text", A("class", "subtitle"), A("x", Pad), A("y", Pad + 32), A("fill", Muted), subtitle));

        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg.ToString() + "\n";
    }

    private static bool Usable(double ms) => double.IsFinite(ms) && ms >= 0;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a <= b ? a : b;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a >= b ? a : b;

    private static int Lanes(List<(int First, int Count, int Lane, double Start)> labels) => labels.Count == 0 ? 0 : labels.Max(l => l.Lane) + 1;

    /// <summary>A span at least 1.5 px wide, so a zero-length one still shows.</summary>
    private static (double X, double Width) Extent(double x1, double x2) =>
        x2 - x1 >= 1.5 ? (x1, x2 - x1) : ((x1 + x2) / 2 - 0.75, 1.5);

    /// <summary>A label's extent: right of its mark, or left of it where it would leave the picture.</summary>
    private static (double Start, double End) Box(double x, double width) =>
        x + 4 + width <= Width - Pad ? (x + 4, x + 4 + width) : (x - 4 - width, x - 4);

    /// <summary>The text over a white copy of itself, stroked wide: lines behind it stop short of the glyphs.</summary>
    private static XElement[] Haloed(XElement text)
    {
        var halo = new XElement(text);
        halo.Add(A("class", "halo"), A("stroke", "#ffffff"), A("stroke-width", 3), A("stroke-linejoin", "round"));
        return [halo, text];
    }

    private static string Diamond(double x, double y) =>
        Num(x, 2) + "," + Num(y - 4, 2) + " " + Num(x + 4, 2) + "," + Num(y, 2) + " " + Num(x, 2) + "," + Num(y + 4, 2) + " " + Num(x - 4, 2) + "," + Num(y, 2);

    /// <summary>The stretches of left..right that no extent covers.</summary>
    private static IEnumerable<(double X1, double X2)> Gaps(List<(double X1, double X2)> extents, double left, double right)
    {
        var covered = left;
        foreach (var (x1, x2) in extents.OrderBy(e => e.X1))
        {
            if (x1 > covered)
                yield return (covered, x1);
            covered = Math.Max(covered, x2);
        }
        if (right > covered)
            yield return (covered, right);
    }

    /// <summary>Where a path's label does not fit: its source, the part before " -> ", when that tells it from the others.</summary>
    private static string[] ShortNames(IReadOnlyList<PathSeries> paths)
    {
        var sources = paths.Select(p => Clean(p.Label) is var l && l.IndexOf(" -> ", StringComparison.Ordinal) is var at and > 0 ? l[..at] : "").ToArray();
        return [.. sources.Select(s => sources.Count(o => o == s) == 1 ? s : "")];
    }

    /// <summary>The highest sample of each run above the axis, in the window.</summary>
    private static IEnumerable<(DateTimeOffset At, double SrttMs)> Peaks(
        List<List<(DateTimeOffset At, double SrttMs)>> segments, double top, DateTimeOffset from, DateTimeOffset to)
    {
        foreach (var segment in segments)
        {
            (DateTimeOffset At, double SrttMs)? peak = null;
            foreach (var s in segment.Where(s => s.At >= from && s.At <= to))
            {
                if (s.SrttMs > top)
                {
                    if (peak is null || s.SrttMs > peak.Value.SrttMs)
                        peak = s;
                }
                else if (peak is { } p)
                {
                    yield return p;
                    peak = null;
                }
            }
            if (peak is { } last)
                yield return last;
        }
    }

    private static XElement Hatch(string id, string colour) =>
        El("pattern", A("id", id), A("patternUnits", "userSpaceOnUse"), A("width", 6), A("height", 6), A("patternTransform", "rotate(45)"),
            El("rect", A("width", 6), A("height", 6), A("fill", colour), A("fill-opacity", 0.15)),
            El("line", A("x1", 0), A("x2", 0), A("y1", 0), A("y2", 6), A("stroke", colour), A("stroke-width", 3), A("stroke-opacity", 0.7)));

    /// <summary>The samples to draw, in time order, cut where the path was down; one sample either side of the window keeps the line running to the edge.</summary>
    private static List<List<(DateTimeOffset At, double SrttMs)>> Segments(PathSeries path, DateTimeOffset from, DateTimeOffset to)
    {
        var samples = path.Srtt.Where(s => Usable(s.SrttMs)).OrderBy(s => s.At).ToList();
        var first = Math.Max(0, samples.FindLastIndex(s => s.At < from));
        var last = samples.FindIndex(s => s.At > to) is var after and >= 0 ? after : samples.Count - 1;
        var segments = new List<List<(DateTimeOffset At, double SrttMs)>>();
        List<(DateTimeOffset At, double SrttMs)>? current = null;
        for (var i = first; i <= last; i++)
        {
            var s = samples[i];
            if (current is null || path.Down.Any(d => Min(d.From, d.To) < s.At && Max(d.From, d.To) > current[^1].At))
                segments.Add(current = []);
            current.Add(s);
        }
        return segments;
    }
}
