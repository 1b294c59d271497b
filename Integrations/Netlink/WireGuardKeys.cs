using Org.BouncyCastle.Crypto.Parameters;

namespace WgRouted.Integrations.Netlink;

public static class WireGuardKeys
{
    /// <summary>The X25519 public key of a private key (UAPI returns the private key alone).</summary>
    public static byte[] PublicKey(ReadOnlySpan<byte> privateKey) =>
        privateKey.Length == 32
            ? new X25519PrivateKeyParameters(privateKey.ToArray()).GeneratePublicKey().GetEncoded()
            : throw new ArgumentException($"a WireGuard private key has 32 bytes, not {privateKey.Length}", nameof(privateKey));
}
