using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using WgRouted.Engine;
using WgRouted.Engine.Probe;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Configuration;

namespace WgRouted.Service.Probing;

/// <summary>
/// Probe keys, derived from the WireGuard keys the devices already hold; the private key is read from the device
/// and never leaves this class (no log, event or trace).
/// </summary>
public sealed partial class Keyring(WgRoutedConfig config, WireGuardControl control, ILogger<Keyring> logger)
{
    private readonly ConcurrentDictionary<PeerKey, ProbeKey> _keys = new();
    private readonly ConcurrentDictionary<string, (PeerKey Public, ushort ListenPort)> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<PeerKey, InterfaceConfig> _interfaceOf = config.Peers.ToDictionary(p => p.Peer.PublicKey, p => p.Interface);

    public InterfaceConfig? InterfaceOf(PeerKey peer) => _interfaceOf.GetValueOrDefault(peer);

    /// <summary>Our public key and listen port on the device that has <paramref name="peer"/>; null if unreadable.</summary>
    public (PeerKey Public, ushort ListenPort)? Us(PeerKey peer)
    {
        if (InterfaceOf(peer) is not { } itf)
            return null;
        if (_devices.TryGetValue(itf.Name, out var us))
            return us;
        return Load(itf, peer) is null ? null : _devices.GetValueOrDefault(itf.Name);
    }

    /// <summary>The probe key shared with a configured peer; null for anyone else or while the device is unreadable.</summary>
    public ProbeKey? KeyFor(PeerKey peer)
    {
        if (_keys.TryGetValue(peer, out var key))
            return key;
        return InterfaceOf(peer) is { } itf ? Load(itf, peer) : null;
    }

    /// <summary>Forget what was read (the device was recreated, its key may have changed).</summary>
    public void Invalidate(string device)
    {
        _devices.TryRemove(device, out _);
        foreach (var (peer, itf) in _interfaceOf)
            if (itf.Name == device)
                _keys.TryRemove(peer, out _);
    }

    private ProbeKey? Load(InterfaceConfig itf, PeerKey peer)
    {
        WireGuardDevice device;
        try
        {
            device = control.GetDevice(itf.Name);
        }
        catch (Exception e) when (e is NetlinkException or IOException or InvalidDataException or System.Net.Sockets.SocketException)
        {
            LogUnreadable(logger, itf.Name, e.Message);
            return null;
        }
        if (device.PrivateKey is not { Length: PeerKey.KeyLength } secret || device.PublicKey is null)
        {
            LogNoKey(logger, itf.Name);
            return null;
        }
        var ours = PeerKey.Parse(device.PublicKey);
        _devices[itf.Name] = (ours, device.ListenPort);
        var key = ProbeKeys.Derive(secret, ours.ToBytes(), peer.ToBytes());
        _keys[peer] = key;
        return key;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot read WireGuard device {Device} for its keys: {Error}")]
    private static partial void LogUnreadable(ILogger logger, string device, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "WireGuard device {Device} has no private key yet; its peers cannot be probed")]
    private static partial void LogNoKey(ILogger logger, string device);
}
