using Microsoft.Extensions.Logging.Abstractions;
using WgRouted.Service.Daemon;
using WgRouted.Service.Tests.Probing;

namespace WgRouted.Service.Tests.Daemon;

/// <summary>The poller against a WireGuard device's UAPI socket (a fake one): a recreated device is adopted again.</summary>
public sealed class WireGuardPollerTests : IDisposable
{
    private readonly ProbingFixture _f = new();

    [Fact]
    public void A_device_without_our_fwmark_is_marked_again_once()
    {
        var poller = new WireGuardPoller(_f.Config, _f.Control, _f.Keyring, _f.Inbox, _f.Time, NullLogger<WireGuardPoller>.Instance);
        var itf = _f.Config.Interfaces[0];
        Assert.Equal(0u, _f.Uapi.FirewallMark);
        poller.Poll(itf);
        Assert.Equal(itf.Fwmark, _f.Uapi.FirewallMark);
        var sets = _f.Uapi.Sets.Count;
        poller.Poll(itf);
        Assert.Equal(sets, _f.Uapi.Sets.Count);
    }

    [Fact]
    public void A_stalled_receive_is_posted_once_per_stall()
    {
        var poller = new WireGuardPoller(_f.Config, _f.Control, _f.Keyring, _f.Inbox, _f.Time, NullLogger<WireGuardPoller>.Instance);
        var itf = _f.Config.Interfaces[0];
        int Stalls()
        {
            var n = 0;
            while (_f.Inbox.Reader.TryRead(out var item))
                n += item is Engine.Events.ReceiveStalled s && s.Peer == _f.Peer ? 1 : 0;
            return n;
        }
        _f.Uapi.SetCounters(_f.Peer.ToBytes(), 1000, 2000);
        poller.Poll(itf);
        _f.Uapi.SetCounters(_f.Peer.ToBytes(), 1000, 2148);
        poller.Poll(itf);
        Assert.Equal(1, Stalls());
        _f.Uapi.SetCounters(_f.Peer.ToBytes(), 1000, 2296);
        poller.Poll(itf);
        Assert.Equal(0, Stalls());
        // An answer ends the stall; the next one is posted again.
        _f.Uapi.SetCounters(_f.Peer.ToBytes(), 1092, 2444);
        poller.Poll(itf);
        _f.Uapi.SetCounters(_f.Peer.ToBytes(), 1092, 2592);
        poller.Poll(itf);
        Assert.Equal(1, Stalls());
    }

    public void Dispose() => _f.Dispose();
}
