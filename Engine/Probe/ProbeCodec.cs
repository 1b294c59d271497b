using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace WgRouted.Engine.Probe;

// Wire format, version 2. UDP payload; integers big-endian; every packet is 128 bytes.
//
//   offset size  field
//        0    4  magic "WGRP" (57 47 52 50)
//        4    1  version (2)
//        5    1  type: 1 Request, 2 Reply, 3 MoveRequest, 4 MoveReply
//        6    2  reserved, zero
//        8   32  sender's WireGuard public key (selects the MAC key, in the clear)
//       40    8  sender's sequence number (unsigned)
//       48    8  sender's timestamp: nanoseconds since 1970-01-01T00:00Z (signed; read to the 100 ns tick)
//       56   56  body, by type (below)
//      112   16  MAC: HMAC-SHA256(probe key, bytes 0..111), first 16 bytes (RFC 2104 section 5 truncation)
//
//   Request body      56  56  zero (padding)
//   MoveRequest body  56  20  the endpoint the sender asks to be reached at (address block, never none): the
//                             address the request is sent from, the sender's WireGuard listen port
//                     76  36  zero (padding)
//   Reply and MoveReply body:
//                     56   8  the request's sequence number (echoed)
//                     64   8  the request's timestamp (echoed)
//                     72  20  the request's source as the responder saw it (address block, never none)
//                     92  20  the responder's WireGuard endpoint for the sender's key (address block)
//
//   Address block (20 bytes): +0 family (0 none, 4 IPv4, 6 IPv6), +1 zero, +2 port (1..65535),
//   +4 address (16 bytes: IPv4 in the first 4 and 12 zero bytes; IPv6 never IPv4-mapped).
//   None is 20 zero bytes. IPv6 scope ids are not carried.
//
// Version 2 (was 1): a move request carries the whole endpoint it asks for under the MAC (version 1 carried the
// port only and took the address from the datagram, so a request could be delivered from any address), and
// sequence numbers are per peer on the millisecond clock (ProbeSequence). Version 1 packets are dropped (BadVersion).
//
// Amplification: a request is padded to RequestSize, which is at least ReplySize, and the decoder rejects
// a shorter request before looking at its MAC, so a responder never sends more bytes than it received.
// Probe keys: see ProbeKeys.Derive. Replay and freshness: see ProbeGuard (the codec is stateless).

/// <summary>Encodes and decodes probe packets. Stateless and thread-safe.</summary>
/// <remarks>
/// Responder, per datagram: a global <see cref="SourceRateLimiter"/> budget, <see cref="TryDecode"/>, a limit per
/// authenticated sender, <see cref="ProbeGuard.TryAccept"/> for requests (<see cref="MoveGuard.TryAccept"/> for moves),
/// then answer requests only: <see cref="ProbeRequest.Reply"/> (or, after setting the peer's endpoint to
/// <see cref="MoveRequest.Requested"/>, <see cref="MoveRequest.Reply"/>) and
/// <see cref="Encode"/> to the source. Initiator: <see cref="Encode"/> a <see cref="ProbeRequest"/> numbered by a
/// <see cref="ProbeSequence"/>; on receipt <see cref="TryDecode"/>, <see cref="ProbeGuard.TryAccept"/>, keep answers
/// whose <see cref="ProbeAnswer.EchoSequence"/> is outstanding, and take <see cref="ProbeAnswer.RoundTrip"/>.
/// </remarks>
public static class ProbeCodec
{
    public const byte Version = 2;
    public const int HeaderSize = 56;
    public const int MacSize = 16;
    public const int BodySize = 56;
    public const int ReplySize = HeaderSize + BodySize + MacSize;
    /// <summary>Requests are padded to this size; at least <see cref="ReplySize"/> so a reply never outgrows its request.</summary>
    public const int RequestSize = ReplySize;
    /// <summary>A receive buffer must be larger than this, so an oversized datagram is seen as such, not cut.</summary>
    public const int MaxSize = RequestSize;

    private const int MacOffset = HeaderSize + BodySize;
    private const int AddressBlockSize = 20;
    private static ReadOnlySpan<byte> Magic => "WGRP"u8;

    public static int SizeOf(ProbeType type) => type is ProbeType.Request or ProbeType.MoveRequest ? RequestSize : ReplySize;

