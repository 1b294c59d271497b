using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace WgRouted.Service.Replay;

internal static partial class IncidentSvg
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static XElement El(string name, params object?[] content) => new(Svg + name, content);

    private static XAttribute A(string name, double value) => new(name, Num(value, 2));

    private static XAttribute A(string name, string value) => new(name, value);

    private static XElement Title(string text) => El("title", text);

    private static string Num(double value, int decimals) =>
        Math.Round(value, decimals).ToString("0." + new string('#', decimals), CultureInfo.InvariantCulture);

    /// <summary>Caller text made safe for XML 1.0: characters it cannot carry (controls, lone surrogates) become U+FFFD.</summary>
    /// <remarks>LINQ to XML escapes markup but throws on such characters rather than replacing them.</remarks>
    private static string Clean(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return "";
        var sb = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (i + 1 < text.Length && XmlConvert.IsXmlSurrogatePair(text[i + 1], text[i]))
                sb.Append(text, i++, 2);
            else
                sb.Append(XmlConvert.IsXmlChar(text[i]) ? text[i] : '\uFFFD');
        }
        return sb.ToString();
    }

    private static string Shorten(string text, int max)
    {
        if (text.Length <= max)
            return text;
        var cut = char.IsHighSurrogate(text[max - 2]) ? max - 2 : max - 1;
        return text[..cut] + "…";
    }
}
