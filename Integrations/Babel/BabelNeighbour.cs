using System.Net;

namespace WgRouted.Integrations.Babel;

/// <summary>
/// `neighbour ID address LL if NAME reach %04x ureach %04x rxcost N txcost N[ rtt MS rttcost N] cost N`.
/// </summary>
/// <param name="Id">babeld's pointer to the neighbour: unique while babeld runs, meaningless after a restart.</param>
/// <param name="Reach">Multicast hello history, one bit a hello, newest first.</param>
/// <param name="UReach">Unicast hello history.</param>
/// <param name="Rtt">Smoothed RTT (timestamps, RFC 9616): null unless the last sample is under 180 s old
/// (valid_rtt in neighbour.c), so a neighbour that never had timestamps on has none.</param>
/// <param name="RttCost">The cost the RTT adds (0 below rtt-min, max-rtt-penalty above rtt-max); null with Rtt.</param>
/// <param name="Cost">The link cost babeld uses; 65535 is infinity (unreachable).</param>
public sealed record BabelNeighbour(
    string Id,
    IPAddress Address,
    string Interface,
    ushort Reach,
    ushort UReach,
    int RxCost,
    int TxCost,
    TimeSpan? Rtt,
    int? RttCost,
    int Cost) : BabelObject
{
    public override string Key => $"neighbour {Id}";
}
