using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Configuration;

namespace WgRouted.Service.Daemon;

/// <summary>
/// WireGuard has no notifications: read every managed device once a second, hand the read to the keyring (the one view
/// of the devices the prober and responder use) and post what changed for the configured peers (handshakes,
/// endpoints, peers added or removed).
/// </summary>
public sealed partial class WireGuardPoller(
    WgRoutedConfig config, WireGuardControl control, Probing.Keyring keyring, Inbox inbox, TimeProvider time, ILogger<WireGuardPoller> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, WireGuardDevice?> _devices = [];
    private readonly Dictionary<string, string> _errors = [];
    /// <summary>Peers whose receive has stalled (posted once per stall), by device.</summary>
    private readonly HashSet<(string Device, string Peer)> _stalled = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            foreach (var itf in config.Interfaces)
                Poll(itf);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One read of one device; public for tests.</summary>
    public void Poll(InterfaceConfig itf)
    {
        WireGuardDevice current;
        try
        {
            current = control.GetDevice(itf.Name);
        }
        catch (Exception e) when (e is NetlinkException or IOException or InvalidDataException or System.Net.Sockets.SocketException)
        {
            // Said once per distinct error, not every second.
            if (!_errors.TryGetValue(itf.Name, out var last) || last != e.Message)
                LogReadFailed(logger, itf.Name, e.Message);
            _errors[itf.Name] = e.Message;
            return;
        }
        if (_errors.Remove(itf.Name))
            LogReadRecovered(logger, itf.Name);
        _devices.TryGetValue(itf.Name, out var previous);
        // A device recreated (wireguard-go restarted, the interface deleted and added) comes back without our fwmark:
        // mark it again. The keyring derives the probe keys afresh when the device's key changed.
        keyring.Observe(itf.Name, current);
        if (current.FirewallMark != itf.Fwmark)
            Readopt(itf, current);
        _devices[itf.Name] = current;
        var configured = itf.Peers.ToDictionary(p => p.PublicKey.Base64, p => p.PublicKey, StringComparer.Ordinal);
        var now = time.GetUtcNow();
        var stalled = new HashSet<string>(StringComparer.Ordinal);
        foreach (var change in WireGuardDiff.Compare(previous, current))
        {
            if (!configured.TryGetValue(change.Peer, out var peer))
                continue;
            switch (change)
            {
                case Integrations.Netlink.ReceiveStalled s:
                    stalled.Add(s.Peer);
                    if (_stalled.Add((itf.Name, s.Peer)))
                        inbox.Post(new Engine.Events.ReceiveStalled(peer, now, s.SentBytes));
                    break;
                case Integrations.Netlink.HandshakeObserved h:
                    inbox.Post(new Engine.Events.HandshakeObserved(peer, now, h.At));
                    break;
                case EndpointChanged { New: { } endpoint }:
                    inbox.Post(new EndpointObserved(peer, now, new Endpoint(endpoint.Address, endpoint.Port)));
                    break;
                case Integrations.Netlink.PeerAdded:
                    inbox.Post(new Engine.Events.PeerAdded(peer, now, itf.Name));
                    break;
                case Integrations.Netlink.PeerRemoved:
                    inbox.Post(new Engine.Events.PeerRemoved(peer, now, itf.Name));
                    break;
            }
        }
        _stalled.RemoveWhere(k => k.Device == itf.Name && !stalled.Contains(k.Peer));
    }

    private void Readopt(InterfaceConfig itf, WireGuardDevice current)
    {
        try
        {
            control.SetFirewallMark(itf.Name, itf.Fwmark);
            LogReadopted(logger, itf.Name, current.FirewallMark, itf.Fwmark);
        }
        catch (Exception e) when (e is NetlinkException or IOException or InvalidDataException or System.Net.Sockets.SocketException)
        {
            LogReadoptFailed(logger, itf.Name, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "WireGuard device {Device} has fwmark {Found}, not {Wanted} (recreated?): marked again")]
    private static partial void LogReadopted(ILogger logger, string device, uint found, uint wanted);

    [LoggerMessage(Level = LogLevel.Error, Message = "Cannot set the fwmark of WireGuard device {Device} again: {Error}")]
    private static partial void LogReadoptFailed(ILogger logger, string device, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot read WireGuard device {Device}: {Error}")]
    private static partial void LogReadFailed(ILogger logger, string device, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "WireGuard device {Device} readable again")]
    private static partial void LogReadRecovered(ILogger logger, string device);
}
