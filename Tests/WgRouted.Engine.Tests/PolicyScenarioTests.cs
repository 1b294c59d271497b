using System.Net;
using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;
using static WgRouted.Engine.Tests.Simulation;

namespace WgRouted.Engine.Tests;

public class PolicyScenarioTests
{
    private static Simulation TwoUplinks(double rttA = 20, double rttB = 30, bool preferA = true)
    {
        var sim = new Simulation().Candidates(A4, B4).Up(A4, rttA).Up(B4, rttB);
        return preferA ? sim.Preferred(Dst4, A4) : sim;
    }

    [Fact]
    public void Initial_choice_is_the_preferred_path_when_it_answers_first()
    {
        var sim = TwoUplinks().RunTo(30_000);
        Assert.Equal("0 A4 Initial", sim.Timeline());
    }

    [Fact]
    public void Initial_choice_waits_for_the_preferred_path_that_answers_a_moment_after_another()
    {
        var sim = new Simulation().Candidates(A4, B4).Up(A4, 20).Up(B4, 30).Preferred(Dst4, B4).RunTo(30_000);
        // A4 answers first, B4 (the kernel's preferred source) a moment later: B4 is the first choice, no flap.
        Assert.Equal("0 B4 Initial", sim.Timeline());
    }

    [Fact]
    public void Silent_loss_fails_over_after_LossThreshold_misses()
    {
        var sim = TwoUplinks().RunTo(5000).Silent(A4).RunTo(20_000);
        // Misses at 5250, 5500, 5750: the third one takes A4 down.
        Assert.Equal("0 A4 Initial\n5750 B4 ActiveDown", sim.Timeline());
        var down = Assert.Single(sim.Stored.OfType<PathWentDown>());
        Assert.Equal((A4, PathDownReason.ProbesMissed, At(5750)), (down.Path, down.Reason, down.At));
    }

    [Fact]
    public void A_stall_of_every_path_does_not_fail_over()
    {
        // Our router reads nothing for 900 ms (or the network next to it drops everything): every path misses.
        var sim = TwoUplinks().RunTo(5000).Silent(A4).Silent(B4).RunTo(5900).Up(A4, 20).Up(B4, 30).RunTo(20_000);
        // A4 misses at 5250, 5500, 5750 and is down; B4 answered last at 5000, before A4's first miss, and missed the
        // probe sent at 5250: it proves nothing about A4. A4 answers at 6000 and is up again.
        Assert.Equal("0 A4 Initial", sim.Timeline());
        Assert.Single(sim.Stored.OfType<PathWentDown>(), d => d.Path == A4);
        Assert.Contains(sim.Stored.OfType<PathCameUp>(), u => u.Path == A4 && u.At == At(6000));
    }

    [Fact]
    public void An_answer_after_the_active_paths_last_miss_is_a_witness_only_once_the_active_path_misses_again()
    {
        var sim = new Simulation { Probing = false }.Candidates(A4, B4).Preferred(Dst4, A4).Reply(A4, 20).Reply(B4, 30)
            .RunTo(100).Reply(A4, 20).RunTo(300).Miss(A4).RunTo(310).Miss(A4).RunTo(320).Miss(A4);
        Assert.Equal("0 A4 Initial", sim.Timeline());
        Assert.True(sim.Policy.AwaitsWitness(sim.State, sim.Now));
        Assert.Null(sim.Policy.WitnessProbeWanted(sim.State, sim.Now));
        // B4 answers after the stall: the active path is to be probed again, and its next miss decides.
        sim.RunTo(330).Reply(B4, 30);
        Assert.Equal(At(320), sim.Policy.WitnessProbeWanted(sim.State, sim.Now));
        var back = new Simulation { Probing = false };
        foreach (var e in sim.Inputs)
            back.Post(e);
        back.RunTo(400).Reply(A4, 20).RunTo(1000);
        Assert.Equal("0 A4 Initial", back.Timeline());
        sim.RunTo(400).Miss(A4);
        Assert.Equal("0 A4 Initial\n400 B4 ActiveDown", sim.Timeline());
    }

