namespace WgRouted.Engine.Handshake;

/// <summary>Why a WireGuard handshake message from the network was dropped.</summary>
public enum HandshakeError
{
    None,
    WrongSize,
    WrongType,
    NotOurs,
    BadMac1,
    BadEphemeral,
    BadPayload,
    BadCookie,
}

public static class HandshakeErrors
{
    /// <summary>A fixed sentence per error (no allocation: dropped packets can come in floods).</summary>
    public static string Describe(this HandshakeError error) => error switch
    {
        HandshakeError.None => "no error",
        HandshakeError.WrongSize => "not the size of its message type",
        HandshakeError.WrongType => "not a handshake response or cookie reply, or reserved bytes set",
        HandshakeError.NotOurs => "receiver index is not an initiation of ours",
        HandshakeError.BadMac1 => "mac1 does not match our public key",
        HandshakeError.BadEphemeral => "the responder's ephemeral key gives an all-zero shared secret",
        HandshakeError.BadPayload => "empty payload does not authenticate (not the peer, or another preshared key)",
        HandshakeError.BadCookie => "cookie does not decrypt against our last mac1",
        _ => "unknown error",
    };
}
