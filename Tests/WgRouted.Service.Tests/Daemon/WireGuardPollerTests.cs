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

    public void Dispose() => _f.Dispose();
}
