using System.Diagnostics.CodeAnalysis;
using System.Net;
using WgRouted.Engine;

namespace WgRouted.Service.Configuration;

/// <summary>A configured endpoint: a literal address or a DNS name (resolved to A and AAAA), a port, and its position.</summary>
public sealed record EndpointSpec(string Host, int Port, int Order, IPAddress? Literal)
{
    public static bool TryParse(string text, int order, [NotNullWhen(true)] out EndpointSpec? spec, [NotNullWhen(false)] out string? error)
    {
        spec = null;
        if (!Endpoint.TrySplitHostPort(text, out var host, out var port, out error))
            return false;
        if (IPAddress.TryParse(host, out var address) && !host.Contains('%', StringComparison.Ordinal))
        {
            spec = new EndpointSpec(host, port, order, address);
            return true;
        }
        if (!IsDnsName(host))
        {
            error = $"'{text}': '{host}' is neither an IP address nor a DNS name";
            return false;
        }
        spec = new EndpointSpec(host, port, order, null);
        return true;
    }

    private static bool IsDnsName(string host) =>
        host.Length is >= 1 and <= 253
        && host.Split('.').All(label => label.Length is >= 1 and <= 63
            && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')
            && label[0] != '-' && label[^1] != '-');

    public override string ToString() => Literal is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
