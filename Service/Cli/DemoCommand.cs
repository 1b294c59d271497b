using System.CommandLine;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;
using WgRouted.Service.Daemon;
using WgRouted.Service.Replay;
using WgRouted.Service.Store;

namespace WgRouted.Service.Cli;

/// <summary>
/// Feeds a scripted failover, failback and IPv4 loss through the real policy and the real store, then reads the
/// stored history back: what the daemon does, without the network.
/// </summary>
internal static class DemoCommand
{
    private static readonly IPAddress UplinkA = IPAddress.Parse("198.18.1.2");
    private static readonly IPAddress UplinkB = IPAddress.Parse("198.18.2.2");
    private static readonly IPAddress UplinkB6 = IPAddress.Parse("fd00:2::2");
    private static readonly Endpoint Peer4 = Endpoint.Parse("198.18.3.2:51820");
    private static readonly Endpoint Peer6 = Endpoint.Parse("[fd00:3::2]:51820");

    public static Command Create()
    {
        var config = CommonOptions.Config();
        var command = new Command("demo", "run a scripted failover and failback through the policy and the store") { config };
        command.SetAction(async (parse, ct) =>
        {
            var loaded = CommonOptions.LoadOrReport(parse.GetRequiredValue(config));
            if (loaded is null)
                return CommonOptions.Failure;
            var policy = new EndpointPolicy(loaded.Policy);
            await using var connector = new StoreConnector(loaded, policy, NullLogger<StoreConnector>.Instance);
            var store = await connector.GetAsync(ct);
            // A fresh peer per run, so that its stream holds this run only.
            var peer = PeerKey.FromBytes(System.Security.Cryptography.RandomNumberGenerator.GetBytes(PeerKey.KeyLength));
            var start = DateTimeOffset.UtcNow.AddMinutes(-1);
            var script = Script(peer, start, loaded.Policy);

            Console.WriteLine($"peer {peer}: uplink A {UplinkA} (primary), uplink B {UplinkB} / {UplinkB6}; peer at {Peer4} and {Peer6}");
            Console.WriteLine();
            PeerState? state = null;
            var emitted = new List<PeerEvent>();
            var stored = new List<(string, object)>();
            var probes = new List<ProbeOutcome>();
            var clock = DateTimeOffset.MinValue;
            foreach (var (scriptedAt, label, scripted) in script)
            {
                // Engine time is strictly increasing, as the daemon's loop stamps it: several inputs at one scripted
                // instant are a tick apart, and a replay merging them by time folds them in this order.
                var at = clock = scriptedAt > clock ? scriptedAt : clock.AddTicks(1);
                if (label is not null)
                    Console.WriteLine($"{Offset(start, at)}  -- {label}");
                emitted.Clear();
                // The deadlines due first (a scripted instant without input is only that), then the loop's turn.
                if (state is not null)
                    policy.AdvanceTo(state, at, emitted);
                PeerEvent? input = null;
                if (scripted is { } e)
                {
                    // The peer's responder follows every move at once: its answers report our active source.
                    input = e with { At = at };
                    if (input is ProbeReplied r)
                        input = r with { PeerEndpoint = state?.Active is { } a ? new Endpoint(a.Src, 51820) : null };
                    state = policy.Turn(state, input, emitted);
                }
                Stored(emitted, input);
            }

            void Stored(List<PeerEvent> history, PeerEvent? input)
            {
                foreach (var d in history)
                {
                    if (ReferenceEquals(d, input))
                    {
                        if (d is ProbeResult p)
                            probes.Add(ProbeOutcome.From(p));
                        else
                            stored.Add((peer.Base64, d));
                        continue;
                    }
                    stored.Add((peer.Base64, d));
                    if (d is EndpointSwitchDecided or PeerUnreachable or SwitchConverged or SwitchFailed)
                        Console.WriteLine($"{Offset(start, d.At)}  decision: {Describe(d)}");
                }
            }

            await store.AppendAsync(stored, ct);
            using var recorder = new ProbeRecorder(_ => Task.FromResult(store.ConnectionString),
                Path.Combine(loaded.Options.DataDirectory, "probe-spill"), loaded.Options.History.ProbeRetentionDays,
                TimeProvider.System, NullLogger<ProbeRecorder>.Instance);
            await recorder.StartAsync(ct);
            foreach (var o in probes)
                recorder.Post(o);
            while (recorder.Pending > 0)
                await Task.Delay(50, ct);
            await recorder.StopAsync(ct);
            Console.WriteLine();
            Console.WriteLine($"{script.Count(s => s.Event is not null)} inputs: {probes.Count} probe outcomes to the recorder, " +
                $"{stored.Count} events (the other inputs and every output) to stream {peer}");
            Console.WriteLine();

            // Incident analysis from the store alone: what `wg-routed replay --verify` does.
            var history = await new HistoryReader(store, recorder).ReadAsync(peer, null, null, ct);
            var analysis = Analysis.Run(history, policy);
            var diffs = Verification.Compare(history.Outputs, analysis.Derived);
            Console.Write(new Timeline(history).Render(diffs));
            Console.WriteLine(diffs.Count == 0
                ? $"replay from the store re-derives all {history.Outputs.Count} recorded outputs"
                : $"replay from the store: {diffs.Count} of {history.Outputs.Count} outputs differ");
            return diffs.Count == 0 ? 0 : CommonOptions.Failure;
        });
        return command;
    }

