using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;

namespace WgRouted.Engine.Probe;

public static class ProbeKeys
{
    /// <summary>HKDF info prefix; the two public keys follow it, lower one first.</summary>
    internal static ReadOnlySpan<byte> Label => "WgRouted probe v1"u8;

    /// <summary>
    /// key = HKDF-SHA256(ikm: X25519(ourPrivate, theirPublic), salt: none,
    ///                   info: "WgRouted probe v1" || lower public key || higher public key, 32 bytes).
    /// Both ends get the same key from the WireGuard keys they already hold.
    /// </summary>
    public static ProbeKey Derive(ReadOnlySpan<byte> ourPrivate, ReadOnlySpan<byte> ourPublic, ReadOnlySpan<byte> theirPublic)
    {
        if (ourPrivate.Length != PeerKey.KeyLength)
            throw new ArgumentException($"a WireGuard private key has {PeerKey.KeyLength} bytes, not {ourPrivate.Length}", nameof(ourPrivate));
        if (ourPublic.Length != PeerKey.KeyLength)
            throw new ArgumentException($"a WireGuard public key has {PeerKey.KeyLength} bytes, not {ourPublic.Length}", nameof(ourPublic));
        if (theirPublic.Length != PeerKey.KeyLength)
            throw new ArgumentException($"a WireGuard public key has {PeerKey.KeyLength} bytes, not {theirPublic.Length}", nameof(theirPublic));

        var priv = new X25519PrivateKeyParameters(ourPrivate);
        Span<byte> check = stackalloc byte[PeerKey.KeyLength];
        priv.GeneratePublicKey().Encode(check);
        // A public key from another private key would derive a key the peer never gets: say so here, not as BadMac later.
        if (!CryptographicOperations.FixedTimeEquals(check, ourPublic))
            throw new ArgumentException("ourPublic is not the public key of ourPrivate", nameof(ourPublic));

        Span<byte> shared = stackalloc byte[X25519PrivateKeyParameters.SecretSize];
        Span<byte> key = stackalloc byte[ProbeKey.Length];
        Span<byte> info = stackalloc byte[Label.Length + 2 * PeerKey.KeyLength];
        try
        {
            try
            {
                priv.GenerateSecret(new X25519PublicKeyParameters(theirPublic), shared);
            }
            catch (InvalidOperationException e)
            {
                // BouncyCastle refuses an all-zero secret: their key is a low-order point, not a real peer.
                throw new ArgumentException("theirPublic is a degenerate X25519 key (all-zero shared secret)", nameof(theirPublic), e);
            }
            var ourFirst = ourPublic.SequenceCompareTo(theirPublic) <= 0;
            Label.CopyTo(info);
            (ourFirst ? ourPublic : theirPublic).CopyTo(info[Label.Length..]);
            (ourFirst ? theirPublic : ourPublic).CopyTo(info[(Label.Length + PeerKey.KeyLength)..]);
            HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, key, salt: [], info);
            return ProbeKey.FromBytes(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
