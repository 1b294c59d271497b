using Org.BouncyCastle.Crypto.Parameters;

namespace WgRouted.Engine.Handshake;

/// <summary>
/// What an initiator needs of the keys to handshake with one peer: our static key pair, the peer's public key and the
/// preshared key (32 zero bytes when there is none, as WireGuard uses), with what depends only on them computed once.
/// Holds secrets: never logged, stored or traced (ToString says nothing of them).
/// </summary>
public sealed class HandshakeKeys
{
    public const int KeySize = 32;

    internal X25519PrivateKeyParameters Private { get; }
    public PeerKey Us { get; }
    public PeerKey Peer { get; }
    internal byte[] PresharedKey { get; }
    /// <summary>DH(our static, their static): the same for every initiation.</summary>
    internal byte[] StaticStatic { get; }
    /// <summary>HASH(HASH(HASH(CONSTRUCTION) || IDENTIFIER) || their public): the initiation's first hash.</summary>
    internal byte[] InitialHash { get; }
    internal byte[] InitialChainingKey { get; }
    /// <summary>mac1 keys: HASH("mac1----" || public key) of the receiver: theirs for ours, ours for theirs.</summary>
    internal byte[] Mac1KeyTheirs { get; }
    internal byte[] Mac1KeyOurs { get; }
    /// <summary>HASH("cookie--" || their public): decrypts their cookie replies.</summary>
    internal byte[] CookieKey { get; }

    /// <exception cref="ArgumentException">A key of the wrong size, or a peer key giving an all-zero shared secret.</exception>
    public HandshakeKeys(ReadOnlySpan<byte> ourPrivate, PeerKey peer, ReadOnlySpan<byte> presharedKey)
    {
        if (ourPrivate.Length != KeySize)
            throw new ArgumentException($"a WireGuard private key has {KeySize} bytes, not {ourPrivate.Length}", nameof(ourPrivate));
        if (presharedKey.Length is not (0 or KeySize))
            throw new ArgumentException($"a preshared key has {KeySize} bytes, not {presharedKey.Length}", nameof(presharedKey));
        Private = new X25519PrivateKeyParameters(ourPrivate.ToArray());
        Us = PeerKey.FromBytes(Private.GeneratePublicKey().GetEncoded());
        Peer = peer;
        PresharedKey = presharedKey.Length == 0 ? new byte[KeySize] : presharedKey.ToArray();
        var theirs = peer.ToBytes();
        StaticStatic = Noise.Dh(Private, theirs)
            ?? throw new ArgumentException("the peer's public key gives an all-zero shared secret", nameof(peer));
        InitialChainingKey = Noise.Hash(Noise.Construction);
        InitialHash = Noise.Hash(Noise.Hash(InitialChainingKey, Noise.Identifier), theirs);
        Mac1KeyTheirs = Noise.Hash(Noise.LabelMac1, theirs);
        Mac1KeyOurs = Noise.Hash(Noise.LabelMac1, Us.ToBytes());
        CookieKey = Noise.Hash(Noise.LabelCookie, theirs);
    }

    /// <summary>Whether these keys were made with this preshared key (empty: none), in constant time.</summary>
    public bool IsFor(PeerKey us, ReadOnlySpan<byte> presharedKey) =>
        us == Us && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            presharedKey.Length == 0 ? new byte[KeySize] : presharedKey, PresharedKey);

    public override string ToString() => $"handshake keys {Us.Base64} -> {Peer.Base64}";
}
