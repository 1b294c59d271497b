using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace WgRouted.Service.Probing;

/// <summary>
/// UDP from a port another socket owns: WireGuard's listen port, so that a handshake leaves exactly as WireGuard's own
/// would (the peer keeps our endpoint where it is) and its answer comes back to it. A raw IPPROTO_UDP socket (needs
/// CAP_NET_RAW) bound to the path's source and uplink: we write the UDP header; the kernel writes the IP header (and,
/// for IPv6, the checksum). The kernel hands a raw socket a copy of every UDP datagram to its address, so a socket
/// filter (classic BPF) keeps only handshake responses and cookie replies to our port; WireGuard gets its copy too and
/// drops them (the receiver index is not one of its own).
/// </summary>
public sealed class RawUdpSocket : IDatagramSocket
{
    private const int SolSocket = 1; // SOL_SOCKET
    private const int SoAttachFilter = 26; // SO_ATTACH_FILTER
    private const int SoBindToDevice = 25; // SO_BINDTODEVICE
    private const int SolIpv6 = 41; // SOL_IPV6
    private const int Ipv6Checksum = 7; // IPV6_CHECKSUM
    private const int UdpHeaderSize = 8;

    private readonly Socket _socket;
    private readonly ushort _port;
    private readonly bool _v6;
    private readonly IPEndPoint _any;
    // Set up on the first blocking read; reading ReceiveTimeout back instead cost a getsockopt on every answer.
    private bool _blockingReads;
    // One receive at a time (one loop per socket): the packet with its headers lands here first.
    private readonly byte[] _packet = new byte[65536];

    private RawUdpSocket(Socket socket, ushort port, bool v6)
    {
        _socket = socket;
        _port = port;
        _v6 = v6;
        _any = UdpSockets.Any(v6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork);
    }