    [Fact]
    public void A_path_left_for_missed_probes_is_not_followed_by_a_preferred_one_that_has_not_answered_since()
    {
        // Lab d: IPv4 dies. A4 misses; B6 answers in between (the witness); B4, preferred over B6 (the first endpoint),
        // has a probe out that will never be answered, but its last answers are fresh and it had held up for long.
        var sim = new Simulation { Probing = false }.Candidates(A4, B4, B6).Preferred(Dst4, A4).Preferred(Dst6, B6);
        for (var t = 0; t <= 1000; t += 250)
            sim.RunTo(t).Reply(A4, 20).Reply(B4, 30).Reply(B6, 35);
        sim.RunTo(1300).Miss(A4).RunTo(1310).Reply(B6, 35).RunTo(1360).Miss(A4).RunTo(1361).Miss(A4);
        // Before: "1361 B6 ActiveDown" and, in the same turn, "1361 B4 Preferred", then B4 down and back to B6.
        Assert.Equal("0 A4 Initial\n1361 B6 ActiveDown", sim.Timeline());
        // The peer reports our new source: the switch to B6 converged.
        sim.RunTo(1362).Post(new ProbeReplied(Peer, sim.Now, B6, 500, 35, new Endpoint(B6.Src, 40000), new Endpoint(B6.Src, 51820)));
        sim.RunTo(1370).Miss(B4).RunTo(1380).Miss(B4).RunTo(1390).Miss(B4);
        for (var t = 1500; t <= 2750; t += 250)
            sim.RunTo(t).Reply(B6, 35);
        Assert.Equal("0 A4 Initial\n1361 B6 ActiveDown", sim.Timeline());
        // B4 answers again: preferred once it has held up, as any path coming back.
        for (var t = 3000; t <= 4000; t += 250)
            sim.RunTo(t).Reply(B4, 30).Reply(B6, 35);
        Assert.Equal("0 A4 Initial\n1361 B6 ActiveDown\n3400 B4 Preferred", sim.Timeline());
    }

    [Fact]
    public void A_path_down_by_its_link_is_left_without_a_witness()
    {
        var sim = new Simulation { Probing = false }.Candidates(A4, B4).Preferred(Dst4, A4).Reply(A4, 20).Reply(B4, 30)
            .RunTo(100).Reply(A4, 20).RunTo(300).Miss(A4).RunTo(310).Miss(A4).RunTo(320).Miss(A4);
        Assert.Equal("0 A4 Initial", sim.Timeline());
        sim.RunTo(330).Post(new PathLinkDown(Peer, At(330), A4, "upa"));
        Assert.Equal("0 A4 Initial\n330 B4 ActiveDown", sim.Timeline());
    }

    [Fact]
    public void A_probe_missed_after_a_newer_one_was_answered_does_not_count()
    {
        var sim = new Simulation { Probing = false }.Candidates(A4, B4).Preferred(Dst4, A4)
            .Post(new ProbeReplied(Peer, At(0), A4, 10, 20, null, null)).Post(new ProbeReplied(Peer, At(0), B4, 11, 30, null, null));
        // Probes 7, 8 and 9 were sent before 10 and lost: their deadlines pass after 10 was answered.
        foreach (var seq in new ulong[] { 7, 8, 9 })
            sim.Post(new ProbeMissed(Peer, At(50), A4, seq));
        Assert.Equal(0, sim.Path(A4).Quality.ConsecutiveMisses);
        Assert.Empty(sim.Stored.OfType<PathWentDown>());
        sim.Post(new ProbeMissed(Peer, At(60), A4, 12));
        Assert.Equal(1, sim.Path(A4).Quality.ConsecutiveMisses);
    }

    [Fact]
    public void Two_misses_do_not_fail_over()
    {
        var sim = TwoUplinks().RunTo(5000).Silent(A4).RunTo(5500).Up(A4).RunTo(20_000);
        Assert.Equal("0 A4 Initial", sim.Timeline());
        Assert.Empty(sim.Stored.OfType<PathWentDown>());
    }

