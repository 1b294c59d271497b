using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Engine.Events;
using WgRouted.Integrations.Netlink;

namespace WgRouted.Service.Daemon;

/// <summary>
/// The rtnetlink monitor: host facts go to the host stream as raw events, and the candidate tracker re-derives
/// the peers' paths from them.
/// </summary>
public sealed class HostSource(Inbox inbox, CandidateTracker tracker, TimeProvider time, ILoggerFactory loggers) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        HostMonitor? monitor = null;
        monitor = new HostMonitor(loggers.CreateLogger<HostMonitor>(), time, new HostMonitorOptions(), changes =>
        {
            // Our own pins are our actions, not the host's facts: a switch's pin must not probe every path of every
            // peer again and re-derive every candidate (with many peers, a loop: load, misses, switches, pins).
            if (OnlyOurs(changes))
                return;
            Post(changes);
            tracker.OnHost(monitor!.Snapshot(), changes);
        });
        return monitor.RunAsync(stoppingToken);
    }

    private void Post(HostChanges changes)
    {
        var now = time.GetUtcNow();
        foreach (var c in changes.Links)
            if (c.New is { } l)
                inbox.Post(new LinkChanged(now, l.Index, l.Name, l.IsUp, l.Carrier, l.OperState.ToString()));
            else if (c.Old is { } gone)
                inbox.Post(new LinkChanged(now, gone.Index, gone.Name, Up: false, Carrier: false, "Removed"));
        foreach (var c in changes.Addresses)
        {
            if (c.Old is { } old && c.New is null)
                inbox.Post(new AddressRemoved(now, old.Index, old.Local, old.PrefixLength));
            if (c.New is { } a && c.Old is null)
                inbox.Post(new AddressAdded(now, a.Index, a.Local, a.PrefixLength));
        }
        foreach (var c in changes.Routes)
        {
            if (!IsRecorded(c.New ?? c.Old!))
                continue;
            if (c.Old is { } old)
                inbox.Post(ToEvent(now, old, removed: true));
            if (c.New is { } r)
                inbox.Post(ToEvent(now, r, removed: false));
        }
    }

    /// <summary>RTPROT_BABEL: babeld's own routes churn with the mesh and are babeld's record, not the host's.</summary>
    private const byte ProtocolBabel = 42;

    // The local table only mirrors the addresses, which are recorded already; WgRouted's pins are its own decisions,
    // recorded as such.
    private static bool IsRecorded(Route r) => r.Table != Route.TableLocal && r.Protocol is not (ProtocolBabel or SourcePins.Protocol);

    public static bool OnlyOurs(HostChanges changes) =>
        !changes.Resync && changes.Links.Count == 0 && changes.Addresses.Count == 0 && !changes.IsEmpty
        && changes.Routes.All(c => (c.New ?? c.Old!).Protocol == SourcePins.Protocol)
        && changes.Rules.All(c => (c.New ?? c.Old!).Protocol == SourcePins.Protocol);

    private static HostEvent ToEvent(DateTimeOffset now, Route r, bool removed)
    {
        var dst = $"{r.Destination}/{r.PrefixLength}";
        var linkDown = (r.Flags & RouteFlags.LinkDown) != 0;
        int? link = r.OutputInterface == 0 ? null : r.OutputInterface;
        return removed
            ? new RouteRemoved(now, (int)r.Table, dst, r.Gateway, link, r.PreferredSource, (int)r.Priority, linkDown)
            : new RouteAdded(now, (int)r.Table, dst, r.Gateway, link, r.PreferredSource, (int)r.Priority, linkDown);
    }
}
