namespace WgRouted.Engine.Probe;

/// <summary>
/// Our sequence numbers towards one peer: the Unix time in milliseconds, raised to one more than the last number
/// whenever the clock has not moved on. The peer keeps one <see cref="ReplayWindow"/> per sender, across our restarts
/// and whatever else sends with our key (`wg-routed probe`), so every such sender must number near the same clock:
/// a restart starts above what it sent before, and two senders' numbers interleave instead of one pushing the
/// other behind the window. One sequence per peer keeps the rate per sequence far below 1,000 a second, so the
/// numbers stay on the clock and the window (1,984) spans about 2 s of reordering. Thread-safe.
/// </summary>
public sealed class ProbeSequence
{
    private long _last = -1;

    public ulong Next(DateTimeOffset now)
    {
        var clock = now.ToUnixTimeMilliseconds();
        if (clock < 0)
            throw new ArgumentOutOfRangeException(nameof(now), now, "a probe sequence number is a time after 1970");
        while (true)
        {
            var last = Volatile.Read(ref _last);
            var next = Math.Max(last + 1, clock);
            if (Interlocked.CompareExchange(ref _last, next, last) == last)
                return (ulong)next;
        }
    }
}

/// <summary>One <see cref="ProbeSequence"/> per peer (a sender numbers what it sends to each peer apart). Thread-safe.</summary>
public sealed class ProbeSequences
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<PeerKey, ProbeSequence> _byPeer = new();

    public ulong Next(PeerKey peer, DateTimeOffset now) => For(peer).Next(now);

    /// <summary>The peer's sequence, to keep where it is used per packet (a lookup fewer each time).</summary>
    public ProbeSequence For(PeerKey peer) => _byPeer.GetOrAdd(peer, _ => new ProbeSequence());
}
