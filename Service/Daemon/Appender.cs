using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Engine.Events;
using WgRouted.Service.Store;

namespace WgRouted.Service.Daemon;

/// <summary>
/// Stores events without anybody waiting on it. Each batch gets its ids and goes to the local log first (one fsync),
/// then to the store, which skips ids it has; the log's stored mark then moves on. When the store does not answer,
/// the log keeps the events and they are stored in order once it does: nothing is lost, nothing stored twice, nothing
/// delayed. At start, whatever the log holds unstored (a crash, an outage) is stored first. What waits in memory is
/// bounded like the log, measurements (PathMeasured) going first: the events queued for a log that does not keep up,
/// and those the disk refused while the store refuses too.
/// </summary>
public sealed partial class Appender(StoreConnector connector, EventLog log, TimeProvider time, ILogger<Appender> logger,
    int maxQueued = Appender.DefaultMaxQueued, int maxUnlogged = Appender.DefaultMaxUnlogged)
    : BackgroundService
{
    /// <summary>Up to this many events share one transaction; a failover produces a handful, a resync a few hundred.</summary>
    public const int MaxBatch = 500;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long the store loop gathers after the first event logged. Each store transaction loads and writes every
    /// touched peer's projected state, whatever the number of its events: at 1,000 peers the events came one or two at
    /// a time (RTT moves spread over the minute) and storing them was a sixth of the daemon's CPU.
    /// </summary>
    public static readonly TimeSpan StoreGather = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Events queued for the log past which measurements posted are dropped (facts and decisions never are): a log
    /// whose fsync hangs would otherwise hold every event in memory. Ten minutes of 1,000 peers' measurements (RTT
    /// moves once a minute a path, about 70 a second), some 400 bytes each: about 20 MB.
    /// </summary>
    public const int DefaultMaxQueued = 50_000;

    /// <summary>
    /// Events the disk refused held for the store, past which the oldest measurements, then the oldest of anything,
    /// are dropped down to 80 % (the log's own policy). With the disk and the store both refusing, memory is all that
    /// is left and the daemon must outlive it: a fifth of what the log holds at its bound (records of 300-500 bytes),
    /// some 400 bytes each, about 40 MB. While a store attempt lasts, the events it took are apart, so up to twice this
    /// for that long.
    /// </summary>
    public const int DefaultMaxUnlogged = 100_000;

    private static readonly TimeSpan RefusalWarningInterval = TimeSpan.FromMinutes(1);

    private readonly Channel<(string Stream, object Event)> _channel =
        Channel.CreateUnbounded<(string, object)>(new UnboundedChannelOptions { SingleReader = true });
    private long _appended;
    private bool _warnedFull;

    public long Appended => Interlocked.Read(ref _appended);

    /// <summary>Events posted and not stored yet (queued, or in the log): the store's lag, as a count.</summary>
    public long Pending => Interlocked.Read(ref _posted) - Interlocked.Read(ref _appended) - Interlocked.Read(ref _dropped);
    private long _posted;
    /// <summary>Posted events LogBatch has taken from the queue.</summary>
    private long _taken;
    /// <summary>Posted events dropped (the log or the events the disk refused at their bound) and never to be stored.</summary>
    private long _dropped;
    private long _measurementsRefused;
    private long _nextRefusalWarning;

    public void Post(string stream, object e)
    {
        // Checked apart from the count: posters at the same moment may pass the bound by one each.
        if (e is PathMeasured && Interlocked.Read(ref _posted) - Interlocked.Read(ref _taken) >= maxQueued)
        {
            RefuseMeasurement();
            return;
        }
        Interlocked.Increment(ref _posted);
        _channel.Writer.TryWrite((stream, e));
    }

    private void RefuseMeasurement()
    {
        Interlocked.Increment(ref _measurementsRefused);
        var now = time.GetTimestamp();
        var next = Interlocked.Read(ref _nextRefusalWarning);
        if (now >= next && Interlocked.CompareExchange(ref _nextRefusalWarning,
                now + (long)(RefusalWarningInterval.TotalSeconds * time.TimestampFrequency), next) == next)
            LogMeasurementsRefused(logger, Interlocked.Exchange(ref _measurementsRefused, 0), log.Path, maxQueued);
    }

    /// <summary>Stops taking events; ExecuteAsync writes what is queued, then returns.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Logging and storing run apart: a store that hangs (a frozen PostgreSQL, up to its timeouts) never keeps
        // events from reaching the log.
        using var stopStoring = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var storing = StoreLoopAsync(stopStoring.Token);
        var reader = _channel.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                LogBatch(reader);
                _wake.Writer.TryWrite(true);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await stopStoring.CancelAsync();
        await FinishAsync(storing);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // BackgroundService starts ExecuteAsync with Task.Run on the stopping token: stopped before it ran, it never
        // runs, and what was posted meanwhile would be lost.
        if (!_finished)
            await FinishAsync(storing: null);
    }

    private bool _finished;

    /// <summary>
    /// Shutting down: whatever is still queued goes to the log, and to the store while it keeps up. The store loop,
    /// told to stop, is waited for within the same budget.
    /// </summary>
    private async Task FinishAsync(Task? storing)
    {
        _finished = true;
        var reader = _channel.Reader;
        while (reader.TryPeek(out _))
            LogBatch(reader);
        using var budget = new CancellationTokenSource(StopStoreBudget, time);
        try
        {
            if (storing is not null)
                await storing.WaitAsync(budget.Token);
            // Left behind when it overruns: Npgsql's open does not heed the token while a server does not answer.
            await StoreAsync(budget.Token).WaitAsync(budget.Token);
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested)
        {
        }
        lock (_logLock)
            if (log.HasUnstored)
                LogLeftInLog(logger, log.Path);
    }

    /// <summary>
    /// How long a stop gives the store to take what the log holds: the log keeps the rest and the next start stores it
    /// first. Draining a backlog of tens of thousands (a start that flapped at 1,000 peers) took longer than a stop may
    /// (ops/lab/scale's 20 s, systemd's TimeoutStopSec), and the daemon was killed.
    /// </summary>
    public static readonly TimeSpan StopStoreBudget = TimeSpan.FromSeconds(5);

    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock _logLock = new();

    /// <summary>Stores what the log holds whenever something was logged, and every RetryDelay while the store refuses.</summary>
    private async Task StoreLoopAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                bool pending;
                lock (_logLock)
                    pending = log.HasUnstored || _unlogged.Count > 0;
                if (!pending)
                {
                    await _wake.Reader.ReadAsync(ct);
                    // What comes meanwhile (durable in the log already) shares the transaction.
                    await Task.Delay(StoreGather, time, ct);
                }
                else
                {
                    using var delay = new CancellationTokenSource(RetryDelay, time);
                    using var either = CancellationTokenSource.CreateLinkedTokenSource(ct, delay.Token);
                    try
                    {
                        await _wake.Reader.ReadAsync(either.Token);
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                    }
                }
                await StoreAsync(ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>What is queued (up to a batch) gets its ids and goes to the log, flushed to disk.</summary>
    private void LogBatch(ChannelReader<(string Stream, object Event)> reader)
    {
        var batch = new List<LoggedEvent>(MaxBatch);
        var now = time.GetUtcNow();
        while (batch.Count < MaxBatch && reader.TryRead(out var item))
            batch.Add(new LoggedEvent(Guid.CreateVersion7(now), item.Stream, item.Event));
        if (batch.Count == 0)
            return;
        Interlocked.Add(ref _taken, batch.Count);
        lock (_logLock)
        {
            try
            {
                log.Append(batch);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The disk refuses (full, read-only): the batch can only go to the store directly.
                LogLogFailed(logger, batch.Count, log.Path, e.Message);
                _unlogged.AddRange(batch);
                if (_unlogged.Count > maxUnlogged)
                    TrimUnlogged();
                return;
            }
            if (log.Length > log.MaxBytes * 8 / 10 && !_warnedFull)
            {
                _warnedFull = true;
                LogFilling(logger, log.Path, log.Length >> 20, log.MaxBytes >> 20);
            }
            if (log.Length > log.MaxBytes)
            {
                var (measurements, others) = log.Trim((offset, why) => LogDamaged(logger, log.Path, offset, why));
                // Said before counted: whoever sees Pending fall has the reason in the log already.
                LogTrimmed(logger, log.Path, measurements, others);
                Interlocked.Add(ref _dropped, measurements + others);
            }
        }
    }

    private readonly List<LoggedEvent> _unlogged = [];

    /// <summary>Past its bound, the events the disk refused lose the oldest measurements, then the oldest of anything, down to 80 %.</summary>
    private void TrimUnlogged()
    {
        var keep = new bool[_unlogged.Count];
        Array.Fill(keep, true);
        var (measurements, others) = EventLog.DropOldest(keep, _unlogged.Count, maxUnlogged * 8 / 10,
            _ => 1, i => _unlogged[i].Event is PathMeasured);
        var kept = 0;
        for (var i = 0; i < _unlogged.Count; i++)
            if (keep[i])
                _unlogged[kept++] = _unlogged[i];
        _unlogged.RemoveRange(kept, _unlogged.Count - kept);
        LogUnloggedDropped(logger, measurements, others, log.Path, maxUnlogged);
        Interlocked.Add(ref _dropped, measurements + others);
    }

    /// <summary>What a store attempt took and did not store goes back, first.</summary>
    private void ReturnUnlogged(List<LoggedEvent> unlogged)
    {
        lock (_logLock)
        {
            _unlogged.InsertRange(0, unlogged);
            if (_unlogged.Count > maxUnlogged)
                TrimUnlogged();
        }
    }

    /// <summary>
    /// A backlog is read from the log this much at a time (a few thousand events), so that storing it costs in
    /// proportion to its size: reading the whole unstored log on every attempt made a store far behind fall further
    /// behind (1,000 peers flapping at start: the daemon's memory past 500 MB).
    /// </summary>
    private const long ReadWindow = 1 << 20;

    /// <summary>Everything the log holds unstored (then what the disk refused), in order, to the store.</summary>
    private async Task StoreAsync(CancellationToken ct)
    {
        try
        {
            while (true)
            {
                List<(LoggedEvent Event, long End)> records;
                List<LoggedEvent> unlogged;
                int generation;
                lock (_logLock)
                {
                    generation = log.Generation;
                    if (!log.HasUnstored && _unlogged.Count == 0)
                        break;
                    records = log.ReadUnstored((offset, why) => LogDamaged(logger, log.Path, offset, why), ReadWindow);
                    // Taken out, so that dropping past the bound meanwhile cannot touch them; put back if not stored.
                    unlogged = [.. _unlogged];
                    _unlogged.Clear();
                }
                // Nothing readable left (an unreadable record at the end): the next attempt looks again.
                if (records.Count == 0 && unlogged.Count == 0)
                    break;
                try
                {
                    var store = await connector.GetAsync(ct);
                    var trimmed = false;
                    foreach (var chunk in records.Chunk(MaxBatch))
                    {
                        await store.AppendAsync(chunk.Select(r => r.Event).ToList(), ct);
                        lock (_logLock)
                        {
                            // Trimmed meanwhile: the stored ones are skipped by id next time.
                            trimmed = log.Generation != generation;
                            if (!trimmed)
                                log.MarkStored(chunk[^1].End);
                        }
                        Interlocked.Add(ref _appended, chunk.Length);
                        if (trimmed)
                            break;
                    }
                    if (unlogged.Count > 0)
                    {
                        await store.AppendAsync(unlogged, ct);
                        Interlocked.Add(ref _appended, unlogged.Count);
                    }
                }
                catch
                {
                    if (unlogged.Count > 0)
                        ReturnUnlogged(unlogged);
                    throw;
                }
            }
            lock (_logLock)
                if (_warnedFull && log.Length < log.MaxBytes / 2)
                    _warnedFull = false;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            LogAppendFailed(logger, log.Path, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The store did not take the events ({Error}); they wait in {Log} and are stored once it answers")]
    private static partial void LogAppendFailed(ILogger logger, string log, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Cannot write {Count} events to {Log} ({Error}): they go to the store only, and are lost if it does not answer before the daemon stops")]
    private static partial void LogLogFailed(ILogger logger, int count, string log, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Log} at offset {Offset}: {Why}; the log ends there")]
    private static partial void LogDamaged(ILogger logger, string log, long offset, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Log} holds {Mb} MB the store has not taken (limit {MaxMb} MB): past the limit, measurements are dropped first")]
    private static partial void LogFilling(ILogger logger, string log, long mb, long maxMb);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping with events the store has not taken yet: they stay in {Log} and are stored at the next start")]
    private static partial void LogLeftInLog(ILogger logger, string log);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Log} reached its limit: dropped the oldest {Measurements} measurements and {Others} other events not yet stored")]
    private static partial void LogTrimmed(ILogger logger, string log, int measurements, int others);

    [LoggerMessage(Level = LogLevel.Error, Message = "Events neither {Log} nor the store took reached their limit of {Max} in memory: dropped the oldest {Measurements} measurements and {Others} other events")]
    private static partial void LogUnloggedDropped(ILogger logger, int measurements, int others, string log, int max);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Log} is not keeping up ({Max} events queued for it): dropped {Count} measurements posted since the last warning; facts and decisions are kept")]
    private static partial void LogMeasurementsRefused(ILogger logger, long count, string log, int max);
}
