using System.Net;
using System.Net.Sockets;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Daemon;

namespace WgRouted.Service.Tests.Daemon;

public sealed class HostSourceTests
{
    private static Route Pin(byte protocol) =>
        new(AddressFamily.InterNetwork, 20823, IPAddress.Parse("198.18.3.2"), 32, null, 0, 0, IPAddress.Parse("198.18.1.2"),
            IPAddress.Parse("198.18.1.1"), 3, 0, protocol, Route.ScopeUniverse, RouteType.Unicast, RouteFlags.None);

    private static HostChanges Routes(params Route[] routes) =>
        new([], [], routes.Select(r => new Change<Route>(ChangeKind.Added, null, r)).ToList(), [], Resync: false);

    [Fact]
    public void Only_changes_to_our_own_pins_are_ours_to_ignore()
    {
        // Regression: every pin a switch set came back as a host change, probed every path of every peer again and
        // re-derived every candidate; with a hundred peers that fed itself (load, misses, switches, pins).
        Assert.True(HostSource.OnlyOurs(Routes(Pin(Integrations.Netlink.SourcePins.Protocol))));
        Assert.False(HostSource.OnlyOurs(Routes(Pin(Integrations.Netlink.SourcePins.Protocol), Pin(Route.ProtocolStatic))));
        Assert.False(HostSource.OnlyOurs(Routes(Pin(Route.ProtocolStatic))));
        Assert.False(HostSource.OnlyOurs(new HostChanges([], [], [], [], Resync: false)));
        Assert.False(HostSource.OnlyOurs(Routes(Pin(Integrations.Netlink.SourcePins.Protocol)) with { Resync = true }));
    }
}
