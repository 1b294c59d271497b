using System.Globalization;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Configuration;

namespace WgRouted.Service.Daemon;

/// <summary>
/// Owns the pins: per managed interface a table (PinTable) selected by `fwmark MARK lookup TABLE`, the device's fwmark
/// set to MARK. On start it refuses a table that holds anything WgRouted did not make, removes its own stale pins (a
/// crash leaves them) and notes the device's fwmark; on stop it removes everything it added and gives the device
/// its fwmark back. The fwmarks found are kept on disk (DataDirectory/fwmarks) for `wg-routed cleanup` after a crash.
/// </summary>
public sealed partial class PinService(WgRoutedConfig config, WireGuardControl control, ILogger<PinService> logger) : IHostedService, IDisposable
{
    /// <summary>Ahead of the usual `from SRC lookup TABLE` rules (typically 1000+) and of main (32766).</summary>
    public const uint RulePriority = 100;
    private const int Eafnosupport = 97;

    private readonly Rtnetlink _rtnl = Rtnetlink.Open();
    private readonly Lock _lock = new();
    private readonly Dictionary<string, uint> _original = [];

    public SourcePins For(InterfaceConfig itf) => new(_rtnl, itf.PinTable, RulePriority);

    /// <summary>The file `cleanup` reads the devices' own fwmarks from.</summary>
    public static string FwmarksPath(WgRoutedConfig config) => Path.Combine(config.Options.DataDirectory, "fwmarks");

    /// <summary>Runs a pin change under the service's lock (one netlink socket, one writer).</summary>
    public void Change(Action<Rtnetlink> change)
    {
        lock (_lock)
            change(_rtnl);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var refused = config.Interfaces
                .Select(itf => (itf, Foreign: For(itf).Foreign()))
                .Where(x => x.Foreign.Count > 0)
                .Select(x => $"Interfaces:{x.itf.Index}:PinTable: table {x.itf.PinTable} holds what WgRouted did not make ({string.Join(", ", x.Foreign.Take(3))}{(x.Foreign.Count > 3 ? ", ..." : "")}): give the interface a table of its own")
                .ToList();
            if (refused.Count > 0)
                throw new ConfigurationException(refused);
            var saved = Saved(config);
            foreach (var itf in config.Interfaces)
            {
                var pins = For(itf);
                var stale = pins.Flush();
                if (stale > 0)
                    LogFlushedStale(logger, stale, itf.PinTable);
                pins.AddRule(AddressFamily.InterNetwork, itf.Fwmark);
                try
                {
                    pins.AddRule(AddressFamily.InterNetworkV6, itf.Fwmark);
                }
                catch (NetlinkException e) when (e.Errno == Eafnosupport)
                {
                    LogNoIpv6(logger, itf.Name);
                }
                Mark(itf, saved);
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Notes the device's own fwmark (unless it is ours already: a restart, whose <paramref name="saved"/> one counts)
    /// and sets ours.
    /// </summary>
    private void Mark(InterfaceConfig itf, Dictionary<string, uint> saved)
    {
        try
        {
            var found = control.GetDevice(itf.Name).FirewallMark;
            _original[itf.Name] = found != itf.Fwmark ? found : saved.GetValueOrDefault(itf.Name);
            Save();
            control.SetFirewallMark(itf.Name, itf.Fwmark);
        }
        catch (Exception e) when (e is NetlinkException or IOException or SocketException or InvalidDataException)
        {
            LogFwmarkFailed(logger, itf.Name, e.Message);
        }
    }

    private void Save()
    {
        try
        {
            Directory.CreateDirectory(config.Options.DataDirectory);
            File.WriteAllLines(FwmarksPath(config), _original.Select(kv => $"{kv.Key} {kv.Value.ToString(CultureInfo.InvariantCulture)}"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogSaveFailed(logger, FwmarksPath(config), e.Message);
        }
    }

    /// <summary>The devices' own fwmarks noted by a run, by device name; none if the file is missing or damaged.</summary>
    public static Dictionary<string, uint> Saved(WgRoutedConfig config)
    {
        var marks = new Dictionary<string, uint>(StringComparer.Ordinal);
        try
        {
            foreach (var line in File.ReadAllLines(FwmarksPath(config)))
                if (line.Split(' ') is [var name, var mark] && uint.TryParse(mark, NumberStyles.None, CultureInfo.InvariantCulture, out var m))
                    marks[name] = m;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return marks;
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
                    LogFlushFailed(logger, itf.PinTable, e.Message);
                }
                if (!_original.TryGetValue(itf.Name, out var mark))
                    continue;
                try
                {
                    control.SetFirewallMark(itf.Name, mark);
                }
                catch (Exception e) when (e is NetlinkException or IOException or SocketException or InvalidDataException)
                {
                    LogRestoreFailed(logger, itf.Name, mark, e.Message);
                }
            }
        return Task.CompletedTask;
    }

    public void Dispose() => _rtnl.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removed {Count} stale pins and rules of table {Table} (left by an earlier run)")]
    private static partial void LogFlushedStale(ILogger logger, int count, uint table);

    [LoggerMessage(Level = LogLevel.Information, Message = "No IPv6 on this host: {Device}'s pins are IPv4 only")]
    private static partial void LogNoIpv6(ILogger logger, string device);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot set the fwmark of {Device} yet ({Error}); pins take effect once it carries the mark")]
    private static partial void LogFwmarkFailed(ILogger logger, string device, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot note the devices' own fwmarks in {Path} ({Error}): `cleanup` after a crash cannot restore them")]
    private static partial void LogSaveFailed(ILogger logger, string path, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Removing the pins of table {Table} failed: {Error}")]
    private static partial void LogFlushFailed(ILogger logger, uint table, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot give {Device} its fwmark {Mark} back: {Error}")]
    private static partial void LogRestoreFailed(ILogger logger, string device, uint mark, string error);
}
