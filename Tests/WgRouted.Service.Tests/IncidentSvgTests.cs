using System.Globalization;
using System.Xml.Linq;
using WgRouted.Service.Replay;
using static WgRouted.Service.Tests.IncidentSample;

namespace WgRouted.Service.Tests;

public sealed class IncidentSvgTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void The_sample_is_an_svg_document_and_is_written_where_WGROUTED_SVG_SAMPLE_says()
    {
        var text = IncidentSvg.Render(Build());

        var svg = XDocument.Parse(text).Root!;
        Assert.Equal(Svg + "svg", svg.Name);
        Assert.Equal("1.1", (string?)svg.Attribute("version"));
        if (Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } path)
            File.WriteAllText(path, text);
    }

    [Fact]
    public void Each_path_is_one_series_broken_where_it_was_down()
    {
        var svg = Parse(IncidentSvg.Render(Build()));

        var series = Classed(svg, "series").ToList();
        Assert.Equal(["series-0", "series-1", "series-2"], series.Select(s => (string?)s.Attribute("id")));
        Assert.Equal([3, 2, 1], series.Select(s => s.Elements(Svg + "polyline").Count()));
        Assert.Equal(3, series.Select(s => (string?)s.Attribute("stroke")).Distinct().Count());
    }

    [Fact]
    public void Each_switch_is_one_mark_and_each_down_interval_one_shading()
    {
        var svg = Parse(IncidentSvg.Render(Build()));

        Assert.Equal(5, Classed(svg, "switch").Count());
        Assert.Equal(3, Classed(svg, "down").Count());
        Assert.Equal(5, Classed(svg, "active").Count());
        Assert.Equal(2, Classed(svg, "note").Count());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(8)]
    public void One_to_eight_paths_get_one_series_each_in_distinct_colours(int count)
    {
        var paths = Enumerable.Range(0, count)
            .Select(i => new PathSeries($"path {i}", [(At(1), 10.0 + i), (At(2), 11.0 + i)], [(At(3), At(4))]))
            .ToList();

        var svg = Parse(IncidentSvg.Render(Picture(10, paths)));

        var series = Classed(svg, "series").ToList();
        Assert.Equal(count, series.Count);
        Assert.Equal(count, series.Select(s => (string?)s.Attribute("stroke")).Distinct().Count());
        Assert.Equal(count, Classed(svg, "down").Count());
    }

    [Fact]
    public void Markup_in_labels_is_escaped_and_unencodable_characters_replaced()
    {
        const string title = "peer <a&b> \"quoted\" 'single' \u0001 \ud800 ok";
        var label = "<script>alert('x')</script> & more";
        var picture = Picture(10, [new PathSeries(label, [(At(1), 10)], [])]) with
        {
            Title = title,
            Switches = [new SwitchMark(At(1), "<Rtt>", label, false)],
            Notes = [new NoteMark(At(2), "route \"x\" & <y> removed")],
        };

        var svg = Parse(IncidentSvg.Render(picture));

        Assert.Equal("peer <a&b> \"quoted\" 'single' \uFFFD \uFFFD ok", Classed(svg, "title").Single().Value);
        Assert.Contains(svg.Descendants(Svg + "text"), t => t.Value == label);
        Assert.Contains(svg.Descendants(Svg + "text"), t => t.Value == "<Rtt>");
        Assert.Contains(svg.Descendants(Svg + "text"), t => t.Value == "route \"x\" & <y> removed");
    }

    [Fact]
    public void Numbers_are_invariant_under_a_comma_decimal_culture()
    {
        var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        comma.NumberFormat.NumberDecimalSeparator = ",";
        comma.NumberFormat.NumberGroupSeparator = ".";
        var saved = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = comma;
        string text;
        try
        {
            Assert.Equal("0,5", 0.5.ToString(CultureInfo.CurrentCulture));
            var picture = Picture(1, [new PathSeries(A4, [(At(0.13), 20.25), (At(0.57), 21.5), (At(0.91), 19.75)], [(At(0.6), At(0.65))])]) with
            {
                Switches = [new SwitchMark(At(0.33), "Initial", A4, true)],
            };
            text = IncidentSvg.Render(picture);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }

        var svg = Parse(text);
        Assert.Contains(Classed(svg, "xtick"), t => Text(t) == "0.5 s");
        string[] numeric = ["x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "width", "height"];
        foreach (var attribute in svg.Descendants().Attributes().Where(a => numeric.Contains(a.Name.LocalName)))
            Assert.True(double.TryParse(attribute.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _), $"{attribute.Name}=\"{attribute.Value}\"");
        foreach (var points in svg.Descendants().Attributes("points"))
            Assert.All(points.Value.Split(' '), pair => Assert.Equal(2, pair.Split(',').Length));
    }

    [Fact]
    public void An_empty_picture_renders()
    {
        var empty = new IncidentPicture("", Start, Start, [], [], [], []);

        var svg = Parse(IncidentSvg.Render(empty));

        Assert.Empty(Classed(svg, "series"));
        Assert.NotEmpty(Classed(svg, "xtick"));
    }

    [Fact]
    public void A_path_without_samples_is_an_empty_series_and_a_single_sample_a_dot()
    {
        var picture = Picture(10, [new PathSeries(A4, [], []), new PathSeries(B4, [(At(4), 30)], [])]);

        var series = Classed(Parse(IncidentSvg.Render(picture)), "series").ToList();

        Assert.Equal(2, series.Count);
        Assert.DoesNotContain(series[0].Elements(), e => e.Name != Svg + "title");
        Assert.Single(series[1].Elements(Svg + "circle"));
        Assert.Empty(series[1].Elements(Svg + "polyline"));
    }

    [Fact]
    public void An_outlier_is_drawn_on_the_top_edge_and_does_not_stretch_the_axis()
    {
        var srtt = Enumerable.Range(0, 40).Select(i => (At(i * 0.25), i == 20 ? 5000.0 : 20.0 + i % 3)).ToList();

        var svg = Parse(IncidentSvg.Render(Picture(10, [new PathSeries(A4, srtt, [])])));

        var topTick = Classed(svg, "ytick").Max(t => double.Parse(t.Value, CultureInfo.InvariantCulture));
        Assert.InRange(topTick, 22, 100);
        Assert.Single(Classed(svg, "clipped"));
        Assert.Contains("5000 ms", Classed(svg, "subtitle").Single().Value);
    }

    [Fact]
    public void Zero_length_spans_still_show()
    {
        var picture = Picture(10, [new PathSeries(A4, [(At(1), 20)], [(At(5), At(5))])]) with
        {
            Active = [new ActiveSpan(At(3), At(3), A4)],
        };

        var svg = Parse(IncidentSvg.Render(picture));

        var spans = Classed(svg, "down").Concat(Classed(svg, "active")).ToList();
        Assert.Equal(2, spans.Count);
        Assert.All(spans, s => Assert.True(double.Parse((string)s.Attribute("width")!, CultureInfo.InvariantCulture) >= 1));
    }

    [Fact]
    public void Labels_of_switches_close_together_are_staggered()
    {
        var picture = Picture(60, [new PathSeries(A4, [], []), new PathSeries(B4, [], [])]) with
        {
            Switches =
            [
                new SwitchMark(At(10), "ActiveDown", B4, true),
                new SwitchMark(At(10.2), "Preferred", A4, true),
                new SwitchMark(At(10.4), "Rtt", B4, false),
                new SwitchMark(At(40), "Rtt", A4, true),
            ],
        };

        var labels = Classed(Parse(IncidentSvg.Render(picture)), "switch-label")
            .Select(s => s.Elements(Svg + "text").Single(t => (string?)t.Attribute("class") != "halo"))
            .Select(t => (X: double.Parse((string)t.Attribute("x")!, CultureInfo.InvariantCulture), Y: (string)t.Attribute("y")!))
            .OrderBy(l => l.X)
            .ToList();

        Assert.Equal(3, labels.Take(3).Select(l => l.Y).Distinct().Count());
        Assert.Equal(labels[0].Y, labels[3].Y);
    }

    [Fact]
    public void Switches_beyond_the_label_lanes_share_a_label()
    {
        var picture = Picture(3600, [new PathSeries(A4, [], []), new PathSeries(B4, [], [])]) with
        {
            Switches = [.. Enumerable.Range(0, 6).Select(i => new SwitchMark(At(1800 + i), i % 2 == 0 ? "ActiveDown" : "Preferred", i % 2 == 0 ? B4 : A4, true))],
        };

        var svg = Parse(IncidentSvg.Render(picture));

        Assert.Equal(6, Classed(svg, "switch").Count());
        var labels = Classed(svg, "switch-label").Select(Text).ToList();
        Assert.Equal(["ActiveDown", "Preferred", "ActiveDown", "3 switches"], labels);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(60)]
    [InlineData(3600)]
    [InlineData(5 * 3600)]
    public void Time_ticks_are_few_and_distinct_from_a_second_to_hours(double seconds)
    {
        var svg = Parse(IncidentSvg.Render(Picture(seconds, [])));

        var ticks = Classed(svg, "xtick").Select(Text).ToList();
        Assert.InRange(ticks.Count, 4, 11);
        Assert.Equal(ticks.Count, ticks.Distinct().Count());
        Assert.Matches("^0( s| min)?$", ticks[0]);
    }

    private static IncidentPicture Picture(double seconds, IReadOnlyList<PathSeries> paths) =>
        new("test", Start, At(seconds), paths, [], [], []);

    private static XElement Parse(string text) => XDocument.Parse(text).Root!;

    /// <summary>What a group reads, without the white halo copies of its text.</summary>
    private static string Text(XElement group) =>
        string.Concat(group.Descendants(Svg + "text").Where(t => (string?)t.Attribute("class") != "halo").Select(t => t.Value));

    private static IEnumerable<XElement> Classed(XElement svg, string name) =>
        svg.Descendants().Where(e => ((string?)e.Attribute("class"))?.Split(' ').Contains(name) == true);
}
