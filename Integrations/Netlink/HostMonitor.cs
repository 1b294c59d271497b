using Microsoft.Extensions.Logging;

namespace WgRouted.Integrations.Netlink;

/// <summary>
/// Keeps an in-memory copy of links, addresses, routes and rules: a dump, then notifications applied as they come,
/// then a full re-dump whenever they cannot be trusted (ENOBUFS, a bad message, a link or address change that
/// IPv4 follows with silent route removal, and periodically). Every difference is reported as HostChanges.
/// </summary>
public sealed partial class HostMonitor
{
    private const int PollMs = 250;
    private static readonly TimeSpan ResyncRetry = TimeSpan.FromSeconds(1);
    private static readonly int[] Groups =
    [
        RtnetlinkCodec.RTNLGRP_LINK, RtnetlinkCodec.RTNLGRP_IPV4_IFADDR, RtnetlinkCodec.RTNLGRP_IPV6_IFADDR,
        RtnetlinkCodec.RTNLGRP_IPV4_ROUTE, RtnetlinkCodec.RTNLGRP_IPV6_ROUTE, RtnetlinkCodec.RTNLGRP_IPV4_RULE,
        RtnetlinkCodec.RTNLGRP_IPV6_RULE,
    ];

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly HostMonitorOptions _options;
    private readonly Action<HostChanges>? _onChanges;
    private readonly Lock _lock = new();
    private readonly ObjectTable<int, Link> _links = new(l => l.Index);
    private readonly ObjectTable<(int, System.Net.Sockets.AddressFamily, System.Net.IPAddress, byte), Address> _addresses =
        new(a => (a.Index, a.Family, a.Local, a.PrefixLength));
    private readonly ObjectTable<RouteKey, Route> _routes = new(RouteKey.Of);
    private readonly ObjectTable<Rule, Rule> _rules = new(r => r);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _notifications;
    private long _resyncs;

    /// <param name="onChanges">Called on the monitor's thread with every non-empty difference; the initial dump
    /// arrives as one Resync batch of Added changes.</param>
    public HostMonitor(ILogger<HostMonitor> logger, TimeProvider time, HostMonitorOptions options, Action<HostChanges>? onChanges = null)
    {
        _logger = logger;
        _time = time;
        _options = options;
        _onChanges = onChanges;
    }

    /// <summary>Completes once the first dump is in.</summary>
    public Task Ready => _ready.Task;

    public long NotificationsApplied => Interlocked.Read(ref _notifications);

    public long Resyncs => Interlocked.Read(ref _resyncs);

    public HostSnapshot Snapshot()
    {
        lock (_lock)
            return new HostSnapshot(_links.Values, _addresses.Values, _routes.Values, _rules.Values);
    }

