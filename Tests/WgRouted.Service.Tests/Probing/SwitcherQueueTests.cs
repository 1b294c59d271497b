using System.Diagnostics;
using System.Net;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Service.Daemon;
using WgRouted.Service.Probing;

namespace WgRouted.Service.Tests.Probing;

/// <summary>What the switcher carries of a backlog: one command a peer, the newest.</summary>
public sealed class SwitcherQueueTests
{
    private static readonly PeerKey P1 = PeerKey.FromBytes(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private static readonly PeerKey P2 = PeerKey.FromBytes(Enumerable.Range(2, 32).Select(i => (byte)i).ToArray());
    private static readonly CandidatePath A = new(IPAddress.Parse("198.18.1.2"), Endpoint.Parse("198.18.3.2:51820"));
    private static readonly CandidatePath B = new(IPAddress.Parse("198.18.2.2"), Endpoint.Parse("198.18.3.2:51820"));
    private static readonly DateTimeOffset T = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static SwitchCommand Decided(PeerKey p, CandidatePath to) => new(new EndpointSwitchDecided(p, T, null, to, SwitchReason.Preferred, []), default(ActivityContext));
    private static SwitchCommand Reasserted(PeerKey p, CandidatePath path, int n) => new(new SwitchReasserted(p, T, path, n, null), default(ActivityContext));

    private static List<PeerEvent> Carried(params SwitchCommand[] queued)
    {
        var mailbox = new Mailbox<SwitchCommand>();
        foreach (var c in queued)
            mailbox.Post(c);
        return Switcher.Latest(mailbox.Reader).ConvertAll(c => c.Decision);
    }

    [Fact]
    public void A_backlog_of_reassertions_is_one_command_a_peer()
    {
        var carried = Carried(Reasserted(P1, A, 1), Reasserted(P2, B, 1), Reasserted(P1, A, 2), Reasserted(P1, A, 3), Reasserted(P2, B, 2));
        Assert.Equal([(P1, 3), (P2, 2)], carried.Cast<SwitchReasserted>().Select(r => (r.Peer, r.Attempt)));
    }

    [Fact]
    public void A_later_decision_supersedes_and_a_decisions_own_reassertions_keep_the_decision()
    {
        Assert.Equal(B, Assert.IsType<EndpointSwitchDecided>(Assert.Single(Carried(Decided(P1, A), Reasserted(P1, A, 1), Decided(P1, B)))).To);
        Assert.Equal(A, Assert.IsType<EndpointSwitchDecided>(Assert.Single(Carried(Decided(P1, A), Reasserted(P1, A, 1), Reasserted(P1, A, 2)))).To);
    }
}
