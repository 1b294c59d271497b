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
/// Probes every candidate path out of band from one socket per source address and uplink, bound to both (SO_BINDTODEVICE),
/// so a probe leaves exactly as the tunnel will once pinned there; the paths from one source share it, and an answer is
/// the path's whose probe it echoes (the sender's key and the probe's sequence). A socket per path meant one receive
/// loop per path: at 4,000 paths each answer woke the socket engine and a thread of its own, where a shared socket's loop
/// takes the answers that queued meanwhile in one go. The active path is probed every
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
    /// How long an answer is waited for: RFC 6298's RTO shape (srtt + 4 rttvar, times <paramref name="margin"/>), at
    /// least MinTimeout, and at most one active interval unless the path's RTT itself is longer: silent loss must show
    /// within LossThreshold intervals. A probe's is the RTO itself: a silent loss is known after two of them (a miss,
    /// then the rest of the threshold at once), and the jitter of a loaded lab (rttvar 5-10 ms) made the doubled one
    /// 90-100 ms, most of an outage's 400 ms budget; a miss that was only late costs no switch without a witness. The
    /// handshake prober doubles it: a handshake's answer takes the peer's crypto, and a stock peer's failed trial is a
    /// failed switch.
    /// </summary>
    public static TimeSpan Timeout(PathQuality quality, TimeSpan activeInterval, double margin = 1)
    {
        var ms = quality.SrttMs is { } s ? margin * (s + 4 * quality.RttVarMs) : activeInterval.TotalMilliseconds;
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

    /// <summary>
    /// Probes due at once (new paths, a host change, a peer's first miss) leave at most this fast past a burst of
    /// <see cref="ImmediateBurst"/>: at 1,000 peers x 4 paths a route change made 4,000 due in one turn, more than the
    /// peers' side of a small router's uplink (the probe farm's socket buffers in ops/lab/scale) takes at once, so most
    /// were missed, and since each path's next probe keeps its phase the paths stayed in step, a burst every interval.
    /// Spread over 200 ms, and their next probes over the interval, they keep apart; a few dozen paths never wait.
    /// </summary>
    public const int ImmediateRate = 20_000;

    /// <summary>Probes due at once that leave together before <see cref="ImmediateRate"/> applies.</summary>
    public const int ImmediateBurst = 64;

    private static readonly TimeSpan ImmediateSlot = TimeSpan.FromTicks(TimeSpan.TicksPerSecond / ImmediateRate);

    private readonly Lock _lock = new();
    private readonly Dictionary<CandidatePath, PathProbe> _paths = [];
    private readonly Dictionary<PeerKey, List<PathProbe>> _byPeer = [];
    private readonly Dictionary<(IPAddress Src, string? Device), SourceSocket> _sockets = [];
    // The virtual time of the last immediate slot handed out (GCRA): ahead of now while a burst is paced.
    private DateTimeOffset _paced = DateTimeOffset.MinValue;
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
            case ProbeLink l:
                lock (_lock)
                    if (l.Carrier)
                        _noCarrier.Remove(l.Link);
                    else
                        _noCarrier.Add(l.Link);
                break;
        }
    }

    // Links without carrier, by name. A probe sent over one still starts ARP (or neighbour discovery) for its gateway:
    // the solicitations go nowhere, and the entry stays INCOMPLETE, each retry a retrans_time (1 s) after the last. When
    // the carrier returns, the next probe waits for that entry's next retry (up to 1 s) before it leaves, where a probe
    // to a gateway the kernel has no entry for asks at once (lab b-carrier: back on the primary after 0.57-0.65 s, where
    // it took 1.6 s or 0.86 s).
    private readonly HashSet<string> _noCarrier = [];

    /// <summary>The probe's socket is bound to a link without carrier. Under _lock.</summary>
    private bool NoCarrier(PathProbe probe) => probe.Device is { } device && _noCarrier.Contains(device);

    // The paths each peer was last given, kept by the loop's thread: a prober started again after a failure (its sockets
    // closed with its loop) opens them again, where it would otherwise probe nothing until the candidates next changed.
    private readonly Dictionary<PeerKey, IReadOnlyList<(CandidatePath Path, string? Link)>> _given = [];

    /// <summary>The peer's candidates changed: open sockets for new paths, close those of gone ones.</summary>
    private void SetPaths(PeerKey peer, IReadOnlyList<(CandidatePath Path, string? Link)> paths)
    {
        if (paths.Count == 0)
            _given.Remove(peer);
        else
            _given[peer] = paths;
        if (keyring.InterfaceOf(peer) is not { } itf || !Probed(peer))
            return;
        var probePort = config.Peers.First(p => p.Peer.PublicKey == peer).Peer.ProbePort;
        var links = paths.ToDictionary(p => p.Path, p => p.Link);
        lock (_lock)
        {
            var wanted = links.Keys.ToHashSet();
            if (!_byPeer.TryGetValue(peer, out var own))
                _byPeer[peer] = own = [];
            foreach (var probe in own.Where(p => !wanted.Contains(p.Path)).ToList())
                Close(probe);
            var now = _clock.Now;
            foreach (var path in wanted)
            {
                var device = links[path];
                if (_paths.TryGetValue(path, out var existing) && existing.Device == device)
                    continue;
                if (existing is not null)
                    Close(existing);
                if (SocketFor(path, device) is not { } source)
                    continue;
                var probe = new PathProbe(peer, itf.Name, path, new IPEndPoint(path.Dst.Address, probePort), source, _sequences.For(peer))
                {
                    FastUntil = now + SettleTime,
                    Active = _active.TryGetValue(peer, out var active) && active == path,
                };
                source.Users++;
                _paths[path] = probe;
                own.Add(probe);
                ScheduleSoon(probe, now);
            }
        }
    }

    /// <summary>Closes a path's probe (gone from the candidates). Under _lock.</summary>
    private void Close(PathProbe probe)
    {
        probe.Closed = true;
        _paths.Remove(probe.Path);
        _byPeer.GetValueOrDefault(probe.Peer)?.Remove(probe);
        if (--probe.Source.Users == 0)
        {
            _sockets.Remove(probe.Source.Key);
            probe.Source.Receiver.Dispose();
        }
    }

    /// <summary>The socket of the path's source and uplink, opened (and read) on first use; null when it cannot be. Under _lock.</summary>
    private SourceSocket? SocketFor(CandidatePath path, string? device)
    {
        if (_sockets.TryGetValue((path.Src, device), out var source))
            return source;
        try
        {
            source = new SourceSocket(path.Src, device, bind(new IPEndPoint(path.Src, 0), device));
        }
        catch (SocketException e)
        {
            LogBindFailed(logger, path.ToString(), device ?? "-", e.Message);
            return null;
        }
        _sockets[source.Key] = source;
        source.Receiver.Receiving = Task.Factory.StartNew(() => Receive(source), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return source;
    }

    /// <summary>
    /// The path's next probe as soon as <see cref="ImmediateRate"/> allows, and the one after it spread; a path due
    /// sooner already keeps its time and takes no slot. Without that, each of a burst of host changes (26 at a start)
    /// moved all 4,000 paths to the back of the line, seconds away, and the active paths went stale. Under _lock.
    /// </summary>
    private void ScheduleSoon(PathProbe probe, DateTimeOffset now)
    {
        var earliest = now - ImmediateSlot * ImmediateBurst;
        var slot = (_paced > earliest ? _paced : earliest) + ImmediateSlot;
        var at = slot > now ? slot : now;
        if (probe.NextDue != default && probe.NextDue <= at)
            return;
        _paced = slot;
        ScheduleAt(probe, at);
        probe.Spread = true;
    }

    /// <summary>
    /// How early in its interval a path's probe after one sent at once may go: with more paths than
    /// <see cref="ImmediateBurst"/>, the whole interval, so that paths probed at once (a start, a route change) spread
    /// evenly instead of staying in step, a burst every interval; with fewer, one turn's worth, since their bursts are
    /// small and a spread over the whole interval only woke the loop once a probe (10 peers: 3.9 % of a core instead
    /// of 1.8 %). A window sized between the two (a few hundred ms for the standby paths of 1,000 peers) packed a
    /// second's probes into a third of it, and the start flapped (ops/lab/scale). Under _lock.
    /// </summary>
    private TimeSpan SpreadWindow(TimeSpan interval) =>
        _paths.Count > ImmediateBurst || Coalesce > interval ? interval : Coalesce;

    /// <summary>
    /// Where in the spread window the next such probe goes, from its end: the fractional parts of multiples of the
    /// golden ratio, which fall evenly however many there are. Under _lock.
    /// </summary>
    private double NextSpread()
    {
        _spreadPoint = (_spreadPoint + 0.6180339887498949) % 1;
        return _spreadPoint;
    }

    private double _spreadPoint;

    /// <summary>
    /// A periodic probe's next time: one interval after the one it replaces, keeping the path's phase (intervals missed
    /// by a late turn are skipped, never bunched), so paths spread once stay spread.
    /// </summary>
    private static DateTimeOffset Following(DateTimeOffset due, DateTimeOffset now, TimeSpan interval)
    {
        var next = due + interval;
        return next > now ? next : next + interval * Math.Floor((now - next) / interval + 1);
    }

    private bool Probed(PeerKey peer) => config.Peers.Any(p => p.Peer.PublicKey == peer && p.Peer.Endpoints.Count > 0 && p.Peer.Responder);

    private void SetActive(PeerKey peer, CandidatePath? path)
    {
        lock (_lock)
        {
            foreach (var own in _byPeer.GetValueOrDefault(peer) ?? [])
                own.Active = own.Path == path;
            if (path is not { } active)
            {
                _active.Remove(peer);
                return;
            }
            _active[peer] = active;
            if (_paths.TryGetValue(active, out var probe))
                ScheduleSoon(probe, _clock.Now);
        }
    }

    /// <summary>Probe every path (of one peer) now and at the active rate until things settle.</summary>
    private void Trigger(PeerKey? peer)
    {
        var now = _clock.Now;
        lock (_lock)
            foreach (var probe in peer is { } only ? _byPeer.GetValueOrDefault(only) ?? [] : (IEnumerable<PathProbe>)_paths.Values)
            {
                ScheduleSoon(probe, now);
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
        return SendMove(probe, listenPort, _clock.Now);
    }

    /// <summary>The loop runs on a thread of its own (<see cref="Doorbell"/>), woken by a command or its next turn.</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Loop(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Loop(CancellationToken stoppingToken)
    {
        Thread.CurrentThread.Name = "prober";
        var reader = schedule.Reader;
        using var stopping = stoppingToken.Register(schedule.Bell.Ring);
        using var summary = time.CreateTimer(_ => Summarize(), null, Refusals.SummaryInterval, Refusals.SummaryInterval);
        // Stopped, the sockets close with the loop: their threads would read and report answers on.
        try
        {
            Volatile.Write(ref _readerFailure, null);
            foreach (var (peer, paths) in _given.ToList())
                SetPaths(peer, paths);
            while (!stoppingToken.IsCancellationRequested)
            {
                while (reader.TryRead(out var command))
                    Apply(command);
                if (Volatile.Read(ref _readerFailure) is { } failure)
                    throw failure;
                var next = Turn(_clock.Now);
                schedule.Bell.Wait(next, _clock, time);
            }
        }
        finally
        {
            CloseAll();
        }
    }

    private void CloseAll()
    {
        lock (_lock)
        {
            foreach (var probe in _paths.Values)
                probe.Closed = true;
            foreach (var source in _sockets.Values)
                source.Receiver.Dispose();
            _sockets.Clear();
            _paths.Clear();
            _byPeer.Clear();
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
                if (!IsLive(entry.Probe, entry.Seq, key.Deadline, out var pending))
                    continue;
                // Answered perhaps, but not read yet, or read in a batch not yet gone through: on a loaded router the
                // receive loop can be behind the deadlines, and a miss of ours is not the path's. Looked at again in a
                // moment, for ReadGrace at most.
                if (now < pending.Deadline + ReadGrace
                    && (Volatile.Read(ref entry.Probe.Source.Unprocessed) > 0 || entry.Probe.Source.Socket.HasQueued))
                {
                    _deadlineQueue.Enqueue(entry, (now + Coalesce, entry.Seq));
                    continue;
                }
                Expire(entry.Probe, entry.Seq, pending, due);
            }
            while (_dueQueue.TryPeek(out var probe, out var at) && at <= now)
            {
                _dueQueue.Dequeue();
                if (!IsOpen(probe) || probe.NextDue != at)
                    continue;
                if (NoCarrier(probe))
                {
                    ScheduleAt(probe, Following(at, now, _standby));
                    continue;
                }
                due.Add(probe);
                var fast = IsActive(probe)
                    || ((now < probe.FastUntil || probe.Misses > 0 || probe.Replies < RecoveryReplies) && TakeFastToken(now));
                var interval = fast ? _activeInterval : _standby;
                ScheduleAt(probe, probe.Spread ? at + interval - SpreadWindow(interval) * NextSpread() : Following(at, now, interval));
                probe.Spread = false;
            }
        }
        SendAll(due, now);
        // The probes just sent have deadlines too: the queue holds them now. Stale heads go, the earliest live entry
        // of either queue is the next turn.
        var next = now + TimeSpan.FromSeconds(1);
        lock (_lock)
        {
            while (_dueQueue.TryPeek(out var probe, out var at) && (!IsOpen(probe) || probe.NextDue != at))
                _dueQueue.Dequeue();
            if (_dueQueue.TryPeek(out _, out var nextDue) && nextDue < next)
                next = nextDue;
            while (_deadlineQueue.TryPeek(out var entry, out var key) && !IsLive(entry.Probe, entry.Seq, key.Deadline, out _))
                _deadlineQueue.Dequeue();
            if (_deadlineQueue.TryPeek(out _, out var nextDeadline) && nextDeadline.Deadline < next)
                next = nextDeadline.Deadline;
        }
        // Wake-ups coalesce: with thousands of paths, probes due within a few milliseconds go out in one turn instead
        // of one turn each.
        return next > now + Coalesce ? next : now + Coalesce;
    }

    /// <summary>
    /// How long past its deadline a probe's miss waits while its socket holds unread answers: a few turns of a loop that
    /// is behind, well below an active interval, so a silent loss is still known within LossThreshold intervals.
    /// </summary>
    public static readonly TimeSpan ReadGrace = TimeSpan.FromMilliseconds(50);

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

    /// <summary>
    /// A deadline entry still stands: its probe outstanding on an open path, and the entry not older than the probe's
    /// deadline (a send error moves it to now; a recheck adds a later entry). Under _lock.
    /// </summary>
    private bool IsLive(PathProbe probe, ulong seq, DateTimeOffset key, out Pending pending)
    {
        pending = default;
        return IsOpen(probe) && probe.Pending.TryGetValue(seq, out pending) && key >= pending.Deadline;
    }

    /// <summary>The probe still one of ours (not closed by a change of candidates). Under _lock.</summary>
    private static bool IsOpen(PathProbe probe) => !probe.Closed;

    private static bool IsActive(PathProbe probe) => probe.Active;

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
        if (probe.Misses == 1 && IsActive(probe) && !NoCarrier(probe))
            for (var i = 1; i < _lossThreshold; i++)
                due.Add(probe);
    }

    private bool SendMove(PathProbe probe, ushort listenPort, DateTimeOffset now)
    {
        if (keyring.ProbingOf(probe.Peer) is not { } keys)
            return false;
        var wall = time.GetUtcNow();
        var seq = probe.Sequence.Next(wall);
        // A move names the address it is sent from as the responder sees it (a NAT's, once an answer said so).
        var message = new MoveRequest(keys.Us, seq, wall, new Endpoint(probe.Observed ?? probe.Path.Src, listenPort));
        Span<byte> buffer = stackalloc byte[ProbeCodec.RequestSize];
        var length = ProbeCodec.Encode(message, keys.Key, buffer);
        lock (_lock)
            Outstanding(probe, seq, time.GetTimestamp(), now);
        try
        {
            probe.Source.Socket.SendTo(buffer[..length], probe.Remote);
            return true;
        }
        catch (SocketException e)
        {
            NotSent(probe, seq, e.SocketErrorCode, now);
            return false;
        }
    }

    /// <summary>A probe about to leave is outstanding until its deadline. Under _lock.</summary>
    private void Outstanding(PathProbe probe, ulong seq, long sentTicks, DateTimeOffset now)
    {
        var deadline = now + Timeout(probe.Quality, _activeInterval);
        probe.Pending[seq] = new Pending(sentTicks, deadline);
        _deadlineQueue.Enqueue((probe, seq), (deadline, seq));
    }

    /// <summary>Probes a turn sends on one socket with one system call, at most; a turn at 1,000 peers has a few dozen.</summary>
    private const int SendBatch = 64;

    private readonly byte[] _sendBuffers = new byte[SendBatch * ProbeCodec.RequestSize];
    private readonly Outgoing[] _outgoing = new Outgoing[SendBatch];
    private readonly SocketError[] _sendErrors = new SocketError[SendBatch];
    private readonly (PathProbe Probe, ulong Seq)[] _sending = new (PathProbe, ulong)[SendBatch];
    private readonly List<SourceSocket> _sendSources = [];

    /// <summary>
    /// The turn's probes, a source socket at a time, each socket's in as few system calls as the kernel allows: at
    /// 1,000 peers a sendto per probe (7,000 a second) was a quarter of the daemon's time. Only the turn's loop calls it.
    /// </summary>
    private void SendAll(List<PathProbe> due, DateTimeOffset now)
    {
        if (due.Count == 0)
            return;
        _sendSources.Clear();
        foreach (var probe in due)
            if (!_sendSources.Contains(probe.Source))
                _sendSources.Add(probe.Source);
        var wall = time.GetUtcNow();
        foreach (var source in _sendSources)
        {
            var count = 0;
            foreach (var probe in due)
            {
                if (probe.Source != source || keyring.ProbingOf(probe.Peer, ref probe.Keys) is not { } keys)
                    continue;
                var seq = probe.Sequence.Next(wall);
                var length = ProbeCodec.Encode(new ProbeRequest(keys.Us, seq, wall), keys.Key,
                    _sendBuffers.AsSpan(count * ProbeCodec.RequestSize, ProbeCodec.RequestSize));
                _outgoing[count] = new Outgoing(length, probe.Remote);
                _sending[count++] = (probe, seq);
                if (count == SendBatch)
                {
                    SendBatched(source, count, now);
                    count = 0;
                }
            }
            if (count > 0)
                SendBatched(source, count, now);
        }
    }

    /// <summary>The first <paramref name="count"/> probes prepared in the batch buffers, outstanding from now, sent.</summary>
    private void SendBatched(SourceSocket source, int count, DateTimeOffset now)
    {
        lock (_lock)
        {
            var sent = time.GetTimestamp();
            for (var i = 0; i < count; i++)
                Outstanding(_sending[i].Probe, _sending[i].Seq, sent, now);
        }
        try
        {
            source.Socket.SendTo(_sendBuffers.AsSpan(0, count * ProbeCodec.RequestSize), ProbeCodec.RequestSize,
                _outgoing.AsSpan(0, count), _sendErrors.AsSpan(0, count));
        }
        catch (ObjectDisposedException)
        {
            // Closed meanwhile (the paths changed): the probes are no one's now.
            return;
        }
        for (var i = 0; i < count; i++)
            if (_sendErrors[i] != SocketError.Success)
                NotSent(_sending[i].Probe, _sending[i].Seq, _sendErrors[i], now);
        Array.Clear(_sending, 0, count);
        Array.Clear(_outgoing, 0, count);
    }

    /// <summary>Unreachable, no route, address gone: the path cannot carry anything now. Missed at once.</summary>
    private void NotSent(PathProbe probe, ulong seq, SocketError error, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (!probe.Pending.TryGetValue(seq, out var pending))
                return;
            probe.Pending[seq] = pending with { Deadline = now };
            _deadlineQueue.Enqueue((probe, seq), (now, seq));
        }
        if (probe.LastSendError != error)
            LogSendFailed(logger, probe.Path.ToString(), new SocketException((int)error).Message);
        probe.LastSendError = error;
    }

    /// <summary>
    /// A source socket's answers, read on a thread of its own: a datagram wakes that thread and nothing else, where an
    /// asynchronous receive woke the socket engine's thread and then a pool thread for it. Past <see cref="BatchedRate"/>
    /// answers a second the thread reads what queued every <see cref="BatchedReadPause"/> instead of waking for each (as the
    /// loop sends): at 1,000 peers (7,000 answers a second, spread evenly) a wake-up per answer was most of the daemon's
    /// CPU. The kernel's receive stamp (<see cref="Datagram.Queued"/>) keeps the round trips exact either way.
    /// </summary>
    private void Receive(SourceSocket source)
    {
        Thread.CurrentThread.Name = $"probe rx {source.Name}";
        try
        {
            ReadAnswers(source);
        }
        catch (Exception e) when (!source.Receiver.IsDisposed)
        {
            // A reader gone would leave its socket's answers unread and every probe on it missed: the prober fails
            // as a whole, and its supervisor starts it again with fresh sockets.
            Interlocked.CompareExchange(ref _readerFailure, new IOException($"the reader of probe socket {source.Name} failed: {e.Message}", e), null);
            schedule.Bell.Ring();
        }
    }

    /// <summary>A socket's reader that failed, for the loop to fail with.</summary>
    private Exception? _readerFailure;

    private void ReadAnswers(SourceSocket source)
    {
        var buffers = new byte[ReadBatch * AnswerSlot];
        var datagrams = new Datagram[ReadBatch];
        var guard = new ProbeGuard();
        var pace = new ReadPace();
        var replies = new List<ProbeReplied>(ReadBatch);
        int count;
        while ((count = source.Receiver.Next(buffers, AnswerSlot, datagrams)) > 0)
        {
            Volatile.Write(ref source.Unprocessed, count);
            // The clocks once a batch: each answer's arrival is the read's moment less the time it waited queued.
            var now = _clock.Now;
            var read = time.GetTimestamp();
            var wall = time.GetUtcNow();
            for (var i = 0; i < count; i++)
            {
                if (Answered(source, guard, buffers.AsSpan(i * AnswerSlot, datagrams[i].Length), datagrams[i], now, read, wall) is { } reply)
                    replies.Add(reply);
                Volatile.Write(ref source.Unprocessed, count - i - 1);
            }
            // Posted together, once the batch's MAC checks are done: the policy loop, woken by the first, takes them
            // in one turn.
            foreach (var reply in replies)
                inbox.Post(reply);
            replies.Clear();
            // A full batch leaves more queued: read on at once.
            if (pace.Read(read / time.TimestampFrequency, count) && count < ReadBatch)
                Thread.Sleep(BatchedReadPause);
        }
    }

    /// <summary>Answers one read takes at most: a 5 ms batch at 1,000 peers is about ten a socket.</summary>
    private const int ReadBatch = 64;

    /// <summary>A datagram longer than any probe message still shows as too long, not cut to a valid length.</summary>
    private const int AnswerSlot = ProbeCodec.MaxSize + 1;

    /// <summary>One datagram on a source socket: an answer to an outstanding probe of ours is a ProbeReplied, returned.</summary>
    private ProbeReplied? Answered(SourceSocket source, ProbeGuard guard, ReadOnlySpan<byte> data, Datagram datagram,
        DateTimeOffset now, long read, DateTimeOffset wall)
    {
        var arrived = read - (long)(datagram.Queued.TotalSeconds * time.TimestampFrequency);
        if (!ProbeCodec.TryDecode(data, keyring.KeyLookup, out var message, out var error)
            || !guard.TryAccept(message, wall, out error))
        {
            // A flood aimed at the socket is as cheap as this: a MAC check, a count.
            if (_refusals.Count(error.Describe()))
                LogRefusedFirst(logger, source.Name, datagram.From.ToString(), error.Describe());
            return null;
        }
        if (message is not ProbeAnswer answer)
            return null;
        PathProbe? probe = null;
        double rtt = 0;
        lock (_lock)
        {
            // The path whose probe it answers: the sender's, from this socket, with that sequence outstanding.
            if (_byPeer.TryGetValue(answer.Sender, out var own))
                foreach (var p in own)
                    if (p.Source == source && p.Pending.Remove(answer.EchoSequence, out var pending))
                    {
                        probe = p;
                        // The stamp is on the wall clock: slewed against the monotonic one, never before the send.
                        rtt = Math.Max(0, time.GetElapsedTime(pending.SentTicks, arrived).TotalMilliseconds);
                        probe.Quality = probe.Quality.WithReply(now, rtt);
                        probe.Observed = answer.ObservedSource.Address;
                        probe.Misses = 0;
                        probe.Replies++;
                        break;
                    }
        }
        if (probe is null)
            return null;
        // The tag's string is made only when a listener (the OTLP exporter) takes the measurement.
        if (Telemetry.PathRtt.Enabled)
            Telemetry.PathRtt.Record(rtt, new KeyValuePair<string, object?>("path", probe.Path.ToString()));
        return new ProbeReplied(probe.Peer, now, probe.Path, answer.EchoSequence, rtt, answer.ObservedSource, answer.WireGuardEndpoint);
    }

    /// <summary>
    /// Answers a second on one socket past which its thread reads every <see cref="BatchedReadPause"/> rather than at
    /// each answer: one wake-up per read costs less than one per answer from here on.
    /// </summary>
    public const int BatchedRate = 400;

    /// <summary>
    /// A busy socket's reads this far apart. An answer's RTT ends at its kernel stamp, and a deadline passing while
    /// answers wait is held for <see cref="ReadGrace"/>, so the pause delays only when the policy loop hears of an
    /// answer. 5 ms meant 200 wake-ups a second for each of a router's four sockets at 1,000 peers, and as many of
    /// the policy loop, which each read's answers ring (ops/lab/scale: 825 and 663 a second).
    /// </summary>
    private static readonly TimeSpan BatchedReadPause = TimeSpan.FromMilliseconds(10);

    /// <summary>Whether a source socket's answers come fast enough to be read in batches: counted over whole seconds.</summary>
    private struct ReadPace
    {
        private long _second;
        private int _count;
        private bool _batched;

        /// <summary><paramref name="count"/> answers read in monotonic second <paramref name="second"/>; whether to batch.</summary>
        public bool Read(long second, int count)
        {
            if (second != _second)
            {
                _batched = second == _second + 1 && _count > BatchedRate;
                _second = second;
                _count = 0;
            }
            _count += count;
            return _batched;
        }
    }

    private readonly Refusals _refusals = new();

    /// <summary>Datagrams on the source sockets refused so far, by cause: not a probe message, a bad MAC, stale.</summary>
    public IReadOnlyDictionary<string, long> Refused => _refusals.Snapshot();

    private void Summarize()
    {
        if (_refusals.Changes() is { } changes)
            LogRefused(logger, changes);
    }

    public override void Dispose()
    {
        CloseAll();
        base.Dispose();
    }

    private readonly record struct Pending(long SentTicks, DateTimeOffset Deadline);

    /// <summary>A socket bound to one source address and uplink, shared by the paths from there.</summary>
    private sealed class SourceSocket(IPAddress src, string? device, IDatagramSocket socket)
    {
        public (IPAddress Src, string? Device) Key { get; } = (src, device);
        public string Name { get; } = device is null ? src.ToString() : $"{src}%{device}";
        public ReceivingSocket Receiver { get; } = new(socket);
        public IDatagramSocket Socket => Receiver.Socket;
        /// <summary>Paths using it; closed with the last. Under _lock.</summary>
        public int Users { get; set; }
        /// <summary>
        /// Answers its thread has read and not yet gone through: out of the socket, so not queued there, and a deadline
        /// passing meanwhile must wait for them as for queued ones. Written by that thread only.
        /// </summary>
        public int Unprocessed;
    }

    private sealed class PathProbe(PeerKey peer, string device, CandidatePath path, IPEndPoint remote, SourceSocket source, ProbeSequence sequence)
    {
        public PeerKey Peer { get; } = peer;
        public string Interface { get; } = device;
        public CandidatePath Path { get; } = path;
        public IPEndPoint Remote { get; } = remote;
        public SourceSocket Source { get; } = source;
        public string? Device => Source.Key.Device;
        public ProbeSequence Sequence { get; } = sequence;
        /// <summary>The peer's keys as the keyring last had them; only the loop's turn uses it.</summary>
        public Keyring.ProbingCache Keys;
        public Dictionary<ulong, Pending> Pending { get; } = [];
        /// <summary>
        /// Closed by a change of candidates or the loop's end: entries of the queues that are its are skipped. A flag,
        /// where finding the path again was a dictionary lookup for every due probe and deadline. Under _lock.
        /// </summary>
        public bool Closed { get; set; }
        /// <summary>The peer's active path (the policy's last word, <see cref="SetActive"/>). Under _lock.</summary>
        public bool Active { get; set; }
        public DateTimeOffset NextDue { get; set; }
        public DateTimeOffset FastUntil { get; set; }
        /// <summary>Sent at once: the next probe goes to a spread point of the interval (<see cref="NextSpread"/>).</summary>
        public bool Spread { get; set; }
        public SocketError? LastSendError { get; set; }
        /// <summary>Our address as the responder last saw it on this path.</summary>
        public IPAddress? Observed { get; set; }
        /// <summary>Probes missed in a row, and answered in a row since the last miss.</summary>
        public int Misses { get; set; }
        public int Replies { get; set; }
        /// <summary>The prober's own estimate, for its timeouts (the policy keeps its own from the same replies).</summary>
        public PathQuality Quality { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot open a probe socket for {Path} on {Device}: {Error}")]
    private static partial void LogBindFailed(ILogger logger, string path, string device, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "More than {Budget} fast probes a second wanted: paths that are down, recovering or settling are probed at the standby rate beyond that (logged once a minute at most)")]
    private static partial void LogBudgetReached(ILogger logger, int budget);

    [LoggerMessage(Level = LogLevel.Information, Message = "Probe over {Path} not sent: {Error}")]
    private static partial void LogSendFailed(ILogger logger, string path, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a datagram on probe socket {Socket} from {From} ({Cause}); further ones for this cause are counted, not logged")]
    private static partial void LogRefusedFirst(ILogger logger, string socket, string from, string cause);

    [LoggerMessage(Level = LogLevel.Information, Message = "Prober refused so far: {Counts}")]
    private static partial void LogRefused(ILogger logger, string counts);
}
