using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace WgRouted.Integrations.Babel;

// babeld's local control protocol, as local.c writes it (unchanged from 1.9.0 to 1.14). One line each, '\n'-ended,
// words separated by one space:
//
//   greeting   BABEL 1.0 / version babeld-1.12.1 / host NAME / my-id xx:xx:xx:xx:xx:xx:xx:xx / ok
//   replies    ok | no[ MESSAGE] | bad                       one per command line, after the lines it produced
//   KIND       add | change | flush
//   KIND interface NAME up true[ ipv6 LL][ ipv4 A]  |  KIND interface NAME up false
//   KIND neighbour ID address LL if NAME reach %04x ureach %04x rxcost %u txcost %u[ rtt MS rttcost %u] cost %u
//   KIND xroute PREFIX-FROM prefix P from P metric %d
//   KIND route ID prefix P from P installed yes|no id ROUTER-ID metric %d refmetric %d via LL if NAME
//
// ID is babeld's pointer to the object (%lx). MS is milliseconds with three decimals (format_thousands of
// microseconds). Prefixes and addresses are inet_ntop forms, IPv4 ones unmapped. 65535 is infinity.
// After the object's name or id, fields are key-value pairs: an unknown key is skipped with its value, so a
// newer babeld adding one does not break parsing.

/// <summary>Parses babeld's control socket lines. Stateless, thread-safe, never throws on bad input.</summary>
public static class BabelCodec
{
    /// <summary>babeld formats every line it writes into 512 bytes (local.c); anything longer is not babeld's.</summary>
    public const int MaxLineBytes = 1024;

    /// <summary>Parses one line, without its '\n'. Bad input gives a <see cref="BabelInvalidLine"/>, a line of an
    /// unknown kind a <see cref="BabelUnknownLine"/>.</summary>
    public static BabelLine Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (line.Length == 0)
            return new BabelInvalidLine(line, "empty line");
        if (line.Length > MaxLineBytes)
            return new BabelInvalidLine(line, $"longer than {MaxLineBytes} characters");
        if (line.AsSpan().IndexOfAnyInRange('\0', '\x1f') >= 0 || line.Contains('\x7f', StringComparison.Ordinal))
            return new BabelInvalidLine(line, "control character");

