using WgRouted.Engine.Events;
using static WgRouted.Engine.Tests.Simulation;

namespace WgRouted.Engine.Tests;

/// <summary>What the engine decides for a tunnel managed for babeld.</summary>
public class BabelDecisionTests
{
    private const string Command = "interface wg0 type tunnel enable-timestamps true";

    private static Simulation Managed(string? babel = Command)
    {
        var sim = new Simulation();
        sim.Post(new PeerConfigured(Peer, sim.Now, "wg0", [Dst4.ToString()], 51821, babel));
        return sim.Candidates(A4, B4).Up(A4, 20).Up(B4, 30).Preferred(Dst4, A4);
    }

    private static string Babel(Simulation sim) => string.Join("\n", sim.Outputs
        .Where(o => o is TunnelWithdrawn or TunnelRestored or BabelInterfaceAdded or PathMismatch or PeerUnreachable)
        .Select(o => $"{(o.At - T0).TotalMilliseconds} {o.GetType().Name}"));

    [Fact]
    public void No_path_takes_the_tunnel_out_of_babelds_view_and_the_first_answer_brings_it_back()
    {
        var sim = Managed().RunTo(5000).Silent(A4).Silent(B4).RunTo(15_000).Up(B4, 30).RunTo(20_000);
        var lines = Babel(sim).Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.EndsWith("PeerUnreachable", lines[0], StringComparison.Ordinal);
        Assert.Equal(lines[0].Split(' ')[0] + " TunnelWithdrawn", lines[1]);
        Assert.EndsWith("TunnelRestored", lines[2], StringComparison.Ordinal);
        // Back up at the first answer after B returns (a standby probe, within a second).
        Assert.InRange(double.Parse(lines[2].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture), 15_000, 16_000);
        Assert.False(sim.State.TunnelDown);
    }

    [Fact]
    public void A_tunnel_not_managed_for_babeld_is_never_touched()
    {
        var sim = Managed(babel: null).RunTo(5000).Silent(A4).Silent(B4).RunTo(15_000).Up(B4, 30).RunTo(20_000);
        Assert.Equal(["PeerUnreachable"], Babel(sim).Split('\n').Select(l => l.Split(' ')[1]));
    }

    [Fact]
    public void A_missing_interface_is_added_once_per_dump_and_a_refusal_waits_for_the_next_dump()
    {
        var sim = Managed().RunTo(1000);
        sim.Post(new BabelInterfaceObserved(Peer, sim.Now, "wg0", Present: false));
        var added = Assert.Single(sim.Outputs.OfType<BabelInterfaceAdded>());
        Assert.Equal(Command, added.Command);
        sim.RunTo(2000);
        sim.Post(new BabelCommandRefused(Peer, sim.Now, Command, "bad"));
        sim.RunTo(3000);
        Assert.Single(sim.Outputs.OfType<BabelInterfaceAdded>());
        // babeld restarted: its dump lacks the interface again.
        sim.Post(new BabelInterfaceObserved(Peer, sim.Now, "wg0", Present: false));
        Assert.Equal(2, sim.Outputs.OfType<BabelInterfaceAdded>().Count());
        sim.Post(new BabelInterfaceObserved(Peer, sim.Now, "wg0", Present: true));
        Assert.Equal(2, sim.Outputs.OfType<BabelInterfaceAdded>().Count());
    }

    [Fact]
    public void Babeld_agreeing_with_the_probes_is_quiet_and_a_lasting_disagreement_is_one_PathMismatch()
    {
        var sim = Managed().RunTo(2000);
        sim.Post(new BabelNeighbourObserved(Peer, sim.Now, "wg0", "fe80::1", true, 0xffff, 96, 22.5, 10));
        sim.RunTo(30_000);
        Assert.Empty(sim.Outputs.OfType<PathMismatch>());
        // babeld sees 45 ms where the active path answers in 20: not where WgRouted thinks, once it has had time to follow.
        sim.Post(new BabelNeighbourObserved(Peer, sim.Now, "wg0", "fe80::1", true, 0xffff, 96, 45, 60));
        sim.RunTo(39_000);
        Assert.Empty(sim.Outputs.OfType<PathMismatch>());
        sim.RunTo(60_000);
        var mismatch = Assert.Single(sim.Outputs.OfType<PathMismatch>());
        Assert.Equal(At(30_000 + sim.Policy.Options.BabelConvergence.TotalMilliseconds), mismatch.At);
        Assert.Equal(A4, mismatch.Active);
        Assert.Equal(45, mismatch.BabelRttMs);
        Assert.InRange(mismatch.ProbeSrttMs, 19, 21);
    }
}
