using System.Net;

namespace WgRouted.Engine;

/// <summary>Orders addresses by family, then bytes: a total order for deterministic tie-breaks.</summary>
public sealed class AddressComparer : IComparer<IPAddress>
{
    public static readonly AddressComparer Instance = new();

    public int Compare(IPAddress? x, IPAddress? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        var c = x.AddressFamily.CompareTo(y.AddressFamily);
        if (c != 0) return c;
        Span<byte> a = stackalloc byte[16];
        Span<byte> b = stackalloc byte[16];
        x.TryWriteBytes(a, out var na);
        y.TryWriteBytes(b, out var nb);
        c = a[..na].SequenceCompareTo(b[..nb]);
        return c != 0 || x.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6 ? c : x.ScopeId.CompareTo(y.ScopeId);
    }

    /// <summary>
    /// Equal addresses, by reference first: a probe's outcome carries the instances the policy handed the prober, so
    /// the address objects are nearly never read.
    /// </summary>
    public static bool Same(IPAddress? x, IPAddress? y) => ReferenceEquals(x, y) || (x is not null && x.Equals(y));

    public static int Compare(CandidatePath x, CandidatePath y)
    {
        var c = Instance.Compare(x.Src, y.Src);
        if (c != 0) return c;
        c = Instance.Compare(x.Dst.Address, y.Dst.Address);
        return c != 0 ? c : x.Dst.Port.CompareTo(y.Dst.Port);
    }
}
