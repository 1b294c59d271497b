using System.Buffers.Binary;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;

namespace WgRouted.Engine.Handshake;

// WireGuard's handshake messages (the WireGuard paper, section 5.4), as an initiator sends and reads them. UDP payload;
// indices little-endian; every field at a fixed offset.
//
//   Initiation (type 1), 148 bytes          Response (type 2), 92 bytes          Cookie reply (type 3), 64 bytes
//     0  1 type                               0  1 type                            0  1 type
//     1  3 reserved, zero                     1  3 reserved, zero                  1  3 reserved, zero
//     4  4 sender index                       4  4 sender index (theirs)           4  4 receiver index (ours)
//     8 32 ephemeral public key               8  4 receiver index (ours)           8 24 nonce
//    40 48 AEAD(static public key)           12 32 ephemeral public key           32 32 XAEAD(cookie), sealed
//    88 28 AEAD(TAI64N timestamp)            44 16 AEAD(empty)                          against our last mac1
//   116 16 mac1                              60 16 mac1
//   132 16 mac2 (zero without a cookie)      76 16 mac2
//
// mac1 = MAC(HASH("mac1----" || receiver's public key), the bytes before it); mac2 = MAC(cookie, the bytes before
// it). A responder under load answers an initiation without a valid mac2 with a cookie reply instead; the next
// initiation carries mac2 made with that cookie (valid 120 s).
// The codec is stateless; the initiator keeps each HandshakeInitiation until its answer or its timeout.

/// <summary>Builds initiations and checks their answers (response: mac1, index, Noise, empty payload; cookie reply).</summary>
public static class HandshakeCodec
{
    public const int InitiationSize = 148;
    public const int ResponseSize = 92;
    public const int CookieReplySize = 64;
    public const int CookieSize = 16;
    public const byte InitiationType = 1;
    public const byte ResponseType = 2;
    public const byte CookieReplyType = 3;

    /// <summary>
    /// Writes an initiation into <paramref name="message"/> (148 bytes): from us to <paramref name="keys"/>' peer, with
    /// <paramref name="ephemeralPrivate"/> (fresh random per initiation; a test passes a fixed one), our
    /// <paramref name="senderIndex"/>, <paramref name="timestamp"/> and the peer's cookie if we hold one.
    /// </summary>
    public static HandshakeInitiation WriteInitiation(
        HandshakeKeys keys, ReadOnlySpan<byte> ephemeralPrivate, uint senderIndex, DateTimeOffset timestamp,
        ReadOnlySpan<byte> cookie, Span<byte> message)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (message.Length < InitiationSize)
            throw new ArgumentException($"an initiation needs {InitiationSize} bytes", nameof(message));
        message = message[..InitiationSize];
        message.Clear();
        message[0] = InitiationType;
        BinaryPrimitives.WriteUInt32LittleEndian(message[4..], senderIndex);

        var ephemeral = new X25519PrivateKeyParameters(ephemeralPrivate.ToArray());
        ephemeral.GeneratePublicKey().Encode(message.Slice(8, 32));
        var ephemeralPublic = message.Slice(8, 32);
        var hash = Noise.Hash(keys.InitialHash, ephemeralPublic);
        var chainingKey = Noise.Kdf(keys.InitialChainingKey, ephemeralPublic, 1)[0];

        var es = Noise.Dh(ephemeral, keys.Peer.ToBytes())
            ?? throw new ArgumentException("the peer's public key gives an all-zero shared secret", nameof(keys));
        var k = Noise.Kdf(chainingKey, es, 2);
        chainingKey = k[0];
        Noise.Seal(k[1], keys.Us.ToBytes(), hash, message.Slice(40, 48));
        hash = Noise.Hash(hash, message.Slice(40, 48));

        k = Noise.Kdf(chainingKey, keys.StaticStatic, 2);
        chainingKey = k[0];
        Span<byte> stamp = stackalloc byte[Tai64N.Size];
        Tai64N.Write(timestamp, stamp);
        Noise.Seal(k[1], stamp, hash, message.Slice(88, 28));
        hash = Noise.Hash(hash, message.Slice(88, 28));

