using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace WgRouted.Integrations.Babel;

/// <summary>The `Babel:Control` setting: `unix:PATH` (local-path-readwrite) or `tcp://ADDRESS:PORT`
/// (local-port-readwrite: babeld listens on [::1] only, so `tcp://[::1]:33123`).</summary>
public static class BabelEndpoint
{
    /// <summary>sun_path holds 108 bytes with its terminating NUL.</summary>
    private const int MaxUnixPath = 107;

    public static EndPoint Parse(string text) =>
        TryParse(text, out var endpoint) ? endpoint : throw new FormatException($"'{text}' is not tcp://ADDRESS:PORT or unix:PATH");

    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out EndPoint? endpoint)
    {
        endpoint = null;
        if (text is null)
            return false;
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            var path = text[5..];
            if (path.Length == 0 || path.Contains('\0', StringComparison.Ordinal) || Encoding.UTF8.GetByteCount(path) > MaxUnixPath)
                return false;
            endpoint = new UnixDomainSocketEndPoint(path);
            return true;
        }
        if (!text.StartsWith("tcp://", StringComparison.Ordinal))
            return false;
        var hostPort = text.AsSpan(6);
        var colon = hostPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostPort[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535)
            return false;
        var host = hostPort[..colon];
        var bracketed = host is ['[', .., ']'];
        if (bracketed)
            host = host[1..^1];
        // Literal addresses only, IPv6 in brackets, IPv4 dotted-quad (IPAddress.TryParse also takes "10.1").
        if (!IPAddress.TryParse(host, out var address) || host.Contains('%')
            || bracketed != (address.AddressFamily == AddressFamily.InterNetworkV6)
            || (!bracketed && address.ToString() != host.ToString()))
            return false;
        endpoint = new IPEndPoint(address, port);
        return true;
    }
}
