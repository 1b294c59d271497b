using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using WgRouted.Engine;
using WgRouted.Engine.Handshake;
using WgRouted.Engine.Probe;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Configuration;

namespace WgRouted.Service.Probing;

/// <summary>
/// What the prober and the responder need of each WireGuard device, from the poller's last read (<see cref="Observe"/>):
/// our public key and listen port, the probe keys shared with the configured peers, and every peer's endpoint. Reads
/// are memory only, so a probe never waits on the device. Probe keys are derived again whenever the device's key
/// changes (rotated, or the device recreated). The private key is kept only inside the handshake keys of stock peers
/// (a handshake response needs it), in memory, never logged, stored or traced.
/// </summary>
public sealed partial class Keyring(WgRoutedConfig config, WireGuardControl control, ILogger<Keyring> logger)
{
    private sealed record View(PeerKey Public, ushort ListenPort, IReadOnlyDictionary<PeerKey, ProbeKey> Keys,
        IReadOnlyDictionary<PeerKey, Endpoint> Endpoints, IReadOnlyDictionary<PeerKey, HandshakeKeys> Handshakes);

    private readonly ConcurrentDictionary<string, View> _views = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _problems = new(StringComparer.Ordinal);
    private readonly Dictionary<PeerKey, InterfaceConfig> _interfaceOf = config.Peers.ToDictionary(p => p.Peer.PublicKey, p => p.Interface);
    private readonly HashSet<PeerKey> _stock = config.Peers.Where(p => !p.Peer.Responder).Select(p => p.Peer.PublicKey).ToHashSet();

    /// <summary>A stock peer: configured with "Responder": false.</summary>
    public bool IsStock(PeerKey peer) => _stock.Contains(peer);

    /// <summary>The keys to handshake with a stock peer; null for other peers and while the device is unread or keyless.</summary>
    public HandshakeKeys? HandshakeKeysFor(PeerKey peer) => ViewOf(peer)?.Handshakes.GetValueOrDefault(peer);

    public InterfaceConfig? InterfaceOf(PeerKey peer) => _interfaceOf.GetValueOrDefault(peer);

    private View? ViewOf(PeerKey peer) => InterfaceOf(peer) is { } itf ? _views.GetValueOrDefault(itf.Name) : null;

    /// <summary>Our public key and listen port on the device that has <paramref name="peer"/>; null until it was read.</summary>
    public (PeerKey Public, ushort ListenPort)? Us(PeerKey peer) => ViewOf(peer) is { } v ? (v.Public, v.ListenPort) : null;

    /// <summary>The probe key shared with a configured peer; null for anyone else or while the device is unread or keyless.</summary>
    public ProbeKey? KeyFor(PeerKey peer) => _probing.TryGetValue(peer, out var p) ? p.Key : null;

    /// <summary><see cref="KeyFor"/> as the codec takes it, made once: a method group is a new delegate at each use.</summary>
    public Func<PeerKey, ProbeKey?> KeyLookup => _keyLookup ??= KeyFor;

    private Func<PeerKey, ProbeKey?>? _keyLookup;

    /// <summary>What a probe to or an answer from a configured peer needs, from one read of the device; null as for <see cref="KeyFor"/>.</summary>
    public Probing? ProbingOf(PeerKey peer) => _probing.GetValueOrDefault(peer);

    /// <summary>
    /// <see cref="ProbingOf"/> through a holder's <paramref name="cache"/>: looked up again only when the table was made
    /// again (a device's keys or port changed), so a path's probes, several a second, take no lookup.
    /// </summary>
    public Probing? ProbingOf(PeerKey peer, ref ProbingCache cache)
    {
        var table = _probing;
        if (!ReferenceEquals(cache.Table, table))
            cache = new ProbingCache(table, table.GetValueOrDefault(peer));
        return cache.Probing;
    }

    /// <summary>The probe key shared with a peer, our key and our listen port on its device.</summary>
    public sealed record Probing(ProbeKey Key, PeerKey Us, ushort ListenPort);

    /// <summary>A peer's <see cref="Probing"/> as of one table of the keyring (<see cref="ProbingOf(PeerKey, ref ProbingCache)"/>).</summary>
    public readonly record struct ProbingCache(object? Table, Probing? Probing);

    // Every view's probe keys by peer, made again only when a device's keys or port change: a probe sent or answered
    // takes one lookup here, where the device's view took three and a hash of its name (perf at 1,000 peers).
    private volatile Dictionary<PeerKey, Probing> _probing = [];
    private readonly Lock _probingGate = new();

    private void Republish()
    {
        lock (_probingGate)
        {
            var probing = new Dictionary<PeerKey, Probing>();
            foreach (var view in _views.Values)
                foreach (var (peer, key) in view.Keys)
                    probing[peer] = new Probing(key, view.Public, view.ListenPort);
            _probing = probing;
        }
    }

    /// <summary>The device's WireGuard endpoint for <paramref name="peer"/>, as last read.</summary>
    public Endpoint? EndpointOf(PeerKey peer) =>
        ViewOf(peer) is { } v && v.Endpoints.TryGetValue(peer, out var e) ? e : null;

