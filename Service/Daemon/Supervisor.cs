using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Engine.Events;

namespace WgRouted.Service.Daemon;

/// <summary>
/// Runs one source or actuator and starts it again when it fails, after a backoff
/// (100 ms doubling to 30 s, back to 100 ms once it has run a minute): each restart is an event on the host stream
/// (<see cref="ServiceRestarted"/>), a log line and a metric. A service that fails <see cref="FatalFailures"/> times
/// without a healthy minute in between is a fatal fault: the daemon stops with a non-zero exit (<see cref="DaemonHealth"/>),
/// so that systemd's Restart=on-failure starts it afresh.
/// </summary>
public sealed partial class Supervisor(
    BackgroundService service, string name, Inbox inbox, DaemonHealth health, TimeProvider time, ILogger<Supervisor> logger) : IHostedService, IDisposable
{
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);
    /// <summary>Running this long resets the backoff and the count of failures.</summary>
    public static readonly TimeSpan Healthy = TimeSpan.FromMinutes(1);
    public const int FatalFailures = 10;

    private readonly CancellationTokenSource _stopping = new();
    private Task? _watching;

    public string Name { get; } = name;

    /// <summary>Restarts so far (for tests and `show`).</summary>
    public int Restarts { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await service.StartAsync(cancellationToken);
        // On the pool, not on the caller's context: a restart never waits for whoever started the daemon.
        _watching = Task.Run(() => WatchAsync(_stopping.Token), CancellationToken.None);
    }

    private async Task WatchAsync(CancellationToken stopping)
    {
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            var started = time.GetTimestamp();
            string error;
            try
            {
                if (service.ExecuteTask is { } running)
                    await running.WaitAsync(stopping);
                // Ended without a fault: it had nothing to do (no names to resolve, no babeld tunnel).
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                error = $"{e.GetType().Name}: {e.Message}";
                LogFailedWith(logger, Name, e);
            }
            failures = time.GetElapsedTime(started) >= Healthy ? 1 : failures + 1;
            if (failures >= FatalFailures)
            {
                LogFatal(logger, Name, failures, error);
                health.Fatal($"{Name} failed {failures} times in a row ({error})");
                return;
            }
            var delay = TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, FirstDelay.Ticks << Math.Min(failures - 1, 20)));
            Restarts++;
            Telemetry.ServiceRestarts.Add(1, new KeyValuePair<string, object?>("service", Name));
            LogRestarting(logger, Name, error, delay.TotalMilliseconds);
            try
            {
                // The timer is set before the event is posted: whoever reacts to the event finds the restart already due.
                var backoff = Task.Delay(delay, time, stopping);
                inbox.Post(new ServiceRestarted(time.GetUtcNow(), Name, error, failures));
                await backoff;
                await service.StartAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogFailedWith(logger, Name, e);
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_watching is not null)
            await _watching;
        await service.StopAsync(cancellationToken);
    }

    public void Dispose() => _stopping.Dispose();

    [LoggerMessage(Level = LogLevel.Error, Message = "{Service} failed")]
    private static partial void LogFailedWith(ILogger logger, string service, Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Service} stopped ({Error}): started again in {DelayMs} ms")]
    private static partial void LogRestarting(ILogger logger, string service, string error, double delayMs);

    [LoggerMessage(Level = LogLevel.Critical, Message = "{Service} failed {Failures} times in a row, last {Error}: the daemon stops")]
    private static partial void LogFatal(ILogger logger, string service, int failures, string error);
}

/// <summary>Whether the daemon is to exit with a failure; a fatal fault stops the host.</summary>
public sealed class DaemonHealth(IHostApplicationLifetime lifetime)
{
    public string? FatalError { get; private set; }

    public int ExitCode => FatalError is null ? 0 : 1;

    public void Fatal(string error)
    {
        FatalError ??= error;
        lifetime.StopApplication();
    }
}
