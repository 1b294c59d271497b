using System.Globalization;
using System.Net;
using System.Net.Sockets;
using WgRouted.Engine;

namespace WgRouted.Lab.Attacker;

/// <summary>"--name value" pairs. Addresses are checked to be the lab's own (198.18.0.0/15, fd00::/8).</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public static Arguments Parse(ReadOnlySpan<string> args)
    {
        var parsed = new Arguments();
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new UsageException($"expected --option value at '{args[i]}'");
            parsed._values[args[i][2..]] = args[i + 1];
        }
        return parsed;
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string Text(string name) =>
        _values.TryGetValue(name, out var v) ? v : throw new UsageException($"--{name} is required");

    public long Number(string name, long min, long max, long? fallback = null)
    {
        if (!_values.TryGetValue(name, out var text))
            return fallback ?? throw new UsageException($"--{name} is required");
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < min || n > max)
            throw new UsageException($"--{name} '{text}' is not a number in {min}..{max}");
        return n;
    }

    public ulong? Unsigned(string name) =>
        !_values.TryGetValue(name, out var text) ? null
        : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
        : throw new UsageException($"--{name} '{text}' is not an unsigned number");

    public IReadOnlyList<string> List(string name) =>
        _values.TryGetValue(name, out var v) ? v.Split(',', StringSplitOptions.RemoveEmptyEntries) : [];

    public IPAddress Address(string name) => Lab(Text(name), name);

    public IReadOnlyList<IPAddress> Addresses(string name) => [.. List(name).Select(a => Lab(a, name))];

    public Endpoint Endpoint(string name)
    {
        if (!Engine.Endpoint.TryParse(Text(name), out var endpoint, out var error))
            throw new UsageException($"--{name}: {error}");
        Lab(endpoint.Address.ToString(), name);
        return endpoint;
    }

    public PeerKey Key(string name) =>
        PeerKey.TryParse(Text(name), out var key, out var error) ? key : throw new UsageException($"--{name}: {error}");

    private static IPAddress Lab(string text, string name)
    {
        if (!IPAddress.TryParse(text, out var address))
            throw new UsageException($"--{name}: '{text}' is not an IP address");
        if (!IsLab(address))
            throw new UsageException($"--{name}: {address} is not a lab address (198.18.0.0/15, fd00::/8)");
        return address;
    }

    public static bool IsLab(IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out _);
        return address.AddressFamily == AddressFamily.InterNetwork ? b[0] == 198 && (b[1] & 0xfe) == 18 : b[0] == 0xfd;
    }
}
