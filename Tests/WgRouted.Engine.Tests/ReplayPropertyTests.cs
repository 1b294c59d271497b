using CsCheck;
using WgRouted.Engine.Events;
using WgRouted.Engine.Replay;
using static WgRouted.Engine.Tests.Simulation;

namespace WgRouted.Engine.Tests;

/// <summary>Store, then replay: the recorded inputs alone re-derive every output the loop emitted.</summary>
public class ReplayPropertyTests
{
    private static string Text(IEnumerable<PeerEvent> events) =>
        string.Join("\n", events.Select(e => e.GetType().Name + " " + System.Text.Json.JsonSerializer.Serialize(e, e.GetType(), PolicyPropertyTests.JsonOptions)));

    [Fact]
    public void Replaying_the_inputs_of_a_random_history_re_derives_every_output()
    {
        var outputs = 0;
        PolicyPropertyTests.Steps.Sample(steps =>
        {
            var sim = PolicyPropertyTests.Play(steps, _ => { });
            var ends = PeerReplay.RunEnds(sim.Inputs, sim.Outputs, sim.Now);
            var derived = PeerReplay.Run(sim.Policy, sim.Inputs, [sim.Now]);
            Assert.Single(ends);
            Assert.Equal(Text(sim.Outputs.Where(o => o.At <= ends[0])), Text(derived.Where(o => o.At <= ends[0])));
            outputs += sim.Outputs.Count;
        }, iter: 150);
        // 150 random histories make 5,000-6,000 outputs (a policy that switches less makes fewer): far from none.
        Assert.True(outputs > 4000, $"only {outputs} outputs: the generator does not exercise the policy");
    }

    [Fact]
    public void The_loop_state_is_the_fold_of_its_whole_history()
    {
        PolicyPropertyTests.Steps.Sample(steps =>
        {
            var sim = PolicyPropertyTests.Play(steps, _ => { });
            var state = sim.State.Clone();
            var shadow = sim.Shadow.Clone();
            // The clock also moves on deadlines that decided nothing; it is not a fold of events.
            state.Clock = shadow.Clock = null;
            Assert.Equal(PolicyPropertyTests.Canonical(state), PolicyPropertyTests.Canonical(shadow));
        }, iter: 100);
    }

    [Fact]
    public void A_what_if_policy_changes_the_outputs_of_the_same_inputs()
    {
        // A switch back to the primary after its route returns, then the same inputs with a hold-down longer than the rest.
        var sim = new Simulation().Candidates(A4, B4).Up(A4, 20).Up(B4, 30).Preferred(Dst4, A4).RunTo(5000)
            .Silent(A4).Post(new PathLinkDown(Peer, At(5000), A4, "upa")).Preferred(Dst4, B4)
            .RunTo(10_000).Preferred(Dst4, A4).Up(A4, 20).RunTo(20_000);
        Assert.Equal("0 A4 Initial\n5000 B4 ActiveDown\n11250 A4 Preferred", sim.Timeline());
        string Decisions(Policy.PolicyOptions o) => string.Join("\n", PeerReplay.Run(new Policy.EndpointPolicy(PeerReplay.WhatIf(o)), sim.Inputs, [sim.Now])
            .Where(d => d is EndpointSwitchDecided or PeerUnreachable).Select(Describe));
        // Under the what-if freshness rule the recorded settings still decide what was recorded ...
        Assert.Equal(sim.Timeline(), Decisions(sim.Policy.Options));
        // ... and a hold-down longer than the rest of the history keeps the tunnel on B: only the failback differs.
        Assert.Equal("0 A4 Initial\n5000 B4 ActiveDown", Decisions(sim.Policy.Options with { HoldDown = TimeSpan.FromSeconds(30) }));
    }

    [Fact]
    public void A_run_ends_at_its_last_recorded_event_and_the_next_starts_over()
    {
        var sim = new Simulation().Candidates(A4).Up(A4, 20).RunTo(3000);
        var first = sim.Inputs.ToList();
        var restart = At(60_000);
        var second = new List<PeerEvent>
        {
            new PeerConfigured(Peer, restart, "wg0", [Dst4.ToString()], 51821),
            Resolved(Peer, restart.AddMilliseconds(1), [A4]),
            new ProbeReplied(Peer, restart.AddMilliseconds(250), A4, 1, 20, null, new Endpoint(A4.Src, 51820)),
        };
        var inputs = first.Concat(second).ToList();
        var ends = PeerReplay.RunEnds(inputs, sim.Outputs, DateTimeOffset.MaxValue);
        Assert.Equal([first[^1].At, second[^1].At], ends);
        var derived = PeerReplay.Run(sim.Policy, inputs, ends);
        // Between the runs the daemon was stopped: the stale path decides nothing; after the restart, a new Initial switch.
        Assert.Equal(2, derived.OfType<EndpointSwitchDecided>().Count(d => d.Reason == SwitchReason.Initial));
        Assert.DoesNotContain(derived, d => d.At > first[^1].At && d.At < restart);
    }
}
