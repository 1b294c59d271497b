namespace WgRouted.Integrations.Netlink;

/// <summary>Links, addresses, routes and rules of one network namespace at one moment.</summary>
public sealed record HostSnapshot(IReadOnlyList<Link> Links, IReadOnlyList<Address> Addresses, IReadOnlyList<Route> Routes, IReadOnlyList<Rule> Rules)
{
    /// <summary>Same objects, in any order.</summary>
    public bool SetEquals(HostSnapshot other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Same(Links, other.Links) && Same(Addresses, other.Addresses) && Same(Routes, other.Routes) && Same(Rules, other.Rules);
    }

    private static bool Same<T>(IReadOnlyList<T> a, IReadOnlyList<T> b) => a.Count == b.Count && new HashSet<T>(a).SetEquals(b);
}
