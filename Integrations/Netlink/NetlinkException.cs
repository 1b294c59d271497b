using System.Runtime.InteropServices;

namespace WgRouted.Integrations.Netlink;

/// <summary>A netlink request the kernel refused, or a socket call that failed.</summary>
public sealed class NetlinkException : Exception
{
    public NetlinkException(string request, int errno, string? kernelMessage = null)
        : base(Describe(request, errno, kernelMessage))
    {
        Request = request;
        Errno = errno;
    }

    public NetlinkException() { Request = ""; }

    public NetlinkException(string message) : base(message) { Request = ""; }

    public NetlinkException(string message, Exception inner) : base(message, inner) { Request = ""; }

    public string Request { get; }

    public int Errno { get; }

    private static string Describe(string request, int errno, string? kernelMessage) =>
        $"{request} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})"
        + (string.IsNullOrEmpty(kernelMessage) ? "" : $": {kernelMessage}");
}
