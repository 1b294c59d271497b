using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Configuration;

namespace WgRouted.Service.Daemon;

/// <summary>
/// Owns the pin tables: one per managed interface, numbered by its fwmark, selected by `fwmark MARK lookup MARK`.
/// Clears stale pins on start (a crash leaves them) and everything it added on stop.
/// </summary>
public sealed partial class PinService(WgRoutedConfig config, WireGuardControl control, ILogger<PinService> logger) : IHostedService, IDisposable
{
    /// <summary>Ahead of the usual `from SRC lookup TABLE` rules (typically 1000+) and of main (32766).</summary>
    public const uint RulePriority = 100;

    private readonly Rtnetlink _rtnl = Rtnetlink.Open();
    private readonly Lock _lock = new();

    public SourcePins For(InterfaceConfig itf) => new(_rtnl, itf.Fwmark, RulePriority);

    /// <summary>Runs a pin change under the service's lock (one netlink socket, one writer).</summary>
    public void Change(Action<Rtnetlink> change)
    {
        lock (_lock)
            change(_rtnl);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
            foreach (var itf in config.Interfaces)
            {
                var pins = For(itf);
                var stale = pins.Flush();
                if (stale > 0)
                    LogFlushedStale(logger, stale, itf.Fwmark);
                pins.AddRule(AddressFamily.InterNetwork, itf.Fwmark);
                pins.AddRule(AddressFamily.InterNetworkV6, itf.Fwmark);
                try
                {
                    control.SetFirewallMark(itf.Name, itf.Fwmark);
                }
                catch (Exception e) when (e is NetlinkException or IOException or SocketException or InvalidDataException)
                {
                    LogFwmarkFailed(logger, itf.Name, e.Message);
                }
            }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
            foreach (var itf in config.Interfaces)
            {
                try
                {
                    For(itf).Flush();
                }
                catch (NetlinkException e)
                {
                    LogFlushFailed(logger, itf.Fwmark, e.Message);
                }
            }
        return Task.CompletedTask;
    }

    public void Dispose() => _rtnl.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removed {Count} stale pins and rules of table {Table} (left by an earlier run)")]
    private static partial void LogFlushedStale(ILogger logger, int count, uint table);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot set the fwmark of {Device} yet ({Error}); pins take effect once it carries the mark")]
    private static partial void LogFwmarkFailed(ILogger logger, string device, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Removing the pins of table {Table} failed: {Error}")]
    private static partial void LogFlushFailed(ILogger logger, uint table, string error);
}
