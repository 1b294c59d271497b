using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Integrations.Babel;
using WgRouted.Service.Configuration;
using WgRouted.Service.Daemon;

namespace WgRouted.Service.Babel;

/// <summary>
/// babeld's side of the managed tunnels: a source (what babeld's monitor reports about them goes to the inbox, on
/// change and with hysteresis, never every hello) and an actuator (adds a tunnel babeld lacks when the engine says
/// so). One connection to babeld's control socket (babeld serves four); it reconnects by itself after a babeld
/// restart and then reports the state afresh.
/// </summary>
public sealed partial class BabelBridge(
    WgRoutedConfig config, Mailbox<BabelRequest> requests, Inbox inbox, TimeProvider time, ILoggerFactory loggers, ILogger<BabelBridge> logger)
    : BackgroundService
{
    /// <summary>babeld's RTT is stored when it moves by this fraction or ...</summary>
    private const double RttFraction = 0.10;
    /// <summary>... this much: babeld's own processing jitters by tenths of a millisecond.</summary>
    private const double RttMinMs = 1.0;

    private readonly Dictionary<string, PeerKey> _managed = config.Interfaces.Where(i => i.Babel)
        .ToDictionary(i => i.Name, i => i.Peers[0].PublicKey, StringComparer.Ordinal);
    private readonly Dictionary<string, BabelNeighbourObserved> _neighbours = [];
    private readonly Dictionary<string, BabelRouteObserved> _routes = [];
    private readonly HashSet<string> _warned = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_managed.Count == 0)
            return;
        // Validated at start: Babel:Control is tcp://HOST:PORT or unix:PATH.
        if (!ConfigurationLoader.TryParseControl(config.Options.Babel.Control, out var endpoint))
            return;
        using var control = new BabelControl(loggers.CreateLogger<BabelControl>(), time, new BabelControlOptions { Endpoint = endpoint! });
        var running = control.RunAsync(stoppingToken);
        var adding = AddAsync(control, stoppingToken);
        try
        {
            await foreach (var e in control.Events.ReadAllAsync(stoppingToken))
                Observe(e);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await running;
        await adding;
    }

    private async Task AddAsync(BabelControl control, CancellationToken ct)
    {
        try
        {
            await foreach (var request in requests.Reader.ReadAllAsync(ct))
            {
                var added = request.Added;
                try
                {
                    var reply = await control.AddInterfaceAsync(added.Interface, BabelTunnel.Config(config.Options.Babel), ct);
                    if (reply is { IsOk: true })
                        LogAdded(logger, added.Interface);
                }
                catch (Exception e) when (e is BabelControlException or ArgumentException or IOException or SocketException)
                {
                    LogAddFailed(logger, added.Interface, e.Message);
                    inbox.Post(new Engine.Events.BabelCommandRefused(added.Peer, time.GetUtcNow(), added.Command, e.Message));
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private void Observe(BabelEvent e)
    {
        var now = time.GetUtcNow();
        switch (e)
        {
            case BabelConnected c:
                LogConnected(logger, c.Greeting.ToString() ?? "babeld", c.Reconnected ? "again" : "");
                // Ids are pointers into the babeld that answered: a new one starts from nothing.
                _neighbours.Clear();
                _routes.Clear();
                foreach (var (name, peer) in _managed)
                    inbox.Post(new BabelInterfaceObserved(peer, now, name, c.Snapshot.Interface(name) is not null));
                foreach (var n in c.Snapshot.Neighbours)
                    Neighbour(n, present: true, now);
                foreach (var r in c.Snapshot.Routes)
                    Route(r, present: true, now);
                break;
            case BabelChanged { New: BabelNeighbour n }:
                Neighbour(n, present: true, now);
                break;
            case BabelChanged { Old: BabelNeighbour n, New: null }:
                Neighbour(n, present: false, now);
                break;
            case BabelChanged { New: BabelRoute r }:
                Route(r, present: true, now);
                break;
            case BabelChanged { Old: BabelRoute r, New: null }:
                Route(r, present: false, now);
                break;
            case BabelChanged { Old: BabelInterface i, New: null } when _managed.TryGetValue(i.Name, out var peer):
                inbox.Post(new BabelInterfaceObserved(peer, now, i.Name, Present: false));
                break;
            case BabelDisconnected d:
                LogDisconnected(logger, d.Reason);
                break;
            case Integrations.Babel.BabelCommandRefused r:
                var itf = r.Command.Split(' ') is [_, var refusedName, ..] ? refusedName : "";
                LogRefused(logger, r.Command, r.Reply.ToString());
                if (_managed.TryGetValue(itf, out var owner))
                    inbox.Post(new Engine.Events.BabelCommandRefused(owner, now, r.Command, r.Reply.ToString()));
                break;
            case BabelVersionUnknown v:
                LogUnknownVersion(logger, v.Protocol, v.Version ?? "?");
                break;
        }
    }

    private void Neighbour(BabelNeighbour n, bool present, DateTimeOffset now)
    {
        if (!_managed.TryGetValue(n.Interface, out var peer))
            return;
        var rtt = n.Rtt?.TotalMilliseconds;
        var seen = new BabelNeighbourObserved(peer, now, n.Interface, n.Address.ToString(), present, n.Reach, n.Cost, rtt, n.RttCost);
        if (_neighbours.TryGetValue(n.Id, out var last) && !Moved(last, seen))
            return;
        _neighbours[n.Id] = seen;
        if (!present)
            _neighbours.Remove(n.Id);
        inbox.Post(seen);
        // babeld measures RTT over a tunnel only with timestamps (type tunnel): without, the cross-check is blind.
        if (present && rtt is null && n.Reach == 0xFFFF && _warned.Add(n.Interface))
            LogNoRtt(logger, n.Interface);
    }

    private static bool Moved(BabelNeighbourObserved last, BabelNeighbourObserved now) =>
        last.Present != now.Present
        || last.Cost != now.Cost
        || (last.Reach == 0) != (now.Reach == 0)
        || (last.RttMs is null) != (now.RttMs is null)
        || (last.RttMs is { } a && now.RttMs is { } b && Math.Abs(a - b) >= Math.Max(a * RttFraction, RttMinMs));

    private void Route(BabelRoute r, bool present, DateTimeOffset now)
    {
        if (!_managed.TryGetValue(r.Interface, out var peer))
            return;
        var seen = new BabelRouteObserved(peer, now, r.Prefix.ToString(), present, r.Installed, r.Metric, r.Via.ToString());
        if (_routes.TryGetValue(r.Id, out var last) && last.Present == present && last.Installed == r.Installed && last.Metric == r.Metric)
            return;
        _routes[r.Id] = seen;
        if (!present)
            _routes.Remove(r.Id);
        inbox.Post(seen);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "babeld connected {Again}: {Greeting}")]
    private static partial void LogConnected(ILogger logger, string greeting, string again);

    [LoggerMessage(Level = LogLevel.Warning, Message = "babeld's control connection ended ({Reason}); reconnecting")]
    private static partial void LogDisconnected(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Added tunnel {Interface} to babeld")]
    private static partial void LogAdded(ILogger logger, string @interface);

    [LoggerMessage(Level = LogLevel.Error, Message = "Adding tunnel {Interface} to babeld failed: {Error}")]
    private static partial void LogAddFailed(ILogger logger, string @interface, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "babeld refused '{Command}': {Reply} (is Babel:Control babeld's read-write socket?)")]
    private static partial void LogRefused(ILogger logger, string command, string reply);

    [LoggerMessage(Level = LogLevel.Warning, Message = "babeld speaks protocol {Protocol}, version {Version}, which WgRouted does not know; it goes on")]
    private static partial void LogUnknownVersion(ILogger logger, string protocol, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "babeld reports no RTT for its neighbour on {Interface}: declare it `type tunnel` (timestamps) in babeld.conf, or leave it out and let WgRouted add it")]
    private static partial void LogNoRtt(ILogger logger, string @interface);
}
