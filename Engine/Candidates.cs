using System.Net;
using System.Net.Sockets;

namespace WgRouted.Engine;

public static class Candidates
{
    /// <summary>
    /// Crosses the peer's resolved endpoints with the host's usable source addresses, same family only.
    /// Loopback, link-local and multicast sources cannot carry a tunnel to a remote peer.
    /// </summary>
    public static IReadOnlyList<Candidate> Cross(IEnumerable<(int Order, Endpoint Dst)> endpoints, IEnumerable<IPAddress> sources)
    {
        // An IPv4-mapped source (::ffff:a.b.c.d) is an IPv4 source: CandidatePath maps it, so compare families after mapping.
        var usable = sources.Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a)
            .Where(IsUsableSource).Distinct().OrderBy(a => a, AddressComparer.Instance).ToList();
        var result = new List<Candidate>();
        var seen = new HashSet<CandidatePath>();
        // A destination listed twice (a literal and a name resolving to it) keeps its first position.
        foreach (var (order, dst) in endpoints.Distinct().OrderBy(e => e.Order).ThenBy(e => e.Dst.Address, AddressComparer.Instance).ThenBy(e => e.Dst.Port))
            foreach (var src in usable)
                if (src.AddressFamily == dst.Family && seen.Add(new CandidatePath(src, dst)))
                    result.Add(new Candidate(new CandidatePath(src, dst), order));
        return result;
    }

    public static bool IsUsableSource(IPAddress address) =>
        !IPAddress.IsLoopback(address)
        && !address.IsIPv6LinkLocal
        && !address.IsIPv6Multicast
        && !address.Equals(IPAddress.Any)
        && !address.Equals(IPAddress.IPv6Any)
        && !(address.AddressFamily == AddressFamily.InterNetwork && address.GetAddressBytes() is [169, 254, ..] or [>= 224, ..]);
}
