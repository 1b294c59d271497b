using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace WgRouted.Service.Daemon;

/// <summary>
/// Feeds systemd's watchdog (WatchdogSec) only while the policy loop turns: every half interval it posts a
/// <see cref="LoopHeartbeat"/> into the inbox and sends WATCHDOG=1 if the previous one was answered. A stuck loop
/// answers none, systemd misses the keep-alive and restarts the daemon.
/// </summary>
public sealed partial class SystemdWatchdog(Inbox inbox, ISystemdNotifier notifier, TimeSpan? interval, TimeProvider time, ILogger<SystemdWatchdog> logger)
    : BackgroundService
{
    /// <summary>systemd's interval from WATCHDOG_USEC, if it is meant for this process (WATCHDOG_PID); else null.</summary>
    public static TimeSpan? FromEnvironment()
    {
        if (Environment.GetEnvironmentVariable("WATCHDOG_PID") is { } pid
            && (!int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p != Environment.ProcessId))
            return null;
        return long.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out var usec) && usec > 0
            ? TimeSpan.FromMicroseconds(usec)
            : null;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (interval is not { } every || !notifier.IsEnabled)
            return;
        var half = every / 2;
        LogEnabled(logger, every.TotalSeconds);
        var beat = new LoopHeartbeat();
        inbox.Post(beat);
        using var timer = new PeriodicTimer(half, time);
        var starving = false;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (beat.Answered)
            {
                notifier.Notify(new ServiceState("WATCHDOG=1"));
                if (starving)
                    LogFedAgain(logger);
                starving = false;
                beat = new LoopHeartbeat();
                inbox.Post(beat);
            }
            else if (!starving)
            {
                starving = true;
                LogStarving(logger, half.TotalMilliseconds);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "systemd watchdog: fed every half of {Seconds} s while the policy loop turns")]
    private static partial void LogEnabled(ILogger logger, double seconds);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The policy loop has not turned for {Ms} ms: the systemd watchdog is no longer fed")]
    private static partial void LogStarving(ILogger logger, double ms);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The policy loop turns again: the systemd watchdog is fed again")]
    private static partial void LogFedAgain(ILogger logger);
}

/// <summary>Posted into the inbox by the watchdog; the policy loop answers it when it gets to it.</summary>
public sealed class LoopHeartbeat
{
    private int _answered;

    public bool Answered => Volatile.Read(ref _answered) == 1;

    public void Answer() => Volatile.Write(ref _answered, 1);
}
