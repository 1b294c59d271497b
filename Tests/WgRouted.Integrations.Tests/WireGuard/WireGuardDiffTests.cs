using System.Net;
using WgRouted.Integrations.Netlink;

namespace WgRouted.Integrations.Tests.WireGuard;

public class WireGuardDiffTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    private static WireGuardPeer Peer(string key, string? endpoint = "198.18.0.2:51820", DateTimeOffset? handshake = null) =>
        new(key, false, endpoint is null ? null : IPEndPoint.Parse(endpoint), [], handshake, 0, 0, 0);

    private static WireGuardDevice Device(params WireGuardPeer[] peers) => new("wg0", "pub", null, 51820, 0, peers);

    [Fact]
    public void Sending_and_receiving_nothing_is_a_stalled_receive()
    {
        static WireGuardPeer Counted(ulong rx, ulong tx) => Peer("A") with { RxBytes = rx, TxBytes = tx };
        Assert.Equal([new ReceiveStalled("wg0", "A", 148)], WireGuardDiff.Compare(Device(Counted(1000, 2000)), Device(Counted(1000, 2148))));
        // Received something, sent nothing, or the device restarted (counters back to zero): not stalled.
        Assert.Empty(WireGuardDiff.Compare(Device(Counted(1000, 2000)), Device(Counted(1092, 2148))));
        Assert.Empty(WireGuardDiff.Compare(Device(Counted(1000, 2000)), Device(Counted(1000, 2000))));
        Assert.Empty(WireGuardDiff.Compare(Device(Counted(1000, 2000)), Device(Counted(0, 0))));
    }

    [Fact]
    public void Nothing_changed_gives_nothing() =>
        Assert.Empty(WireGuardDiff.Compare(Device(Peer("A", handshake: T0)), Device(Peer("A", handshake: T0))));

    [Fact]
    public void A_newer_handshake_is_observed()
    {
        var changes = WireGuardDiff.Compare(Device(Peer("A", handshake: T0)), Device(Peer("A", handshake: T0.AddSeconds(120))));
        Assert.Equal([new HandshakeObserved("wg0", "A", T0.AddSeconds(120))], changes);
    }

    [Fact]
    public void A_first_handshake_is_observed() =>
        Assert.Equal([new HandshakeObserved("wg0", "A", T0)], WireGuardDiff.Compare(Device(Peer("A")), Device(Peer("A", handshake: T0))));

    [Fact]
    public void A_roaming_remote_is_an_endpoint_change()
    {
        var changes = WireGuardDiff.Compare(Device(Peer("A")), Device(Peer("A", "198.18.1.2:51820")));
        Assert.Equal([new EndpointChanged("wg0", "A", IPEndPoint.Parse("198.18.0.2:51820"), IPEndPoint.Parse("198.18.1.2:51820"))], changes);
    }

    [Fact]
    public void Peers_added_and_removed()
    {
        var changes = WireGuardDiff.Compare(Device(Peer("A"), Peer("B")), Device(Peer("B"), Peer("C", handshake: T0)));
        Assert.Equal([new PeerAdded("wg0", "C"), new HandshakeObserved("wg0", "C", T0), new PeerRemoved("wg0", "A")], changes);
    }

    [Fact]
    public void The_first_poll_reports_every_peer_as_added() =>
        Assert.Equal([new PeerAdded("wg0", "A")], WireGuardDiff.Compare(null, Device(Peer("A"))));
}
