using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Macs;
using XChaCha20Poly1305 = Org.BouncyCastle.Crypto.Modes.XChaCha20Poly1305;
using Org.BouncyCastle.Crypto.Parameters;

namespace WgRouted.Engine.Handshake;

/// <summary>
/// The primitives of WireGuard's Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s (the WireGuard paper, section 5.4): HASH is
/// BLAKE2s-256, MAC keyed BLAKE2s-128, HMAC over BLAKE2s, KDF_n HKDF-like over that HMAC, AEAD ChaCha20-Poly1305 with
/// a 64-bit little-endian counter after 4 zero bytes, XAEAD XChaCha20-Poly1305. .NET has ChaCha20-Poly1305; X25519,
/// BLAKE2s and XChaCha20-Poly1305 come from BouncyCastle.
/// </summary>
internal static class Noise
{
    public static ReadOnlySpan<byte> Construction => "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"u8;
    public static ReadOnlySpan<byte> Identifier => "WireGuard v1 zx2c4 Jason@zx2c4.com"u8;
    public static ReadOnlySpan<byte> LabelMac1 => "mac1----"u8;
    public static ReadOnlySpan<byte> LabelCookie => "cookie--"u8;

    public const int HashSize = 32;
    public const int MacSize = 16;
    public const int TagSize = 16;

    public static byte[] Hash(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b = default)
    {
        var digest = new Blake2sDigest(256);
        digest.BlockUpdate(a);
        digest.BlockUpdate(b);
        var result = new byte[HashSize];
        digest.DoFinal(result);
        return result;
    }

    public static void Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        var digest = new Blake2sDigest(key.ToArray(), MacSize, null, null);
        digest.BlockUpdate(data);
        digest.DoFinal(destination);
    }

    private static byte[] Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, byte? counter = null)
    {
        var hmac = new HMac(new Blake2sDigest(256));
        hmac.Init(new KeyParameter(key));
        hmac.BlockUpdate(data);
        if (counter is { } c)
            hmac.Update(c);
        var result = new byte[HashSize];
        hmac.DoFinal(result);
        return result;
    }

    /// <summary>KDF_n: T0 = HMAC(key, input), T1 = HMAC(T0, 0x1), Ti = HMAC(T0, Ti-1 || i).</summary>
    public static byte[][] Kdf(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, int n)
    {
        var t0 = Hmac(key, input);
        var result = new byte[n][];
        result[0] = Hmac(t0, [], 1);
        for (var i = 1; i < n; i++)
            result[i] = Hmac(t0, result[i - 1], (byte)(i + 1));
        return result;
    }

    /// <summary>X25519; null for an all-zero result (a low-order public key).</summary>
    public static byte[]? Dh(X25519PrivateKeyParameters ours, ReadOnlySpan<byte> theirPublic)
    {
        var shared = new byte[32];
        try
        {
            ours.GenerateSecret(new X25519PublicKeyParameters(theirPublic), shared);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
        return shared.AsSpan().ContainsAnyExcept((byte)0) ? shared : null;
    }

    public static void Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associated, Span<byte> destination)
    {
        using var aead = new ChaCha20Poly1305(key);
        aead.Encrypt(stackalloc byte[12], plaintext, destination[..plaintext.Length], destination.Slice(plaintext.Length, TagSize), associated);
    }

    public static bool Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> sealedText, ReadOnlySpan<byte> associated, Span<byte> plaintext)
    {
        using var aead = new ChaCha20Poly1305(key);
        try
        {
            aead.Decrypt(stackalloc byte[12], sealedText[..^TagSize], sealedText[^TagSize..], plaintext, associated);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    public static bool XOpen(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> sealedText, ReadOnlySpan<byte> associated, Span<byte> plaintext)
    {
        var aead = new XChaCha20Poly1305();
        aead.Init(false, new AeadParameters(new KeyParameter(key), TagSize * 8, nonce.ToArray(), associated.ToArray()));
        var output = new byte[aead.GetOutputSize(sealedText.Length)];
        try
        {
            var n = aead.ProcessBytes(sealedText, output);
            n += aead.DoFinal(output.AsSpan(n));
            output.AsSpan(0, n).CopyTo(plaintext);
            return n == plaintext.Length;
        }
        catch (Org.BouncyCastle.Crypto.InvalidCipherTextException)
        {
            return false;
        }
    }
}