    /// <summary>From <paramref name="local"/> (address and UDP port), leaving by <paramref name="device"/> when given.</summary>
    public static IDatagramSocket Bind(IPEndPoint local, string? device)
    {
        ArgumentNullException.ThrowIfNull(local);
        var v6 = local.AddressFamily == AddressFamily.InterNetworkV6;
        var socket = new Socket(local.AddressFamily, SocketType.Raw, ProtocolType.Udp);
        try
        {
            Attach(socket, Filter(v6, (ushort)local.Port));
            // (No IPV6_V6ONLY: a raw socket refuses it, and is of one family anyway.)
            if (v6)
            {
                // The UDP checksum is mandatory over IPv6: the kernel fills it in at offset 6 (and checks it on receipt).
                socket.SetRawSocketOption(SolIpv6, Ipv6Checksum, BitConverter.GetBytes(6));
            }
            if (device is not null)
                socket.SetRawSocketOption(SolSocket, SoBindToDevice, Encoding.ASCII.GetBytes(device + "\0"));
            socket.Bind(new IPEndPoint(local.Address, 0));
            return new RawUdpSocket(socket, (ushort)local.Port, v6);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void SendTo(ReadOnlySpan<byte> datagram, IPEndPoint to)
    {
        ArgumentNullException.ThrowIfNull(to);
        Span<byte> packet = stackalloc byte[UdpHeaderSize + datagram.Length];
        Header(packet, to);
        datagram.CopyTo(packet[UdpHeaderSize..]);
        _socket.SendTo(packet, SocketFlags.None, new IPEndPoint(to.Address, 0));
    }

    public ValueTask SendToAsync(ReadOnlyMemory<byte> datagram, IPEndPoint to, CancellationToken ct)
    {
        SendTo(datagram.Span, to);
        return ValueTask.CompletedTask;
    }

    /// <summary>Source port ours, destination port theirs, length; checksum zero (IPv4: none; IPv6: the kernel's).</summary>
    private void Header(Span<byte> packet, IPEndPoint to)
    {
        BinaryPrimitives.WriteUInt16BigEndian(packet, _port);
        BinaryPrimitives.WriteUInt16BigEndian(packet[2..], (ushort)to.Port);
        BinaryPrimitives.WriteUInt16BigEndian(packet[4..], (ushort)packet.Length);
        BinaryPrimitives.WriteUInt16BigEndian(packet[6..], 0);
    }

    public async ValueTask<(int Length, IPEndPoint From)> ReceiveFromAsync(Memory<byte> buffer, CancellationToken ct)
    {
        var packet = _packet;
        while (true)
        {
            var result = await _socket.ReceiveFromAsync(packet, SocketFlags.None, _any, ct);
            var from = (IPEndPoint)result.RemoteEndPoint;
            if (Payload(packet.AsSpan(0, result.ReceivedBytes), out var srcPort) is { } range)
            {
                var payload = packet.AsSpan(range);
                if (payload.Length > buffer.Length)
                    continue;
                payload.CopyTo(buffer.Span);
                return (payload.Length, new IPEndPoint(from.Address, srcPort));
            }
        }
    }

    /// <summary>One datagram at a time (a handshake's answer is one datagram), in the first slot.</summary>
    public int ReceiveFrom(Span<byte> buffers, int slot, Span<Datagram> datagrams)
    {
        datagrams[0] = ReceiveFrom(buffers[..slot]);
        return 1;
    }

    private Datagram ReceiveFrom(Span<byte> buffer)
    {
        if (!_blockingReads)
        {
            UdpSockets.PrepareBlockingReads(_socket);
            _blockingReads = true;
        }
        var packet = _packet;
        while (true)
        {
            EndPoint any = _any;
            var received = _socket.ReceiveFrom(packet, SocketFlags.None, ref any);
            if (Payload(packet.AsSpan(0, received), out var srcPort) is { } range)
            {
                var payload = packet.AsSpan(range);
                if (payload.Length > buffer.Length)
                    continue;
                payload.CopyTo(buffer);
                return new Datagram(payload.Length, new IPEndPoint(((IPEndPoint)any).Address, srcPort), UdpSockets.Queued(_socket));
            }
        }
    }

    /// <summary>
    /// Where the UDP payload is in what the kernel handed over (IPv4: from the IP header; IPv6: from the UDP header),
    /// when the datagram is to our port and whole. The filter already checked the port; this does not trust it.
    /// </summary>
    private Range? Payload(ReadOnlySpan<byte> packet, out ushort srcPort)
    {
        srcPort = 0;
        var udp = 0;
        if (!_v6)
        {
            if (packet.Length < 20 || packet[0] >> 4 != 4)
                return null;
            udp = (packet[0] & 0xf) * 4;
        }
        if (packet.Length < udp + UdpHeaderSize)
            return null;
        srcPort = BinaryPrimitives.ReadUInt16BigEndian(packet[udp..]);
        var dstPort = BinaryPrimitives.ReadUInt16BigEndian(packet[(udp + 2)..]);
        var length = BinaryPrimitives.ReadUInt16BigEndian(packet[(udp + 4)..]);
        if (dstPort != _port || length < UdpHeaderSize || udp + length > packet.Length)
            return null;
        return (udp + UdpHeaderSize)..(udp + length);
    }

    /// <summary>
    /// Classic BPF: accept UDP to <paramref name="port"/> whose payload starts with type 2 (response) or 3 (cookie
    /// reply). An IPv4 raw socket sees the IP header first (its length from the IHL); an IPv6 one the UDP header.
    /// </summary>
    internal static SockFilter[] Filter(bool v6, ushort port)
    {
        const ushort ldxMsh = 0xb1, ldhInd = 0x48, ldbInd = 0x50, ldhAbs = 0x28, ldbAbs = 0x30, jeq = 0x15, ret = 0x06;
        return v6
            ?
            [
                new(ldhAbs, 0, 0, 2),
                new(jeq, 0, 4, port),
                new(ldbAbs, 0, 0, 8),
                new(jeq, 1, 0, 2),
                new(jeq, 0, 1, 3),
                new(ret, 0, 0, 0xffff),
                new(ret, 0, 0, 0),
            ]
            :
            [
                new(ldxMsh, 0, 0, 0),
                new(ldhInd, 0, 0, 2),
                new(jeq, 0, 4, port),
                new(ldbInd, 0, 0, 8),
                new(jeq, 1, 0, 2),
                new(jeq, 0, 1, 3),
                new(ret, 0, 0, 0xffff),
                new(ret, 0, 0, 0),
            ];
    }

    [StructLayout(LayoutKind.Sequential)]
    internal readonly record struct SockFilter(ushort Code, byte JumpTrue, byte JumpFalse, uint K); // struct sock_filter

    private static unsafe void Attach(Socket socket, SockFilter[] program)
    {
        fixed (SockFilter* filter = program)
        {
            // struct sock_fprog: unsigned short len; (padding) struct sock_filter *filter. The kernel copies the program.
            Span<byte> fprog = stackalloc byte[16];
            fprog.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(fprog, (ushort)program.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(fprog[8..], (ulong)filter);
            socket.SetRawSocketOption(SolSocket, SoAttachFilter, fprog);
        }
    }

    public bool HasQueued => _socket.Available > 0;

    public void Dispose() => _socket.Dispose();
}
