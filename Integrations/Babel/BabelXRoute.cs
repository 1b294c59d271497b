using System.Net;

namespace WgRouted.Integrations.Babel;

/// <summary>`xroute PREFIX-FROM prefix P from P metric N`: a route this babeld redistributes (a local address or
/// a kernel route its redistribute filters let through).</summary>
public sealed record BabelXRoute(IPNetwork Prefix, IPNetwork From, int Metric) : BabelObject
{
    public override string Key => $"xroute {Prefix}-{From}";
}
