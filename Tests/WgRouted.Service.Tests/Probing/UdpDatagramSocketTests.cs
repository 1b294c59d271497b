using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using WgRouted.Service.Probing;

namespace WgRouted.Service.Tests.Probing;

/// <summary>
/// The prober's kernel socket on loopback: what queued is read in one call, each datagram with its sender and how long it
/// waited (the kernel's receive stamp); a batch is sent in one call, a refused datagram named and the rest sent.
/// </summary>
public sealed class UdpDatagramSocketTests
{
    private const int Slot = 64;

    [Fact]
    public void A_datagram_read_late_says_how_long_it_waited_in_the_socket()
    {
        using var socket = UdpDatagramSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0), null);
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var to = LocalOf(socket, IPAddress.Loopback);
        var buffers = new byte[8 * Slot];
        var datagrams = new Datagram[8];

        // The first read turns the stamps on: one datagram read at once.
        sender.SendTo("first"u8, to);
        Assert.Equal(1, socket.ReceiveFrom(buffers, Slot, datagrams));
        Assert.Equal(5, datagrams[0].Length);
        // The first socket on the machine to ask has the kernel stamp datagrams from a moment later (a static key set
        // from a work queue): until then a datagram has no stamp and counts as read at once. Wait for that moment.
        for (var i = 0; i < 50; i++)
        {
            sender.SendTo("warm"u8, to);
            Thread.Sleep(20);
            socket.ReceiveFrom(buffers, Slot, datagrams);
            if (datagrams[0].Queued >= TimeSpan.FromMilliseconds(15))
                break;
        }

        var clock = Stopwatch.StartNew();
        sender.SendTo("waited"u8, to);
        Thread.Sleep(100);
        Assert.Equal(1, socket.ReceiveFrom(buffers, Slot, datagrams));
        var bound = clock.Elapsed;
        Assert.Equal("waited"u8.ToArray(), buffers[..datagrams[0].Length]);
        Assert.Equal(((IPEndPoint)sender.LocalEndPoint!).Port, datagrams[0].From.Port);
        Assert.InRange(datagrams[0].Queued, TimeSpan.FromMilliseconds(95), bound + TimeSpan.FromMilliseconds(5));

        sender.SendTo("at once"u8, to);
        Thread.Sleep(1);
        socket.ReceiveFrom(buffers, Slot, datagrams);
        Assert.InRange(datagrams[0].Queued, TimeSpan.Zero, TimeSpan.FromMilliseconds(90));
    }

    [Fact]
    public void A_read_of_an_empty_socket_waits_a_second_then_says_so()
    {
        using var socket = UdpDatagramSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0), null);
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<SocketException>(() => socket.ReceiveFrom(new byte[Slot], Slot, new Datagram[1]));
        Assert.Equal(SocketError.TimedOut, e.SocketErrorCode);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public void What_queued_is_read_in_one_call_each_with_its_sender_and_a_long_one_cut_to_its_slot(string address)
    {
        var loopback = IPAddress.Parse(address);
        using var socket = UdpDatagramSocket.Bind(new IPEndPoint(loopback, 0), null);
        using var sender = new Socket(loopback.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        sender.Bind(new IPEndPoint(loopback, 0));
        var to = LocalOf(socket, loopback);
        var sent = Enumerable.Range(1, 5).Select(n => Enumerable.Repeat((byte)n, n * 10).ToArray()).Append(new byte[Slot + 20]).ToList();
        foreach (var d in sent)
            sender.SendTo(d, to);
        Thread.Sleep(50);

        var buffers = new byte[8 * Slot];
        var datagrams = new Datagram[8];
        Assert.Equal(6, socket.ReceiveFrom(buffers, Slot, datagrams));
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(sent[i], buffers.AsSpan(i * Slot, datagrams[i].Length).ToArray());
            Assert.Equal(sender.LocalEndPoint, datagrams[i].From);
        }
        Assert.Equal(Slot, datagrams[5].Length);

        // A batch smaller than the queue takes its fill and leaves the rest.
        foreach (var d in sent.Take(3))
            sender.SendTo(d, to);
        Thread.Sleep(50);
        Assert.Equal(2, socket.ReceiveFrom(buffers, Slot, datagrams.AsSpan(0, 2)));
        Assert.Equal(1, socket.ReceiveFrom(buffers, Slot, datagrams));
        Assert.Equal(sent[2], buffers.AsSpan(0, datagrams[0].Length).ToArray());
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public void A_batch_goes_out_in_order_and_a_refused_datagram_is_named_while_the_rest_are_sent(string address)
    {
        var loopback = IPAddress.Parse(address);
        using var socket = UdpDatagramSocket.Bind(new IPEndPoint(loopback, 0), null);
        using var a = Receiver(loopback);
        using var b = Receiver(loopback);
        var buffers = new byte[4 * Slot];
        "one"u8.CopyTo(buffers);
        "two"u8.CopyTo(buffers.AsSpan(Slot));
        "three"u8.CopyTo(buffers.AsSpan(2 * Slot));
        "four"u8.CopyTo(buffers.AsSpan(3 * Slot));
        // UDP refuses port 0 before anything leaves (EINVAL): the kernel's sendmmsg stops there.
        Outgoing[] batch =
        [
            new(3, (IPEndPoint)a.LocalEndPoint!), new(3, new IPEndPoint(loopback, 0)),
            new(5, (IPEndPoint)b.LocalEndPoint!), new(4, (IPEndPoint)a.LocalEndPoint!),
        ];
        var errors = new SocketError[4];
        Array.Fill(errors, SocketError.SocketError);

        socket.SendTo(buffers, Slot, batch, errors);

        Assert.Equal([SocketError.Success, SocketError.InvalidArgument, SocketError.Success, SocketError.Success], errors);
        Assert.Equal(["one", "four"], [Read(a), Read(a)]);
        Assert.Equal("three", Read(b));
    }

    private static Socket Receiver(IPAddress loopback)
    {
        var socket = new Socket(loopback.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(loopback, 0));
        socket.ReceiveTimeout = 1000;
        return socket;
    }

    private static string Read(Socket socket)
    {
        var buffer = new byte[64];
        return System.Text.Encoding.ASCII.GetString(buffer, 0, socket.Receive(buffer));
    }

    private static IPEndPoint LocalOf(IDatagramSocket socket, IPAddress loopback)
    {
        // The bound port: the kernel's, read back through a probe of our own (the seam does not expose the socket).
        using var probe = new Socket(loopback.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(loopback, 0));
        socket.SendTo("?"u8, (IPEndPoint)probe.LocalEndPoint!);
        EndPoint from = new IPEndPoint(loopback.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        probe.ReceiveTimeout = 1000;
        probe.ReceiveFrom(new byte[8], ref from);
        return (IPEndPoint)from;
    }
}
