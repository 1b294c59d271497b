using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Engine;
using WgRouted.Engine.Probe;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Configuration;

namespace WgRouted.Service.Probing;

/// <summary>
/// Answers probes from configured peers on Probe:Port: one socket per local address, so each answer leaves from
/// the address the request was sent to. Follows authenticated, fresh move requests, and only towards the address
/// the request came from.
/// </summary>
public sealed partial class Responder(
    WgRoutedConfig config, Keyring keyring, WireGuardControl control, Fences fences, TimeProvider time, ILogger<Responder> logger)
    : BackgroundService
{
    /// <summary>Per source address: a peer probing 4 paths at 4 per second stays far below; a flood does not.</summary>
    public const double RatePerSecond = 50;
    public const int RateBurst = 50;
    public const int RateSources = 4096;

    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, (Socket Socket, CancellationTokenSource Closing)> _sockets = [];
    private readonly SourceRateLimiter _limiter = new(RatePerSecond, RateBurst, RateSources);
    // Moves: one replay window per sender, wherever they come from. Probes: one per sender and source socket,
    // so `wg-routed probe` (same key, its own socket and sequence) cannot push the daemon's probes out of the
    // window; a replayed probe earns the replayer one answer of the same size, rate-limited.
    private readonly ProbeGuard _moveGuard = new();
    private readonly Dictionary<IPEndPoint, ProbeGuard> _probeGuards = [];
    private const int MaxProbeGuards = 1024;
    private readonly ProbeSequence _sequence = new(time.GetUtcNow());

    /// <summary>Moves followed (for tests and `show`).</summary>
    public long MovesFollowed => Interlocked.Read(ref _moves);
    private long _moves;

    /// <summary>The host's usable addresses changed: listen on exactly these.</summary>
    public void SetAddresses(IReadOnlyCollection<IPAddress> addresses)
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
                    var socket = UdpSockets.Bind(new IPEndPoint(address, config.Options.Probe.Port), device: null);
                    var closing = new CancellationTokenSource();
                    _sockets[address] = (socket, closing);
                    _ = ServeAsync(socket, address, closing.Token);
                }
                catch (SocketException e)
                {
                    LogBindFailed(logger, address.ToString(), config.Options.Probe.Port, e.Message);
                }
            }
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var done = new TaskCompletionSource();
        stoppingToken.Register(() =>
        {
            SetAddresses([]);
            done.TrySetResult();
        });
        return done.Task;
    }

    private async Task ServeAsync(Socket socket, IPAddress local, CancellationToken ct)
    {
        var buffer = new byte[ProbeCodec.MaxSize + 1];
        var reply = new byte[ProbeCodec.ReplySize];
        while (!ct.IsCancellationRequested)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, UdpSockets.Any(local.AddressFamily), ct);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            var from = (IPEndPoint)result.RemoteEndPoint;
            var now = time.GetUtcNow();
            int length;
            lock (_lock)
            {
                if (!_limiter.TryAcquire(from.Address, now))
                    continue;
                if (!ProbeCodec.TryDecode(buffer.AsSpan(0, result.ReceivedBytes), keyring.KeyFor, out var message, out var error)
                    || !GuardFor(message, from).TryAccept(message, now, out error))
                {
                    LogRejected(logger, from.ToString(), error.Describe());
                    continue;
                }
                if (Answer(message, new Endpoint(from.Address, from.Port), now) is not { } answer
                    || keyring.KeyFor(message.Sender) is not { } key || keyring.Us(message.Sender) is null)
                    continue;
                length = ProbeCodec.Encode(answer, key, reply);
            }
            try
            {
                await socket.SendToAsync(reply.AsMemory(0, length), SocketFlags.None, from, ct);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The requester's path is gone; it counts the miss.
            }
        }
    }

    private ProbeGuard GuardFor(ProbeMessage message, IPEndPoint from)
    {
        if (message is MoveRequest)
            return _moveGuard;
        if (!_probeGuards.TryGetValue(from, out var guard))
        {
            if (_probeGuards.Count >= MaxProbeGuards)
                _probeGuards.Clear();
            _probeGuards[from] = guard = new ProbeGuard();
        }
        return guard;
    }

    private ProbeAnswer? Answer(ProbeMessage message, Endpoint observed, DateTimeOffset now)
    {
        if (keyring.InterfaceOf(message.Sender) is not { } itf || keyring.Us(message.Sender) is not { } us)
            return null;
        switch (message)
        {
            case ProbeRequest request:
                return request.Reply(us.Public, _sequence.Next(), now, observed, EndpointFor(itf, message.Sender));
            case MoveRequest move:
                var target = move.RequestedEndpoint(observed);
                var previous = EndpointFor(itf, message.Sender);
                if (previous is { } old && old != target)
                    fences.RewriteSenders(message.Sender.Base64, new IPEndPoint(old.Address, old.Port), target.Address, us.ListenPort);
                try
                {
                    control.SetPeerEndpoint(itf.Name, message.Sender.Base64, new IPEndPoint(target.Address, target.Port));
                    Interlocked.Increment(ref _moves);
                    LogMoved(logger, message.Sender.Base64, target.ToString());
                }
                catch (Exception e) when (e is NetlinkException or IOException or InvalidDataException or SocketException)
                {
                    LogMoveFailed(logger, message.Sender.Base64, target.ToString(), e.Message);
                }
                return move.Reply(us.Public, _sequence.Next(), now, observed, EndpointFor(itf, message.Sender));
            default:
                return null;
        }
    }

    private Endpoint? EndpointFor(InterfaceConfig itf, PeerKey peer)
    {
        try
        {
            var endpoint = control.GetDevice(itf.Name).Peers.FirstOrDefault(p => p.PublicKey == peer.Base64)?.Endpoint;
            return endpoint is null ? null : new Endpoint(endpoint.Address, endpoint.Port);
        }
        catch (Exception e) when (e is NetlinkException or IOException or InvalidDataException or SocketException)
        {
            return null;
        }
    }

    public override void Dispose()
    {
        SetAddresses([]);
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot answer probes on {Address} port {Port}: {Error}")]
    private static partial void LogBindFailed(ILogger logger, string address, int port, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Rejected a probe from {From}: {Error}")]
    private static partial void LogRejected(ILogger logger, string from, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Peer {Peer} asked to be reached at {Endpoint}: WireGuard endpoint set")]
    private static partial void LogMoved(ILogger logger, string peer, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peer {Peer} asked to be reached at {Endpoint}, setting it failed: {Error}")]
    private static partial void LogMoveFailed(ILogger logger, string peer, string endpoint, string error);
}
