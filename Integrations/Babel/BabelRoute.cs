using System.Net;

namespace WgRouted.Integrations.Babel;

/// <summary>
/// `route ID prefix P from P installed yes|no id ROUTER-ID metric N refmetric N via LL if NAME`: a route learnt
/// from a neighbour (one per prefix and neighbour: babeld installs at most one of them).
/// </summary>
/// <param name="Id">babeld's pointer to the route: unique while babeld runs, meaningless after a restart.</param>
/// <param name="From">Source prefix (source-specific routing); ::/0 or 0.0.0.0/0 for an ordinary route.</param>
/// <param name="RouterId">The router that originated the prefix.</param>
/// <param name="Metric">The route's metric through this neighbour; 65535 is infinity (retracted).</param>
/// <param name="RefMetric">The metric the neighbour advertised.</param>
public sealed record BabelRoute(
    string Id,
    IPNetwork Prefix,
    IPNetwork From,
    bool Installed,
    BabelRouterId RouterId,
    int Metric,
    int RefMetric,
    IPAddress Via,
    string Interface) : BabelObject
{
    public override string Key => $"route {Id}";
}