        Noise.Mac(keys.Mac1KeyTheirs, message[..116], message.Slice(116, 16));
        if (!cookie.IsEmpty)
            Noise.Mac(cookie, message[..132], message.Slice(132, 16));
        return new HandshakeInitiation(senderIndex, ephemeral, chainingKey, hash, message.Slice(116, 16).ToArray());
    }

    /// <summary>The message's type and the index it is addressed to (ours), when it is a response or a cookie reply of the right size.</summary>
    public static bool TryReadReceiver(ReadOnlySpan<byte> message, out byte type, out uint receiver)
    {
        type = message.IsEmpty ? (byte)0 : message[0];
        receiver = 0;
        if (message.Length < 4 || message[1] != 0 || message[2] != 0 || message[3] != 0)
            return false;
        switch (type)
        {
            case ResponseType when message.Length == ResponseSize:
                receiver = BinaryPrimitives.ReadUInt32LittleEndian(message[8..]);
                return true;
            case CookieReplyType when message.Length == CookieReplySize:
                receiver = BinaryPrimitives.ReadUInt32LittleEndian(message[4..]);
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Checks a response to <paramref name="initiation"/>: size, type, our index, mac1 (cheap checks first), then the
    /// Noise message (the responder's ephemeral key, DH with it, the preshared key) and its empty payload, which only
    /// the holder of the peer's private key (and the preshared key) can produce. The handshake's session keys are not
    /// derived: we never send data with them. Never throws on bad input.
    /// </summary>
    public static HandshakeError ReadResponse(HandshakeKeys keys, HandshakeInitiation initiation, ReadOnlySpan<byte> message)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(initiation);
        if (message.Length != ResponseSize)
            return HandshakeError.WrongSize;
        if (!TryReadReceiver(message, out var type, out var receiver) || type != ResponseType)
            return HandshakeError.WrongType;
        if (receiver != initiation.SenderIndex)
            return HandshakeError.NotOurs;
        Span<byte> mac1 = stackalloc byte[Noise.MacSize];
        Noise.Mac(keys.Mac1KeyOurs, message[..60], mac1);
        if (!CryptographicOperations.FixedTimeEquals(mac1, message.Slice(60, 16)))
            return HandshakeError.BadMac1;

        var ephemeral = message.Slice(12, 32);
        var hash = Noise.Hash(initiation.Hash, ephemeral);
        var chainingKey = Noise.Kdf(initiation.ChainingKey, ephemeral, 1)[0];
        if (Noise.Dh(initiation.Ephemeral, ephemeral) is not { } ee || Noise.Dh(keys.Private, ephemeral) is not { } se)
            return HandshakeError.BadEphemeral;
        chainingKey = Noise.Kdf(chainingKey, ee, 1)[0];
        chainingKey = Noise.Kdf(chainingKey, se, 1)[0];
        var k = Noise.Kdf(chainingKey, keys.PresharedKey, 3);
        hash = Noise.Hash(hash, k[1]);
        return Noise.Open(k[2], message.Slice(44, 16), hash, []) ? HandshakeError.None : HandshakeError.BadPayload;
    }

    /// <summary>The cookie in a cookie reply to <paramref name="initiation"/> (16 bytes into <paramref name="cookie"/>).</summary>
    public static HandshakeError ReadCookieReply(HandshakeKeys keys, HandshakeInitiation initiation, ReadOnlySpan<byte> message, Span<byte> cookie)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(initiation);
        if (message.Length != CookieReplySize)
            return HandshakeError.WrongSize;
        if (!TryReadReceiver(message, out var type, out var receiver) || type != CookieReplyType)
            return HandshakeError.WrongType;
        if (receiver != initiation.SenderIndex)
            return HandshakeError.NotOurs;
        return Noise.XOpen(keys.CookieKey, message.Slice(8, 24), message.Slice(32, 32), initiation.Mac1, cookie[..CookieSize])
            ? HandshakeError.None
            : HandshakeError.BadCookie;
    }
}
