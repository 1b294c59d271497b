using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace WgRouted.Engine.Probe;

/// <summary>
/// Token buckets by source address or by any 128-bit key (an authenticated sender). Time is passed in. Memory is
/// bounded: past <c>maxSources</c> the least recently seen one is forgotten (it comes back with a full bucket).
/// IPv4 sources count per address, IPv6 per /64 (one host may own a whole /64). Not thread-safe.
/// </summary>
public sealed class SourceRateLimiter
{
    private sealed class Bucket
    {
        public UInt128 Source;
        public double Tokens;
        public DateTimeOffset Last;
    }

    private readonly Dictionary<UInt128, LinkedListNode<Bucket>> _buckets = [];
    // Most recently seen first.
    private readonly LinkedList<Bucket> _recent = new();

    public SourceRateLimiter(double perSecond, int burst, int maxSources)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burst);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSources);
        PerSecond = perSecond;
        Burst = burst;
        MaxSources = maxSources;
    }

    public double PerSecond { get; }
    public int Burst { get; }
    public int MaxSources { get; }

    /// <summary>Sources currently tracked (at most <see cref="MaxSources"/>).</summary>
    public int Count => _buckets.Count;

    /// <summary>Takes one token from <paramref name="source"/>'s bucket; false when it is empty.</summary>
    public bool TryAcquire(IPAddress source, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(source);
        return TryAcquire(SourceId(source), now);
    }

    /// <summary>Takes one token from the bucket of <paramref name="id"/> (e.g. the first 16 bytes of a sender's key).</summary>
    public bool TryAcquire(UInt128 id, DateTimeOffset now)
    {
        if (_buckets.TryGetValue(id, out var node))
        {
            _recent.Remove(node);
            var bucket = node.Value;
            // A clock stepping back refills nothing.
            var elapsed = Math.Max(0, (now - bucket.Last).TotalSeconds);
            bucket.Tokens = Math.Min(Burst, bucket.Tokens + elapsed * PerSecond);
            bucket.Last = now > bucket.Last ? now : bucket.Last;
        }
        else
        {
            if (_buckets.Count >= MaxSources)
            {
                node = _recent.Last!;
                _recent.RemoveLast();
                _buckets.Remove(node.Value.Source);
            }
            else
            {
                node = new LinkedListNode<Bucket>(new Bucket());
            }
            node.Value.Source = id;
            node.Value.Tokens = Burst;
            node.Value.Last = now;
            _buckets[id] = node;
        }
        _recent.AddFirst(node);
        if (node.Value.Tokens < 1)
            return false;
        node.Value.Tokens -= 1;
        return true;
    }

    private static UInt128 SourceId(IPAddress source)
    {
        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        if (source.AddressFamily == AddressFamily.InterNetwork)
        {
            // As ::ffff:a.b.c.d, so an IPv4-mapped IPv6 source is the same source.
            bytes[10] = bytes[11] = 0xff;
            source.TryWriteBytes(bytes[12..], out _);
        }
        else
        {
            source.TryWriteBytes(bytes, out _);
            if (!source.IsIPv4MappedToIPv6)
                bytes[8..].Clear();
        }
        return BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }
}
