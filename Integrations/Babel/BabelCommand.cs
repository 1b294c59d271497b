using System.Globalization;
using System.Text;

namespace WgRouted.Integrations.Babel;

/// <summary>
/// One command line for babeld's control socket. Built only from validated parts: no name or value can carry a
/// space, a newline or babeld's comment character '#' and so become another field or another command.
/// </summary>
public sealed record BabelCommand
{
    /// <summary>babeld reads a command into 1024 bytes and drops a client whose line does not fit (LOCAL_BUFSIZE).</summary>
    private const int MaxLineBytes = 1024;

    /// <summary>IFNAMSIZ less the terminating NUL.</summary>
    private const int MaxInterfaceName = 15;

    /// <summary>configuration.c: hello-interval and update-interval at most 10 * 0xFFFF ms.</summary>
    private const long MaxIntervalMs = 10 * 0xFFFF;

    private BabelCommand(string text)
    {
        if (Encoding.UTF8.GetByteCount(text) + 1 > MaxLineBytes)
            throw new ArgumentException($"a babeld command line is at most {MaxLineBytes} bytes: '{text[..40]}...'", nameof(text));
        Text = text;
    }

    /// <summary>The line without its '\n'.</summary>
    public string Text { get; }

    /// <summary>Writes every interface, neighbour, xroute and route as `add` lines, then `ok`.</summary>
    public static BabelCommand Dump { get; } = new("dump");

    /// <summary>Like dump, then every change as it happens.</summary>
    public static BabelCommand Monitor { get; } = new("monitor");

    public static BabelCommand Unmonitor { get; } = new("unmonitor");

    /// <summary>babeld closes the connection without a reply.</summary>
    public static BabelCommand Quit { get; } = new("quit");

    /// <summary>`interface NAME [type T] [enable-timestamps B] [hello-interval S] ...` in a fixed order.</summary>
    /// <exception cref="ArgumentException">A name babeld or Linux would not take, or a value outside babeld's range.</exception>
    public static BabelCommand Interface(string name, BabelInterfaceConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!IsInterfaceName(name))
            throw new ArgumentException($"'{name}' is not an interface name (1..{MaxInterfaceName} printable ASCII characters, none of / : # \")", nameof(name));
        var text = new StringBuilder("interface ").Append(name);
        if (config.Type is { } type)
            Append(text, "type", type switch
            {
                BabelInterfaceType.Auto => "auto",
                BabelInterfaceType.Wired => "wired",
                BabelInterfaceType.Wireless => "wireless",
                BabelInterfaceType.Tunnel => "tunnel",
                _ => throw new ArgumentOutOfRangeException(nameof(config), type, "unknown interface type"),
            });
        if (config.EnableTimestamps is { } timestamps)
            Append(text, "enable-timestamps", timestamps ? "true" : "false");
        if (config.HelloInterval is { } hello)
            Append(text, "hello-interval", Thousands(WholeUnits(hello, TimeSpan.TicksPerMillisecond, 1, MaxIntervalMs, "hello-interval", "milliseconds")));
        if (config.UpdateInterval is { } update)
            Append(text, "update-interval", Thousands(WholeUnits(update, TimeSpan.TicksPerMillisecond, 1, MaxIntervalMs, "update-interval", "milliseconds")));
        if (config.RxCost is { } rxcost)
            Append(text, "rxcost", Checked(rxcost, 1, 0xFFFF, "rxcost"));
        if (config.RttDecay is { } decay)
            Append(text, "rtt-decay", Checked(decay, 1, 256, "rtt-decay"));
        if (config is { RttMin: { } min, RttMax: { } max } && max <= min)
            // babeld would warn and quietly use rtt-min + 10 ms (interface.c).
            throw new ArgumentException($"rtt-max {max.TotalMilliseconds} ms is not above rtt-min {min.TotalMilliseconds} ms", nameof(config));
        if (config.RttMin is { } rttMin)
            Append(text, "rtt-min", Thousands(WholeUnits(rttMin, TimeSpan.TicksPerMicrosecond, 1, int.MaxValue, "rtt-min", "microseconds")));
        if (config.RttMax is { } rttMax)
            Append(text, "rtt-max", Thousands(WholeUnits(rttMax, TimeSpan.TicksPerMicrosecond, 1, int.MaxValue, "rtt-max", "microseconds")));
        if (config.MaxRttPenalty is { } penalty)
            Append(text, "max-rtt-penalty", Checked(penalty, 1, 0xFFFF, "max-rtt-penalty"));
        return new BabelCommand(text.ToString());
    }

    /// <summary>
    /// What Linux takes as a name (dev_valid_name) and babeld reads as one word (getword stops at white space and
    /// '#', refuses a leading '"'), in printable ASCII.
    /// </summary>
    public static bool IsInterfaceName(string? name) =>
        name is { Length: >= 1 and <= MaxInterfaceName } && name != "." && name != ".."
        && name.All(c => c is > ' ' and < '\x7f' and not ('/' or ':' or '#' or '"'));

    /// <summary>The line and its '\n', as sent.</summary>
    public byte[] ToBytes() => Encoding.UTF8.GetBytes(Text + "\n");

    public override string ToString() => Text;

    private static void Append(StringBuilder text, string key, string value) => text.Append(' ').Append(key).Append(' ').Append(value);

    private static string Checked(int value, int min, int max, string key) =>
        value >= min && value <= max
            ? value.ToString(CultureInfo.InvariantCulture)
            : throw new ArgumentOutOfRangeException(key, value, $"{key} is {min}..{max}");

    private static long WholeUnits(TimeSpan span, long ticksPerUnit, long min, long max, string key, string unit)
    {
        if (span.Ticks % ticksPerUnit != 0)
            throw new ArgumentOutOfRangeException(key, span, $"{key} is whole {unit}");
        var units = span.Ticks / ticksPerUnit;
        return units >= min && units <= max
            ? units
            : throw new ArgumentOutOfRangeException(key, span, $"{key} is {min}..{max} {unit}");
    }

    /// <summary>parse_thousands' input: an integer with up to three decimals, here without trailing zeros.</summary>
    private static string Thousands(long value)
    {
        var whole = (value / 1000).ToString(CultureInfo.InvariantCulture);
        return value % 1000 == 0 ? whole : $"{whole}.{(value % 1000).ToString("000", CultureInfo.InvariantCulture).TrimEnd('0')}";
    }
}
