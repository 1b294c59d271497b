using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Probing;
using WgRouted.Tests.Shared;

namespace WgRouted.Service.Tests.Probing;

/// <summary>
/// Fences in a real kernel: a hub namespace that runs them, a client namespace with two addresses behind it, and a
/// host beyond the hub that it routes to. Each datagram's source is read where it arrives.
/// </summary>
[Trait("Category", "Integration")]
public sealed class FencesTests : IDisposable
{
    private const int Listen = 51820;
    private static readonly IPAddress Hub = IPAddress.Parse("198.18.40.1");
    private static readonly IPAddress Old = IPAddress.Parse("198.18.40.2");
    private static readonly IPAddress New = IPAddress.Parse("198.18.40.3");
    private static readonly IPAddress Beyond = IPAddress.Parse("198.18.41.2");
    private readonly TestNamespace _hub = new();
    private readonly TestNamespace _client = new();
    private readonly TestNamespace _beyond = new();
    private readonly Fences _fences = new(NullLogger<Fences>.Instance);

    public FencesTests()
    {
        Veth.Connect(_hub, "v1", $"{Hub}/24", _client, "v2", $"{Old}/24");
        _client.Ip($"addr add {New}/24 dev v2");
        _client.Ip($"route add default via {Hub}");
        Veth.Connect(_hub, "v3", "198.18.41.1/24", _beyond, "v4", $"{Beyond}/24");
        _beyond.Ip("route add default via 198.18.41.1");
        _hub.Exec("sysctl", "-qw net.ipv4.ip_forward=1");
        NetworkNamespace.Run(_hub.Name, () => _fences.StartAsync(CancellationToken.None));
    }

    /// <summary>Sends one datagram from <paramref name="from"/> in the client namespace; returns the source it arrived with.</summary>
    private IPEndPoint? Arrival(IPEndPoint from, TestNamespace at, IPEndPoint to, byte[]? payload = null, int waitMs = 2000)
    {
        using var receiver = NetworkNamespace.Run(at.Name, () =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Any, to.Port));
            s.ReceiveTimeout = waitMs;
            return s;
        });
        using var sender = NetworkNamespace.Run(_client.Name, () =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            s.Bind(from);
            return s;
        });
        sender.SendTo(payload ?? "x"u8.ToArray(), to);
        var buffer = new byte[16];
        EndPoint source = new IPEndPoint(IPAddress.Any, 0);
        try
        {
            receiver.ReceiveFrom(buffer, ref source);
            return (IPEndPoint)source;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    [Fact]
    public async Task A_fence_rewrites_only_the_old_endpoint_to_our_listen_port_and_expires_by_itself()
    {
        var old = new IPEndPoint(Old, 40000);
        var toUs = new IPEndPoint(Hub, Listen);
        NetworkNamespace.Run(_hub.Name, () =>
        {
            _fences.RewriteSenders("peer", old, New, Listen);
            return 0;
        });
        Assert.Equal(new IPEndPoint(New, 40000), Arrival(old, _hub, toUs));
        // Another port of the old address, another port of ours, and traffic the hub only forwards: untouched.
        Assert.Equal(new IPEndPoint(Old, 40001), Arrival(new IPEndPoint(Old, 40001), _hub, toUs));
        Assert.Equal(old, Arrival(old, _hub, new IPEndPoint(Hub, Listen + 1)));
        Assert.Equal(old, Arrival(old, _beyond, new IPEndPoint(Beyond, Listen)));
        // The kernel drops the element after the lifetime: nothing to remove, even after a crash.
        await Task.Delay(Fences.Lifetime + TimeSpan.FromMilliseconds(500));
        Assert.Equal(old, Arrival(old, _hub, toUs));
    }

    [Fact]
    public async Task A_hold_drops_the_stock_peers_initiations_and_data_to_our_old_source_only_and_expires_by_itself()
    {
        // The hub is us with an old source (a second address) and a new one; the client is the stock peer.
        var ourOld = IPAddress.Parse("198.18.40.9");
        _hub.Ip($"addr add {ourOld}/24 dev v1");
        var peer = new IPEndPoint(Old, Listen);
        NetworkNamespace.Run(_hub.Name, () =>
        {
            _fences.HoldOff("peer", ourOld, peer, Listen);
            return 0;
        });
        byte[] data = [4, 0, 0, 0], initiation = [1, 0, 0, 0], response = [2, 0, 0, 0], cookie = [3, 0, 0, 0];
        // (Dropped ones are waited for 300 ms each: the hold lasts 2 s.)
        Assert.Null(Arrival(peer, _hub, new IPEndPoint(ourOld, Listen), data, waitMs: 300));
        Assert.Null(Arrival(peer, _hub, new IPEndPoint(ourOld, Listen), initiation, waitMs: 300));
        // Answers to our handshakes pass (a trial back to the old source may come within the hold) ...
        Assert.Equal(peer, Arrival(peer, _hub, new IPEndPoint(ourOld, Listen), response));
        Assert.Equal(peer, Arrival(peer, _hub, new IPEndPoint(ourOld, Listen), cookie));
        // ... and so does everything else: to our new source, from another port, to another port of ours.
        Assert.Equal(peer, Arrival(peer, _hub, new IPEndPoint(Hub, Listen), data));
        Assert.Equal(new IPEndPoint(Old, 40005), Arrival(new IPEndPoint(Old, 40005), _hub, new IPEndPoint(ourOld, Listen), data));
        Assert.Equal(peer, Arrival(peer, _hub, new IPEndPoint(ourOld, Listen + 1), data));
        await Task.Delay(Fences.Lifetime + TimeSpan.FromMilliseconds(500));
        Assert.Equal(peer, Arrival(peer, _hub, new IPEndPoint(ourOld, Listen), data));
    }

    [Fact]
    public void A_newer_fence_for_the_same_peer_replaces_the_older_one_and_stopping_removes_the_table()
    {
        var first = new IPEndPoint(Old, 40000);
        var second = new IPEndPoint(Old, 40002);
        var toUs = new IPEndPoint(Hub, Listen);
        NetworkNamespace.Run(_hub.Name, () =>
        {
            _fences.RewriteSenders("peer", first, New, Listen);
            _fences.RewriteSenders("peer", second, New, Listen);
            return 0;
        });
        Assert.Equal(first, Arrival(first, _hub, toUs));
        Assert.Equal(new IPEndPoint(New, 40002), Arrival(second, _hub, toUs));
        NetworkNamespace.Run(_hub.Name, () => _fences.StopAsync(CancellationToken.None));
        Assert.DoesNotContain("wgrouted", _hub.Exec("nft", "list tables").Out, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _beyond.Dispose();
        _client.Dispose();
        _hub.Dispose();
    }
}
