using Org.BouncyCastle.Crypto.Parameters;
using WgRouted.Engine;
using WgRouted.Engine.Probe;

namespace WgRouted.Lab.Attacker;

/// <summary>A WireGuard private key (a `wg genkey` file) and what it gives towards one peer: our public key, the probe key.</summary>
internal sealed class Identity
{
    private Identity(byte[] privateKey, PeerKey us, PeerKey peer, ProbeKey probeKey)
    {
        PrivateKey = privateKey;
        Us = us;
        Peer = peer;
        ProbeKey = probeKey;
    }

    public byte[] PrivateKey { get; }
    public PeerKey Us { get; }
    public PeerKey Peer { get; }
    public ProbeKey ProbeKey { get; }

    public static Identity Load(string keyFile, PeerKey peer)
    {
        byte[] secret;
        try
        {
            secret = Convert.FromBase64String(File.ReadAllText(keyFile).Trim());
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            throw new UsageException($"--key {keyFile}: {e.Message}");
        }
        if (secret.Length != PeerKey.KeyLength)
            throw new UsageException($"--key {keyFile}: not a WireGuard private key");
        var pub = new byte[PeerKey.KeyLength];
        new X25519PrivateKeyParameters(secret).GeneratePublicKey().Encode(pub);
        return new Identity(secret, PeerKey.FromBytes(pub), peer, ProbeKeys.Derive(secret, pub, peer.ToBytes()));
    }

    /// <summary>The probe key for the peer, for <see cref="ProbeCodec.TryDecode"/>.</summary>
    public ProbeKey? KeyFor(PeerKey sender) => sender == Peer || sender == Us ? ProbeKey : null;
}