    /// <summary>Runs the monitor on its own thread until cancelled; faults if the sockets fail.</summary>
    public Task RunAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Run(cancellationToken);
                done.SetResult();
            }
            catch (Exception e)
            {
                _ready.TrySetException(e);
                done.SetException(e);
            }
        }) { IsBackground = true, Name = "HostMonitor" };
        thread.Start();
        return done.Task;
    }

    private void Run(CancellationToken cancellationToken)
    {
        using var notifications = NetworkNamespace.Run(_options.NetworkNamespace, () => NetlinkSocket.Open(NetlinkSocket.NETLINK_ROUTE));
        using var rtnl = Rtnetlink.Open(_options.NetworkNamespace);
        notifications.SetReceiveBufferSize(_options.ReceiveBufferSize);
        foreach (var group in Groups)
            notifications.JoinGroup(group);

        Resync(rtnl, "initial");
        _ready.TrySetResult();
        var buffer = new byte[64 * 1024];
        var nextResync = _time.GetTimestamp() + Ticks(_options.ResyncInterval);
        string? resyncReason = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            var untilResync = (int)Math.Clamp((nextResync - _time.GetTimestamp()) * 1000 / _time.TimestampFrequency, 0, PollMs);
            int length;
            try
            {
                // Drain what is queued first (timeout 0), then resync when a reason is pending.
                length = notifications.Receive(buffer, resyncReason is null ? untilResync : 0, "netlink notifications");
            }
            catch (NetlinkException e) when (e.Errno == Libc.ENOBUFS)
            {
                LogOverflow();
                resyncReason = "ENOBUFS";
                continue;
            }
            if (length > 0)
            {
                resyncReason = Apply(buffer.AsMemory(0, length)) ?? resyncReason;
                continue;
            }
            if (resyncReason is null && _time.GetTimestamp() < nextResync)
                continue;
            try
            {
                Resync(rtnl, resyncReason ?? "periodic");
                nextResync = _time.GetTimestamp() + Ticks(_options.ResyncInterval);
            }
            catch (NetlinkException e)
            {
                // A dump interrupted too often or refused: keep the notifications flowing and dump again soon.
                LogResyncFailed(resyncReason ?? "periodic", e);
                nextResync = _time.GetTimestamp() + Ticks(ResyncRetry);
            }
            resyncReason = null;
        }
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    /// <summary>Applies one datagram of notifications; returns a reason to resync, if any.</summary>
    private string? Apply(ReadOnlyMemory<byte> datagram)
    {
        string? resync = null;
        var links = new List<Change<Link>>();
        var addresses = new List<Change<Address>>();
        var routes = new List<Change<Route>>();
        var rules = new List<Change<Rule>>();
        List<NetlinkMessage> messages;
        try
        {
            messages = NetlinkMessage.Split(datagram);
        }
        catch (NetlinkFormatException e)
        {
            LogBadMessage(0, e.Message);
            return "bad datagram";
        }
        lock (_lock)
        {
            foreach (var message in messages)
            {
                try
                {
                    resync = ApplyOne(message, links, addresses, routes, rules) ?? resync;
                    Interlocked.Increment(ref _notifications);
                }
                catch (NetlinkFormatException e)
                {
                    LogBadMessage(message.Type, e.Message);
                    resync = "bad message";
                }
            }
        }
        Emit(new HostChanges(links, addresses, routes, rules, Resync: false));
        return resync;
    }

    private string? ApplyOne(NetlinkMessage message, List<Change<Link>> links, List<Change<Address>> addresses,
        List<Change<Route>> routes, List<Change<Rule>> rules)
    {
        var payload = message.Payload.Span;
        switch (message.Type)
        {
            case RtnetlinkCodec.RTM_NEWLINK:
                var link = RtnetlinkCodec.DecodeLink(payload);
                var before = links.Count;
                _links.Upsert(link, links);
                // IPv4 drops or marks routes of a link going down without telling: re-dump when a link really changes.
                return links.Count > before ? "link change" : null;
            case RtnetlinkCodec.RTM_DELLINK:
                _links.Remove(RtnetlinkCodec.DecodeLink(payload), links);
                return "link removed";
            case RtnetlinkCodec.RTM_NEWADDR:
                if (RtnetlinkCodec.DecodeAddress(payload) is { } added)
                    _addresses.Upsert(added, addresses);
                return null;
            case RtnetlinkCodec.RTM_DELADDR:
                if (RtnetlinkCodec.DecodeAddress(payload) is { } removed)
                    _addresses.Remove(removed, addresses);
                return "address removed"; // routes using it as prefsrc vanish silently
            case RtnetlinkCodec.RTM_NEWROUTE:
                if (RtnetlinkCodec.DecodeRoute(payload) is { } route)
                {
                    if ((message.Flags & NetlinkMessage.NLM_F_REPLACE) != 0)
                    {
                        var key = RouteKey.Of(route);
                        _routes.RemoveWhere(r => !RouteKey.Of(r).Equals(key) && RouteKey.Of(r).SameSlot(key), routes);
                    }
                    _routes.Upsert(route, routes);
                }
                return null;
            case RtnetlinkCodec.RTM_DELROUTE:
                if (RtnetlinkCodec.DecodeRoute(payload) is { } gone)
                    _routes.Remove(gone, routes);
                return null;
            case RtnetlinkCodec.RTM_NEWRULE:
                if (RtnetlinkCodec.DecodeRule(payload) is { } rule)
                    _rules.Upsert(rule, rules);
                return null;
            case RtnetlinkCodec.RTM_DELRULE:
                if (RtnetlinkCodec.DecodeRule(payload) is { } oldRule)
                    _rules.Remove(oldRule, rules);
                return null;
            case NetlinkMessage.NLMSG_ERROR or NetlinkMessage.NLMSG_NOOP or NetlinkMessage.NLMSG_DONE:
                return null;
            default:
                throw new NetlinkFormatException($"unexpected message type {message.Type}");
        }
    }

    private void Resync(Rtnetlink rtnl, string reason)
    {
        var fresh = rtnl.DumpAll();
        var links = new List<Change<Link>>();
        var addresses = new List<Change<Address>>();
        var routes = new List<Change<Route>>();
        var rules = new List<Change<Rule>>();
        lock (_lock)
        {
            _links.ReplaceAll(fresh.Links, links);
            _addresses.ReplaceAll(fresh.Addresses, addresses);
            _routes.ReplaceAll(fresh.Routes, routes);
            _rules.ReplaceAll(fresh.Rules, rules);
        }
        Interlocked.Increment(ref _resyncs);
        var changes = new HostChanges(links, addresses, routes, rules, Resync: true);
        LogResync(reason, fresh.Links.Count, fresh.Addresses.Count, fresh.Routes.Count, fresh.Rules.Count,
            links.Count + addresses.Count + routes.Count + rules.Count);
        Emit(changes);
    }

    private void Emit(HostChanges changes)
    {
        if (!changes.IsEmpty)
            _onChanges?.Invoke(changes);
    }
}
