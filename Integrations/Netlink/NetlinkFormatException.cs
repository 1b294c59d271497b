namespace WgRouted.Integrations.Netlink;

/// <summary>A netlink message that is truncated or otherwise does not parse.</summary>
public sealed class NetlinkFormatException : Exception
{
    public NetlinkFormatException() { }

    public NetlinkFormatException(string message) : base(message) { }

    public NetlinkFormatException(string message, Exception inner) : base(message, inner) { }
}
