namespace WgRouted.Engine.Probe;

/// <summary>
/// Freshness and replay checks for decoded (authenticated) probe messages: one <see cref="ReplayWindow"/> per
/// sender and direction, so a peer may number its requests and its answers with separate sequences.
/// Not thread-safe: one per receive loop. Its size is bounded by the configured peers, since only
/// messages that passed the MAC check reach it.
/// </summary>
public sealed class ProbeGuard(TimeSpan freshness)
{
    public static readonly TimeSpan DefaultFreshness = TimeSpan.FromSeconds(30);

    private readonly Dictionary<(PeerKey Sender, bool Request), ReplayWindow> _windows = [];

    public ProbeGuard() : this(DefaultFreshness)
    {
    }

    /// <summary>How far a sender's timestamp may be from our clock, either way (the peers' clocks must agree that well).</summary>
    public TimeSpan Freshness { get; } = freshness > TimeSpan.Zero
        ? freshness
        : throw new ArgumentOutOfRangeException(nameof(freshness), freshness, "the freshness bound must be positive");

    /// <summary>Accepts a message once, if its timestamp is within <see cref="Freshness"/> of <paramref name="now"/>.</summary>
    public bool TryAccept(ProbeMessage message, DateTimeOffset now, out ProbeError error)
    {
        ArgumentNullException.ThrowIfNull(message);
        var age = now - message.Timestamp;
        error = age > Freshness ? ProbeError.Stale
            : -age > Freshness ? ProbeError.FutureDated
            : ProbeError.None;
        if (error != ProbeError.None)
            return false;

        var id = (message.Sender, message.IsRequest);
        if (!_windows.TryGetValue(id, out var window))
            _windows[id] = window = new ReplayWindow();
        if (!window.TryAccept(message.Sequence))
        {
            error = ProbeError.Replayed;
            return false;
        }
        return true;
    }

    /// <summary>Drops a removed peer's windows.</summary>
    public void Forget(PeerKey sender)
    {
        _windows.Remove((sender, true));
        _windows.Remove((sender, false));
    }
}
