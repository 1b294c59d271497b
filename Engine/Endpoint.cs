using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace WgRouted.Engine;

/// <summary>A UDP destination: address and port, IPv4 or IPv6.</summary>
public readonly record struct Endpoint
{
    public IPAddress Address { get; }
    public int Port { get; }

    public Endpoint(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (port is < 1 or > 65535)
            throw new ArgumentOutOfRangeException(nameof(port), port, "a UDP port is 1..65535");
        Address = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        Port = port;
    }

    public AddressFamily Family => Address.AddressFamily;

    public bool Equals(Endpoint other) => Port == other.Port && AddressComparer.Same(Address, other.Address);

    public override int GetHashCode() => HashCode.Combine(Address, Port);

    public static Endpoint Parse(string text) =>
        TryParse(text, out var endpoint, out var error) ? endpoint : throw new FormatException(error);

    /// <summary>Parses "198.18.3.2:51820" or "[fd00:3::2]:51820" (literal addresses only).</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out Endpoint endpoint, [NotNullWhen(false)] out string? error)
    {
        endpoint = default;
        if (!TrySplitHostPort(text, out var host, out var port, out error))
            return false;
        if (!IPAddress.TryParse(host, out var address) || host.Contains('%', StringComparison.Ordinal))
        {
            error = $"'{text}': '{host}' is not an IP address";
            return false;
        }
        // IPAddress.TryParse also takes inet_aton forms ("10.1" is 10.0.0.1, "0x7f.1.2.3" is hex): a config
        // typo would silently become another address. Only the dotted quad is an IPv4 endpoint here.
        if (address.AddressFamily == AddressFamily.InterNetwork && address.ToString() != host)
        {
            error = $"'{text}': '{host}' is not a dotted-quad IPv4 address (did you mean {address}?)";
            return false;
        }
        endpoint = new Endpoint(address, port);
        return true;
    }

    /// <summary>Splits "host:port" or "[v6]:port"; the host may be a DNS name.</summary>
    public static bool TrySplitHostPort([NotNullWhen(true)] string? text, [NotNullWhen(true)] out string? host, out int port, [NotNullWhen(false)] out string? error)
    {
        host = null;
        port = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "an endpoint is empty";
            return false;
        }
        int colon;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
            {
                error = $"'{text}' is not [address]:port";
                return false;
            }
            host = text[1..close];
            colon = close + 1;
        }
        else
        {
            colon = text.LastIndexOf(':');
            if (colon <= 0 || text.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                error = $"'{text}' is not host:port (write IPv6 addresses as [address]:port)";
                return false;
            }
            host = text[..colon];
        }
        if (!int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            error = $"'{text}' has no valid port (1..65535)";
            host = null;
            return false;
        }
        error = null;
        return true;
    }

    public override string ToString() =>
        Address is null ? "" :
        Address.AddressFamily == AddressFamily.InterNetworkV6
            ? string.Create(CultureInfo.InvariantCulture, $"[{Address}]:{Port}")
            : string.Create(CultureInfo.InvariantCulture, $"{Address}:{Port}");
}
