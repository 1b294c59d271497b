using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Service.Store;

namespace WgRouted.Service.Daemon;

/// <summary>
/// Appends events to the store in batches, asynchronously: nobody waits on it. When the store does not answer,
/// batches go to the outbox and are replayed in order once it does; nothing is lost and nothing is delayed.
/// </summary>
public sealed partial class Appender(StoreConnector connector, Outbox outbox, TimeProvider time, ILogger<Appender> logger)
    : BackgroundService
{
    /// <summary>Up to this many events share one transaction; a failover produces a handful, a resync a few hundred.</summary>
    public const int MaxBatch = 500;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    private readonly Channel<(string Stream, object Event)> _channel =
        Channel.CreateUnbounded<(string, object)>(new UnboundedChannelOptions { SingleReader = true });
    private long _appended;

    public long Appended => Interlocked.Read(ref _appended);

    /// <summary>Events posted and not stored yet (queued, or in the outbox): the store's lag, as a count.</summary>
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
        var batch = new List<(string, object)>(MaxBatch);
        var reader = _channel.Reader;
        try
        {
            while (true)
            {
                bool more;
                if (outbox.IsEmpty)
                    more = await reader.WaitToReadAsync(stoppingToken);
                else
                {
                    using var delay = new CancellationTokenSource(RetryDelay, time);
                    using var retry = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, delay.Token);
                    try
                    {
                        more = await reader.WaitToReadAsync(retry.Token);
                    }
                    catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                    {
                        await WriteAsync(batch, stoppingToken);
                        continue;
                    }
                }
                if (!more)
                    break;
                while (batch.Count < MaxBatch && reader.TryRead(out var item))
                    batch.Add(item);
                await WriteAsync(batch, stoppingToken);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // Shutting down: whatever is still queued goes to the store if it answers now, else to the outbox.
        while (reader.TryRead(out var item))
            batch.Add(item);
        if (batch.Count > 0)
            await WriteAsync(batch, CancellationToken.None);
    }

    /// <summary>Drains the outbox, then stores the batch; on failure the batch joins the outbox.</summary>
    private async Task WriteAsync(List<(string, object)> batch, CancellationToken ct)
    {
        try
        {
            var store = await connector.GetAsync(ct);
            if (!outbox.IsEmpty)
                await DrainOutboxAsync(store, ct);
            if (batch.Count == 0)
                return;
            await store.AppendAsync(batch, ct);
            Interlocked.Add(ref _appended, batch.Count);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            if (batch.Count == 0)
                return;
            LogAppendFailed(logger, batch.Count, outbox.Path, e.Message);
            outbox.Write(batch);
        }
    }

    private async Task DrainOutboxAsync(EventStore store, CancellationToken ct)
    {
        var pending = outbox.ReadAll((line, error) => LogBadOutboxLine(logger, outbox.Path, line, error));
        foreach (var chunk in pending.Chunk(MaxBatch))
            await store.AppendAsync(chunk, ct);
        outbox.Clear();
        Interlocked.Add(ref _appended, pending.Count);
        LogOutboxDrained(logger, pending.Count);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not store {Count} events ({Error}); kept in {Outbox} until the store answers")]
    private static partial void LogAppendFailed(ILogger logger, int count, string outbox, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Outbox} line {Line} cannot be read ({Error}); moved to the .rejected file")]
    private static partial void LogBadOutboxLine(ILogger logger, string outbox, int line, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stored {Count} events from the outbox")]
    private static partial void LogOutboxDrained(ILogger logger, int count);
}
