namespace WgRouted.Engine.Probe;

/// <summary>Why a probe packet was dropped. The codec reports the first eight; <see cref="ProbeGuard"/> the last three.</summary>
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
        _ => "unknown error",
    };
}
