using System.CommandLine;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;
using WgRouted.Service.Daemon;

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
            var marks = new List<(string Label, DateTimeOffset At)>();
            foreach (var (at, label, e) in script)
            {
                if (label is not null)
                {
                    Console.WriteLine($"{Offset(start, at)}  -- {label}");
                    marks.Add((label, at));
                }
                emitted.Clear();
                if (e is null)
                    policy.Tick(state!, at, emitted);
                else
                {
                    state = policy.Step(state, e, emitted);
                    if (Store.EventTypes.IsStored(e))
                        stored.Add((peer.Base64, e));
                }
                foreach (var d in emitted)
                {
                    stored.Add((peer.Base64, d));
                    if (d is EndpointSwitchDecided or PeerUnreachable)
                        Console.WriteLine($"{Offset(start, d.At)}  decision: {PolicyLoop.Describe(d)}");
                }
            }
            await store.AppendAsync(stored, ct);
            var probes = script.Count(s => s.Event is ProbeResult);
            Console.WriteLine();
            Console.WriteLine($"{script.Count} inputs ({probes} probe results, folded in memory only); {stored.Count} events stored in stream {peer}");
            Console.WriteLine();
            Console.WriteLine("stored history:");
            foreach (var e in await store.ReadAsync(peer.Base64, null, 10000, ct))
                Console.WriteLine($"  v{e.Version,-3} {Offset(start, ((PeerEvent)e.Data).At)} {e.Data.GetType().Name,-22} {Summary(e.Data)}");
            Console.WriteLine();
            Console.WriteLine("state by time travel (Marten, engine time):");
            foreach (var (label, at) in marks)
            {
                var then = await store.PeerStateAtAsync(peer.Base64, at.AddMilliseconds(-1), ct);
                Console.WriteLine($"  just before '{label}': active {then?.Active?.ToString() ?? "none"}");
            }
            var projected = await store.LoadPeerAsync(peer.Base64, ct);
            var agrees = projected is not null && state is not null && projected.Active == state.Active
                && projected.LastSwitchAt == state.LastSwitchAt && projected.Paths.Count == state.Paths.Count;
            Console.WriteLine($"  now (inline projection): active {projected?.Active?.ToString() ?? "none"}, {projected?.EventCount} events folded; " +
                $"in-memory fold agrees: {(agrees ? "yes" : "NO")}");
            return agrees ? 0 : CommonOptions.Failure;
        });
        return command;
    }

    private static string Offset(DateTimeOffset start, DateTimeOffset at) =>
        string.Create(CultureInfo.InvariantCulture, $"t+{(at - start).TotalSeconds,7:0.000}s");

    private static string Summary(object e) => e switch
    {
        CandidatesResolved c => string.Join(", ", c.Candidates.Select(x => x.Path.ToString())),
        PreferredSourceChanged p => $"{p.Dst} via source {p.Src?.ToString() ?? "(no route)"}",
        PathMeasured m => $"{m.Path} srtt {m.Quality.SrttMs:0.0} ms loss {m.Quality.Loss:P0}",
        PathWentDown d => $"{d.Path} ({d.Reason})",
        PathCameUp u => $"{u.Path}",
        EndpointSwitchDecided d => PolicyLoop.Describe(d),
        PeerUnreachable u => PolicyLoop.Describe(u),
        PeerConfigured c => $"{c.Interface}: {string.Join(", ", c.Endpoints)}",
        _ => "",
    };

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
            (start, null, new CandidatesResolved(peer, start, [new Candidate(a4, 0), new Candidate(b4, 0), new Candidate(b6, 1)])),
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
                events.Add((at, null, Alive(p, t) ? new ProbeReplied(peer, at, p, rtt[p] + jitter) : new ProbeMissed(peer, at, p)));
            }
            if (Math.Abs(t - 5) < 1e-9)
            {
                events.Add((at, "uplink A's default route withdrawn", new PreferredSourceChanged(peer, at, Peer4.Address, UplinkB)));
                events.Add((at, null, new PathWentDown(peer, at, a4, PathDownReason.RouteRemoved)));
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
