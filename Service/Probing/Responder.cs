using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Probe;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Configuration;
using WgRouted.Service.Daemon;

namespace WgRouted.Service.Probing;

/// <summary>
/// Answers probes from configured peers on Probe:Port: one socket per local address (the policy loop says which), so
/// each answer leaves from the address the request was sent to. A move request that passes the MAC and
/// <see cref="MoveGuard"/> (fresh, from the address it names, newer than any before, also across restarts: its number
/// is on disk before anything follows it) and does not name another peer's endpoint goes to the inbox as
/// MoveRequested; the engine decides MoveFollowed, and the responder then sets the endpoint and answers the request.
/// Nothing on the path of a datagram waits on I/O: the device is read by the poller (<see cref="Keyring"/>).
/// </summary>
public sealed partial class Responder(
    WgRoutedConfig config, Keyring keyring, WireGuardControl control, Fences fences, Inbox inbox, Mailbox<ResponderCommand> commands,
    BindDatagram bind, TimeProvider time, ILogger<Responder> logger)
    : BackgroundService
{
    /// <summary>
    /// Per authenticated sender, after the MAC: a peer probing 4 paths at 4 per second stays far below; a flood does
    /// not. Before the MAC only a global budget applies: a source address is spoofable, so limiting by it would let
    /// anyone drain a peer's share and steer its failover without a key.
    /// </summary>
    public const double RatePerSecond = 50;
    public const int RateBurst = 50;
    public const int RateSenders = 4096;

    /// <summary>
    /// Datagrams checked a second before the MAC (an HMAC-SHA256 of 128 bytes is about a microsecond): this bounds the
    /// CPU a flood can take, far above what a thousand peers' probes need (7,000 a second).
    /// </summary>
    public const double BudgetPerSecond = 50_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, (IDatagramSocket Socket, CancellationTokenSource Closing)> _sockets = [];
    private readonly SourceRateLimiter _senders = new(RatePerSecond, RateBurst, RateSenders);
    private readonly SourceRateLimiter _budget = new(BudgetPerSecond, (int)BudgetPerSecond, 1);
    // One replay window per authenticated sender, wherever its requests come from: `wg-routed probe` and the
    // daemon number on the same millisecond clock (ProbeSequence), so they fit one window together.
    private readonly ProbeGuard _guard = new();
    // Rates on the monotonic clock (a wall clock stepped back would starve every bucket); freshness on the wall
    // clock, which is what the sender's timestamps are.
    private readonly MonotonicClock _clock = new(time);
    private readonly MoveLog _moveLog = new(Path.Combine(config.Options.DataDirectory, "moves"));
    private readonly Lock _moveLogLock = new();
    private MoveGuard? _moveGuard;
    private readonly ProbeSequences _sequences = new();

    /// <summary>The moves followed before a restart, from disk; a record lost or damaged leaves the start time as the floor.</summary>
    private MoveGuard LoadMoves()
    {
        var accepted = _moveLog.Load(out var problem);
        if (problem is not null)
            LogMoveLogDamaged(logger, _moveLog.Path, problem);
        return new MoveGuard(accepted, (ulong)time.GetUtcNow().ToUnixTimeMilliseconds() - 1);
    }

    /// <summary>Moves followed (for tests and `show`).</summary>
    public long MovesFollowed => Interlocked.Read(ref _moves);
    private long _moves;

    /// <summary>Move requests waiting for the engine's MoveFollowed, to be answered once followed.</summary>
    private readonly Dictionary<(PeerKey, ulong), PendingMove> _pendingMoves = [];
    /// <summary>A move the engine has not followed by then is not answered (the initiator re-asserts anyway).</summary>
    private static readonly TimeSpan PendingMoveLifetime = TimeSpan.FromSeconds(1);

    private const int MaxPendingMoves = 1024;

    private sealed record PendingMove(MoveRequest Request, Endpoint Observed, IPEndPoint From, IDatagramSocket Socket, DateTimeOffset At);

    /// <summary>The host's usable addresses changed: listen on exactly these.</summary>
    private void SetAddresses(IReadOnlyCollection<IPAddress> addresses)
    {
        lock (_lock)
        {
            foreach (var gone in _sockets.Keys.Where(a => !addresses.Contains(a)).ToList())
            {
                var (socket, closing) = _sockets[gone];
                closing.Cancel();
                socket.Dispose();
                closing.Dispose();
                _sockets.Remove(gone);
            }
            foreach (var address in addresses.Where(a => !_sockets.ContainsKey(a)))
            {
                try
                {
                    var socket = bind(new IPEndPoint(address, config.Options.Probe.Port), device: null);
                    var closing = new CancellationTokenSource();
                    _sockets[address] = (socket, closing);
                    _listeners.RemoveAll(t => t.IsCompleted);
                    _listeners.Add(ListenAsync(socket, address, closing.Token));
                }
                catch (SocketException e)
                {
                    LogBindFailed(logger, address.ToString(), config.Options.Probe.Port, e.Message);
                }
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        lock (_lock)
            _moveGuard ??= LoadMoves();
        using var summary = time.CreateTimer(_ => Summarize(), null, Refusals.SummaryInterval, Refusals.SummaryInterval);
        try
        {
            await foreach (var command in commands.Reader.ReadAllAsync(stoppingToken))
                switch (command)
                {
                    case ListenOn l:
                        SetAddresses(l.Addresses);
                        break;
                    case FollowMove f:
                        await FollowAsync(f.Move, stoppingToken);
                        break;
                }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            SetAddresses([]);
        }
    }

    /// <summary>Sets the endpoint the engine decided to follow, then answers the request with the endpoint we now have.</summary>
    private async Task FollowAsync(MoveFollowed move, CancellationToken ct)
    {
        if (keyring.InterfaceOf(move.Peer) is not { } itf || keyring.Us(move.Peer) is not { } us)
            return;
        // A fence rewrites the address only, so only where the port stays (then the packets arrive from exactly the
        // endpoint asked for; with another port they would arrive from an endpoint nobody asked for, maybe a peer's).
        if (move.Previous is { } old && !old.Address.Equals(move.Requested.Address) && old.Port == move.Requested.Port
            && !keyring.IsAnotherPeersEndpoint(move.Peer, old))
            fences.RewriteSenders(move.Peer.Base64, new IPEndPoint(old.Address, old.Port), move.Requested.Address, us.ListenPort);
        try
        {
            control.SetPeerEndpoint(itf.Name, move.Peer.Base64, new IPEndPoint(move.Requested.Address, move.Requested.Port));
            keyring.Refresh(itf);
            Interlocked.Increment(ref _moves);
            LogMoved(logger, move.Peer.Base64, move.Requested.ToString());
        }
        catch (Exception e) when (e is NetlinkException or IOException or InvalidDataException or SocketException)
        {
            LogMoveFailed(logger, move.Peer.Base64, move.Requested.ToString(), e.Message);
            inbox.Post(new MoveNotApplied(move.Peer, time.GetUtcNow(), move.Requested, e.Message) { TraceId = move.TraceId });
        }
        PendingMove? pending;
        byte[] reply = new byte[ProbeCodec.ReplySize];
        int length;
        lock (_lock)
        {
            var now = time.GetUtcNow();
            foreach (var stale in _pendingMoves.Where(p => now - p.Value.At > PendingMoveLifetime).Select(p => p.Key).ToList())
                _pendingMoves.Remove(stale);
            if (!_pendingMoves.Remove((move.Peer, move.Sequence), out pending) || keyring.KeyFor(move.Peer) is not { } key)
                return;
            var answer = pending.Request.Reply(us.Public, _sequences.Next(move.Peer, now), now, pending.Observed, keyring.EndpointOf(move.Peer));
            length = ProbeCodec.Encode(answer, key, reply);
        }
        try
        {
            await pending.Socket.SendToAsync(reply.AsMemory(0, length), pending.From, ct);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The requester's path or our address is gone; it re-asserts.
        }
    }

    /// <summary>Serves until the socket closes; a serve loop that fails anyway is logged and started again.</summary>
    private async Task ListenAsync(IDatagramSocket socket, IPAddress local, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await ServeAsync(socket, local, ct);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Telemetry.ResponderDropped.Add(1, new KeyValuePair<string, object?>("cause", "listener restarted"));
                LogListenerRestarted(logger, local.ToString(), e.Message);
                inbox.Post(new ResponderListenerRestarted(time.GetUtcNow(), local, e.GetType().Name + ": " + e.Message));
                await Task.Delay(ListenerRestartDelay, time, ct);
            }
        }
    }

    /// <summary>A listener that failed is started again this much later (not in a tight loop).</summary>
    private static readonly TimeSpan ListenerRestartDelay = TimeSpan.FromMilliseconds(100);

    private readonly List<Task> _listeners = [];
    private readonly Refusals _refusals = new();

    /// <summary>Datagrams refused so far, by cause (for tests and the log's summary).</summary>
    public IReadOnlyDictionary<string, long> Refused => _refusals.Snapshot();

    /// <summary>A datagram dropped for <paramref name="cause"/>: counted, logged the first time for each cause.</summary>
    private void Drop(string cause, IPEndPoint from)
    {
        Telemetry.ResponderDropped.Add(1, new KeyValuePair<string, object?>("cause", cause));
        if (_refusals.Count(cause))
            LogDropped(logger, cause, from.ToString());
    }

    /// <summary>An authenticated or well-formed datagram refused (bad MAC, replayed, stale, a move from elsewhere).</summary>
    private void Reject(ProbeError error, IPEndPoint from)
    {
        var cause = error.Describe();
        Telemetry.ResponderRejected.Add(1, new KeyValuePair<string, object?>("cause", cause));
        if (_refusals.Count(cause))
            LogRejectedFirst(logger, cause, from.ToString());
        else
            LogRejected(logger, from.ToString(), cause);
    }

    private void Summarize()
    {
        if (_refusals.Changes() is { } changes)
            LogRefused(logger, changes);
    }

    private async Task ServeAsync(IDatagramSocket socket, IPAddress local, CancellationToken ct)
    {
        var buffer = new byte[ProbeCodec.MaxSize + 1];
        var reply = new byte[ProbeCodec.ReplySize];
        while (!ct.IsCancellationRequested)
        {
            (int Length, IPEndPoint From) result;
            try
            {
                result = await socket.ReceiveFromAsync(buffer, ct);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            var from = result.From;
            // Port 0 is no UDP source anyone can be answered at or moved to.
            if (from.Port == 0)
            {
                Drop("source port 0", from);
                continue;
            }
            var now = time.GetUtcNow();
            int length;
            MoveRequest? move;
            try
            {
                (length, move) = Handle(buffer.AsSpan(0, result.Length), from, now, reply);
                if (move is not null)
                    Request(move, from, socket, now);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or IOException)
            {
                Drop(e.GetType().Name + ": " + e.Message, from);
                continue;
            }
            if (length <= 0)
                continue;
            try
            {
                await socket.SendToAsync(reply.AsMemory(0, length), from, ct);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The requester's path is gone; it counts the miss.
            }
        }
    }

    /// <summary>One datagram: the answer's length in <paramref name="reply"/> (0 for none), or a move request accepted.</summary>
    private (int Length, MoveRequest? Move) Handle(ReadOnlySpan<byte> datagram, IPEndPoint from, DateTimeOffset now, byte[] reply)
    {
        lock (_lock)
        {
            if (!_budget.TryAcquire(UInt128.Zero, _clock.Now))
            {
                Drop("over the pre-authentication budget", from);
                return default;
            }
            if (!ProbeCodec.TryDecode(datagram, keyring.KeyLookup, out var message, out var error))
            {
                Reject(error, from);
                return default;
            }
            // Replays and stale copies are refused before the sender's rate is charged: a captured packet replayed by
            // anyone must not spend the genuine sender's share (its next probes would go unanswered).
            var observed = new Endpoint(from.Address, from.Port);
            if (message is MoveRequest move)
            {
                _moveGuard ??= LoadMoves();
                if (keyring.IsAnotherPeersEndpoint(move.Sender, move.Requested))
                    error = ProbeError.MoveToAnotherPeersEndpoint;
                else
                    _moveGuard.TryAccept(move, observed, now, out error);
            }
            else
                _guard.TryAccept(message, now, out error);
            if (error != ProbeError.None)
            {
                Reject(error, from);
                return default;
            }
            if (!_senders.TryAcquire(System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(message.Sender.ToBytes()), _clock.Now))
            {
                Drop("an authenticated sender over its rate", from);
                return default;
            }
            if (message is MoveRequest accepted)
                return (0, accepted);
            if (message is not ProbeRequest request || keyring.ProbingOf(message.Sender) is not { } keys)
                return default;
            var answer = request.Reply(keys.Us, _sequences.Next(message.Sender, now), now, observed, keyring.EndpointOf(message.Sender));
            return (ProbeCodec.Encode(answer, keys.Key, reply), null);
        }
    }

    /// <summary>
    /// An accepted move request: its number goes to disk first (a restart must not accept it again), then to the
    /// engine; the answer waits for the engine's MoveFollowed. A move whose number cannot be saved is not followed.
    /// </summary>
    private void Request(MoveRequest move, IPEndPoint from, IDatagramSocket socket, DateTimeOffset now)
    {
        if (keyring.InterfaceOf(move.Sender) is null)
            return;
        try
        {
            lock (_moveLogLock)
            {
                Dictionary<PeerKey, ulong> snapshot;
                lock (_lock)
                    snapshot = new Dictionary<PeerKey, ulong>(_moveGuard!.Accepted);
                Directory.CreateDirectory(Path.GetDirectoryName(_moveLog.Path)!);
                _moveLog.Save(snapshot);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Drop($"move request not followed: its sequence number cannot be saved to {_moveLog.Path} ({e.Message})", from);
            return;
        }
        lock (_lock)
        {
            if (_pendingMoves.Count >= MaxPendingMoves)
                foreach (var stale in _pendingMoves.Where(p => now - p.Value.At > PendingMoveLifetime).Select(p => p.Key).ToList())
                    _pendingMoves.Remove(stale);
            if (_pendingMoves.Count >= MaxPendingMoves)
                return;
            _pendingMoves[(move.Sender, move.Sequence)] = new PendingMove(move, new Endpoint(from.Address, from.Port), from, socket, now);
        }
        inbox.Post(new MoveRequested(move.Sender, now, move.Requested, keyring.EndpointOf(move.Sender), move.Sequence));
    }

    public override void Dispose()
    {
        SetAddresses([]);
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped a datagram from {From} ({Cause}); further ones for this cause are counted (wgrouted.responder.dropped), not logged")]
    private static partial void LogDropped(ILogger logger, string cause, string from);

    [LoggerMessage(Level = LogLevel.Error, Message = "The responder's listener on {Address} failed ({Error}): started again")]
    private static partial void LogListenerRestarted(ILogger logger, string address, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot answer probes on {Address} port {Port}: {Error}")]
    private static partial void LogBindFailed(ILogger logger, string address, int port, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The record of followed moves {Path} is damaged ({Problem}): moves sent before this start are refused")]
    private static partial void LogMoveLogDamaged(ILogger logger, string path, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a probe datagram from {From} ({Cause}); further ones for this cause are counted (wgrouted.responder.rejected), not logged")]
    private static partial void LogRejectedFirst(ILogger logger, string cause, string from);

    [LoggerMessage(Level = LogLevel.Information, Message = "Responder refused so far: {Counts}")]
    private static partial void LogRefused(ILogger logger, string counts);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Rejected a probe from {From}: {Error}")]
    private static partial void LogRejected(ILogger logger, string from, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Peer {Peer} asked to be reached at {Endpoint}: WireGuard endpoint set")]
    private static partial void LogMoved(ILogger logger, string peer, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peer {Peer} asked to be reached at {Endpoint}, setting it failed: {Error}")]
    private static partial void LogMoveFailed(ILogger logger, string peer, string endpoint, string error);
}
