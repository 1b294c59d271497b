using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using WgRouted.Engine.Probe;

namespace WgRouted.Lab.Attacker;

/// <summary>
/// malformed: four datagrams the responder must survive: from source port 0 (a raw socket writes the UDP header: no
/// UDP socket sends from port 0), shorter than a header, longer than any probe, and of version 1. Each is a request
/// with a random MAC (no key) and a random sender key.
/// </summary>
internal static class Malformed
{
    public static int Run(Arguments a)
    {
        var to = a.Endpoint("to");
        var from = a.Address("from");
        if (from.AddressFamily != AddressFamily.InterNetwork || to.Address.AddressFamily != AddressFamily.InterNetwork)
            throw new UsageException("malformed sends over IPv4 (--from, --to)");
        var destination = new IPEndPoint(to.Address, to.Port);
        var sender = new byte[32];
        Random.Shared.NextBytes(sender);
        var request = new byte[ProbeCodec.RequestSize];
        Unauthenticated.WriteRequest(request, sender, (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow);

        using (var raw = new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Udp))
        {
            raw.Bind(new IPEndPoint(from, 0));
            raw.SendTo(UdpFromPortZero(from, destination, request), new IPEndPoint(to.Address, 0));
        }
        Thread.Sleep(50);
        using var udp = Senders.Bind(new IPEndPoint(from, 0));
        // Shorter than the 56-byte header.
        udp.SendTo(request.AsSpan(0, 40), SocketFlags.None, destination);
        Thread.Sleep(50);
        var oversized = new byte[1400];
        request.CopyTo(oversized, 0);
        udp.SendTo(oversized, SocketFlags.None, destination);
        Thread.Sleep(50);
        var version1 = (byte[])request.Clone();
        version1[4] = 1;
        udp.SendTo(version1, SocketFlags.None, destination);
        Console.WriteLine("port0=1 truncated=1 oversized=1 version1=1");
        return 0;
    }

    /// <summary>A UDP header (source port 0) and payload, its checksum over the IPv4 pseudo-header (RFC 768).</summary>
    private static byte[] UdpFromPortZero(IPAddress from, IPEndPoint to, ReadOnlySpan<byte> payload)
    {
        var datagram = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(2), (ushort)to.Port);
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(4), (ushort)datagram.Length);
        payload.CopyTo(datagram.AsSpan(8));
        var pseudo = new byte[12 + datagram.Length];
        from.TryWriteBytes(pseudo, out _);
        to.Address.TryWriteBytes(pseudo.AsSpan(4), out _);
        pseudo[9] = 17;
        BinaryPrimitives.WriteUInt16BigEndian(pseudo.AsSpan(10), (ushort)datagram.Length);
        datagram.CopyTo(pseudo, 12);
        uint sum = 0;
        for (var i = 0; i < pseudo.Length; i += 2)
            sum += (uint)(pseudo[i] << 8 | (i + 1 < pseudo.Length ? pseudo[i + 1] : 0));
        while (sum >> 16 != 0)
            sum = (sum & 0xffff) + (sum >> 16);
        var checksum = (ushort)~sum;
        // 0 means "no checksum" in UDP over IPv4: a computed 0 is sent as all ones.
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(6), checksum == 0 ? (ushort)0xffff : checksum);
        return datagram;
    }
}
