using System.Net;
using System.Net.Sockets;

namespace WgRouted.Lab.Attacker;

/// <summary>
/// One UDP socket per source address, bound to it (an ephemeral port unless given). A spoofed source is an address
/// the lab added to the attacker namespace's lo: the kernel sends from it like from any local address.
/// </summary>
internal sealed class Senders : IDisposable
{
    private readonly Dictionary<IPAddress, Socket> _sockets = [];

    public long Sent { get; private set; }
    public long Errors { get; private set; }

    public Socket For(IPAddress source, int port = 0)
    {
        if (_sockets.TryGetValue(source, out var socket))
            return socket;
        socket = Bind(new IPEndPoint(source, port));
        _sockets[source] = socket;
        return socket;
    }

    public static Socket Bind(IPEndPoint local)
    {
        var socket = new Socket(local.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(local);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new UsageException($"cannot send from {local} ({e.SocketErrorCode}): is the address on this namespace's lo?");
        }
        return socket;
    }

    public void Send(IPAddress source, ReadOnlySpan<byte> payload, IPEndPoint to)
    {
        try
        {
            For(source).SendTo(payload, SocketFlags.None, to);
            Sent++;
        }
        catch (SocketException)
        {
            // An ICMP error from an earlier datagram is reported on the next send: counted, the run goes on.
            Errors++;
        }
    }

    public void Dispose()
    {
        foreach (var s in _sockets.Values)
            s.Dispose();
        _sockets.Clear();
    }
}
