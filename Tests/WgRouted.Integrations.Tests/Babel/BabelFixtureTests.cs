using WgRouted.Integrations.Babel;

namespace WgRouted.Integrations.Tests.Babel;

/// <summary>The parser against real babeld 1.12.1 output (Fixtures/*.txt, re-captured by Fixtures/capture).</summary>
public class BabelFixtureTests
{
    public static TheoryData<string> Names => new(BabelFixtures.Names);

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_captured_line_parses_to_a_known_record(string name)
    {
        var lines = BabelFixtures.Lines(name);
        Assert.All(lines, l => Assert.IsNotType<BabelInvalidLine>(l));
        Assert.All(lines, l => Assert.IsNotType<BabelUnknownLine>(l));
        var text = System.Text.Encoding.ASCII.GetString(BabelFixtures.Bytes(name));
        Assert.Equal(text.Count(c => c == '\n'), lines.Count);
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_capture_opens_with_the_greeting(string name)
    {
        var lines = BabelFixtures.Lines(name);
        Assert.Equal(
            [new BabelProtocol("1.0"), new BabelVersion("babeld-1.12.1"), new BabelHost("vm"), new BabelMyId(BabelRouterId.Parse("02:00:00:00:00:00:0a:01")), BabelReply.Ok],
            lines.Take(5));
    }

    [Theory]
    [InlineData("tunnel-pair.txt", "ok ok ok")]                      // greeting, monitor, dump (quit has no reply)
    [InlineData("wired-pair.txt", "ok ok")]                          // greeting, monitor
    [InlineData("commands.txt", "ok ok ok ok bad no bad ok ok")]    // greeting, monitor, interface ba1, interface nosuch0,
                                                                      // rtt-decay 300, flush nosuch1, garbage, unmonitor, dump
    [InlineData("read-only.txt", "ok bad bad ok")]                   // greeting, interface, flush interface, dump
    public void Each_command_has_exactly_one_reply_in_order(string name, string replies) =>
        Assert.Equal(replies, string.Join(' ', BabelFixtures.Lines(name).OfType<BabelReply>().Select(r => r.Kind.ToString().ToLowerInvariant())));

    [Fact]
    public void A_tunnel_neighbour_gains_an_rtt_and_keeps_it_until_flushed()
    {
        var neighbours = BabelFixtures.Lines("tunnel-pair.txt").OfType<BabelNotification>()
            .Where(n => n.Object is BabelNeighbour).ToList();
        var first = Assert.IsType<BabelNeighbour>(neighbours[0].Object);
        Assert.Equal(BabelNotificationKind.Add, neighbours[0].Kind);
        Assert.Null(first.Rtt);
        Assert.Null(first.RttCost);
        Assert.Equal(65535, first.Cost);
        var sampled = neighbours.FindIndex(n => ((BabelNeighbour)n.Object).Rtt is not null);
        Assert.InRange(sampled, 1, neighbours.Count - 1);
        Assert.All(neighbours.Skip(sampled), n => Assert.NotNull(((BabelNeighbour)n.Object).Rtt));
        Assert.All(neighbours.Skip(sampled), n => Assert.InRange(((BabelNeighbour)n.Object).Rtt!.Value, TimeSpan.FromMicroseconds(1), TimeSpan.FromMilliseconds(50)));
        Assert.Equal(BabelNotificationKind.Flush, neighbours[^1].Kind);
    }

    [Fact]
    public void A_wired_neighbour_never_has_an_rtt()
    {
        var neighbours = BabelFixtures.Lines("wired-pair.txt").OfType<BabelNotification>().Select(n => n.Object).OfType<BabelNeighbour>().ToList();
        Assert.NotEmpty(neighbours);
        Assert.All(neighbours, n => Assert.Null(n.Rtt));
        Assert.All(neighbours, n => Assert.Null(n.RttCost));
    }

    [Fact]
    public void Routes_learnt_from_the_other_router_carry_its_id_and_are_retracted_then_flushed_when_it_stops()
    {
        var routes = BabelFixtures.Lines("tunnel-pair.txt").OfType<BabelNotification>().Where(n => n.Object is BabelRoute)
            .Select(n => (n.Kind, Route: (BabelRoute)n.Object)).ToList();
        Assert.All(routes, r => Assert.Equal(BabelRouterId.Parse("02:00:00:00:00:00:0b:01"), r.Route.RouterId));
        Assert.Contains(routes, r => r.Route is { Installed: true, Metric: 224, RefMetric: 128 } && r.Route.Prefix.ToString() == "198.18.22.0/24");
        var last = routes.GroupBy(r => r.Route.Id).Select(g => g.Last()).ToList();
        Assert.All(last, r => Assert.Equal(BabelNotificationKind.Flush, r.Kind));
        Assert.Contains(routes, r => r.Kind == BabelNotificationKind.Flush && r.Route is { Metric: 65535, RefMetric: 65535 });
    }

    // Only tunnel-pair.txt: commands.txt sends unmonitor before its dump.
    [Fact]
    public void The_notifications_before_a_dump_add_up_to_what_it_lists()
    {
        const string name = "tunnel-pair.txt";
        var lines = BabelFixtures.Lines(name);
        // The dump is the run of add lines just before the capture's last ok.
        var ok = lines.FindLastIndex(l => l is BabelReply { IsOk: true });
        var start = ok;
        while (lines[start - 1] is BabelNotification { Kind: BabelNotificationKind.Add })
            start--;
        var followed = new BabelTable();
        foreach (var n in lines.Take(start).OfType<BabelNotification>())
            followed.Apply(n);
        var dumped = new BabelTable();
        foreach (var n in lines.Skip(start).Take(ok - start).Cast<BabelNotification>())
            dumped.Apply(n);
        AssertSame(dumped.Snapshot(), followed.Snapshot(), name);
    }

    [Fact]
    public void The_read_only_dump_lists_babelds_state()
    {
        var table = new BabelTable();
        foreach (var n in BabelFixtures.Lines("read-only.txt").OfType<BabelNotification>())
            table.Apply(n);
        var snapshot = table.Snapshot();
        Assert.Equal(["ba0"], snapshot.Interfaces.Select(i => i.Name));
        Assert.Equal(["198.18.20.1/32", "198.18.23.1/32", "fd00:20::1/128"], snapshot.XRoutes.Select(x => x.Prefix.ToString()));
    }

    internal static void AssertSame(BabelSnapshot expected, BabelSnapshot actual, string because)
    {
        // Element by element: the snapshot's lists would compare by reference.
        Assert.True(expected.Interfaces.SequenceEqual(actual.Interfaces), $"interfaces differ: {because}");
        Assert.True(expected.Neighbours.SequenceEqual(actual.Neighbours), $"neighbours differ: {because}");
        Assert.True(expected.XRoutes.SequenceEqual(actual.XRoutes), $"xroutes differ: {because}");
        Assert.True(expected.Routes.SequenceEqual(actual.Routes), $"routes differ: {because}");
        Assert.NotEmpty(actual.Interfaces);
    }
}
