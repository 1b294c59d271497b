using Org.BouncyCastle.Crypto.Parameters;

namespace WgRouted.Engine.Handshake;

/// <summary>
/// An initiation we sent, as much of it as its answer needs: our index, the ephemeral key, the Noise state after the
/// initiation, and its mac1 (a cookie reply is sealed against it). Holds a secret (the ephemeral key): never logged.
/// </summary>
public sealed class HandshakeInitiation
{
    internal HandshakeInitiation(uint senderIndex, X25519PrivateKeyParameters ephemeral, byte[] chainingKey, byte[] hash, byte[] mac1)
    {
        SenderIndex = senderIndex;
        Ephemeral = ephemeral;
        ChainingKey = chainingKey;
        Hash = hash;
        Mac1 = mac1;
    }

    public uint SenderIndex { get; }
    internal X25519PrivateKeyParameters Ephemeral { get; }
    internal byte[] ChainingKey { get; }
    internal byte[] Hash { get; }
    internal byte[] Mac1 { get; }

    public override string ToString() => $"initiation {SenderIndex:x8}";
}