    /// <summary>True when a peer other than <paramref name="peer"/> on its device has <paramref name="endpoint"/> as its endpoint.</summary>
    public bool IsAnotherPeersEndpoint(PeerKey peer, Endpoint endpoint) =>
        ViewOf(peer) is { } v && v.Endpoints.Any(e => e.Key != peer && e.Value == endpoint);

    /// <summary>Reads the device now (I/O): at start, in the CLI, after setting an endpoint. False if unreadable.</summary>
    public bool Refresh(InterfaceConfig itf)
    {
        ArgumentNullException.ThrowIfNull(itf);
        try
        {
            Observe(itf.Name, control.GetDevice(itf.Name));
            return true;
        }
        catch (Exception e) when (e is NetlinkException or IOException or InvalidDataException or System.Net.Sockets.SocketException)
        {
            if (!_problems.TryGetValue(itf.Name, out var last) || last != e.Message)
                LogUnreadable(logger, itf.Name, e.Message);
            _problems[itf.Name] = e.Message;
            return false;
        }
    }

    /// <summary>A fresh read of <paramref name="device"/>: endpoints replaced, probe keys derived again if its key changed.</summary>
    public void Observe(string name, WireGuardDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var endpoints = new Dictionary<PeerKey, Endpoint>();
        var presharedKeys = new Dictionary<PeerKey, byte[]?>();
        foreach (var p in device.Peers)
            if (PeerKey.TryParse(p.PublicKey, out var key, out _))
            {
                if (p.Endpoint is { } e)
                    endpoints[key] = new Endpoint(e.Address, e.Port);
                if (_stock.Contains(key))
                    presharedKeys[key] = p.PresharedKey;
            }
        if (device.PrivateKey is not { Length: PeerKey.KeyLength } secret || device.PublicKey is null || !PeerKey.TryParse(device.PublicKey, out var ours, out _))
        {
            if (_views.TryRemove(name, out _))
                Republish();
            if (_problems.GetValueOrDefault(name) != "no key")
                LogNoKey(logger, name);
            _problems[name] = "no key";
            return;
        }
        _problems.TryRemove(name, out _);
        var keys = _views.TryGetValue(name, out var before) && before.Public == ours ? before.Keys : Derive(name, secret, ours);
        if (before is not null && before.Public != ours)
            LogKeyChanged(logger, name, ours.Base64);
        _views[name] = new View(ours, device.ListenPort, keys, endpoints, Handshakes(name, secret, ours, presharedKeys, before?.Handshakes));
        if (before is null || before.Keys != keys || before.ListenPort != device.ListenPort)
            Republish();
    }

    /// <summary>The stock peers' handshake keys, made again only when our key or their preshared key changed.</summary>
    private Dictionary<PeerKey, HandshakeKeys> Handshakes(string name, byte[] secret, PeerKey ours, Dictionary<PeerKey, byte[]?> presharedKeys,
        IReadOnlyDictionary<PeerKey, HandshakeKeys>? before)
    {
        var result = new Dictionary<PeerKey, HandshakeKeys>();
        foreach (var (peer, psk) in presharedKeys)
        {
            if (_interfaceOf.GetValueOrDefault(peer)?.Name != name)
                continue;
            if (before?.GetValueOrDefault(peer) is { } kept && kept.IsFor(ours, psk))
            {
                result[peer] = kept;
                continue;
            }
            try
            {
                result[peer] = new HandshakeKeys(secret, peer, psk);
            }
            catch (ArgumentException e)
            {
                LogNoProbeKey(logger, peer.Base64, name, e.Message);
            }
        }
        return result;
    }

    private Dictionary<PeerKey, ProbeKey> Derive(string name, byte[] secret, PeerKey ours)
    {
        var keys = new Dictionary<PeerKey, ProbeKey>();
        foreach (var (peer, itf) in _interfaceOf)
        {
            if (itf.Name != name)
                continue;
            try
            {
                keys[peer] = ProbeKeys.Derive(secret, ours.ToBytes(), peer.ToBytes());
            }
            catch (ArgumentException e)
            {
                LogNoProbeKey(logger, peer.Base64, name, e.Message);
            }
        }
        return keys;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot read WireGuard device {Device} for its keys: {Error}")]
    private static partial void LogUnreadable(ILogger logger, string device, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "WireGuard device {Device} has no private key yet; its peers cannot be probed")]
    private static partial void LogNoKey(ILogger logger, string device);

    [LoggerMessage(Level = LogLevel.Warning, Message = "WireGuard device {Device} has a new key ({Public}): probe keys derived afresh")]
    private static partial void LogKeyChanged(ILogger logger, string device, string @public);

    [LoggerMessage(Level = LogLevel.Error, Message = "No probe key for peer {Peer} on {Device}: {Error}")]
    private static partial void LogNoProbeKey(ILogger logger, string peer, string device, string error);
}
