using System.Diagnostics;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;

namespace WgRouted.Service.Daemon;

/// <summary>
/// One trace per switch: the root span runs from the input that triggered the decision to the switch's outcome
/// (converged or failed); the decision, each re-assertion and the outcome are its children, the switcher adds the
/// pin, the endpoint and the move request. Every event of the switch carries the trace id, so the stored timeline
/// and the trace point at each other. Used by the policy loop only.
/// </summary>
public sealed class FailoverTraces
{
    public const string SourceName = "WgRouted.Failover";
    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// Switch spans are recorded whether or not they are exported: their trace id is stored with the switch's events,
    /// so the timeline and a trace viewer point at each other.
    /// </summary>
    private static readonly ActivityListener Recording = Listen();

    private static ActivityListener Listen()
    {
        var listener = new ActivityListener
        {
            // Names, not the sources: a source's initializer calls this while it is being created.
            ShouldListenTo = s => s.Name is SourceName or Probing.Switcher.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    public FailoverTraces() => GC.KeepAlive(Recording);

    private readonly Dictionary<PeerKey, Activity> _open = [];
    private readonly Dictionary<PeerKey, ActivityContext> _closed = [];

    /// <summary>
    /// The peer's switch trace, for the switcher's spans: the open one, or the last one closed (a stock peer is pinned
    /// once its switch converged).
    /// </summary>
    public ActivityContext ContextOf(PeerKey peer) =>
        _open.TryGetValue(peer, out var root) ? root.Context : _closed.GetValueOrDefault(peer);

    /// <summary>Opens, extends or closes the peer's trace for <paramref name="output"/>; returns it with its trace id.</summary>
    public PeerEvent Trace(PeerEvent output, PeerEvent? trigger, PeerState state)
    {
        switch (output)
        {
            case EndpointSwitchDecided d:
            {
                Close(d.Peer, d.At, ActivityStatusCode.Unset, "superseded");
                var start = trigger?.At ?? d.At;
                var root = StartRoot($"switch {d.Reason}", start);
                if (root is null)
                    return output;
                root.SetTag("wgrouted.peer", d.Peer.Base64);
                root.SetTag("wgrouted.interface", state.Interface);
                root.SetTag("wgrouted.reason", d.Reason.ToString());
                root.SetTag("wgrouted.trigger", trigger is null ? "deadline" : trigger.GetType().Name);
                root.SetTag("wgrouted.from", d.From?.ToString());
                root.SetTag("wgrouted.to", d.To.ToString());
                var from = d.Inputs.FirstOrDefault(p => p.Path == d.From);
                var to = d.Inputs.FirstOrDefault(p => p.Path == d.To);
                if (from?.SrttMs is { } f)
                    root.SetTag("wgrouted.from.srtt_ms", Math.Round(f, 3));
                if (to?.SrttMs is { } t)
                    root.SetTag("wgrouted.to.srtt_ms", Math.Round(t, 3));
                _open[d.Peer] = root;
                Child(root, "decide", d.At, ("wgrouted.reason", d.Reason.ToString()), ("wgrouted.paths", d.Inputs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                return d with { TraceId = root.TraceId.ToHexString() };
            }
            case SwitchReasserted r when _open.TryGetValue(r.Peer, out var root):
                Child(root, "reassert", r.At, ("wgrouted.attempt", r.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("wgrouted.seen", r.Seen?.ToString() ?? "nothing yet"));
                return r with { TraceId = root.TraceId.ToHexString() };
            case SwitchConverged c when _open.TryGetValue(c.Peer, out var root):
                Child(root, "converge", c.At, ("wgrouted.converge_ms", c.ElapsedMs.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)));
                root.SetTag("wgrouted.converge_ms", Math.Round(c.ElapsedMs, 3));
                var converged = c with { TraceId = root.TraceId.ToHexString() };
                Close(c.Peer, c.At, ActivityStatusCode.Ok, "converged");
                return converged;
            case SwitchFailed f when _open.TryGetValue(f.Peer, out var root):
                Child(root, "fail", f.At, ("wgrouted.error", f.Reason));
                var failed = f with { TraceId = root.TraceId.ToHexString() };
                Close(f.Peer, f.At, ActivityStatusCode.Error, f.Reason);
                return failed;
            case PeerUnreachable u:
            {
                using var span = StartRoot("unreachable", trigger?.At ?? u.At);
                if (span is null)
                    return output;
                span.SetTag("wgrouted.peer", u.Peer.Base64);
                span.SetTag("wgrouted.interface", state.Interface);
                span.SetTag("wgrouted.active", u.Active?.ToString());
                span.SetStatus(ActivityStatusCode.Error, "no usable path");
                span.SetEndTime(u.At.UtcDateTime);
                return u with { TraceId = span.TraceId.ToHexString() };
            }
            default:
                return output;
        }
    }

    /// <summary>A new trace: StartActivity would take Activity.Current as the parent, and a root left current would parent the next one.</summary>
    private static Activity? StartRoot(string name, DateTimeOffset start)
    {
        var current = Activity.Current;
        Activity.Current = null;
        var root = Source.StartActivity(name, ActivityKind.Internal, parentContext: default, startTime: start);
        Activity.Current = current;
        return root;
    }

    private static void Child(Activity root, string name, DateTimeOffset at, params (string Key, string Value)[] tags)
    {
        var current = Activity.Current;
        using (var span = Source.StartActivity(name, ActivityKind.Internal, root.Context, startTime: at))
        {
            if (span is not null)
            {
                foreach (var (key, value) in tags)
                    span.SetTag(key, value);
                span.SetEndTime(at.UtcDateTime);
            }
        }
        Activity.Current = current;
    }

    private void Close(PeerKey peer, DateTimeOffset at, ActivityStatusCode status, string outcome)
    {
        if (!_open.Remove(peer, out var root))
            return;
        _closed[peer] = root.Context;
        root.SetTag("wgrouted.outcome", outcome);
        root.SetStatus(status, status == ActivityStatusCode.Error ? outcome : null);
        root.SetEndTime(at.UtcDateTime);
        root.Stop();
    }
}