    [Fact]
    public void Failback_to_the_primary_happens_400ms_after_its_first_successful_probe_at_250ms_probing()
    {
        var sim = new Simulation(standbyProbe: TimeSpan.FromMilliseconds(250))
            .Candidates(A4, B4).Up(A4, 20).Up(B4, 30).Preferred(Dst4, A4)
            .RunTo(5000).Silent(A4).RunTo(8100).Up(A4).RunTo(30_000);
        Assert.Equal("0 A4 Initial\n5750 B4 ActiveDown\n8650 A4 Preferred", sim.Timeline());
        var cameUp = Assert.Single(sim.Stored.OfType<PathCameUp>());
        var failback = sim.Switches.Last();
        Assert.InRange(failback.At - cameUp.At, TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(999));
    }

    [Fact]
    public void Failback_at_standby_probing_waits_for_the_second_success()
    {
        var sim = TwoUplinks().RunTo(5000).Silent(A4).RunTo(8100).Up(A4).RunTo(30_000);
        // A4 is probed at the standby rate once B4 is active: replies at 9000 and 10000.
        Assert.Equal("0 A4 Initial\n5750 B4 ActiveDown\n10000 A4 Preferred", sim.Timeline());
    }

    [Fact]
    public void IPv4_dies_while_IPv6_works_moves_the_tunnel_to_IPv6_and_back()
    {
        var sim = new Simulation().Candidates(A4, A6).Up(A4, 20).Up(A6, 25).Preferred(Dst4, A4).Preferred(Dst6, A6)
            .RunTo(5000).Silent(A4).RunTo(20_100).Up(A4).RunTo(40_000);
        Assert.Equal("0 A4 Initial\n5750 A6 ActiveDown\n22000 A4 Preferred", sim.Timeline());
        Assert.Equal(System.Net.Sockets.AddressFamily.InterNetworkV6, sim.Switches.ElementAt(1).To.Family);
    }

    [Fact]
    public void Flapping_path_is_not_taken_back_until_it_held_up_400ms_with_two_successes()
    {
        var sim = new Simulation(standbyProbe: TimeSpan.FromMilliseconds(250))
            .Candidates(A4, B4).Up(A4, 20).Up(B4, 30).Preferred(Dst4, A4)
            .RunTo(1000).Silent(A4).RunTo(2000);
        // Every other probe lost: never two successes in a row.
        for (var t = 2000; t < 7000; t += 500)
            sim.RunTo(t).Up(A4).RunTo(t + 250).Silent(A4);
        // One success, then three losses: up and down again.
        for (var t = 8000; t < 13_000; t += 1000)
            sim.RunTo(t).Up(A4).RunTo(t + 250).Silent(A4);
        sim.RunTo(13_000);
        Assert.Equal("0 A4 Initial\n1750 B4 ActiveDown", sim.Timeline());
        Assert.Equal(6, sim.Stored.OfType<PathCameUp>().Count());
        // Steady again: answers at 13250 and 13500, held up 400 ms from the first.
        sim.Up(A4).RunTo(20_000);
        Assert.Equal("0 A4 Initial\n1750 B4 ActiveDown\n13650 A4 Preferred", sim.Timeline());
    }

    [Theory]
    [InlineData(20, 19)] // 5 %, 1 ms
    [InlineData(20, 18.5)] // 7.5 %, 1.5 ms
    [InlineData(10, 8.5)] // 15 % but only 1.5 ms
    public void Hysteresis_holds_when_the_RTT_improvement_is_under_10_percent_or_under_2ms(double active, double other)
    {
        var sim = new Simulation().Candidates(A4, B4).Up(A4, active).Silent(B4).RunTo(2000).Up(B4, other).RunTo(60_000);
        Assert.Equal("0 A4 Initial", sim.Timeline());
        Assert.True(sim.Path(B4).Quality.SrttMs < sim.Path(A4).Quality.SrttMs);
    }

    [Fact]
    public void RTT_improvement_sustained_5s_switches_but_not_within_10s_of_the_last_switch()
    {
        var sim = new Simulation().Candidates(A4, B4).Up(A4, 30).Silent(B4).RunTo(2000).Up(B4, 20).RunTo(12_000);
        // B4 answers from 3000 on, clearly better: sustained by 8000, but the last switch was at 0.
        Assert.Equal("0 A4 Initial\n10000 B4 Rtt", sim.Timeline());
    }

