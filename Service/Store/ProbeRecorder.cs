using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace WgRouted.Service.Store;

/// <summary>
/// Stores every probe outcome in wg_routed.probe_outcomes beside Marten's tables, for incident replays that
/// merge them with the events by time. <see cref="Post"/> only queues; the loop writes a binary COPY every
/// second (sooner past <see cref="FlushCount"/>). When the store does not answer, outcomes are kept as small
/// rows, and past <c>maxPending</c> written to spill files in <c>spillDirectory</c>, replayed in order once it
/// answers (and by the next run if we stop meanwhile). <c>connect</c> yields the connection string once the
/// store is up; it is asked again after a failure. <c>retentionDays</c> 0 keeps everything.
/// </summary>
public sealed partial class ProbeRecorder(
    Func<CancellationToken, Task<string>> connect,
    string spillDirectory,
    int retentionDays,
    TimeProvider time,
    ILogger<ProbeRecorder> logger,
    int maxPending = ProbeRecorder.DefaultMaxPending) : BackgroundService
{
    /// <summary>A COPY of 10,000 rows takes a few ms; larger batches gain little, smaller ones cost round trips.</summary>
    public const int FlushCount = 10_000;

    /// <summary>~40 MB of pending rows; beyond this they go to a spill file.</summary>
    public const int DefaultMaxPending = 1_000_000;

    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    /// <summary>A flush that stores this many (a backlog after an outage) or any spill file is a bulk load: ANALYZE after it.</summary>
    private const int BulkLoad = 100_000;

    private readonly ConcurrentQueue<ProbeOutcome> _queue = new();
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly OutcomeNames _names = new();
    private readonly List<PendingOutcome> _backlog = [];
    private long _queued;
    private long _recorded;
    private long _spilled;
    private int _backlogCount;
    private long _oldestHeldTicks;
    private Task<string>? _connecting;
    private long _maintainedDay;
    private DateTimeOffset? _outageSince;
    private bool _spilledInOutage;
    private bool _finished;

    /// <summary>Outcomes stored since start.</summary>
    public long Recorded => Interlocked.Read(ref _recorded);

    /// <summary>Outcomes not stored yet: queued, held in memory, or in spill files.</summary>
    public long Pending => Interlocked.Read(ref _queued) + Volatile.Read(ref _backlogCount) + Interlocked.Read(ref _spilled);

    /// <summary>Outcomes waiting in spill files.</summary>
    public long Spilled => Interlocked.Read(ref _spilled);

    /// <summary>How old the oldest outcome not stored yet is (by its At); zero when none waits.</summary>
    public TimeSpan Lag
    {
        get
        {
            var oldest = Volatile.Read(ref _oldestHeldTicks);
            if (oldest == 0 && _queue.TryPeek(out var head))
                oldest = head.At.UtcTicks;
            return oldest == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Max(0, time.GetUtcNow().UtcTicks - oldest));
        }
    }

    /// <summary>Queues an outcome; never blocks, any thread.</summary>
    public void Post(ProbeOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        // Counted before it is queued, so Pending never reads low while the loop drains.
        if (Interlocked.Increment(ref _queued) == FlushCount)
            _wake.Writer.TryWrite(true);
        _queue.Enqueue(outcome);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => RunAsync(stoppingToken);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // BackgroundService starts ExecuteAsync with Task.Run on the stopping token: stopped before it ran, it never
        // runs, and what was posted meanwhile would be lost.
        if (ExecuteTask is not { IsCompleted: false } && (!_finished || Pending > 0))
            await FinishAsync();
    }

    /// <summary>The loop: flush, then wait for the next second or <see cref="FlushCount"/> queued; on stop, a last flush or a spill.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(FlushInterval, time);
        Task<bool>? tick = null;
        Task<bool>? wake = null;
        try
        {
            while (true)
            {
                await FlushAsync(ct);
                tick ??= timer.WaitForNextTickAsync(ct).AsTask();
                wake ??= _wake.Reader.WaitToReadAsync(ct).AsTask();
                await Task.WhenAny(tick, wake);
                if (tick.IsCompleted)
                {
                    await tick;
                    tick = null;
                }
                if (wake.IsCompleted)
                {
                    await wake;
                    _wake.Reader.TryRead(out _);
                    wake = null;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        await FinishAsync();
    }

    /// <summary>Stopping: what is pending goes to the store if it answers now, else to a spill file.</summary>
    private async Task FinishAsync()
    {
        if (!await FlushAsync(CancellationToken.None))
            SpillBacklog();
        _finished = true;
    }

    private void Drain()
    {
        var n = 0;
        while (_queue.TryDequeue(out var o))
        {
            _backlog.Add(new PendingOutcome(o.At.UtcTicks, o.Sequence, o.RttMs ?? 0, _names.PathOf(o.Peer, o.Path),
                _names.AnswerOf(o.Observed, o.PeerEndpoint), o.RttMs.HasValue));
            n++;
        }
        Volatile.Write(ref _backlogCount, _backlog.Count);
        Interlocked.Add(ref _queued, -n);
        NoteOldestHeld();
    }

    private void NoteOldestHeld() =>
        Volatile.Write(ref _oldestHeldTicks, _spills.Count > 0 ? _spills.Peek().FirstTicks : _backlog.Count > 0 ? _backlog[0].Ticks : 0);

    /// <summary>Stores the spill files, then the backlog; false when the store did not take them (they are kept).</summary>
    private async Task<bool> FlushAsync(CancellationToken ct)
    {
        LoadSpills();
        Drain();
        var today = time.GetUtcNow().UtcTicks / TimeSpan.TicksPerDay;
        if (_backlog.Count == 0 && _spills.Count == 0 && _maintainedDay == today)
            return true;
        try
        {
            _connecting ??= connect(ct);
            if (!_connecting.IsCompleted)
            {
                // The store is not up yet (the embedded cluster is starting): hold on, as in an outage.
                SpillIfFull();
                return false;
            }
            await using var conn = await OpenAsync(await _connecting, ct);
            if (_maintainedDay != today)
                await MaintainAsync(conn, today, ct);
            var stored = 0;
            var fromSpills = 0;
            var days = new HashSet<long>();
            while (_spills.TryPeek(out var spill))
            {
                var rows = ReadSpill(spill.Path);
                await CopyAsync(conn, rows, days, ct);
                File.Delete(spill.Path);
                _spills.Dequeue();
                Interlocked.Add(ref _recorded, rows.Count);
                Interlocked.Add(ref _spilled, -spill.Count);
                stored += rows.Count;
                fromSpills += rows.Count;
                NoteOldestHeld();
            }
            if (_backlog.Count > 0)
            {
                await CopyAsync(conn, _backlog, days, ct);
                Interlocked.Add(ref _recorded, _backlog.Count);
                stored += _backlog.Count;
                _backlog.Clear();
                Volatile.Write(ref _backlogCount, 0);
                NoteOldestHeld();
            }
            if (stored >= BulkLoad || fromSpills > 0)
                await AnalyzeAsync(conn, days, ct);
            if (_outageSince is { } since)
                LogStoreBack(logger, time.GetUtcNow() - since, stored, fromSpills);
            _outageSince = null;
            _spilledInOutage = false;
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            _connecting = null;
            _schemaReady = false;
            _partitions.Clear();
            _maintainedDay = 0;
            _names.Forget();
            if (_outageSince is null)
            {
                _outageSince = time.GetUtcNow();
                LogStoreDown(logger, e.Message, Pending);
            }
            SpillIfFull();
            return false;
        }
    }

    private void SpillIfFull()
    {
        if (_backlog.Count < maxPending)
            return;
        if (!_spilledInOutage)
            LogSpilling(logger, _backlog.Count, spillDirectory);
        _spilledInOutage = true;
        SpillBacklog();
    }
}