    /// <summary>Writes <paramref name="message"/> MAC'd with <paramref name="key"/>; returns the bytes written.</summary>
    public static int Encode(ProbeMessage message, ProbeKey key, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(key);
        var size = SizeOf(message.Type);
        if (destination.Length < size)
            throw new ArgumentException($"a {message.Type} needs {size} bytes, the destination has {destination.Length}", nameof(destination));
        var packet = destination[..size];
        packet.Clear();

        Magic.CopyTo(packet);
        packet[4] = Version;
        packet[5] = (byte)message.Type;
        if (message.Sender.Base64 is null)
            throw new ArgumentException("the message has no sender key", nameof(message));
        message.Sender.CopyTo(packet.Slice(8, PeerKey.KeyLength));
        BinaryPrimitives.WriteUInt64BigEndian(packet[40..], message.Sequence);
        BinaryPrimitives.WriteInt64BigEndian(packet[48..], ToUnixNanoseconds(message.Timestamp));

        var body = packet.Slice(HeaderSize, BodySize);
        switch (message)
        {
            case ProbeRequest:
                break;
            case MoveRequest m:
                if (m.Requested.Address is null)
                    throw new ArgumentException("a move request needs the endpoint it asks for", nameof(message));
                WriteAddress(body[..AddressBlockSize], m.Requested, nameof(MoveRequest.Requested));
                break;
            case ProbeAnswer a:
                if (a.ObservedSource.Address is null)
                    throw new ArgumentException("an answer needs the request's observed source", nameof(message));
                BinaryPrimitives.WriteUInt64BigEndian(body, a.EchoSequence);
                BinaryPrimitives.WriteInt64BigEndian(body[8..], ToUnixNanoseconds(a.EchoTimestamp));
                WriteAddress(body.Slice(16, AddressBlockSize), a.ObservedSource, nameof(ProbeAnswer.ObservedSource));
                WriteAddress(body.Slice(36, AddressBlockSize), a.WireGuardEndpoint, nameof(ProbeAnswer.WireGuardEndpoint));
                break;
            default:
                throw new ArgumentException($"unknown message {message.GetType().Name}", nameof(message));
        }

        Mac(key, packet[..MacOffset], packet[MacOffset..]);
        return size;
    }

