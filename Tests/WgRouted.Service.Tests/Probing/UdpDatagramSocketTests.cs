using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using WgRouted.Service.Probing;

namespace WgRouted.Service.Tests.Probing;

/// <summary>The prober's kernel socket on loopback: a datagram read late says how long it waited (the kernel's receive stamp).</summary>
public sealed class UdpDatagramSocketTests
{
    [Fact]
    public void A_datagram_read_late_says_how_long_it_waited_in_the_socket()
    {
        using var socket = UdpDatagramSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0), null);
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var to = LocalOf(socket);
        var buffer = new byte[64];

        // The first read turns the stamps on: one datagram read at once.
        sender.SendTo("first"u8, to);
        Assert.Equal(5, socket.ReceiveFrom(buffer).Length);
        // The first socket on the machine to ask has the kernel stamp datagrams from a moment later (a static key set
        // from a work queue): until then a datagram has no stamp and counts as read at once. Wait for that moment.
        for (var i = 0; i < 50; i++)
        {
            sender.SendTo("warm"u8, to);
            Thread.Sleep(20);
            if (socket.ReceiveFrom(buffer).Queued >= TimeSpan.FromMilliseconds(15))
                break;
        }

        var clock = Stopwatch.StartNew();
        sender.SendTo("waited"u8, to);
        Thread.Sleep(100);
        var late = socket.ReceiveFrom(buffer);
        var bound = clock.Elapsed;
        Assert.Equal("waited"u8.ToArray(), buffer[..late.Length]);
        Assert.Equal(((IPEndPoint)sender.LocalEndPoint!).Port, late.From.Port);
        Assert.InRange(late.Queued, TimeSpan.FromMilliseconds(95), bound + TimeSpan.FromMilliseconds(5));

        sender.SendTo("at once"u8, to);
        Thread.Sleep(1);
        Assert.InRange(socket.ReceiveFrom(buffer).Queued, TimeSpan.Zero, TimeSpan.FromMilliseconds(90));
    }

    private static IPEndPoint LocalOf(IDatagramSocket socket)
    {
        // The bound port: the kernel's, read back through a probe of our own (the seam does not expose the socket).
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.SendTo("?"u8, (IPEndPoint)probe.LocalEndPoint!);
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        probe.ReceiveTimeout = 1000;
        probe.ReceiveFrom(new byte[8], ref from);
        return (IPEndPoint)from;
    }
}
