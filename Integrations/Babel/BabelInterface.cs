using System.Net;

namespace WgRouted.Integrations.Babel;

/// <summary>
/// `interface NAME up true[ ipv6 LL][ ipv4 A]` or `interface NAME up false`. Ipv6 is the interface's first
/// link-local address and Ipv4 its first IPv4 address, both written only while it is up.
/// </summary>
public sealed record BabelInterface(string Name, bool Up, IPAddress? Ipv4, IPAddress? Ipv6) : BabelObject
{
    public override string Key => KeyOf(Name);

    internal static string KeyOf(string name) => $"interface {name}";
}
