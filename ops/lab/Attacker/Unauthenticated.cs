using System.Buffers.Binary;
using WgRouted.Engine.Probe;

namespace WgRouted.Lab.Attacker;

/// <summary>A request laid out as ProbeCodec's table says, with a MAC no key made (random bytes): what anyone without a key can send.</summary>
internal static class Unauthenticated
{
    private const int MacOffset = ProbeCodec.HeaderSize + ProbeCodec.BodySize;

    public static void WriteRequest(Span<byte> packet, ReadOnlySpan<byte> sender, ulong sequence, DateTimeOffset at)
    {
        packet = packet[..ProbeCodec.RequestSize];
        packet.Clear();
        "WGRP"u8.CopyTo(packet);
        packet[4] = ProbeCodec.Version;
        packet[5] = (byte)ProbeType.Request;
        sender.CopyTo(packet[8..]);
        BinaryPrimitives.WriteUInt64BigEndian(packet[40..], sequence);
        BinaryPrimitives.WriteInt64BigEndian(packet[48..], UnixNanoseconds(at));
        Random.Shared.NextBytes(packet.Slice(MacOffset, ProbeCodec.MacSize));
    }

    public static long UnixNanoseconds(DateTimeOffset at) => (at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
}
