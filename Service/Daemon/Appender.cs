using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Service.Store;

namespace WgRouted.Service.Daemon;

/// <summary>
/// Stores events without anybody waiting on it. Each batch gets its ids and goes to the local log first (one fsync),
/// then to the store, which skips ids it has; the log's stored mark then moves on. When the store does not answer,
/// the log keeps the events and they are stored in order once it does: nothing is lost, nothing stored twice, nothing
/// delayed. At start, whatever the log holds unstored (a crash, an outage) is stored first.
/// </summary>
public sealed partial class Appender(StoreConnector connector, EventLog log, TimeProvider time, ILogger<Appender> logger)
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

    private readonly Channel<(string Stream, object Event)> _channel =
        Channel.CreateUnbounded<(string, object)>(new UnboundedChannelOptions { SingleReader = true });
    private long _appended;
    private bool _warnedFull;

    public long Appended => Interlocked.Read(ref _appended);

    /// <summary>Events posted and not stored yet (queued, or in the log): the store's lag, as a count.</summary>
    public long Pending => Interlocked.Read(ref _posted) - Interlocked.Read(ref _appended);
    private long _posted;

    public void Post(string stream, object e)
    {
        Interlocked.Increment(ref _posted);
        _channel.Writer.TryWrite((stream, e));
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
        // Shutting down: whatever is still queued goes to the log, and to the store if it answers now.
        LogBatch(reader);
        await stopStoring.CancelAsync();
        await storing;
        await StoreAsync(CancellationToken.None);
    }

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
                LogTrimmed(logger, log.Path, measurements, others);
            }
        }
    }

    private readonly List<LoggedEvent> _unlogged = [];

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
                    unlogged = [.. _unlogged];
                }
                // Nothing readable left (an unreadable record at the end): the next attempt looks again.
                if (records.Count == 0 && unlogged.Count == 0)
                    break;
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
                    lock (_logLock)
                        _unlogged.RemoveRange(0, unlogged.Count);
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

    [LoggerMessage(Level = LogLevel.Error, Message = "{Log} reached its limit: dropped the oldest {Measurements} measurements and {Others} other events not yet stored")]
    private static partial void LogTrimmed(ILogger logger, string log, int measurements, int others);
}
