using System.Buffers.Binary;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace WgRouted.Lab.Attacker;

/// <summary>
/// A WireGuard handshake initiation (the first message of Noise_IKpsk2, as the WireGuard paper's section 5.4.2 writes
/// it): whoever holds a peer's private key can send one from any source, and the responder takes that source as the
/// peer's endpoint (WireGuard's roaming). No cookie (mac2 zero): the responder is not under load.
/// </summary>
internal static class Initiation
{
    public const int Size = 148;

    private static ReadOnlySpan<byte> Construction => "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"u8;
    private static ReadOnlySpan<byte> Identifier => "WireGuard v1 zx2c4 Jason@zx2c4.com"u8;
    private static ReadOnlySpan<byte> LabelMac1 => "mac1----"u8;
    /// <summary>TAI64 labels a second by 2^62 plus the seconds since 1970 (TAI, 10 s ahead of UTC then).</summary>
    private const ulong Tai64Base = 0x400000000000000a;

    private static readonly SecureRandom Random = new();

    public static byte[] Create(byte[] ourPrivate, byte[] ourPublic, byte[] theirPublic, uint senderIndex, DateTimeOffset now)
    {
        var msg = new byte[Size];
        msg[0] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(msg.AsSpan(4), senderIndex);

        var chainingKey = Hash(Construction);
        var hash = Hash(Hash(chainingKey, Identifier), theirPublic);

        var ephemeral = new X25519PrivateKeyParameters(Random);
        ephemeral.GeneratePublicKey().Encode(msg, 8);
        var ephemeralPublic = msg.AsSpan(8, 32);
        hash = Hash(hash, ephemeralPublic);
        chainingKey = Kdf(chainingKey, ephemeralPublic, 1)[0];

        var k = Kdf(chainingKey, Dh(ephemeral, theirPublic), 2);
        chainingKey = k[0];
        Seal(k[1], ourPublic, hash, msg.AsSpan(40, 32 + 16));
        hash = Hash(hash, msg.AsSpan(40, 48));

        k = Kdf(chainingKey, Dh(new X25519PrivateKeyParameters(ourPrivate), theirPublic), 2);
        Seal(k[1], Tai64N(now), hash, msg.AsSpan(88, 12 + 16));

        var mac1 = new Blake2sDigest(Hash(LabelMac1, theirPublic), 16, null, null);
        mac1.BlockUpdate(msg, 0, 116);
        mac1.DoFinal(msg, 116);
        return msg;
    }

    private static byte[] Hash(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b = default)
    {
        var digest = new Blake2sDigest(256);
        digest.BlockUpdate(a);
        digest.BlockUpdate(b);
        var result = new byte[32];
        digest.DoFinal(result);
        return result;
    }

    private static byte[] Hmac(byte[] key, ReadOnlySpan<byte> data)
    {
        var hmac = new HMac(new Blake2sDigest(256));
        hmac.Init(new KeyParameter(key));
        hmac.BlockUpdate(data);
        var result = new byte[32];
        hmac.DoFinal(result);
        return result;
    }

    /// <summary>WireGuard's KDF_n: T0 = HMAC(key, input), T1 = HMAC(T0, 0x1), T2 = HMAC(T0, T1 || 0x2).</summary>
    private static byte[][] Kdf(byte[] key, ReadOnlySpan<byte> input, int n)
    {
        var t0 = Hmac(key, input);
        var t1 = Hmac(t0, [1]);
        return n == 1 ? [t1] : [t1, Hmac(t0, [.. t1, 2])];
    }

    private static byte[] Dh(X25519PrivateKeyParameters ours, byte[] theirPublic)
    {
        var shared = new byte[32];
        ours.GenerateSecret(new X25519PublicKeyParameters(theirPublic), shared, 0);
        return shared;
    }

    /// <summary>ChaCha20-Poly1305 with counter 0 (the nonce: 4 zero bytes, then the counter little-endian).</summary>
    private static void Seal(byte[] key, ReadOnlySpan<byte> plaintext, byte[] associated, Span<byte> destination)
    {
        using var aead = new ChaCha20Poly1305(key);
        aead.Encrypt(new byte[12], plaintext, destination[..plaintext.Length], destination[plaintext.Length..], associated);
    }

    private static byte[] Tai64N(DateTimeOffset now)
    {
        var stamp = new byte[12];
        var ticks = now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        BinaryPrimitives.WriteUInt64BigEndian(stamp, Tai64Base + (ulong)(ticks / TimeSpan.TicksPerSecond));
        BinaryPrimitives.WriteUInt32BigEndian(stamp.AsSpan(8), (uint)(ticks % TimeSpan.TicksPerSecond * 100));
        return stamp;
    }
}
