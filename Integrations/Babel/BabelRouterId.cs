using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace WgRouted.Integrations.Babel;

/// <summary>A babeld router-id: 8 bytes (a modified EUI-64), written xx:xx:xx:xx:xx:xx:xx:xx (format_eui64).</summary>
public readonly record struct BabelRouterId(ulong Value)
{
    public static BabelRouterId Parse(string text) =>
        TryParse(text, out var id) ? id : throw new FormatException($"'{text}' is not a router-id (8 bytes as xx:xx:xx:xx:xx:xx:xx:xx)");

    public static bool TryParse([NotNullWhen(true)] string? text, out BabelRouterId id)
    {
        id = default;
        if (text is not { Length: 23 })
            return false;
        ulong value = 0;
        for (var i = 0; i < 8; i++)
        {
            if (i > 0 && text[i * 3 - 1] != ':')
                return false;
            if (!byte.TryParse(text.AsSpan(i * 3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
                return false;
            value = value << 8 | b;
        }
        id = new BabelRouterId(value);
        return true;
    }

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, Value);
        return string.Join(':', bytes.ToArray().Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
    }
}
