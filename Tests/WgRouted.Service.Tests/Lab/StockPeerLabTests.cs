using WgRouted.Tests.Shared;
using static WgRouted.Tests.Shared.LabRun;

namespace WgRouted.Service.Tests.Lab;

/// <summary>
/// The lab with a stock peer (LAB_STOCK_PEER=1): the peer runs wireguard-go only, and the router's wg-routed probes it
/// with WireGuard handshakes and switches by handshaking over the new path. The goals are the (1 s).
/// </summary>
[Trait("Category", "Integration")]
public sealed class StockPeerLabTests
{
    private static readonly (string, string) StockPeer = ("LAB_STOCK_PEER", "1");

    private static void AssertReplayed((int Exit, string Output) run)
    {
        var replay = Single(run, "replay-router");
        Assert.True(replay["verify"] == "ok" && replay["differences"] == "0" && Ms(replay["outputs"]) > 0, string.Join(' ', replay));
    }

    [Fact]
    public async Task Failover_and_failback_are_handshakes_traced_like_any_switch_and_the_history_replays()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var run = RunLab(["a"], wgRouted: true, seconds: 80, StockPeer, ("LAB_A_HOLD", "6"), ("LAB_A_AFTER", "6"),
            ("LAB_OTLP_PORT", receiver.GrpcEndpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var result = Single(run, "a");
        var line = string.Join(' ', result);
        Assert.Equal("wgrouted-stock-peer", result["mode"]);
        Assert.True(result["final_src"] == "A", line);
        Assert.True(Ms(result["back_on_primary_ms"]) <= 1000 + LabTests.CiMarginMs, line);
        Assert.True(Ms(result["outage_ms"]) <= 1000 + LabTests.CiMarginMs, line);
        AssertReplayed(run);

        // The failback's trace: decided, converged (the handshake answered), and then pinned, as the switcher does it.
        var spans = await receiver.WaitForSpansAsync("wg-routed", 8);
        var failback = spans.Last(s => s.Name == "switch Preferred" && s.ParentSpanId is null);
        var children = spans.Where(s => s.TraceId == failback.TraceId && s.ParentSpanId == failback.SpanId).Select(s => s.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "decide", "converge", "pin", "endpoint" }, children);
        Assert.DoesNotContain("move", children);
    }

    [Fact]
    public void Back_on_the_primary_within_a_second_in_20_failbacks()
    {
        var r = Single(RunLab(["t", "--trials", "20"], wgRouted: true, seconds: 240, StockPeer), "t");
        var line = string.Join(' ', r);
        Assert.True(r["never"] == "0", line);
        // The goal is 1 s (ops/lab/bench measures it); CI's shared cores get the margin the other lab tests have. On a
        // day when both the build before and this one measured p50 567-597 ms here, CI measured p95 1,019 ms.
        Assert.True(Ms(r["back_p95_ms"]) <= 1000 + LabTests.CiMarginMs, line);
    }

    [Fact]
    public void The_failback_sticks_under_a_bidirectional_flood_20_of_20()
    {
        var r = Single(RunLab(["c", "--trials", "20"], wgRouted: true, seconds: 400, StockPeer), "c");
        Assert.True(r["switch_sticks"] == "20", string.Join(' ', r));
    }

    [Fact]
    public void Silent_loss_of_the_active_path_is_over_within_a_second()
    {
        var run = RunLab(["b"], wgRouted: true, seconds: 120, StockPeer, ("LAB_B_HOLD", "8"), ("LAB_B_AFTER", "4"));
        foreach (var kind in new[] { "b-carrier", "b-blackhole" })
        {
            var r = Single(run, kind);
            var line = string.Join(' ', r);
            Assert.True(r["tunnel_dead_until_fault_ends"] == "no", line);
            Assert.True(Ms(r["outage_ms"]) <= 1000, line);
        }
    }

    [Fact]
    public void IPv4_dies_and_the_tunnel_moves_to_IPv6_within_a_second()
    {
        var r = Single(RunLab(["d"], wgRouted: true, seconds: 90, StockPeer, ("LAB_D_HOLD", "8"), ("LAB_D_AFTER", "4")), "d");
        var line = string.Join(' ', r);
        Assert.True(Ms(r["outage_ms"]) <= 1000, line);
        Assert.True(Ms(r["router_udp_over_ipv6"]) > 0, line);
    }
}
