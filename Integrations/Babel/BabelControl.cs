using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace WgRouted.Integrations.Babel;

/// <summary>
/// babeld's control socket client: ONE connection that monitors and carries commands (babeld serves 4 clients at
/// most). It keeps babeld's interfaces, neighbours, xroutes and routes (the monitor's dump, then every
/// notification), reports each difference on <see cref="Events"/>, and reconnects with a doubling backoff when
/// babeld goes away, dropping all it knew: babeld's ids are pointers, void after a restart.
/// </summary>
/// <remarks>
/// Events go to an unbounded channel, so the read loop never waits on a consumer: babeld drops a client that
/// leaves its socket full for 100 ms (write_timeout in local.c). All members are thread-safe.
/// </remarks>
public sealed partial class BabelControl : IDisposable
{
    private const string KnownProtocol = "1.0";
    private const string KnownVersionPrefix = "babeld-1.";

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly BabelControlOptions _options;
    private readonly Channel<BabelEvent> _events = Channel.CreateUnbounded<BabelEvent>();
    // One command at a time: babeld answers in order and a reply does not name its command.
    private readonly SemaphoreSlim _lane = new(1, 1);
    private readonly Lock _lock = new();
    private readonly BabelTable _table = new();
    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);
    private readonly string _endpoint;
    private BabelSession? _session;

    public BabelControl(ILogger<BabelControl> logger, TimeProvider time, BabelControlOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _logger = logger;
        _time = time;
        _options = options;
        _endpoint = options.Endpoint is UnixDomainSocketEndPoint unix ? $"unix:{unix}" : $"tcp://{options.Endpoint}";
    }

    /// <summary>Everything reported, in order; completed when <see cref="RunAsync"/> ends.</summary>
    public ChannelReader<BabelEvent> Events => _events.Reader;

    /// <summary>True from <see cref="BabelConnected"/> to <see cref="BabelDisconnected"/>.</summary>
    public bool IsConnected
    {
        get
        {
            lock (_lock)
                return _session is not null;
        }
    }

    /// <summary>The current connection's greeting; null while disconnected.</summary>
    public BabelGreeting? Greeting
    {
        get
        {
            lock (_lock)
                return _session?.Greeting;
        }
    }

    /// <summary>babeld's state as last reported; empty while disconnected.</summary>
    public BabelSnapshot Snapshot()
    {
        lock (_lock)
            return _table.Snapshot();
    }

    /// <summary>Connects, monitors and reconnects until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var delay = _options.ReconnectDelay;
        var connectedBefore = false;
        var failures = 0;
        try
        {
            while (true)
            {
                var (synchronized, reason) = await RunSessionAsync(connectedBefore, cancellationToken);
                cancellationToken.ThrowIfCancellationRequested();
                if (synchronized)
                {
                    connectedBefore = true;
                    failures = 0;
                    delay = _options.ReconnectDelay;
                    LogLost(reason, delay.TotalSeconds);
                }
                else if (++failures == 1)
                    LogUnavailable(_endpoint, reason, delay.TotalSeconds);
                else
                    LogStillUnavailable(_endpoint, failures, reason, delay.TotalSeconds);
                await Task.Delay(delay, _time, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            _events.Writer.TryComplete();
        }
    }

    /// <summary>
    /// Adds an interface to babeld at run time (`interface NAME ...`). Returns babeld's reply, or null when babeld
    /// has the interface already: then nothing is sent, since babeld would answer ok and keep its old settings.
    /// A refusal (`bad` from a read-only socket, `no ...`) is also reported once as <see cref="BabelCommandRefused"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A name or value babeld would not take.</exception>
    /// <exception cref="BabelControlException">Not connected, or the connection ended before the reply.</exception>
    public async Task<BabelReply?> AddInterfaceAsync(string name, BabelInterfaceConfig config, CancellationToken cancellationToken)
    {
        var command = BabelCommand.Interface(name, config);
        await _lane.WaitAsync(cancellationToken);
        try
        {
            var session = Current();
            lock (_lock)
            {
                if (_table.Contains(BabelInterface.KeyOf(name)))
                    return null;
            }
            var reply = await ExchangeAsync(session, command, dump: false);
            if (!reply.IsOk)
                ReportRefused(command, reply);
            return reply;
        }
        finally
        {
            _lane.Release();
        }
    }

    /// <summary>Asks babeld for everything again (`dump`); what it no longer lists is reported gone.</summary>
    /// <exception cref="BabelControlException">Not connected, refused, or the connection ended before the reply.</exception>
    public async Task<BabelSnapshot> DumpAsync(CancellationToken cancellationToken)
    {
        await _lane.WaitAsync(cancellationToken);
        try
        {
            var reply = await ExchangeAsync(Current(), BabelCommand.Dump, dump: true);
            if (!reply.IsOk)
            {
                ReportRefused(BabelCommand.Dump, reply);
                throw new BabelControlException($"babeld answered '{reply}' to dump");
            }
            return Snapshot();
        }
        finally
        {
            _lane.Release();
        }
    }

    /// <summary>Once <see cref="RunAsync"/> has ended.</summary>
    public void Dispose() => _lane.Dispose();

    private BabelSession Current()
    {
        lock (_lock)
            return _session ?? throw new BabelControlException($"not connected to babeld at {_endpoint}");
    }

    /// <summary>Runs one connection to its end; says whether it got as far as monitoring, and why it ended.</summary>
    private async Task<(bool Synchronized, string Reason)> RunSessionAsync(bool reconnect, CancellationToken cancellationToken)
    {
        var endpoint = _options.Endpoint;
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream,
            endpoint.AddressFamily == AddressFamily.Unix ? ProtocolType.Unspecified : ProtocolType.Tcp);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var session = new BabelSession(socket, stop, reconnect);
        using var deadline = new CancellationTokenSource(_options.ConnectTimeout, _time);
        using var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            await socket.ConnectAsync(endpoint, connecting.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return (false, $"connect timed out after {_options.ConnectTimeout.TotalSeconds} s");
        }
        catch (SocketException e)
        {
            return (false, e.Message);
        }

        var reading = ReadLoopAsync(session);
        try
        {
            try
            {
                await session.Greeted.Task.WaitAsync(connecting.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new BabelControlException($"no greeting within {_options.ConnectTimeout.TotalSeconds} s (babeld serves 4 control clients; a fifth is connected but never greeted)");
            }
            ReportVersion(session.Greeting!);
            await _lane.WaitAsync(cancellationToken);
            try
            {
                var reply = await ExchangeAsync(session, BabelCommand.Monitor, dump: true);
                if (!reply.IsOk)
                {
                    ReportRefused(BabelCommand.Monitor, reply);
                    throw new BabelControlException($"babeld answered '{reply}' to monitor");
                }
            }
            finally
            {
                _lane.Release();
            }
        }
        catch (BabelControlException e)
        {
            session.Abort(e.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            session.Abort("stopped");
        }
        var reason = await reading;
        lock (_lock)
            return (session.Synchronized, reason);
    }

    /// <summary>
    /// Sends one line and waits for its reply; the caller holds the lane. A sent command is waited for to its reply
    /// or its timeout whatever the caller's token says: a reply left unclaimed would be taken for the next command's.
    /// </summary>
    private async Task<BabelReply> ExchangeAsync(BabelSession session, BabelCommand command, bool dump)
    {
        var pending = new BabelPendingCommand(command, dump);
        lock (_lock)
        {
            if (session.Ended is { } ended)
                throw new BabelControlException($"babeld connection lost: {ended}");
            session.Pending = pending;
            if (dump)
                _table.BeginDump();
        }
        using var deadline = new CancellationTokenSource(_options.CommandTimeout, _time);
        try
        {
            await session.Socket.SendAsync(command.ToBytes(), SocketFlags.None, deadline.Token);
            return await pending.Reply.Task.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            var reason = $"no reply to '{command}' within {_options.CommandTimeout.TotalSeconds} s";
            session.Abort(reason);
            throw new BabelControlException(reason);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            session.Abort($"sending '{command}': {e.Message}");
            throw new BabelControlException($"babeld connection lost while sending '{command}'", e);
        }
        finally
        {
            lock (_lock)
            {
                if (session.Pending == pending)
                {
                    session.Pending = null;
                    if (dump)
                        _table.EndDump(completed: false);
                }
            }
        }
    }

    private void ReportRefused(BabelCommand command, BabelReply reply)
    {
        lock (_lock)
        {
            if (!_reported.Add($"refused {command.Text}"))
                return;
        }
        LogRefused(command.Text, reply.ToString(), reply.Kind == BabelReplyKind.Bad
            ? "babeld answers bad to a line it cannot parse, and to every configuration command on a read-only socket (local-path, local-port, -g): give it local-path-readwrite or local-port-readwrite (-G)"
            : "babeld refused it");
        _events.Writer.TryWrite(new BabelCommandRefused(command.Text, reply));
    }

    private void ReportVersion(BabelGreeting greeting)
    {
        if (greeting.Protocol == KnownProtocol && greeting.Version?.StartsWith(KnownVersionPrefix, StringComparison.Ordinal) == true)
            return;
        lock (_lock)
        {
            if (!_reported.Add($"version {greeting.Protocol} {greeting.Version}"))
                return;
        }
        LogUnknownVersion(greeting.Protocol, greeting.Version ?? "(none)");
        _events.Writer.TryWrite(new BabelVersionUnknown(greeting.Protocol, greeting.Version));
    }
}
