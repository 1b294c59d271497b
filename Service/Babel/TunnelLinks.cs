using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Engine.Events;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Daemon;

namespace WgRouted.Service.Babel;

/// <summary>
/// Takes a managed tunnel's link down while no path reaches its peer, and up again, as the engine decides: babeld
/// drops a downed interface's neighbour and routes in the same loop iteration, where a silent tunnel would cost it
/// its hello timeouts. Reports TunnelLinkSet.
/// </summary>
public sealed partial class TunnelLinks(Mailbox<TunnelCommand> commands, Inbox inbox, TimeProvider time, ILogger<TunnelLinks> logger)
    : BackgroundService
{
    private readonly Rtnetlink _rtnl = Rtnetlink.Open();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var command in commands.Reader.ReadAllAsync(stoppingToken))
                switch (command.Decision)
                {
                    case TunnelWithdrawn w:
                        Set(w, w.Interface, up: false);
                        break;
                    case TunnelRestored r:
                        Set(r, r.Interface, up: true);
                        break;
                }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Set(PeerEvent decision, string name, bool up)
    {
        string? error = null;
        try
        {
            if (_rtnl.FindLink(name) is not { } link)
                error = $"no link {name}";
            else
            {
                // A downed interface loses its IPv6 addresses, the link-local babeld speaks from among them, unless
                // keep_addr_on_down is set; babeld would then wait 2 s for one after the link is up again.
                if (!up)
                    KeepAddressesOnDown(name);
                _rtnl.SetLinkUp(link.Index, up);
            }
        }
        catch (Exception e) when (e is NetlinkException or IOException or UnauthorizedAccessException)
        {
            error = e.Message;
        }
        if (error is null)
            LogSet(logger, name, up ? "up" : "down");
        else
            LogSetFailed(logger, name, up ? "up" : "down", error);
        inbox.Post(new TunnelLinkSet(decision.Peer, time.GetUtcNow(), name, up, error) { TraceId = decision.TraceId });
    }

    private static void KeepAddressesOnDown(string name)
    {
        var path = $"/proc/sys/net/ipv6/conf/{name}/keep_addr_on_down";
        if (File.Exists(path))
            File.WriteAllText(path, "1");
    }

    public override void Dispose()
    {
        _rtnl.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Tunnel {Interface} set {State} for babeld")]
    private static partial void LogSet(ILogger logger, string @interface, string state);

    [LoggerMessage(Level = LogLevel.Error, Message = "Setting tunnel {Interface} {State} failed: {Error}")]
    private static partial void LogSetFailed(ILogger logger, string @interface, string state, string error);
}