    [Fact]
    public void RTT_improvement_sustained_5s_switches_at_once_when_no_switch_is_recent()
    {
        var sim = new Simulation().Candidates(A4, B4).Up(A4, 30).Silent(B4).RunTo(9000).Up(B4, 20).RunTo(20_000);
        Assert.Equal("0 A4 Initial\n15000 B4 Rtt", sim.Timeline());
    }

    [Fact]
    public void RTT_switches_are_at_most_one_per_MinSwitchInterval()
    {
        var options = PolicyOptions.Default with { RttSustain = TimeSpan.FromSeconds(1) };
        var sim = new Simulation(options).Candidates(A4, B4).Up(A4, 30).Silent(B4).RunTo(2000).Up(B4, 20).RunTo(11_000);
        Assert.Equal("0 A4 Initial\n10000 B4 Rtt", sim.Timeline());
        sim.Up(A4, 2).RunTo(40_000);
        Assert.Equal("0 A4 Initial\n10000 B4 Rtt\n20000 A4 Rtt", sim.Timeline());
    }

    [Fact]
    public void Active_address_removed_switches_with_ActiveRemoved()
    {
        var sim = TwoUplinks().RunTo(5000).Candidates(B4).RunTo(10_000);
        Assert.Equal("0 A4 Initial\n5000 B4 ActiveRemoved", sim.Timeline());
    }

    [Fact]
    public void Removed_standby_path_is_no_longer_a_candidate()
    {
        var sim = TwoUplinks().RunTo(5000).Candidates(A4).RunTo(5000).Silent(A4).RunTo(10_000);
        Assert.Null(sim.State.Find(B4));
        Assert.Equal("0 A4 Initial\n5750 unreachable", sim.Timeline());
    }

    [Fact]
    public void DNS_answer_change_moves_to_the_new_address_once_it_answers()
    {
        var newDst = Endpoint.Parse("198.51.100.8:51820");
        var a = new CandidatePath(A4.Src, newDst);
        var b = new CandidatePath(B4.Src, newDst);
        var sim = TwoUplinks().RunTo(5000).Candidates(a, b).Up(a, 20).Up(b, 30).Preferred(newDst, a).RunTo(10_000);
        Assert.Equal("0 A4 Initial\n5000 " + a + " ActiveRemoved", sim.Timeline());
    }

    [Fact]
    public void DNS_answer_change_does_not_report_the_peer_unreachable_before_the_new_paths_are_probed()
    {
        var newDst = Endpoint.Parse("198.51.100.8:51820");
        var a = new CandidatePath(A4.Src, newDst);
        var sim = TwoUplinks().RunTo(5000).Candidates(a);
        Assert.Empty(sim.Decisions.OfType<PeerUnreachable>());
        sim.Up(a).RunTo(6000);
        Assert.Empty(sim.Decisions.OfType<PeerUnreachable>());
        Assert.Equal(a, sim.State.Active);
    }

    [Fact]
    public void All_paths_down_reports_unreachable_once_then_switches_when_one_returns()
    {
        var sim = TwoUplinks().RunTo(5000).Silent(A4).Silent(B4).RunTo(10_100).Up(B4).RunTo(30_000);
        // A4 misses at 5250, 5500, 5750; B4, probed at once at A4's first miss, misses at 5250, 6250, 7250. B4 answered
        // last at 5000, before A4's first miss: no witness, so the tunnel stays on A4 until B4 is down too.
        // B4 answers again at 10250, after A4's miss at 10000: A4 is probed at once, misses, and B4 is the witness.
        Assert.Equal("0 A4 Initial\n7250 unreachable\n10250 B4 ActiveDown", sim.Timeline());
        var unreachable = Assert.Single(sim.Decisions.OfType<PeerUnreachable>());
        Assert.Equal(A4, unreachable.Active);
        Assert.All(unreachable.Inputs, i => Assert.False(i.Usable));
        // The endpoint is kept while unreachable: the active path stays A4 until B4 answers.
        Assert.Equal(A4, sim.Decisions.OfType<EndpointSwitchDecided>().Last().From);
    }

