using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;

namespace WgRouted.Service.Daemon;

/// <summary>
/// The single reader of the inbox: folds every event into the in-memory state, runs the policy, hands decisions
/// to the actuators and every storable event to the appender. Never waits on the database or an actuator.
/// </summary>
public sealed partial class PolicyLoop(
    Inbox inbox, EndpointPolicy policy, Appender appender, Decisions decisions, TimeProvider time, ILogger<PolicyLoop> logger)
    : BackgroundService
{
    private readonly Dictionary<PeerKey, PeerState> _peers = [];
    private readonly List<PeerEvent> _emitted = [];
    private readonly object _gate = new();
    private DateTimeOffset _lastTick = DateTimeOffset.MinValue;

    /// <summary>A copy of every peer's state, for `show` and tests.</summary>
    public IReadOnlyList<PeerState> Snapshot()
    {
        lock (_gate)
            return _peers.Values.Select(p => p.Clone()).ToList();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = inbox.Reader;
        while (!stoppingToken.IsCancellationRequested)
        {
            var deadline = NextDeadline();
            var now = time.GetUtcNow();
            if (deadline is { } d && d <= now)
            {
                TickAll(now);
                continue;
            }
            var wait = deadline is { } dl ? dl - now : Timeout.InfiniteTimeSpan;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            if (wait != Timeout.InfiniteTimeSpan)
                timeout.CancelAfter(wait);
            try
            {
                if (!await reader.WaitToReadAsync(timeout.Token))
                    return;
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                continue;
            }
            while (reader.TryRead(out var item))
                Handle(item);
        }
    }

    /// <summary>Folds one input; public for the demo and tests, which drive the loop without the host.</summary>
    public void Handle(object item)
    {
        switch (item)
        {
            case HostEvent h:
                appender.Post(Store.EventStore.HostStream(Environment.MachineName), h);
                break;
            case PeerEvent e:
                _emitted.Clear();
                lock (_gate)
                {
                    _peers.TryGetValue(e.Peer, out var state);
                    _peers[e.Peer] = policy.Step(state, e, _emitted);
                }
                if (Store.EventTypes.IsStored(e))
                    appender.Post(e.Peer.Base64, e);
                Emit();
                break;
            default:
                LogUnknownInput(logger, item.GetType().Name);
                break;
        }
    }

    private void TickAll(DateTimeOffset now)
    {
        _lastTick = now;
        _emitted.Clear();
        lock (_gate)
            foreach (var state in _peers.Values)
                if (policy.NextDeadline(state) is { } d && d <= now)
                    policy.Tick(state, now, _emitted);
        Emit();
    }

    private void Emit()
    {
        foreach (var e in _emitted)
        {
            appender.Post(e.Peer.Base64, e);
            if (e is EndpointSwitchDecided d)
                Telemetry.Switches.Add(1, new KeyValuePair<string, object?>("reason", d.Reason.ToString()));
            if (e is EndpointSwitchDecided or PeerUnreachable)
            {
                if (logger.IsEnabled(LogLevel.Information))
                    LogDecision(logger, e.Peer.Base64, Describe(e));
                decisions.Post(e);
            }
        }
    }

    public static string Describe(PeerEvent e) => e switch
    {
        EndpointSwitchDecided d => $"switch ({d.Reason}) {(d.From is { } f ? f.ToString() : "none")} => {d.To}",
        PeerUnreachable u => $"unreachable (no usable path; endpoint stays {(u.Active is { } a ? a.ToString() : "unset")})",
        _ => e.GetType().Name,
    };

    private DateTimeOffset? NextDeadline()
    {
        DateTimeOffset? next = null;
        lock (_gate)
            foreach (var state in _peers.Values)
                // A deadline already ticked past that Decide did not act on stays in the past: skip it.
                if (policy.NextDeadline(state) is { } d && d > _lastTick && (next is null || d < next))
                    next = d;
        return next;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The policy loop got an input it does not know: {Type}")]
    private static partial void LogUnknownInput(ILogger logger, string type);

    [LoggerMessage(Level = LogLevel.Information, Message = "Peer {Peer}: {Decision}")]
    private static partial void LogDecision(ILogger logger, string peer, string decision);
}
