namespace WgRouted.Engine.Probe;

/// <summary>
/// Why a probe packet was dropped. The codec reports Truncated to BadMac; <see cref="ProbeGuard"/> and
/// <see cref="MoveGuard"/> Stale to MoveNotNewer; the responder MoveToAnotherPeersEndpoint.
/// </summary>
public enum ProbeError
{
    None,
    Truncated,
    Oversized,
    BadMagic,
    BadVersion,
    UnknownType,
    NotPadded,
    Malformed,
    UnknownSender,
    BadMac,
    Stale,
    FutureDated,
    Replayed,
    MoveFromAnotherAddress,
    MoveNotNewer,
    MoveToAnotherPeersEndpoint,
}

public static class ProbeErrors
{
    /// <summary>A fixed sentence per error (no allocation: dropped packets can come in floods).</summary>
    public static string Describe(this ProbeError error) => error switch
    {
        ProbeError.None => "no error",
        ProbeError.Truncated => "shorter than its type's size",
        ProbeError.Oversized => "longer than its type's size",
        ProbeError.BadMagic => "not a WgRouted probe (magic)",
        ProbeError.BadVersion => "unsupported probe version",
        ProbeError.UnknownType => "unknown message type",
        ProbeError.NotPadded => "request not padded to the request size",
        ProbeError.Malformed => "reserved bits, padding or an address field not as specified",
        ProbeError.UnknownSender => "sender's public key is not a configured peer",
        ProbeError.BadMac => "MAC does not match",
        ProbeError.Stale => "timestamp older than the freshness bound",
        ProbeError.FutureDated => "timestamp further ahead than the freshness bound",
        ProbeError.Replayed => "sequence number already seen or behind the replay window",
        ProbeError.MoveFromAnotherAddress => "move request from an address other than the one it asks for",
        ProbeError.MoveNotNewer => "move request not newer than the last one followed from its sender",
        ProbeError.MoveToAnotherPeersEndpoint => "move request for another peer's endpoint",
        _ => "unknown error",
    };
}
