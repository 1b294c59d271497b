using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Daemon;

namespace WgRouted.Service.Probing;

/// <summary>
/// Carries out the engine's switch decisions and re-assertions, make-before-break: pin the new source (a route in
/// the interface's pin table), set the WireGuard endpoint (which also drops the cached source), and ask the peer's
/// responder to move its endpoint for us. It decides nothing: whether the switch converged, must be re-asserted or
/// failed is the engine's call, from the probe answers. Reports EndpointSwitched or SwitchNotApplied.
/// </summary>
public sealed partial class Switcher(
    Mailbox<SwitchCommand> commands, Keyring keyring, Prober prober, PinService pins, Fences fences, WireGuardControl control, Inbox inbox,
    TimeProvider time, ILogger<Switcher> logger) : BackgroundService
{
    public const string SourceName = "WgRouted.Switch";
    public static readonly ActivitySource Activities = new(SourceName);

    /// <summary>
    /// Each peer's pin. A pin is a route to the peer's address, so peers behind one address (one NAT) share it: it is
    /// removed only when no peer needs it, and peers wanting different sources there get the latest one's (said once).
    /// </summary>
    private readonly Dictionary<PeerKey, (string Interface, IPAddress Dst, IPAddress Src)> _pinned = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = commands.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
                foreach (var command in Latest(reader))
                    Carry(command);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// What is queued, one command a peer, the newest: a later decision supersedes an earlier one, and re-assertions
    /// only repeat. When the kernel or WireGuard are slow (hundreds of peers re-asserting every 100 ms on a loaded
    /// router) the queue would otherwise grow without bound. A re-assertion of the path a queued decision chose is
    /// carried as that decision, which does the same and also reports EndpointSwitched.
    /// </summary>
    public static List<SwitchCommand> Latest(ChannelReader<SwitchCommand> reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var latest = new Dictionary<PeerKey, SwitchCommand>();
        var order = new List<PeerKey>();
        while (reader.TryRead(out var command))
        {
            var peer = command.Decision.Peer;
            if (!latest.TryGetValue(peer, out var before))
                order.Add(peer);
            else if (command.Decision is SwitchReasserted r && before.Decision is EndpointSwitchDecided d && d.To == r.Path)
                continue;
            latest[peer] = command;
        }
        return order.ConvertAll(p => latest[p]);
    }

    /// <summary>One command; public for tests.</summary>
    public void Carry(SwitchCommand command)
    {
        var (peer, path, first) = command.Decision switch
        {
            EndpointSwitchDecided d => (d.Peer, d.To, true),
            SwitchReasserted r => (r.Peer, r.Path, false),
            SwitchConverged c => (c.Peer, c.Path, true),
            _ => (default(PeerKey), default(CandidatePath), false),
        };
        if (path.Src is null)
            return;
        // A stock peer's switch is a handshake over the new path (the handshake prober sends it when the path becomes
        // active); only once the peer answered it is the source pinned and the endpoint set here. No move request.
        var stock = keyring.IsStock(peer);
        if (stock != command.Decision is SwitchConverged)
            return;
        var traceId = command.Decision.TraceId;
        using var span = first ? null : Activities.StartActivity("reassert", ActivityKind.Internal, command.Trace);
        var parent = span?.Context ?? command.Trace;
        if (Apply(peer, path, stock, parent) is { } error)
        {
            inbox.Post(new SwitchNotApplied(peer, time.GetUtcNow(), path, error) { TraceId = traceId });
            return;
        }
        if (first)
            inbox.Post(new EndpointSwitched(peer, time.GetUtcNow(), path) { TraceId = traceId });
        if (!stock && keyring.Us(peer)?.ListenPort is { } port and > 0)
        {
            using var move = Activities.StartActivity("move", ActivityKind.Client, parent);
            move?.SetTag("wgrouted.path", path.ToString());
            var sent = prober.SendMove(peer, path, port);
            move?.SetTag("wgrouted.sent", sent);
        }
    }

    /// <summary>Pin and set the endpoint; the error when the kernel or WireGuard refuse.</summary>
    private string? Apply(PeerKey peer, CandidatePath to, bool stock, ActivityContext parent)
    {
        if (keyring.InterfaceOf(peer) is not { } itf)
            return "the peer is on no managed interface";
        try
        {
            using (var pin = Activities.StartActivity("pin", ActivityKind.Internal, parent))
            {
                pin?.SetTag("wgrouted.src", to.Src.ToString());
                pin?.SetTag("wgrouted.dst", to.Dst.Address.ToString());
                if (stock && _pinned.TryGetValue(peer, out var was) && !was.Src.Equals(to.Src)
                    && was.Dst.Equals(to.Dst.Address) && keyring.Us(peer)?.ListenPort is { } listen and > 0)
                    fences.HoldOff(peer.Base64, was.Src, new IPEndPoint(to.Dst.Address, to.Dst.Port), listen);
                pins.Change(rtnl =>
                {
                    var route = rtnl.GetRoute(new RouteQuery(to.Dst.Address, Source: to.Src));
                    var table = pins.For(itf);
                    if (_pinned.TryGetValue(peer, out var old) && !old.Dst.Equals(to.Dst.Address)
                        && !_pinned.Any(p => p.Key != peer && p.Value.Interface == itf.Name && p.Value.Dst.Equals(old.Dst)))
                        table.Delete(old.Dst);
                    foreach (var (other, pin) in _pinned)
                        if (other != peer && pin.Interface == itf.Name && pin.Dst.Equals(to.Dst.Address) && !pin.Src.Equals(to.Src))
                            LogSharedPin(logger, to.Dst.Address.ToString(), other.Base64, pin.Src.ToString(), peer.Base64, to.Src.ToString());
                    table.Replace(to.Dst.Address, to.Src, route.OutputInterface, route.Gateway);
                    _pinned[peer] = (itf.Name, to.Dst.Address, to.Src);
                });
            }
            using (var endpoint = Activities.StartActivity("endpoint", ActivityKind.Internal, parent))
            {
                endpoint?.SetTag("wgrouted.interface", itf.Name);
                endpoint?.SetTag("wgrouted.endpoint", to.Dst.ToString());
                control.SetPeerEndpoint(itf.Name, peer.Base64, new IPEndPoint(to.Dst.Address, to.Dst.Port));
            }
            return null;
        }
        catch (Exception e) when (e is NetlinkException or IOException or InvalidDataException or SocketException)
        {
            LogApplyFailed(logger, peer.Base64, to.ToString(), e.Message);
            return e.Message;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peers share the address {Dst}: {Other} wanted source {OtherSrc}, {Peer} now pins {Src} for both (a pin is a route to the address)")]
    private static partial void LogSharedPin(ILogger logger, string dst, string other, string otherSrc, string peer, string src);

    [LoggerMessage(Level = LogLevel.Error, Message = "Switching peer {Peer} to {Path} failed: {Error}")]
    private static partial void LogApplyFailed(ILogger logger, string peer, string path, string error);
}
