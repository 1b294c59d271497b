using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Probe;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Daemon;

namespace WgRouted.Service.Probing;

/// <summary>
/// Carries out the policy's decisions, make-before-break: pin the new source (a route in the interface's pin
/// table), set the WireGuard endpoint (which also drops the cached source), ask the peer's responder to move its
/// endpoint for us, then verify from answers that the peer sees our new source, re-asserting every
/// <see cref="ReassertInterval"/> up to <see cref="ConvergeWithin"/>. Afterwards, an answer showing the peer back on
/// another address of ours (stickiness: a late packet restored the old source) triggers a re-assertion.
/// </summary>
public sealed partial class Switcher(
    Decisions decisions, Keyring keyring, Prober prober, PinService pins, WireGuardControl control, Inbox inbox,
    TimeProvider time, ILogger<Switcher> logger) : BackgroundService
{
    public static readonly TimeSpan ReassertInterval = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan ConvergeWithin = TimeSpan.FromSeconds(2);

    public static readonly ActivitySource Activities = new("WgRouted.Switch");

    private readonly ConcurrentDictionary<PeerKey, Switch> _switches = new();
    private readonly ConcurrentDictionary<PeerKey, IPAddress> _pinned = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        prober.Answered += OnAnswer;
        try
        {
            await foreach (var decision in decisions.Reader.ReadAllAsync(stoppingToken))
                if (decision is EndpointSwitchDecided d)
                    Start(d, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            prober.Answered -= OnAnswer;
        }
    }

    private void Start(EndpointSwitchDecided d, CancellationToken stoppingToken)
    {
        if (_switches.TryRemove(d.Peer, out var previous))
            previous.Cancel();
        var activity = Activities.StartActivity("failover", ActivityKind.Internal);
        activity?.SetTag("wgrouted.peer", d.Peer.Base64);
        activity?.SetTag("wgrouted.reason", d.Reason.ToString());
        activity?.SetTag("wgrouted.from", d.From?.ToString());
        activity?.SetTag("wgrouted.to", d.To.ToString());
        var s = new Switch(d, time.GetTimestamp(), activity, CancellationTokenSource.CreateLinkedTokenSource(stoppingToken));
        _switches[d.Peer] = s;
        if (!Apply(s))
            return;
        prober.SetActive(d.Peer, d.To);
        inbox.Post(new EndpointSwitched(d.Peer, time.GetUtcNow(), d.To, d.Reason) { TraceId = activity?.TraceId.ToString() });
        _ = ConvergeAsync(s);
    }

    /// <summary>Pin and set the endpoint; false (and SwitchFailed) when the kernel or WireGuard refuse.</summary>
    private bool Apply(Switch s)
    {
        var d = s.Decision;
        if (keyring.InterfaceOf(d.Peer) is not { } itf)
            return false;
        try
        {
            pins.Change(rtnl =>
            {
                var route = rtnl.GetRoute(new RouteQuery(d.To.Dst.Address, Source: d.To.Src));
                var table = pins.For(itf);
                if (_pinned.TryGetValue(d.Peer, out var old) && !old.Equals(d.To.Dst.Address))
                    table.Delete(old);
                table.Replace(d.To.Dst.Address, d.To.Src, route.OutputInterface, route.Gateway);
                _pinned[d.Peer] = d.To.Dst.Address;
            });
            control.SetPeerEndpoint(itf.Name, d.Peer.Base64, new IPEndPoint(d.To.Dst.Address, d.To.Dst.Port));
            s.Activity?.AddEvent(new ActivityEvent("pinned and endpoint set"));
            return true;
        }
        catch (Exception e) when (e is NetlinkException or IOException or InvalidDataException or SocketException)
        {
            LogApplyFailed(logger, d.Peer.Base64, d.To.ToString(), e.Message);
            Finish(s, new SwitchFailed(d.Peer, time.GetUtcNow(), d.To, e.Message));
            return false;
        }
    }

    private async Task ConvergeAsync(Switch s)
    {
        var d = s.Decision;
        var port = keyring.Us(d.Peer)?.ListenPort ?? 0;
        try
        {
            while (!s.Converged)
            {
                if (time.GetElapsedTime(s.Started) > ConvergeWithin)
                {
                    Finish(s, new SwitchFailed(d.Peer, time.GetUtcNow(), d.To,
                        $"the peer did not report our new source {d.To.Src} within {ConvergeWithin.TotalSeconds:0} s"));
                    return;
                }
                if (port != 0)
                    prober.SendMove(d.Peer, d.To, port);
                await Task.Delay(ReassertInterval, time, s.Cancellation.Token);
                if (!s.Converged)
                    Apply(s);
            }
        }
        catch (OperationCanceledException)
        {
            // Superseded by a newer decision for this peer, or shutting down.
        }
    }

    private void OnAnswer(PeerKey peer, CandidatePath path, ProbeAnswer answer)
    {
        if (!_switches.TryGetValue(peer, out var s) || s.Decision.To != path || answer.WireGuardEndpoint is not { } seen)
            return;
        var ours = seen.Address.Equals(path.Src);
        if (ours && !s.Converged)
        {
            s.Converged = true;
            var elapsed = time.GetElapsedTime(s.Started).TotalMilliseconds;
            s.Activity?.SetTag("wgrouted.converge_ms", elapsed);
            Telemetry.Convergence.Record(elapsed);
            Finish(s, new SwitchConverged(peer, time.GetUtcNow(), path, elapsed));
        }
        else if (!ours && s.Converged && time.GetElapsedTime(s.LastReassert) > ReassertInterval)
        {
            // The switch came unstuck (a packet to our old address restored the old source): assert it again.
            s.LastReassert = time.GetTimestamp();
            LogUnstuck(logger, peer.Base64, seen.ToString(), path.Src.ToString());
            Apply(s);
            if (keyring.Us(peer)?.ListenPort is { } port and > 0)
                prober.SendMove(peer, path, port);
        }
    }

    private void Finish(Switch s, PeerEvent outcome)
    {
        s.Activity?.SetStatus(outcome is SwitchFailed ? ActivityStatusCode.Error : ActivityStatusCode.Ok);
        inbox.Post(outcome with { TraceId = s.Activity?.TraceId.ToString() });
        s.Activity?.Dispose();
    }

    private sealed class Switch(EndpointSwitchDecided decision, long started, Activity? activity, CancellationTokenSource cancellation)
    {
        public EndpointSwitchDecided Decision { get; } = decision;
        public long Started { get; } = started;
        public Activity? Activity { get; } = activity;
        public CancellationTokenSource Cancellation { get; } = cancellation;
        public volatile bool Converged;
        public long LastReassert;

        public void Cancel()
        {
            Cancellation.Cancel();
            Cancellation.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Switching peer {Peer} to {Path} failed: {Error}")]
    private static partial void LogApplyFailed(ILogger logger, string peer, string path, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peer {Peer} reaches us at {Seen} again, not {Source}: re-asserting the switch")]
    private static partial void LogUnstuck(ILogger logger, string peer, string seen, string source);
}
