using System.Net;
using System.Net.Sockets;

namespace WgRouted.Engine;

/// <summary>One way to reach a peer: our source address and the peer's endpoint, of the same family.</summary>
public readonly record struct CandidatePath
{
    public IPAddress Src { get; }
    public Endpoint Dst { get; }

    public CandidatePath(IPAddress src, Endpoint dst)
    {
        ArgumentNullException.ThrowIfNull(src);
        if (src.IsIPv4MappedToIPv6)
            src = src.MapToIPv4();
        if (src.AddressFamily != dst.Family)
            throw new ArgumentException($"source {src} and destination {dst} are of different families", nameof(src));
        Src = src;
        Dst = dst;
    }

    public AddressFamily Family => Src.AddressFamily;

    public bool Equals(CandidatePath other) => AddressComparer.Same(Src, other.Src) && Dst.Equals(other.Dst);

    public override int GetHashCode() => HashCode.Combine(Src, Dst);

    public override string ToString() => $"{Src} -> {Dst}";
}
