using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Handshake;
using WgRouted.Service.Configuration;
using WgRouted.Service.Daemon;

namespace WgRouted.Service.Probing;

/// <summary>
/// Probes stock peers (WireGuard only) with WireGuard handshakes: an initiation from the active path's source and our
/// listen port (<see cref="RawUdpSocket"/>), made with the device's keys, whose response (mac1, our index, the Noise
/// message and its empty payload) is the answer. From the source and port the peer already has as our endpoint it
/// changes nothing there (a liveness and RTT check); from a new source it moves the peer's endpoint for us, which is
/// how a stock peer's switch is made: the policy makes the new path active and this sends over it. Only the active path
/// is probed, every Probe:ActiveIntervalMs, again at once after a miss; never two initiations to one peer within
/// <see cref="MinGap"/>, each stamped a grain behind our own WireGuard's clock (<see cref="Tai64N.Next"/>). A cookie
/// reply (the peer under load) is answered with an initiation carrying mac2. Outcomes go to the inbox as ProbeReplied
/// (the peer's endpoint for us: the path's source and our port) and ProbeMissed, like the prober's.
/// </summary>
public sealed partial class HandshakeProber(
    Keyring keyring, Inbox inbox, Mailbox<HandshakeSchedule> schedule, BindRawDatagram bind, WgRoutedConfig config, TimeProvider time,
    ILogger<HandshakeProber> logger) : BackgroundService
{
    /// <summary>
    /// A responder refuses an initiation within 20 ms of the last one it took from the same key (WireGuard's
    /// handshake flood check), and timestamps must move to the next grain (16.8 ms): a little more than both.
    /// </summary>
    public static readonly TimeSpan MinGap = TimeSpan.FromMilliseconds(21);

    /// <summary>
    /// An answer the kernel holds for us when its deadline comes is not a miss: on a busy router our receive may run
    /// late (the lab's bidirectional flood delayed it past 60 ms while the answer had arrived in 1 ms). The deadline
    /// waits for the receive up to this long; an answer later still counts as a reply after its miss.
    /// </summary>
    public static readonly TimeSpan LateGrace = TimeSpan.FromMilliseconds(250);

    /// <summary>A cookie is valid for 120 s at the peer (COOKIE_SECRET_MAX_AGE); used for a little less.</summary>
    public static readonly TimeSpan CookieLifetime = TimeSpan.FromSeconds(115);

    private readonly Lock _lock = new();
    private readonly Dictionary<PeerKey, StockPeer> _peers = [];
    private readonly Dictionary<uint, (StockPeer Peer, Pending Pending)> _pending = [];
    /// <summary>Initiations declared missed whose answer may still come, until <see cref="LateGrace"/> after their deadline.</summary>
    private readonly Dictionary<uint, (StockPeer Peer, Pending Pending)> _late = [];
    private readonly Dictionary<(IPAddress Src, string? Device, ushort Port), ReceivingSocket> _sockets = [];
    private readonly TimeSpan _interval = config.Policy.ActiveInterval;
    private readonly MonotonicClock _clock = new(time);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = schedule.Reader;
        using var alarm = new Alarm(time, _clock, stoppingToken);
        Volatile.Write(ref _readerFailure, null);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                while (reader.TryRead(out var command))
                    Apply(command.Command);
                if (Volatile.Read(ref _readerFailure) is { } failure)
                    throw failure;
                var now = _clock.Now;
                var next = Turn(now);
                try
                {
                    await reader.WaitToReadAsync(alarm.Until(next));
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                }
            }
        }
        finally
        {
            CloseAll();
        }
    }

    private void Apply(ProbeSchedule command)
    {
        var now = _clock.Now;
        lock (_lock)
            switch (command)
            {
                case ProbePaths p when keyring.IsStock(p.Peer):
                    Peer(p.Peer).Links = p.Paths.ToDictionary(x => x.Path, x => x.Link);
                    CloseUnused();
                    break;
                case ProbeActive a when keyring.IsStock(a.Peer):
                {
                    var peer = Peer(a.Peer);
                    if (peer.Active != a.Path)
                    {
                        // The quality (for the timeout) carries over: the peer's RTT on the old path is the best guess
                        // for the new one, and a trial over a dead path then fails in a few tens of milliseconds.
                        peer.Active = a.Path;
                        peer.NextDue = now;
                    }
                    break;
                }
                case ProbeNow n:
                    // A host change: the active paths' handshakes now (a dead route shows at once); never the others.
                    foreach (var peer in _peers.Values)
                        if (n.Peer is null || n.Peer == peer.Key)
                            peer.NextDue = now;
                    break;
            }
    }

    private StockPeer Peer(PeerKey key)
    {
        if (!_peers.TryGetValue(key, out var peer))
            _peers[key] = peer = new StockPeer(key);
        return peer;
    }

    /// <summary>Declares overdue handshakes missed, sends those due; returns when to look again.</summary>
    private DateTimeOffset Turn(DateTimeOffset now)
    {
        var next = now + TimeSpan.FromSeconds(1);
        List<StockPeer> due = [];
        List<ProbeMissed> missed = [];
        lock (_lock)
        {
            foreach (var (index, late) in _late.ToList())
                if (late.Pending.Deadline + LateGrace <= now)
                    _late.Remove(index);
            foreach (var (index, (peer, pending)) in _pending.ToList())
            {
                if (pending.Deadline > now)
                {
                    next = pending.Deadline < next ? pending.Deadline : next;
                    continue;
                }
                // Answered already, not yet read: look again in a moment.
                if (pending.Receiver is { Socket.HasQueued: true } && now < pending.Deadline + LateGrace)
                {
                    var soon = now + TimeSpan.FromMilliseconds(2);
                    next = soon < next ? soon : next;
                    continue;
                }
                _pending.Remove(index);
                if (pending.Initiation is not null)
                    _late[index] = (peer, pending);
                missed.Add(new ProbeMissed(peer.Key, pending.Deadline, pending.Path, index));
                LogMissed(logger, peer.Key.Base64, pending.Path.ToString(), index, pending.Receiver?.Socket.HasQueued ?? false);
                if (pending.Path == peer.Active)
                {
                    peer.Quality = peer.Quality.WithMiss(now);
                    // Again at once: one unanswered handshake proves nothing (the peer may have refused its timestamp).
                    peer.NextDue = now;
                }
            }
            foreach (var peer in _peers.Values)
            {
                if (peer.Active is null)
                    continue;
                var earliest = peer.LastSent + MinGap;
                var at = peer.NextDue > earliest ? peer.NextDue : earliest;
                if (at <= now)
                {
                    due.Add(peer);
                    peer.NextDue = now + _interval;
                    at = peer.NextDue;
                }
                next = at < next ? at : next;
            }
        }
        foreach (var m in missed)
        {
            inbox.Post(m);
            Telemetry.ProbesMissed.Add(1, new KeyValuePair<string, object?>("path", m.Path.ToString()));
        }
        foreach (var peer in due)
            if (Send(peer, now) is { } deadline && deadline < next)
                next = deadline;
        return next;
    }

    /// <summary>One initiation over the peer's active path; its deadline, or null when none went out.</summary>
    private DateTimeOffset? Send(StockPeer peer, DateTimeOffset now)
    {
        if (peer.Active is not { } path)
            return null;
        if (keyring.HandshakeKeysFor(peer.Key) is not { } keys || keyring.Us(peer.Key) is not { ListenPort: > 0 } us)
        {
            Once(peer, "the WireGuard device has no key or no listen port yet");
            return null;
        }
        var wall = time.GetUtcNow();
        if (Tai64N.Next(wall, peer.LastStamp) is not { } stamp)
        {
            // The clock has not reached the next grain (or was set back): try shortly.
            peer.NextDue = now + MinGap;
            return null;
        }
        ReceivingSocket? channel;
        string? error;
        lock (_lock)
        {
            if (!peer.Links.TryGetValue(path, out var device))
                device = null;
            channel = Open(path.Src, device, us.ListenPort, out error);
        }
        var index = NewIndex();
        if (channel is null)
        {
            // No socket from this source (address gone, no CAP_NET_RAW): the path cannot be tried, missed at once.
            lock (_lock)
            {
                peer.LastSent = now;
                _pending[index] = (peer, new Pending(path, null, null, keys, time.GetTimestamp(), now));
            }
            Once(peer, error!);
            return now;
        }
        var message = new byte[HandshakeCodec.InitiationSize];
        Span<byte> ephemeral = stackalloc byte[HandshakeKeys.KeySize];
        RandomNumberGenerator.Fill(ephemeral);
        var cookie = peer.Cookie is { } c && now - peer.CookieAt < CookieLifetime ? c : [];
        var initiation = HandshakeCodec.WriteInitiation(keys, ephemeral, index, stamp, cookie, message);
        CryptographicOperations.ZeroMemory(ephemeral);
        var deadline = now + Prober.Timeout(peer.Quality, _interval, margin: 2);
        lock (_lock)
        {
            peer.LastSent = now;
            peer.LastStamp = stamp;
            _pending[index] = (peer, new Pending(path, initiation, channel, keys, time.GetTimestamp(), deadline));
        }
        try
        {
            channel.Socket.SendTo(message, new IPEndPoint(path.Dst.Address, path.Dst.Port));
            peer.Problem = null;
            return deadline;
        }
        catch (SocketException e)
        {
            // No route, address gone: missed at once.
            lock (_lock)
                _pending[index] = (peer, _pending[index].Pending with { Deadline = now });
            Once(peer, e.Message);
            return now;
        }
    }

    private uint NewIndex()
    {
        Span<byte> bytes = stackalloc byte[4];
        while (true)
        {
            RandomNumberGenerator.Fill(bytes);
            var index = BitConverter.ToUInt32(bytes);
            lock (_lock)
                if (index != 0 && !_pending.ContainsKey(index))
                    return index;
        }
    }

    /// <summary>The raw socket for a source, uplink and listen port, opened on first use. Under _lock.</summary>
    private ReceivingSocket? Open(IPAddress src, string? device, ushort port, out string? error)
    {
        error = null;
        var key = (src, device, port);
        if (_sockets.TryGetValue(key, out var channel))
            return channel;
        try
        {
            channel = new ReceivingSocket(bind(new IPEndPoint(src, port), device));
        }
        catch (SocketException e)
        {
            error = $"cannot open a raw socket from {src} on {device ?? "-"}: {e.Message}";
            return null;
        }
        _sockets[key] = channel;
        LogOpened(logger, src.ToString(), device ?? "-");
        channel.Receiving = ReceiveAsync(channel, $"{src}%{device ?? "-"}:{port}", port);
        return channel;
    }

    /// <summary>Closes the sockets of sources no stock peer has a path from any more. Under _lock.</summary>
    private void CloseUnused()
    {
        foreach (var (key, channel) in _sockets.ToList())
            if (!_peers.Values.Any(p => p.Links.Any(l => l.Key.Src.Equals(key.Src) && l.Value == key.Device)))
            {
                LogClosed(logger, key.Src.ToString(), key.Device ?? "-");
                channel.Dispose();
                _sockets.Remove(key);
            }
    }

    private async Task ReceiveAsync(ReceivingSocket channel, string name, ushort port)
    {
        try
        {
            await ReadAnswersAsync(channel, port);
        }
        catch (Exception e) when (!channel.IsDisposed)
        {
            // A reader gone would leave the socket's answers unread and every handshake over it missed: the prober
            // fails as a whole, and its supervisor starts it again (the sockets are opened again as handshakes leave).
            Interlocked.CompareExchange(ref _readerFailure, new IOException($"the reader of handshake socket {name} failed: {e.Message}", e), null);
            schedule.Post(new HandshakeSchedule(new ProbeNow(null)));
        }
    }

    /// <summary>A socket's reader that failed, for the loop to fail with.</summary>
    private Exception? _readerFailure;

    private async Task ReadAnswersAsync(ReceivingSocket channel, ushort port)
    {
        var buffer = new byte[HandshakeCodec.InitiationSize];
        var cookie = new byte[HandshakeCodec.CookieSize];
        while (await channel.NextAsync(buffer) is { } result)
        {
            var now = _clock.Now;
            var arrived = time.GetTimestamp();
            var message = buffer.AsSpan(0, result.Length);
            if (!HandshakeCodec.TryReadReceiver(message, out var type, out var index))
                continue;
            StockPeer peer;
            Pending pending;
            lock (_lock)
            {
                // Not ours (another initiator on this host), or long after its deadline.
                if (!_pending.TryGetValue(index, out var entry) && !_late.TryGetValue(index, out entry))
                    continue;
                (peer, pending) = entry;
            }
            if (!result.From.Address.Equals(pending.Path.Dst.Address) || result.From.Port != pending.Path.Dst.Port)
            {
                LogBadAnswer(logger, pending.Path.ToString(), result.From.ToString(), "from another address than the peer's endpoint");
                continue;
            }
            if (pending.Initiation is not { } initiation)
                continue;
            var error = type == HandshakeCodec.ResponseType
                ? HandshakeCodec.ReadResponse(pending.Keys, initiation, message)
                : HandshakeCodec.ReadCookieReply(pending.Keys, initiation, message, cookie);
            if (error != HandshakeError.None)
            {
                LogBadAnswer(logger, pending.Path.ToString(), result.From.ToString(), error.Describe());
                continue;
            }
            lock (_lock)
            {
                if (!_pending.Remove(index) && !_late.Remove(index))
                    continue;
                if (type == HandshakeCodec.CookieReplyType)
                {
                    // Under load: the same handshake again, now with mac2.
                    peer.Cookie = (byte[])cookie.Clone();
                    peer.CookieAt = now;
                    peer.NextDue = now;
                    schedule.Post(new HandshakeSchedule(new ProbeNow(peer.Key)));
                    LogCookie(logger, peer.Key.Base64);
                    continue;
                }
            }
            var rtt = time.GetElapsedTime(pending.SentTicks, arrived).TotalMilliseconds;
            LogAnswered(logger, pending.Path.ToString(), index, rtt, now > pending.Deadline ? " (after its deadline)" : "");
            lock (_lock)
                if (pending.Path == peer.Active)
                    peer.Quality = peer.Quality.WithReply(now, rtt);
            Telemetry.PathRtt.Record(rtt, new KeyValuePair<string, object?>("path", pending.Path.ToString()));
            // The peer took the initiation's source (ours, with our listen port) as its endpoint for us.
            var us = new Endpoint(pending.Path.Src, port);
            inbox.Post(new ProbeReplied(peer.Key, now, pending.Path, index, rtt, null, us));
        }
    }

    private void Once(StockPeer peer, string problem)
    {
        if (peer.Problem == problem)
            return;
        peer.Problem = problem;
        LogNotSent(logger, peer.Key.Base64, peer.Active?.ToString() ?? "-", problem);
    }

    private void CloseAll()
    {
        lock (_lock)
        {
            foreach (var channel in _sockets.Values)
                channel.Dispose();
            _sockets.Clear();
            _pending.Clear();
            _late.Clear();
        }
    }

    public override void Dispose()
    {
        CloseAll();
        base.Dispose();
    }

    private sealed class StockPeer(PeerKey key)
    {
        public PeerKey Key { get; } = key;
        public Dictionary<CandidatePath, string?> Links { get; set; } = [];
        public CandidatePath? Active { get; set; }
        public DateTimeOffset NextDue { get; set; }
        public DateTimeOffset LastSent { get; set; } = DateTimeOffset.MinValue + MinGap;
        public DateTimeOffset? LastStamp { get; set; }
        public byte[]? Cookie { get; set; }
        public DateTimeOffset CookieAt { get; set; }
        public PathQuality Quality { get; set; }
        public string? Problem { get; set; }
    }

    /// <summary>An initiation awaiting its answer (null when it could not be sent: missed at its deadline, now).</summary>
    private readonly record struct Pending(
        CandidatePath Path, HandshakeInitiation? Initiation, ReceivingSocket? Receiver, HandshakeKeys Keys, long SentTicks, DateTimeOffset Deadline);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handshake to stock peer {Peer} over {Path} not sent: {Error}")]
    private static partial void LogNotSent(ILogger logger, string peer, string path, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dropped a handshake answer on {Path} from {From}: {Error}")]
    private static partial void LogBadAnswer(ILogger logger, string path, string from, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Raw socket for handshakes from {Source} on {Device} opened")]
    private static partial void LogOpened(ILogger logger, string source, string device);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Raw socket for handshakes from {Source} on {Device} closed: no stock peer has a path from there")]
    private static partial void LogClosed(ILogger logger, string source, string device);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Handshake {Index:x8} to {Peer} over {Path} unanswered (a datagram queued: {Queued})")]
    private static partial void LogMissed(ILogger logger, string peer, string path, uint index, bool queued);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Handshake {Index:x8} over {Path} answered in {Rtt:0.0} ms{Late}")]
    private static partial void LogAnswered(ILogger logger, string path, uint index, double rtt, string late);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stock peer {Peer} is under load and sent a cookie: handshaking again with mac2")]
    private static partial void LogCookie(ILogger logger, string peer);
}