    [Fact]
    public void Regression_unreachable_was_reported_only_for_the_first_outage_when_the_active_path_itself_returned()
    {
        var sim = new Simulation().Candidates(A4).Up(A4).RunTo(5000).Silent(A4).RunTo(8000).Up(A4).RunTo(12_000).Silent(A4).RunTo(20_000);
        Assert.Equal("0 A4 Initial\n5750 unreachable\n12750 unreachable", sim.Timeline());
    }

    [Fact]
    public void Regression_NextDeadline_made_the_loop_spin_after_PeerUnreachable()
    {
        var sim = new Simulation { Probing = false }.Candidates(A4).Reply(A4, 20);
        sim.RunTo(60_000); // throws when NextDeadline stays at or before the last Decide
        Assert.Equal("0 A4 Initial\n750.0001 unreachable", sim.Timeline());
        Assert.Null(sim.Policy.NextDeadline(sim.State));
    }

    [Fact]
    public void Regression_NextDeadline_made_the_loop_spin_while_a_preferred_path_had_only_one_success()
    {
        var sim = TwoUplinks(preferA: false).RunTo(5000).Silent(B4).RunTo(8000).Preferred(Dst4, B4).Up(B4).RunTo(20_000);
        // B4 misses at 6000, 7000, 8000; answers at 9000 and 10000.
        Assert.Equal("0 A4 Initial\n10000 B4 Preferred", sim.Timeline());
    }

    [Fact]
    public void Regression_NextDeadline_made_the_loop_spin_on_the_hold_down_of_a_preferred_path_gone_stale_without_misses()
    {
        var sim = TwoUplinks(preferA: false).RunTo(2000).Stall(B4).RunTo(8000).Preferred(Dst4, B4).RunTo(20_000);
        Assert.Equal("0 A4 Initial", sim.Timeline());
        sim.Up(B4).RunTo(30_000);
        // B4 answers again at 21000 (standby rate), usable from then on; no probe was lost in between, so its
        // run of successes goes on and the hold-down alone delays the switch.
        Assert.Equal("0 A4 Initial\n21400 B4 Preferred", sim.Timeline());
    }

    [Fact]
    public void Preferred_source_change_moves_the_tunnel_once_the_preference_has_held_for_the_hold_down()
    {
        // Regression from the lab: routing changes arrive as bursts (one message per route and family), and
        // following each at once made the tunnel hop A -> B -> B6 -> A within 10 ms.
        var sim = TwoUplinks(preferA: false).RunTo(5000).Preferred(Dst4, B4).RunTo(20_000);
        Assert.Equal("0 A4 Initial\n5400 B4 Preferred", sim.Timeline());
    }

    [Fact]
    public void Preferred_source_change_moves_the_tunnel_after_hold_down_when_the_path_just_came_up()
    {
        var sim = new Simulation(standbyProbe: TimeSpan.FromMilliseconds(250))
            .Candidates(A4, B4).Up(A4).Silent(B4).RunTo(5000).Preferred(Dst4, B4).RunTo(5100).Up(B4).RunTo(20_000);
        Assert.Equal("0 A4 Initial\n5650 B4 Preferred", sim.Timeline());
    }

    [Fact]
    public void Endpoint_order_is_preferred_over_a_lower_RTT()
    {
        var sim = new Simulation().Candidates(A4, A6).Up(A4, 40).Up(A6, 10).RunTo(60_000);
        // A6 answers first; A4 is the first configured endpoint: the first choice waits for A4's first probe and takes
        // it (a clean start: no A6, then A4 a second later).
        Assert.Equal("0 A4 Initial", sim.Timeline());
    }