        var space = line.IndexOf(' ', StringComparison.Ordinal);
        var first = space < 0 ? line : line[..space];
        var rest = space < 0 ? null : line[(space + 1)..];
        switch (first)
        {
            case "ok":
                return rest is null ? BabelReply.Ok : new BabelInvalidLine(line, "'ok' followed by text");
            case "no":
                return new BabelReply(BabelReplyKind.No, rest);
            case "bad":
                return new BabelReply(BabelReplyKind.Bad, rest);
            case "BABEL":
                return rest is { Length: > 0 } && !rest.Contains(' ', StringComparison.Ordinal)
                    ? new BabelProtocol(rest)
                    : new BabelInvalidLine(line, "'BABEL' without one protocol version");
            case "version":
                return rest is { Length: > 0 } ? new BabelVersion(rest) : new BabelInvalidLine(line, "'version' without a value");
            case "host":
                return rest is not null ? new BabelHost(rest) : new BabelInvalidLine(line, "'host' without a value");
            case "my-id":
                return BabelRouterId.TryParse(rest, out var myId)
                    ? new BabelMyId(myId)
                    : new BabelInvalidLine(line, $"my-id '{rest}' is not a router-id");
            case "add":
                return ParseNotification(line, BabelNotificationKind.Add);
            case "change":
                return ParseNotification(line, BabelNotificationKind.Change);
            case "flush":
                return ParseNotification(line, BabelNotificationKind.Flush);
            default:
                return new BabelUnknownLine(line);
        }
    }

    private static BabelLine ParseNotification(string line, BabelNotificationKind kind)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 2)
            return new BabelInvalidLine(line, $"'{words[0]}' without an object");
        if (words[1] is not ("interface" or "neighbour" or "route" or "xroute"))
            return new BabelUnknownLine(line);
        if (words.Length < 3)
            return new BabelInvalidLine(line, $"'{words[0]} {words[1]}' without a name or id");
        if ((words.Length - 3) % 2 != 0)
            return new BabelInvalidLine(line, $"field '{words[^1]}' without a value");
        var fields = new Fields(words);
        var name = words[2];
        try
        {
            BabelObject parsed = words[1] switch
            {
                "interface" => ParseInterface(fields, name),
                "neighbour" => ParseNeighbour(fields, name),
                "route" => ParseRoute(fields, name),
                _ => ParseXRoute(fields),
            };
            return new BabelNotification(kind, parsed);
        }
        catch (FieldException e)
        {
            return new BabelInvalidLine(line, e.Message);
        }
    }

    private static BabelInterface ParseInterface(Fields f, string name)
    {
        var up = f.Boolean("up", "true", "false");
        return new BabelInterface(name, up, f.OptionalAddress("ipv4", AddressFamily.InterNetwork),
            f.OptionalAddress("ipv6", AddressFamily.InterNetworkV6));
    }

    private static BabelNeighbour ParseNeighbour(Fields f, string id)
    {
        f.CheckId("neighbour", id);
        var rtt = f.Optional("rtt");
        var rttCost = f.Optional("rttcost");
        return new BabelNeighbour(id, f.Address("address"), f.Required("if"), f.Reach("reach"), f.Reach("ureach"),
            f.Number("rxcost"), f.Number("txcost"), rtt is null ? null : Fields.Milliseconds("rtt", rtt),
            rttCost is null ? null : Fields.Number("rttcost", rttCost), f.Number("cost"));
    }

    private static BabelRoute ParseRoute(Fields f, string id)
    {
        f.CheckId("route", id);
        var routerId = f.Required("id");
        if (!BabelRouterId.TryParse(routerId, out var origin))
            throw new FieldException($"id '{routerId}' is not a router-id");
        return new BabelRoute(id, f.Prefix("prefix"), f.Prefix("from"), f.Boolean("installed", "yes", "no"), origin,
            f.Number("metric"), f.Number("refmetric"), f.Address("via"), f.Required("if"));
    }

    private static BabelXRoute ParseXRoute(Fields f) => new(f.Prefix("prefix"), f.Prefix("from"), f.Number("metric"));

    private sealed class FieldException(string message) : Exception(message);

    /// <summary>The key-value pairs after an object's name or id (words[3..]).</summary>
    private readonly struct Fields(string[] words)
    {
        public string? Optional(string key)
        {
            // Babel lines have at most a dozen fields: a scan beats building a dictionary.
            for (var i = 3; i + 1 < words.Length; i += 2)
                if (words[i] == key)
                    return words[i + 1];
            return null;
        }

        public string Required(string key) => Optional(key) ?? throw new FieldException($"no '{key}' field");

        public void CheckId(string kind, string id)
        {
            if (id.Length is < 1 or > 16 || !id.All(char.IsAsciiHexDigit))
                throw new FieldException($"{kind} id '{id}' is not a hexadecimal pointer");
        }

        public bool Boolean(string key, string yes, string no)
        {
            var value = Required(key);
            if (value == yes)
                return true;
            if (value == no)
                return false;
            throw new FieldException($"{key} '{value}' is not {yes} or {no}");
        }

        public int Number(string key) => Number(key, Required(key));

        public static int Number(string key, string value) =>
            int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? n
                : throw new FieldException($"{key} '{value}' is not a non-negative integer");

        public ushort Reach(string key)
        {
            var value = Required(key);
            return value.Length == 4 && ushort.TryParse(value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var r)
                ? r
                : throw new FieldException($"{key} '{value}' is not 4 hexadecimal digits");
        }

        /// <summary>format_thousands: "%u.%03u" of microseconds, read as milliseconds.</summary>
        public static TimeSpan Milliseconds(string key, string value)
        {
            var dot = value.IndexOf('.', StringComparison.Ordinal);
            if (dot is < 1 or > 9 || value.Length - dot != 4
                || !int.TryParse(value.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
                || !int.TryParse(value.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var us))
                throw new FieldException($"{key} '{value}' is not milliseconds with three decimals");
            return TimeSpan.FromTicks((ms * 1000L + us) * TimeSpan.TicksPerMicrosecond);
        }

        public IPAddress Address(string key)
        {
            var value = Required(key);
            return TryAddress(value, out var address) ? address : throw new FieldException($"{key} '{value}' is not an IP address");
        }

        public IPAddress? OptionalAddress(string key, AddressFamily family)
        {
            var value = Optional(key);
            if (value is null)
                return null;
            return TryAddress(value, out var address) && address.AddressFamily == family
                ? address
                : throw new FieldException($"{key} '{value}' is not an {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address");
        }

        public IPNetwork Prefix(string key)
        {
            var value = Required(key);
            var slash = value.IndexOf('/', StringComparison.Ordinal);
            if (slash > 0 && TryAddress(value[..slash], out var address)
                && int.TryParse(value.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var length)
                && length <= (address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)
                && IPNetwork.TryParse(value, out var prefix) && prefix.BaseAddress.Equals(address))
                return prefix; // .NET 10's TryParse masks host bits away: babeld never writes any.
            throw new FieldException($"{key} '{value}' is not a prefix (address/length, no host bits)");
        }

        /// <summary>inet_ntop forms only: IPAddress.TryParse also takes "10.1" (inet_aton) and scope ids.</summary>
        private static bool TryAddress(string text, [NotNullWhen(true)] out IPAddress? address)
        {
            if (IPAddress.TryParse(text, out address) && !text.Contains('%', StringComparison.Ordinal)
                && (address.AddressFamily == AddressFamily.InterNetworkV6 || address.ToString() == text))
                return true;
            address = null;
            return false;
        }
    }
}