    private static string Describe(PeerEvent e) => e switch
    {
        SwitchConverged c => $"converged on {c.Path} after {c.ElapsedMs:0} ms",
        SwitchFailed f => $"switch to {f.Path} failed: {f.Reason}",
        _ => PolicyLoop.Describe(e),
    };

    private static string Offset(DateTimeOffset start, DateTimeOffset at) =>
        string.Create(CultureInfo.InvariantCulture, $"t+{(at - start).TotalSeconds,7:0.000}s");

    /// <summary>
    /// The timeline: probes at the configured rates (active path fast, others slow); uplink A loses its route at
    /// 5 s and gets it back at 15 s; IPv4 dies everywhere at 25 s and returns at 35 s; ends at 45 s.
    /// </summary>
    private static List<(DateTimeOffset At, string? Label, PeerEvent? Event)> Script(PeerKey peer, DateTimeOffset start, PolicyOptions o)
    {
        var a4 = new CandidatePath(UplinkA, Peer4);
        var b4 = new CandidatePath(UplinkB, Peer4);
        var b6 = new CandidatePath(UplinkB6, Peer6);
        var rtt = new Dictionary<CandidatePath, double> { [a4] = 12, [b4] = 31, [b6] = 28 };
        var script = new List<(DateTimeOffset, string?, PeerEvent?)>
        {
            (start, "daemon starts", new PeerConfigured(peer, start, "wg0", [Peer4.ToString(), Peer6.ToString()], 51821)),
            (start, null, new CandidatesResolved(peer, start, [new ResolvedEndpoint(0, Peer4), new ResolvedEndpoint(1, Peer6)],
                [new Source(UplinkA, "upa"), new Source(UplinkB, "upb"), new Source(UplinkB6, "upb")])),
            (start, null, new PreferredSourceChanged(peer, start, Peer4.Address, UplinkA)),
            (start, null, new PreferredSourceChanged(peer, start, Peer6.Address, UplinkB6)),
        };
        bool Alive(CandidatePath p, double t) =>
            !(p == a4 && t is >= 5 and < 15) && !(p.Family == System.Net.Sockets.AddressFamily.InterNetwork && t is >= 25 and < 35);
        var events = new List<(DateTimeOffset, string?, PeerEvent?)>();
        var step = o.ActiveInterval;
        var ticksPerStandby = Math.Max(1, (int)(o.StandbyInterval / o.ActiveInterval));
        var i = 0;
        for (var at = start + step; at <= start + TimeSpan.FromSeconds(45); at += step, i++)
        {
            var t = (at - start).TotalSeconds;
            foreach (var p in new[] { a4, b4, b6 })
            {
                // The prober probes every path at the standby rate and the active one at the active rate; the
                // script probes the primary at the active rate throughout, as after a route change.
                var fast = p == a4 || (t is >= 5 and < 16 && p == b4) || (t is >= 25 and < 36 && p == b6);
                if (!fast && i % ticksPerStandby != 0)
                    continue;
                var jitter = (i * 7 % 5) * 0.3;
                var seq = (ulong)events.Count + 1;
                events.Add((at, null, Alive(p, t) ? new ProbeReplied(peer, at, p, seq, rtt[p] + jitter, new Endpoint(p.Src, 51820), null) : new ProbeMissed(peer, at, p, seq)));
            }
            if (Math.Abs(t - 5) < 1e-9)
            {
                events.Add((at, "uplink A goes down (link and default route)", new PreferredSourceChanged(peer, at, Peer4.Address, UplinkB)));
                events.Add((at, null, new PathLinkDown(peer, at, a4, "upa")));
            }
            if (Math.Abs(t - 15) < 1e-9)
                events.Add((at, "uplink A's route returns", new PreferredSourceChanged(peer, at, Peer4.Address, UplinkA)));
            if (Math.Abs(t - 25) < 1e-9)
                events.Add((at, "IPv4 upstream blackholed (silent loss)", null));
            if (Math.Abs(t - 35) < 1e-9)
                events.Add((at, "IPv4 upstream back", null));
            events.Add((at, null, null));
        }
        script.AddRange(events);
        return script;
    }
}