    /// <summary>
    /// Decodes and authenticates one datagram. <paramref name="keyFor"/> returns the probe key shared with the
    /// sender named in the header, or null for a key that is not a configured peer (and null for our own key,
    /// or a packet of ours reflected back to us would pass: the key is the same both ways). Never throws on bad input.
    /// Replay and freshness are <see cref="ProbeGuard"/>'s job.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> packet, Func<PeerKey, ProbeKey?> keyFor,
        [NotNullWhen(true)] out ProbeMessage? message, out ProbeError error)
    {
        ArgumentNullException.ThrowIfNull(keyFor);
        message = null;
        error = CheckHeader(packet);
        if (error != ProbeError.None)
            return false;

        var sender = PeerKey.FromBytes(packet.Slice(8, PeerKey.KeyLength));
        if (keyFor(sender) is not { } key)
        {
            error = ProbeError.UnknownSender;
            return false;
        }
        Span<byte> mac = stackalloc byte[MacSize];
        Mac(key, packet[..MacOffset], mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, packet[MacOffset..]))
        {
            error = ProbeError.BadMac;
            return false;
        }

        var type = (ProbeType)packet[5];
        var sequence = BinaryPrimitives.ReadUInt64BigEndian(packet[40..]);
        var timestamp = FromUnixNanoseconds(BinaryPrimitives.ReadInt64BigEndian(packet[48..]));
        var body = packet.Slice(HeaderSize, BodySize);
        switch (type)
        {
            case ProbeType.Request when IsZero(body):
                message = new ProbeRequest(sender, sequence, timestamp);
                break;
            case ProbeType.MoveRequest when TryReadAddress(body[..AddressBlockSize], out var requested) && requested is { } to
                                            && IsZero(body[AddressBlockSize..]):
                message = new MoveRequest(sender, sequence, timestamp, to);
                break;
            case ProbeType.Reply or ProbeType.MoveReply
                when TryReadAddress(body.Slice(16, AddressBlockSize), out var observed) && observed is { } source
                  && TryReadAddress(body.Slice(36, AddressBlockSize), out var endpoint):
                var echoSequence = BinaryPrimitives.ReadUInt64BigEndian(body);
                var echoTimestamp = FromUnixNanoseconds(BinaryPrimitives.ReadInt64BigEndian(body[8..]));
                message = type == ProbeType.Reply
                    ? new ProbeReply(sender, sequence, timestamp, echoSequence, echoTimestamp, source, endpoint)
                    : new MoveReply(sender, sequence, timestamp, echoSequence, echoTimestamp, source, endpoint);
                break;
            default:
                error = ProbeError.Malformed;
                return false;
        }
        return true;
    }

    /// <summary>Everything that can be checked without a key, cheapest first; the MAC is only computed for a well-formed packet.</summary>
    private static ProbeError CheckHeader(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < HeaderSize)
            return ProbeError.Truncated;
        if (packet.Length > MaxSize)
            return ProbeError.Oversized;
        if (!packet.StartsWith(Magic))
            return ProbeError.BadMagic;
        if (packet[4] != Version)
            return ProbeError.BadVersion;
        var type = (ProbeType)packet[5];
        if (type is not (ProbeType.Request or ProbeType.Reply or ProbeType.MoveRequest or ProbeType.MoveReply))
            return ProbeError.UnknownType;
        if (packet[6] != 0 || packet[7] != 0)
            return ProbeError.Malformed;
        var size = SizeOf(type);
        if (packet.Length < size)
            return type is ProbeType.Request or ProbeType.MoveRequest ? ProbeError.NotPadded : ProbeError.Truncated;
        if (packet.Length > size)
            return ProbeError.Oversized;
        return ProbeError.None;
    }

    private static void Mac(ProbeKey key, ReadOnlySpan<byte> covered, Span<byte> destination)
    {
        Span<byte> full = stackalloc byte[HMACSHA256.HashSizeInBytes];
        key.Mac(covered, full);
        full[..MacSize].CopyTo(destination);
    }

    private static bool IsZero(ReadOnlySpan<byte> bytes) => !bytes.ContainsAnyExcept((byte)0);

    private static void WriteAddress(Span<byte> block, Endpoint? endpoint, string field)
    {
        block.Clear();
        if (endpoint is not { Address: { } address } e)
            return;
        switch (address.AddressFamily)
        {
            case AddressFamily.InterNetwork:
                block[0] = 4;
                break;
            case AddressFamily.InterNetworkV6:
                block[0] = 6;
                break;
            default:
                throw new ArgumentException($"{field}: {address.AddressFamily} is not IPv4 or IPv6", nameof(endpoint));
        }
        BinaryPrimitives.WriteUInt16BigEndian(block[2..], (ushort)e.Port);
        address.TryWriteBytes(block[4..], out _);
    }

    private static bool TryReadAddress(ReadOnlySpan<byte> block, out Endpoint? endpoint)
    {
        endpoint = null;
        var port = BinaryPrimitives.ReadUInt16BigEndian(block[2..]);
        var address = block[4..];
        switch (block[0])
        {
            case 0:
                return IsZero(block);
            case 4 when block[1] == 0 && port != 0 && IsZero(address[4..]):
                endpoint = new Endpoint(new IPAddress(address[..4]), port);
                return true;
            case 6 when block[1] == 0 && port != 0:
                var ip = new IPAddress(address);
                // One encoding per endpoint: Endpoint maps ::ffff:a.b.c.d to IPv4, which is written as family 4.
                if (ip.IsIPv4MappedToIPv6)
                    return false;
                endpoint = new Endpoint(ip, port);
                return true;
            default:
                return false;
        }
    }

    private static long ToUnixNanoseconds(DateTimeOffset time)
    {
        var ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        const long NanosecondsPerTick = 100;
        return ticks is > long.MaxValue / NanosecondsPerTick or < long.MinValue / NanosecondsPerTick
            ? throw new ArgumentOutOfRangeException(nameof(time), time, "a probe timestamp is between 1677 and 2262")
            : ticks * NanosecondsPerTick;
    }

    private static DateTimeOffset FromUnixNanoseconds(long nanoseconds) => DateTimeOffset.UnixEpoch.AddTicks(nanoseconds / 100);
}
