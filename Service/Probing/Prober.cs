using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Probe;
using WgRouted.Service.Configuration;
using WgRouted.Service.Daemon;

namespace WgRouted.Service.Probing;

/// <summary>
/// Probes every candidate path out of band: one socket per path, bound to its source address and to the uplink
/// that owns it, so a probe leaves exactly as the tunnel will once pinned there. The active path is probed every
/// Probe:ActiveIntervalMs, and so is a path that is down or recovering (its last probe missed, or fewer than
/// <see cref="RecoveryReplies"/> answers since), so that its return is seen at once; the others every
/// Probe:StandbyIntervalMs, and any path touched by a host change at the active rate for <see cref="SettleTime"/>.
/// When the active path misses a probe, the rest of Probe:LossThreshold is sent at once, so a silent loss is
/// confirmed within one timeout instead of LossThreshold intervals. Paths other than the active ones share a budget
/// of fast probes (<see cref="DefaultFastBudget"/>): past it they are probed at the standby rate. The policy loop says what to probe (<see cref="ProbeSchedule"/>);
/// outcomes go to the inbox as ProbeReplied (with what the responder saw of us) and ProbeMissed.
/// </summary>
public sealed partial class Prober(
    WgRoutedConfig config, Keyring keyring, Inbox inbox, Mailbox<ProbeSchedule> schedule, BindDatagram bind, TimeProvider time, ILogger<Prober> logger)
    : BackgroundService
{
    /// <summary>After a host change, paths are probed at the active rate this long.</summary>
    public static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(3);

    /// <summary>
    /// A probe unanswered this long is missed even on a path with a tiny RTT: well above the scheduling noise of a
    /// loaded two-core router (tens of ms), and a path is declared down only after Probe:LossThreshold misses in a row.
    /// </summary>
    public static readonly TimeSpan MinTimeout = TimeSpan.FromMilliseconds(60);

    /// <summary>Answers in a row after a miss before a path is probed at the standby rate again.</summary>
    public const int RecoveryReplies = 2;

    /// <summary>
    /// How long an answer is waited for: RFC 6298's RTO shape (srtt + 4 rttvar, doubled for margin), at least
    /// MinTimeout, and at most one active interval unless the path's RTT itself is longer: silent loss must show within
    /// LossThreshold intervals. The handshake prober waits the same way.
    /// </summary>
    public static TimeSpan Timeout(PathQuality quality, TimeSpan activeInterval)
    {
        var ms = quality.SrttMs is { } s ? 2 * (s + 4 * quality.RttVarMs) : activeInterval.TotalMilliseconds;
        var max = Math.Max(activeInterval.TotalMilliseconds, 2 * (quality.SrttMs ?? 0));
        return TimeSpan.FromMilliseconds(Math.Clamp(ms, MinTimeout.TotalMilliseconds, Math.Max(MinTimeout.TotalMilliseconds, max)));
    }

    /// <summary>
    /// Probes a second, at most, for paths other than the active ones at the active rate (settling, down, recovering);
    /// beyond it they are probed at the standby rate. Without a bound, every path down at once (a start with the
    /// responders not up yet) meant all of them at the active rate: at 1,000 peers x 4 paths 16,000 probes a second,
    /// more than a small router answers in time, so the answers came late, counted as misses, and the paths never
    /// came back (ops/lab/scale). A few dozen peers never reach it.
    /// </summary>
    public const int DefaultFastBudget = 1000;

    /// <summary><see cref="DefaultFastBudget"/>; tests set a smaller one.</summary>
    internal int FastBudget { get; init; } = DefaultFastBudget;

    private readonly Lock _lock = new();
    private readonly Dictionary<CandidatePath, PathProbe> _paths = [];
    private readonly Dictionary<PeerKey, CandidatePath> _active = [];
    // Each path's next probe and each outstanding probe's deadline, earliest first, so a turn touches only what is due
    // (visiting every path each turn cost most of a core at 4,000 paths). Lazy deletion: an entry is skipped when its
    // path was closed or its time is no longer the path's NextDue / the probe's deadline (answered, rescheduled).
    private readonly PriorityQueue<PathProbe, DateTimeOffset> _dueQueue = new();
    // Deadlines tie (probes sent in one turn): the sequence orders them, so misses are reported oldest first.
    private readonly PriorityQueue<(PathProbe Probe, ulong Seq), (DateTimeOffset Deadline, ulong Seq)> _deadlineQueue = new();
    private readonly ProbeSequences _sequences = new();
    // A token bucket for FastBudget: one token per fast probe of a path that is not active, a second's worth at most.
    private double _fastTokens;
    private DateTimeOffset _fastRefilled = DateTimeOffset.MinValue;
    private DateTimeOffset _budgetLogged = DateTimeOffset.MinValue;
    private readonly TimeSpan _activeInterval = config.Policy.ActiveInterval;
    private readonly TimeSpan _standby = config.Policy.StandbyInterval;
    private readonly int _lossThreshold = config.Options.Probe.LossThreshold;
    // Schedules and deadlines on the monotonic clock; the wall clock only on the wire (the responder checks freshness).
    private readonly MonotonicClock _clock = new(time);

    private void Apply(ProbeSchedule command)
    {
        switch (command)
        {
            case ProbePaths p:
                SetPaths(p.Peer, p.Paths);
                break;
            case ProbeActive a:
                SetActive(a.Peer, a.Path);
                break;
            case ProbeNow n:
                Trigger(n.Peer);
                break;
        }
    }

    /// <summary>The peer's candidates changed: open sockets for new paths, close those of gone ones.</summary>
    private void SetPaths(PeerKey peer, IReadOnlyList<(CandidatePath Path, string? Link)> paths)
    {
        if (keyring.InterfaceOf(peer) is not { } itf || !Probed(peer))
            return;
        var probePort = config.Peers.First(p => p.Peer.PublicKey == peer).Peer.ProbePort;
        var links = paths.ToDictionary(p => p.Path, p => p.Link);
        lock (_lock)
        {
            var wanted = links.Keys.ToHashSet();
            foreach (var (path, probe) in _paths.Where(p => p.Value.Peer == peer && !wanted.Contains(p.Key)).ToList())
            {
                probe.Dispose();
                _paths.Remove(path);
            }
            var now = _clock.Now;
            foreach (var path in wanted)
            {
                var device = links[path];
                if (_paths.TryGetValue(path, out var existing) && existing.Device == device)
                    continue;
                existing?.Dispose();
                _paths.Remove(path);
                try
                {
                    var socket = bind(new IPEndPoint(path.Src, 0), device);
                    var probe = new PathProbe(peer, itf.Name, path, new IPEndPoint(path.Dst.Address, probePort), device, socket)
                    {
                        FastUntil = now + SettleTime,
                    };
                    _paths[path] = probe;
                    ScheduleAt(probe, now);
                    probe.Receiver.Receiving = ReceiveAsync(probe);
                }
                catch (SocketException e)
                {
                    LogBindFailed(logger, path.ToString(), device ?? "-", e.Message);
                }
            }
        }
    }

    private bool Probed(PeerKey peer) => config.Peers.Any(p => p.Peer.PublicKey == peer && p.Peer.Endpoints.Count > 0 && p.Peer.Responder);

    private void SetActive(PeerKey peer, CandidatePath? path)
    {
        lock (_lock)
        {
            if (path is not { } active)
            {
                _active.Remove(peer);
                return;
            }
            _active[peer] = active;
            if (_paths.TryGetValue(active, out var probe))
                ScheduleAt(probe, _clock.Now);
        }
    }

    /// <summary>Probe every path (of one peer) now and at the active rate until things settle.</summary>
    private void Trigger(PeerKey? peer)
    {
        var now = _clock.Now;
        lock (_lock)
            foreach (var probe in _paths.Values)
            {
                if (peer is { } only && probe.Peer != only)
                    continue;
                ScheduleAt(probe, now);
                probe.FastUntil = now + SettleTime;
            }
    }

    /// <summary>Sends a move request over the path (coordinated switch); its answer is a ProbeReplied like any other.</summary>
    public bool SendMove(PeerKey peer, CandidatePath path, ushort listenPort)
    {
        PathProbe? probe;
        lock (_lock)
            _paths.TryGetValue(path, out probe);
        if (probe is null || probe.Peer != peer)
            return false;
        return Send(probe, move: listenPort, _clock.Now);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = schedule.Reader;
        while (!stoppingToken.IsCancellationRequested)
        {
            while (reader.TryRead(out var command))
                Apply(command);
            var now = _clock.Now;
            var next = Turn(now);
            using var timeout = new CancellationTokenSource(next > now ? next - now : TimeSpan.Zero, time);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
            try
            {
                await reader.WaitToReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
            }
        }
        lock (_lock)
        {
            foreach (var probe in _paths.Values)
                probe.Dispose();
            _paths.Clear();
        }
    }

    /// <summary>Declares overdue probes missed, sends those due; returns when to look again.</summary>
    private DateTimeOffset Turn(DateTimeOffset now)
    {
        List<PathProbe> due = [];
        lock (_lock)
        {
            // Misses first, oldest first: a path's misses count before its next probe's rate is chosen.
            while (_deadlineQueue.TryPeek(out var entry, out var key) && key.Deadline <= now)
            {
                _deadlineQueue.Dequeue();
                if (IsOpen(entry.Probe) && entry.Probe.Pending.TryGetValue(entry.Seq, out var pending) && pending.Deadline == key.Deadline)
                    Expire(entry.Probe, entry.Seq, pending, due);
            }
            while (_dueQueue.TryPeek(out var probe, out var at) && at <= now)
            {
                _dueQueue.Dequeue();
                if (!IsOpen(probe) || probe.NextDue != at)
                    continue;
                due.Add(probe);
                var fast = IsActive(probe)
                    || ((now < probe.FastUntil || probe.Misses > 0 || probe.Replies < RecoveryReplies) && TakeFastToken(now));
                ScheduleAt(probe, now + (fast ? _activeInterval : _standby));
            }
        }
        foreach (var probe in due)
            Send(probe, move: null, now);
        // The probes just sent have deadlines too: the queue holds them now. Stale heads go, the earliest live entry
        // of either queue is the next turn.
        var next = now + TimeSpan.FromSeconds(1);
        lock (_lock)
        {
            while (_dueQueue.TryPeek(out var probe, out var at) && (!IsOpen(probe) || probe.NextDue != at))
                _dueQueue.Dequeue();
            if (_dueQueue.TryPeek(out _, out var nextDue) && nextDue < next)
                next = nextDue;
            while (_deadlineQueue.TryPeek(out var entry, out var key)
                && (!IsOpen(entry.Probe) || !entry.Probe.Pending.TryGetValue(entry.Seq, out var pending) || pending.Deadline != key.Deadline))
                _deadlineQueue.Dequeue();
            if (_deadlineQueue.TryPeek(out _, out var nextDeadline) && nextDeadline.Deadline < next)
                next = nextDeadline.Deadline;
        }
        // Wake-ups coalesce: with thousands of paths, probes due within a few milliseconds go out in one turn instead
        // of one turn each.
        return next > now + Coalesce ? next : now + Coalesce;
    }

    /// <summary>How close together probes' due times and deadlines are served by one turn.</summary>
    private static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(5);

    /// <summary>One fast probe of a path that is not active, if the budget has it. Under _lock.</summary>
    private bool TakeFastToken(DateTimeOffset now)
    {
        if (now > _fastRefilled)
            _fastTokens = Math.Min(FastBudget, _fastTokens + (now - _fastRefilled).TotalSeconds * FastBudget);
        _fastRefilled = now;
        if (_fastTokens >= 1)
        {
            _fastTokens--;
            return true;
        }
        if (now - _budgetLogged >= TimeSpan.FromMinutes(1))
        {
            _budgetLogged = now;
            LogBudgetReached(logger, FastBudget);
        }
        return false;
    }

    /// <summary>The path's next probe at <paramref name="at"/>. Under _lock.</summary>
    private void ScheduleAt(PathProbe probe, DateTimeOffset at)
    {
        probe.NextDue = at;
        _dueQueue.Enqueue(probe, at);
    }

    /// <summary>The probe still one of ours (not closed by a change of candidates). Under _lock.</summary>
    private bool IsOpen(PathProbe probe) => _paths.TryGetValue(probe.Path, out var current) && ReferenceEquals(current, probe);

    private bool IsActive(PathProbe probe) => _active.TryGetValue(probe.Peer, out var a) && a == probe.Path;

    /// <summary>Declares one overdue probe missed. Under _lock.</summary>
    private void Expire(PathProbe probe, ulong seq, Pending pending, List<PathProbe> due)
    {
        probe.Pending.Remove(seq);
        inbox.Post(new ProbeMissed(probe.Peer, pending.Deadline, probe.Path, seq));
        if (Telemetry.ProbesMissed.Enabled)
            Telemetry.ProbesMissed.Add(1, new KeyValuePair<string, object?>("path", probe.Path.ToString()));
        probe.Misses++;
        probe.Replies = 0;
        // The active path's first miss: the rest of the loss threshold at once, each its own probe.
        if (probe.Misses == 1 && IsActive(probe))
            for (var i = 1; i < _lossThreshold; i++)
                due.Add(probe);
    }

    private bool Send(PathProbe probe, ushort? move, DateTimeOffset now)
    {
        if (keyring.KeyFor(probe.Peer) is not { } key || keyring.Us(probe.Peer) is not { } us)
            return false;
        var wall = time.GetUtcNow();
        var seq = _sequences.Next(probe.Peer, wall);
        // A move names the address it is sent from as the responder sees it (a NAT's, once an answer said so).
        ProbeMessage message = move is { } port
            ? new MoveRequest(us.Public, seq, wall, new Endpoint(probe.Observed ?? probe.Path.Src, port))
            : new ProbeRequest(us.Public, seq, wall);
        var buffer = new byte[ProbeCodec.RequestSize];
        var length = ProbeCodec.Encode(message, key, buffer);
        lock (_lock)
        {
            var deadline = now + Timeout(probe.Quality, _activeInterval);
            probe.Pending[seq] = new Pending(time.GetTimestamp(), deadline);
            _deadlineQueue.Enqueue((probe, seq), (deadline, seq));
        }
        try
        {
            probe.Socket.SendTo(buffer.AsSpan(0, length), probe.Remote);
            return true;
        }
        catch (SocketException e)
        {
            // Unreachable, no route, address gone: the path cannot carry anything now. Missed at once.
            lock (_lock)
            {
                probe.Pending[seq] = probe.Pending[seq] with { Deadline = now };
                _deadlineQueue.Enqueue((probe, seq), (now, seq));
            }
            if (probe.LastSendError != e.SocketErrorCode)
                LogSendFailed(logger, probe.Path.ToString(), e.Message);
            probe.LastSendError = e.SocketErrorCode;
            return false;
        }
    }

    private async Task ReceiveAsync(PathProbe probe)
    {
        var buffer = new byte[ProbeCodec.MaxSize + 1];
        var guard = new ProbeGuard();
        while (await probe.Receiver.NextAsync(buffer) is { } result)
        {
            var now = _clock.Now;
            var arrived = time.GetTimestamp();
            if (!ProbeCodec.TryDecode(buffer.AsSpan(0, result.Length), s => s == probe.Peer ? keyring.KeyFor(s) : null, out var message, out var error)
                || !guard.TryAccept(message, time.GetUtcNow(), out error))
            {
                LogBadAnswer(logger, probe.Path.ToString(), result.From.ToString(), error.Describe());
                continue;
            }
            if (message is not ProbeAnswer answer)
                continue;
            Pending pending;
            lock (_lock)
            {
                if (!probe.Pending.Remove(answer.EchoSequence, out pending))
                    pending = default;
            }
            if (pending.SentTicks != 0)
            {
                var rtt = time.GetElapsedTime(pending.SentTicks, arrived).TotalMilliseconds;
                lock (_lock)
                {
                    probe.Quality = probe.Quality.WithReply(now, rtt);
                    probe.Observed = answer.ObservedSource.Address;
                    probe.Misses = 0;
                    probe.Replies++;
                }
                // The tag's string is made only when a listener (the OTLP exporter) takes the measurement.
                if (Telemetry.PathRtt.Enabled)
                    Telemetry.PathRtt.Record(rtt, new KeyValuePair<string, object?>("path", probe.Path.ToString()));
                inbox.Post(new ProbeReplied(probe.Peer, now, probe.Path, answer.EchoSequence, rtt, answer.ObservedSource, answer.WireGuardEndpoint));
            }
        }
    }

    public override void Dispose()
    {
        lock (_lock)
            foreach (var probe in _paths.Values)
                probe.Dispose();
        base.Dispose();
    }

    private readonly record struct Pending(long SentTicks, DateTimeOffset Deadline);

    private sealed class PathProbe(PeerKey peer, string device, CandidatePath path, IPEndPoint remote, string? uplink, IDatagramSocket socket) : IDisposable
    {
        public PeerKey Peer { get; } = peer;
        public string Interface { get; } = device;
        public CandidatePath Path { get; } = path;
        public IPEndPoint Remote { get; } = remote;
        public string? Device { get; } = uplink;
        public ReceivingSocket Receiver { get; } = new(socket);
        public IDatagramSocket Socket => Receiver.Socket;
        public Dictionary<ulong, Pending> Pending { get; } = [];
        public DateTimeOffset NextDue { get; set; }
        public DateTimeOffset FastUntil { get; set; }
        public SocketError? LastSendError { get; set; }
        /// <summary>Our address as the responder last saw it on this path.</summary>
        public IPAddress? Observed { get; set; }
        /// <summary>Probes missed in a row, and answered in a row since the last miss.</summary>
        public int Misses { get; set; }
        public int Replies { get; set; }
        /// <summary>The prober's own estimate, for its timeouts (the policy keeps its own from the same replies).</summary>
        public PathQuality Quality { get; set; }

        public void Dispose() => Receiver.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot open a probe socket for {Path} on {Device}: {Error}")]
    private static partial void LogBindFailed(ILogger logger, string path, string device, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "More than {Budget} fast probes a second wanted: paths that are down, recovering or settling are probed at the standby rate beyond that (logged once a minute at most)")]
    private static partial void LogBudgetReached(ILogger logger, int budget);

    [LoggerMessage(Level = LogLevel.Information, Message = "Probe over {Path} not sent: {Error}")]
    private static partial void LogSendFailed(ILogger logger, string path, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dropped an answer on {Path} from {From}: {Error}")]
    private static partial void LogBadAnswer(ILogger logger, string path, string from, string error);
}
