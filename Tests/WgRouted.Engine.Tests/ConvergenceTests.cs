using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;
using static WgRouted.Engine.Tests.Simulation;

namespace WgRouted.Engine.Tests;

/// <summary>Convergence, re-assertion and moves are the engine's decisions, from probe answers.</summary>
public class ConvergenceTests
{
    private static string Outcomes(Simulation sim) =>
        string.Join("\n", sim.Outputs.Where(o => o is SwitchConverged or SwitchFailed or SwitchReasserted or EndpointSwitchDecided).Select(Describe));

    [Fact]
    public void A_switch_converges_when_the_move_is_answered_with_our_new_source()
    {
        var sim = new Simulation().Candidates(A4).Up(A4, 30).RunTo(1000);
        Assert.Equal("0 A4 Initial\n30 A4 converged", Outcomes(sim));
        Assert.Equal(30, sim.Outputs.OfType<SwitchConverged>().Single().ElapsedMs, 6);
    }

    [Fact]
    public void An_unanswered_switch_is_reasserted_after_100_200_400_then_every_800_ms_and_fails_after_2_s()
    {
        var sim = new Simulation { PeerFollows = false }.Candidates(A4, B4).Up(A4, 20).Up(B4, 30).Preferred(Dst4, A4).RunTo(2100);
        var lines = Outcomes(sim).Split('\n');
        Assert.Equal("0 A4 Initial", lines[0]);
        Assert.Equal(["100 A4 reasserted 1", "300 A4 reasserted 2", "700 A4 reasserted 3", "1500 A4 reasserted 4"], lines[1..5]);
        Assert.Equal("2000 A4 failed", lines[5]);
        // A failed switch takes its path down: the tunnel moves on to the other path.
        Assert.Equal("2000 B4 ActiveDown", lines[6]);
    }

    [Fact]
    public void A_longer_convergence_bound_reasserts_every_800_ms_once_backed_off()
    {
        var options = PolicyOptions.Default with { ConvergeWithin = TimeSpan.FromSeconds(4) };
        var sim = new Simulation(options) { PeerFollows = false }.Candidates(A4, B4).Up(A4, 20).Up(B4, 30).Preferred(Dst4, A4).RunTo(4100);
        Assert.Equal([100, 300, 700, 1500, 2300, 3100, 3900],
            sim.Outputs.OfType<SwitchReasserted>().Where(r => r.Path == A4).Select(r => (r.At - T0).TotalMilliseconds));
    }

    [Fact]
    public void A_refused_pin_fails_the_switch_at_once()
    {
        var sim = new Simulation { Probing = false }.Candidates(A4).Reply(A4, 20);
        sim.Post(new SwitchNotApplied(Peer, sim.Now, A4, "RTNETLINK answers: Network is unreachable"));
        var failed = Assert.Single(sim.Outputs.OfType<SwitchFailed>());
        Assert.Equal("RTNETLINK answers: Network is unreachable", failed.Reason);
        Assert.Equal(sim.Now, failed.At);
    }

    [Fact]
    public void After_convergence_the_peer_seen_on_another_address_of_ours_is_reasserted_once_per_interval()
    {
        var sim = new Simulation { Probing = false }.Candidates(A4, B4).Reply(A4, 20).Reply(B4, 30);
        var seenOld = new Endpoint(B4.Src, 51820);
        sim.Post(new ProbeReplied(Peer, sim.Now, A4, 90, 20, null, new Endpoint(A4.Src, 51820)));
        Assert.Single(sim.Outputs.OfType<SwitchConverged>());
        sim.Post(new ProbeReplied(Peer, At(50), A4, 91, 20, null, seenOld));
        sim.Post(new ProbeReplied(Peer, At(60), A4, 92, 20, null, seenOld));
        sim.Post(new ProbeReplied(Peer, At(200), A4, 93, 20, null, seenOld));
        var reasserted = sim.Outputs.OfType<SwitchReasserted>().ToList();
        Assert.Equal([At(50), At(200)], reasserted.Select(r => r.At));
        Assert.All(reasserted, r => Assert.Equal(seenOld, r.Seen));
    }

    [Fact]
    public void A_move_request_is_followed_at_once_with_what_was_asked_and_what_was_there()
    {
        var sim = new Simulation { Probing = false };
        var requested = new Endpoint(A4.Src, 51820);
        var previous = new Endpoint(B4.Src, 51820);
        sim.Post(new MoveRequested(Peer, At(5), requested, previous, 77));
        var followed = Assert.Single(sim.Outputs.OfType<MoveFollowed>());
        Assert.Equal(new MoveFollowed(Peer, At(5), requested, previous, 77), followed);
        Assert.Null(sim.State.PendingMove);
    }

    [Fact]
    public void Every_peer_event_type_is_marked_input_or_output()
    {
        Assert.All(EventKinds.PeerTypes, t => EventKinds.Of(t));
        Assert.Equal(EventKind.Output, EventKinds.Of(typeof(SwitchConverged)));
        Assert.Equal(EventKind.Input, EventKinds.Of(typeof(ProbeMissed)));
    }

    [Fact]
    public void The_peer_event_types_listed_are_all_there_are()
    {
        var declared = typeof(PeerEvent).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(PeerEvent)) && !t.IsAbstract);
        Assert.Equal(declared.OrderBy(t => t.Name, StringComparer.Ordinal), EventKinds.PeerTypes);
    }
}
