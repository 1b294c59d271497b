using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;

namespace WgRouted.Lab.Attacker;

/// <summary>
/// Sniffs UDP datagrams to one port as they arrive on some interfaces of another network namespace: a packet
/// socket (AF_PACKET, SOCK_DGRAM: the frames without their link header) opened by a thread that joined that
/// namespace (setns changes the calling thread's namespace only, so the rest of the process sends from its own).
/// Forwarded packets are seen twice, arriving and leaving: only arrivals on the named interfaces count.
/// </summary>
internal static class PacketCapture
{
    /// <summary>Starts the capture thread; returns once the socket is open (or throws). It stops at <paramref name="until"/>.</summary>
    public static Thread Start(string netns, IReadOnlyList<string> interfaces, int port, DateTimeOffset until, int maxPackets, Action<Captured> seen)
    {
        using var ready = new ManualResetEventSlim();
        string? error = null;
        var thread = new Thread(() =>
        {
            int fd;
            HashSet<int> indexes;
            try
            {
                (fd, indexes) = Open(netns, interfaces);
            }
            catch (IOException e)
            {
                error = e.Message;
                ready.Set();
                return;
            }
            ready.Set();
            try
            {
                Read(fd, indexes, port, until, maxPackets, seen);
            }
            finally
            {
                _ = Libc.Close(fd);
            }
        }) { IsBackground = true, Name = "capture" };
        thread.Start();
        ready.Wait();
        return error is null ? thread : throw new UsageException(error);
    }

    private static (int Fd, HashSet<int> Indexes) Open(string netns, IReadOnlyList<string> interfaces)
    {
        var ns = Libc.Open(netns, Libc.O_RDONLY | Libc.O_CLOEXEC);
        if (ns < 0)
            throw new IOException($"open {netns}: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            if (Libc.SetNs(ns, Libc.CLONE_NEWNET) < 0)
                throw new IOException($"setns {netns}: errno {Marshal.GetLastPInvokeError()}");
        }
        finally
        {
            _ = Libc.Close(ns);
        }
        // Interface indexes are per namespace: resolved after joining it.
        HashSet<int> indexes = [];
        foreach (var name in interfaces)
        {
            var index = Libc.IfNameToIndex(name);
            if (index == 0)
                throw new IOException($"no interface {name} in {netns}");
            indexes.Add((int)index);
        }
        var fd = Libc.Socket(Libc.AF_PACKET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, Libc.ETH_P_ALL_BE);
        return fd >= 0 ? (fd, indexes) : throw new IOException($"packet socket: errno {Marshal.GetLastPInvokeError()}");
    }

    private static unsafe void Read(int fd, HashSet<int> indexes, int port, DateTimeOffset until, int maxPackets, Action<Captured> seen)
    {
        var buffer = new byte[65_536];
        var count = 0;
        while (count < maxPackets && DateTimeOffset.UtcNow < until)
        {
            var poll = new Libc.PollFd { Fd = fd, Events = Libc.POLLIN };
            if (Libc.Poll(&poll, 1, 100) <= 0)
                continue;
            Libc.SockAddrLl from;
            var fromLength = sizeof(Libc.SockAddrLl);
            nint n;
            fixed (byte* b = buffer)
                n = Libc.RecvFrom(fd, b, (nuint)buffer.Length, 0, &from, &fromLength);
            if (n <= 0 || from.PktType == Libc.PACKET_OUTGOING || !indexes.Contains(from.IfIndex))
                continue;
            if (Parse(buffer.AsSpan(0, (int)n), port) is { } datagram)
            {
                seen(datagram);
                count++;
            }
        }
    }

    /// <summary>An IPv4 or IPv6 packet carrying UDP to <paramref name="port"/> (no fragments, no IPv6 extension headers).</summary>
    private static Captured? Parse(ReadOnlySpan<byte> packet, int port)
    {
        if (packet.Length < 20)
            return null;
        int udp;
        IPAddress source, destination;
        switch (packet[0] >> 4)
        {
            case 4:
                udp = (packet[0] & 0x0f) * 4;
                // Protocol UDP, and neither "more fragments" nor a fragment offset.
                if (packet[9] != 17 || (BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x3fff) != 0)
                    return null;
                source = new IPAddress(packet.Slice(12, 4));
                destination = new IPAddress(packet.Slice(16, 4));
                break;
            case 6 when packet.Length >= 40 && packet[6] == 17:
                udp = 40;
                source = new IPAddress(packet.Slice(8, 16));
                destination = new IPAddress(packet.Slice(24, 16));
                break;
            default:
                return null;
        }
        if (packet.Length < udp + 8 || BinaryPrimitives.ReadUInt16BigEndian(packet[(udp + 2)..]) != port)
            return null;
        var length = BinaryPrimitives.ReadUInt16BigEndian(packet[(udp + 4)..]);
        if (length < 8 || udp + length > packet.Length)
            return null;
        return new Captured(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), source, new IPEndPoint(destination, port),
            packet.Slice(udp + 8, length - 8).ToArray());
    }
}