    [Fact]
    public void The_first_choice_waits_for_the_kernels_preferred_path_when_a_backup_answers_first()
    {
        // The backup answers before the preferred path is probed at all (4,000 first probes are paced over 200 ms at
        // 1,000 peers): unprobed, the preferred path is not usable, so the backup stood in as preferred and was taken.
        var sim = new Simulation { Probing = false }.Candidates(A4, B4).Preferred(Dst4, A4).Reply(B4, 30);
        Assert.Empty(sim.Decisions);
        sim.RunTo(4).Reply(A4, 20);
        Assert.Equal("4 A4 Initial", sim.Timeline());
    }

    [Fact]
    public void The_first_choice_takes_the_backup_once_the_preferred_path_has_missed_a_probe()
    {
        var sim = new Simulation { Probing = false }.Candidates(A4, B4).Preferred(Dst4, A4).Reply(B4, 30).RunTo(60).Miss(A4);
        Assert.Equal("60 B4 Initial", sim.Timeline());
    }

    [Fact]
    public void Kernel_preferred_source_is_preferred_over_endpoint_order()
    {
        var sim = new Simulation().Candidates(A4, A6).Up(A4, 10).Up(A6, 40).Preferred(Dst6, A6).RunTo(60_000);
        Assert.Equal("0 A6 Initial", sim.Timeline());
    }

    [Fact]
    public void Never_switches_to_a_path_that_has_not_answered()
    {
        var sim = TwoUplinks(preferA: false).Silent(B4).RunTo(5000).Preferred(Dst4, B4).RunTo(6000).Silent(A4).RunTo(20_000);
        Assert.Equal("0 A4 Initial\n6750 unreachable", sim.Timeline());
    }

    [Fact]
    public void Stale_path_without_a_probe_for_three_intervals_is_not_usable()
    {
        var sim = new Simulation { Probing = false }.Candidates(A4, B4).Reply(A4, 20).Reply(B4, 30);
        var b = sim.Path(B4);
        Assert.True(sim.Policy.IsUsable(sim.State, b, At(3000)));
        Assert.False(sim.Policy.IsUsable(sim.State, b, At(3000.001)));
        sim.RunTo(1400);
        // Active A4 is stale after 3 x 250 ms; B4 (fresh for 3 x 1000 ms) takes over.
        Assert.Equal("0 A4 Initial\n750.0001 B4 ActiveDown", sim.Timeline());
    }

    [Fact]
    public void Regression_two_stale_paths_took_turns_being_active_when_probing_stopped()
    {
        var sim = new Simulation { Probing = false }.Candidates(A4, B4).Reply(A4, 20).Reply(B4, 30).RunTo(10_000);
        // A4 goes stale at the active rate and is left; B4 too, 750 ms after it became active. A4 has not
        // answered since it was left, so it is not taken back (it was "fresh" again at the standby rate).
        Assert.Equal("0 A4 Initial\n750.0001 B4 ActiveDown\n1500.0002 unreachable", sim.Timeline());
        sim.Reply(A4, 20);
        Assert.Equal("0 A4 Initial\n750.0001 B4 ActiveDown\n1500.0002 unreachable\n10000 A4 ActiveDown", sim.Timeline());
    }

    [Fact]
    public void Newly_active_path_probed_at_the_standby_rate_gets_three_active_intervals_of_grace()
    {
        var sim = new Simulation { Probing = false }.Candidates(A4, B4).Reply(A4, 20).Reply(B4, 30)
            .RunTo(600).Reply(A4, 20).RunTo(900)
            .Post(new PathWentDown(Peer, At(900), A4, PathDownReason.LinkDown));
        // B4 last answered at 0: stale at the active rate, but it just became active at 900.
        Assert.Equal("0 A4 Initial\n900 B4 ActiveDown", sim.Timeline());
        Assert.True(sim.Policy.IsUsable(sim.State, sim.Path(B4), At(1650)));
        Assert.False(sim.Policy.IsUsable(sim.State, sim.Path(B4), At(1651)));
        sim.RunTo(1600);
        Assert.Equal(2, sim.Decisions.Count);
    }

    [Fact]
    public void SwitchFailed_marks_the_path_down_and_the_policy_moves_on()
    {
        var sim = TwoUplinks().RunTo(5000).Post(new SwitchFailed(Peer, At(5000), A4, "netlink: EPERM"));
        Assert.Equal("0 A4 Initial\n5000 B4 ActiveDown", sim.Timeline());
        Assert.True(sim.Path(A4).Down);
    }

