using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;
using static WgRouted.Engine.Tests.Simulation;

namespace WgRouted.Engine.Tests;

/// <summary>A stock peer: only the active path is probed (handshakes), and every switch is a trial over the new path.</summary>
public class StockPeerTests
{
    private static Simulation TwoUplinks() =>
        new Simulation().StockPeer().Candidates(A4, B4).Up(A4, 20).Up(B4, 30).Preferred(Dst4, A4);

    private static string Outcomes(Simulation sim) => string.Join("\n", sim.Outputs
        .Where(e => e is EndpointSwitchDecided or SwitchConverged or SwitchFailed or PeerUnreachable)
        .Select(Describe));

    [Fact]
    public void The_first_choice_is_a_trial_of_the_preferred_path()
    {
        var sim = TwoUplinks().RunTo(10_000);
        Assert.Equal("0 A4 Initial\n0 A4 converged", Outcomes(sim));
    }

    [Fact]
    public void The_first_choice_waits_for_the_kernels_preference()
    {
        var sim = new Simulation().StockPeer().Candidates(A4, B4).Up(A4).Up(B4).RunTo(1000);
        Assert.Empty(sim.Outputs.OfType<EndpointSwitchDecided>());
        sim.Preferred(Dst4, B4).RunTo(2000);
        Assert.Equal("1000 B4 Initial\n1000 B4 converged", Outcomes(sim));
    }

    [Fact]
    public void Only_the_active_path_is_probed()
    {
        var sim = TwoUplinks().RunTo(10_000);
        // One handshake at the trial, then one per active interval: none over B4.
        Assert.Equal(1 + 10_000 / 250, sim.Probes);
        Assert.Equal(0, sim.Path(B4).Quality.Samples);
    }

    [Fact]
    public void Silent_loss_of_the_active_path_is_a_trial_of_the_next_one()
    {
        var sim = TwoUplinks().RunTo(5000).Silent(A4).RunTo(10_000);
        // Misses at 5250, 5310, 5370 (each retried after 60 ms): down at the third; B4 answers its trial at once.
        Assert.Equal(
            "0 A4 Initial\n0 A4 converged\n5370 B4 ActiveDown\n5370 B4 converged\n"
            // The route stayed: A4 is tried again 2 s after it went down, and is still dead.
            + "7370 A4 Preferred\n7490 A4 failed\n7490 B4 ActiveDown\n7490 B4 converged",
            Outcomes(sim));
    }

    [Fact]
    public void Failback_when_the_route_returns_is_a_trial_after_the_trials_hold_down()
    {
        var sim = TwoUplinks().RunTo(5000).Silent(A4).Preferred(Dst4, B4).RunTo(10_000)
            .Up(A4).Preferred(Dst4, A4).RunTo(15_000);
        var switches = sim.Switches.ToList();
        Assert.Equal(SwitchReason.Preferred, switches[^1].Reason);
        Assert.Equal((A4, At(10_100)), (switches[^1].To, switches[^1].At));
        Assert.Equal(A4, sim.Outputs.OfType<SwitchConverged>().Last().Path);
        Assert.Equal(A4, sim.State.Active);
    }

    [Fact]
    public void A_failed_trial_goes_back_to_the_path_that_works_and_is_retried_after_a_backoff()
    {
        var sim = TwoUplinks().RunTo(5000).Silent(A4).Preferred(Dst4, B4).RunTo(10_000)
            .Preferred(Dst4, A4).RunTo(12_000);
        Assert.Equal(1, sim.Path(A4).FailedTrials);
        Assert.Equal(
            "0 A4 Initial\n0 A4 converged\n5100 B4 Preferred\n5100 B4 converged\n"
            // The route returns, the path does not: one trial (three handshakes, 60 ms apart), and back.
            + "10100 A4 Preferred\n10220 A4 failed\n10220 B4 ActiveDown\n10220 B4 converged",
            Outcomes(sim));
        // Tried again 4 s after the failure (2 s, doubled for the failed trial), not before.
        sim.RunTo(14_219);
        Assert.Equal(2, sim.Switches.Count(s => s.To == A4));
        sim.Up(A4).RunTo(15_000);
        Assert.Equal(At(14_220), sim.Switches.Last().At);
        Assert.Equal(A4, sim.State.Active);
        Assert.Equal(SwitchStatus.Converged, sim.State.Switch);
    }

    [Fact]
    public void IPv4_dies_while_IPv6_works_moves_the_tunnel_to_IPv6()
    {
        var sim = new Simulation().StockPeer().Candidates(A4, A6).Up(A4, 20).Up(A6, 25).Preferred(Dst4, A4).Preferred(Dst6, A6)
            .RunTo(5000).Silent(A4).RunTo(10_000);
        Assert.Equal(
            "0 A4 Initial\n0 A4 converged\n5370 A6 ActiveDown\n5370 A6 converged\n7370 A4 Preferred\n7490 A4 failed\n7490 A6 ActiveDown\n7490 A6 converged",
            Outcomes(sim));
    }

    [Fact]
    public void Every_path_failing_is_unreachable_once_and_each_is_tried_again_after_its_backoff()
    {
        var sim = TwoUplinks().RunTo(5000).Silent(A4).Silent(B4).RunTo(30_000);
        Assert.Equal(
            "0 A4 Initial\n0 A4 converged\n5370 B4 ActiveDown\n5490 B4 failed\n5490 unreachable\n"
            + "7370 A4 ActiveDown\n7490 A4 failed\n9490 B4 ActiveDown\n9610 B4 failed\n11490 A4 ActiveDown\n11610 A4 failed\n"
            + "17610 B4 ActiveDown\n17730 B4 failed\n19610 A4 ActiveDown\n19730 A4 failed",
            Outcomes(sim));
        sim.Up(B4).RunTo(90_000);
        Assert.Equal(B4, sim.State.Active);
        Assert.Equal(SwitchStatus.Converged, sim.State.Switch);
        Assert.False(sim.State.Unreachable);
    }

    [Fact]
    public void A_stock_peers_history_replays_to_the_same_decisions()
    {
        var sim = TwoUplinks().RunTo(5000).Silent(A4).Preferred(Dst4, B4).RunTo(10_000)
            .Preferred(Dst4, A4).RunTo(20_000).Up(A4).RunTo(40_000);
        var replayed = new Simulation { Probing = false };
        var outputs = new List<PeerEvent>();
        PeerState? state = null;
        foreach (var input in sim.Inputs)
            state = replayed.Policy.Turn(state, input, outputs);
        replayed.Policy.AdvanceTo(state!, At(40_000), outputs);
        Assert.Equal(sim.Outputs.Select(Describe), outputs.Where(e => !sim.Inputs.Contains(e)).Select(Describe));
    }
}
