using static WgRouted.Tests.Shared.LabRun;

namespace WgRouted.Soak.Tests;

/// <summary>Ten minutes of steady state with a stock peer: the handshakes that check the active path disturb nothing.</summary>
[Trait("Category", "Integration")]
public sealed class StockPeerSoakTests
{
    [Fact]
    public void Liveness_handshakes_lose_no_ping_in_ten_minutes_at_about_65_pps()
    {
        var r = Single(RunLab(["q"], wgRouted: true, seconds: 690, ("LAB_STOCK_PEER", "1"), ("LAB_Q_SECONDS", "600"), ("LAB_Q_INTERVAL", "0.012")), "q");
        var line = string.Join(' ', r);
        // A ping every 12 ms: 61 a second here (the kernel's timer rounds ping's interval to 4 ms steps).
        Assert.True(Ms(r["ping_sent"]) >= 600 * 55, line);
        Assert.True(r["lost"] == "0", line);
        // The handshakes really went out over the active path all along (4 a second at the default 250 ms).
        Assert.True(Ms(r["initiations_from_A"]) >= 600 * 3, line);
    }
}