    [Fact]
    public void Regression_SwitchFailed_path_came_back_up_without_a_new_probe()
    {
        var sim = TwoUplinks().RunTo(5000).Post(new SwitchFailed(Peer, At(5000), A4, "netlink: EPERM"));
        Assert.DoesNotContain(sim.Stored.OfType<PathCameUp>(), e => e.At == At(5000));
        // The next reply over A4 brings it back, and the hold-down brings the tunnel back to it.
        sim.RunTo(10_000);
        Assert.Equal("0 A4 Initial\n5000 B4 ActiveDown\n5650 A4 Preferred", sim.Timeline());
    }

    [Fact]
    public void Report_stores_no_event_per_probe_over_1000_steady_probes()
    {
        var sim = new Simulation().Candidates(A4).Up(A4, 20).RunTo(250_000);
        Assert.True(sim.Probes >= 1000, $"{sim.Probes} probes");
        // The first answer and the second (eligible for failback), then nothing.
        Assert.Equal(2, sim.Stored.OfType<PathMeasured>().Count());
        // CandidatesResolved, two PathMeasured, the initial decision, its convergence (the move's answer after 20 ms).
        Assert.Equal(["CandidatesResolved", "PathMeasured", "EndpointSwitchDecided", "PathMeasured", "SwitchConverged"],
            sim.Stored.Select(e => e.GetType().Name));
        Assert.Equal(20, Assert.Single(sim.Stored.OfType<SwitchConverged>()).ElapsedMs, 6);
    }

    [Fact]
    public void Report_stores_PathMeasured_when_RTT_or_loss_moves_significantly()
    {
        // Past ReportRttInterval since the first reports (the first answer, then eligible for failback).
        var sim = new Simulation().Candidates(A4).Up(A4, 20).RunTo(70_000);
        var before = sim.Stored.OfType<PathMeasured>().Count();
        sim.Up(A4, 40).RunTo(200_000);
        var rtt = sim.Stored.OfType<PathMeasured>().Skip(before).ToList();
        // A move of the RTT alone: the first at once, the rest at most one in ReportRttInterval.
        Assert.InRange(rtt.Count, 1, 4);
        Assert.All(rtt, m => Assert.True(m.Quality.SrttMs > 20));
        Assert.True(rtt[^1].Quality.SrttMs > 36);
        Assert.All(rtt.Zip(rtt.Skip(1)), p => Assert.True(p.Second.At - p.First.At >= PolicyOptions.ReportRttInterval, $"{p.First.At:O} {p.Second.At:O}"));
        // Every 5th probe lost: 20 % loss over the window.
        var measured = sim.Stored.OfType<PathMeasured>().Count();
        for (var i = 0; i < 20; i++)
            sim.RunFor(1000).Silent(A4).RunFor(250).Up(A4, 40);
        Assert.Contains(sim.Stored.OfType<PathMeasured>().Skip(measured), m => m.Quality.Loss >= 0.1);
        Assert.Empty(sim.Stored.OfType<PathWentDown>());
    }

    [Fact]
    public void Decisions_carry_their_reason_and_every_path_as_input()
    {
        var sim = TwoUplinks().RunTo(5000).Silent(A4).RunTo(6000);
        var failover = sim.Switches.Last();
        Assert.Equal((A4, B4, SwitchReason.ActiveDown), (failover.From, failover.To, failover.Reason));
        Assert.Equal(2, failover.Inputs.Count);
        var a = failover.Inputs.Single(i => i.Path == A4);
        Assert.False(a.Usable);
        Assert.True(a.PreferredSource);
        Assert.Equal(3, a.ConsecutiveMisses);
        var b = failover.Inputs.Single(i => i.Path == B4);
        Assert.True(b.Usable);
        Assert.Equal(30, b.SrttMs);
        Assert.Equal(IPAddress.Parse("203.0.113.10"), b.Path.Src);
    }
}
