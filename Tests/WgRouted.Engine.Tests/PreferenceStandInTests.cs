using System.Net;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;

namespace WgRouted.Engine.Tests;

/// <summary>Regressions from the namespace lab: a dead primary made the tunnel hop to IPv6 and back.</summary>
public sealed class PreferenceStandInTests
{
    private static readonly PeerKey Peer = PeerKey.FromBytes(Enumerable.Repeat((byte)7, 32).ToArray());
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);
    private static readonly CandidatePath A4 = new(IPAddress.Parse("198.18.1.2"), Endpoint.Parse("198.18.3.2:51820"));
    private static readonly CandidatePath B4 = new(IPAddress.Parse("198.18.2.2"), Endpoint.Parse("198.18.3.2:51820"));
    private static readonly CandidatePath B6 = new(IPAddress.Parse("fd00:2::2"), Endpoint.Parse("[fd00:3::2]:51820"));

    private readonly EndpointPolicy _policy = new(PolicyOptions.Default);
    private readonly List<PeerEvent> _decisions = [];
    private PeerState? _state;

    private ulong _sequence;

    private void Feed(PeerEvent e)
    {
        var emitted = new List<PeerEvent>();
        _state = _policy.Turn(_state, e, emitted);
        _decisions.AddRange(emitted.Where(x => x is EndpointSwitchDecided));
    }

    private void Probe(double ms, params CandidatePath[] alive)
    {
        foreach (var p in new[] { A4, B4, B6 })
            Feed(alive.Contains(p) ? new ProbeReplied(Peer, T0.AddMilliseconds(ms), p, ++_sequence, 1, null, new Endpoint(_state?.Active?.Src ?? p.Src, 51820)) : new ProbeMissed(Peer, T0.AddMilliseconds(ms), p, ++_sequence));
    }

    private void Start()
    {
        Feed(Simulation.Resolved(Peer, T0, [A4, B4, B6]));
        Feed(new PreferredSourceChanged(Peer, T0, A4.Dst.Address, A4.Src));
        Feed(new PreferredSourceChanged(Peer, T0, B6.Dst.Address, B6.Src));
        for (var t = 250; t <= 2000; t += 250)
            Probe(t, A4, B4, B6);
        Assert.Equal(A4, _state!.Active);
        _decisions.Clear();
    }

    [Fact]
    public void A_dead_primary_fails_over_to_the_same_endpoint_not_to_the_other_family()
    {
        Start();
        // The primary dies before the kernel's route changes: the kernel still names A as the source.
        for (var t = 2250; t <= 3000; t += 250)
            Probe(t, B4, B6);
        var d = Assert.IsType<EndpointSwitchDecided>(Assert.Single(_decisions));
        Assert.Equal(B4, d.To);
    }

    [Fact]
    public void The_primary_returning_moves_the_tunnel_straight_back_without_a_detour()
    {
        Start();
        for (var t = 2250; t <= 3000; t += 250)
            Probe(t, B4, B6);
        Feed(new PreferredSourceChanged(Peer, T0.AddMilliseconds(3000), A4.Dst.Address, B4.Src));
        Feed(new PathLinkDown(Peer, T0.AddMilliseconds(3000), A4, "upa"));
        for (var t = 3250; t <= 4750; t += 250)
            Probe(t, B4, B6);
        Assert.Equal(B4, _state!.Active);
        _decisions.Clear();
        // The route returns: the kernel prefers A again before A has answered a probe.
        Feed(new PreferredSourceChanged(Peer, T0.AddMilliseconds(5000), A4.Dst.Address, A4.Src));
        Assert.Empty(_decisions);
        for (var t = 5010; t <= 5800; t += 250)
            Probe(t, A4, B4, B6);
        Feed(new HandshakeObserved(Peer, T0.AddMilliseconds(5900), T0));
        var d = Assert.IsType<EndpointSwitchDecided>(Assert.Single(_decisions));
        Assert.Equal((A4, SwitchReason.Preferred), (d.To, d.Reason));
    }
}
