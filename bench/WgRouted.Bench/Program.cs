using System.Diagnostics;
using System.Globalization;
using System.Net;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;

// Pure fold + report + decide throughput of the endpoint policy over a realistic stream:
// 4 peers x 4 paths (two uplinks, IPv4 and IPv6), active path probed every 250 ms, the others every
// 1000 ms, the primary uplink of each peer lost for 4 s every 20 s (failover, then failback).
var hours = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 2;
var runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
var policy = new EndpointPolicy(PolicyOptions.Default);
var stream = Stream.Record(policy, TimeSpan.FromHours(hours));
Console.WriteLine($"stream: {stream.Inputs.Length:N0} probe/candidate events over {hours} h, {stream.Peers} peers; {stream.Decisions:N0} decisions, {stream.Reports:N0} reported");

for (var i = 0; i < 3; i++)
    Stream.Play(policy, stream);
var rates = new List<double>();
for (var i = 0; i < runs; i++)
{
    var allocated = GC.GetAllocatedBytesForCurrentThread();
    var sw = Stopwatch.StartNew();
    var (decisions, _) = Stream.Play(policy, stream);
    sw.Stop();
    allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
    var rate = stream.Inputs.Length / sw.Elapsed.TotalSeconds;
    rates.Add(rate);
    Console.WriteLine($"run {i + 1,2}: {sw.Elapsed.TotalMilliseconds,8:F1} ms  {rate,12:N0} events/s  {allocated / (double)stream.Inputs.Length,7:F1} B/event  {decisions} decisions");
}
rates.Sort();
Console.WriteLine($"median {rates[rates.Count / 2]:N0} events/s, best {rates[^1]:N0} events/s");

internal sealed record Stream(int Peers, (int Peer, PeerEvent Event)[] Inputs, int Decisions, int Reports)
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Runs the daemon's loop turn (PeerTable: deadlines due, fold, report, decide) over the stream.</summary>
    public static (int Decisions, int Reports) Play(EndpointPolicy policy, Stream stream)
    {
        var table = new PeerTable(policy);
        var emitted = new List<PeerEvent>();
        int decisions = 0, reports = 0;
        foreach (var (_, e) in stream.Inputs)
        {
            emitted.Clear();
            // As the daemon's loop: it asks for the next deadline between inputs.
            table.NextDeadline();
            table.Turn(e, emitted);
            Count(emitted, e, ref decisions, ref reports);
        }
        return (decisions, reports);
    }

    private static void Count(List<PeerEvent> emitted, PeerEvent? input, ref int decisions, ref int reports)
    {
        foreach (var o in emitted)
            if (ReferenceEquals(o, input))
                continue;
            else if (o is PathMeasured or PathWentDown or PathCameUp)
                reports++;
            else
                decisions++;
    }

    public static Stream Record(EndpointPolicy policy, TimeSpan length)
    {
        const int peers = 4;
        var random = new Random(42);
        var inputs = new List<(int, PeerEvent)>();
        var keys = new PeerKey[peers];
        var paths = new CandidatePath[peers][];
        var rtts = new double[peers][];
        var next = new DateTimeOffset[peers][];
        for (var p = 0; p < peers; p++)
        {
            var key = new byte[32];
            key[0] = (byte)(p + 1);
            keys[p] = PeerKey.FromBytes(key);
            var dst4 = new Endpoint(IPAddress.Parse($"198.51.100.{p + 1}"), 51820);
            var dst6 = new Endpoint(IPAddress.Parse($"2001:db8:ff::{p + 1}"), 51820);
            paths[p] =
            [
                new(IPAddress.Parse("192.0.2.10"), dst4), new(IPAddress.Parse("203.0.113.10"), dst4),
                new(IPAddress.Parse("2001:db8:a::10"), dst6), new(IPAddress.Parse("2001:db8:b::10"), dst6),
            ];
            rtts[p] = [20 + p, 30 + p, 22 + p, 33 + p];
            next[p] = [T0, T0, T0, T0];
            var candidates = new CandidatesResolved(keys[p], T0, [new ResolvedEndpoint(0, dst4), new ResolvedEndpoint(1, dst6)],
                [.. paths[p].Select(c => c.Src).Distinct().Select(a => new Source(a, a.ToString().Contains("203.0") || a.ToString().Contains(":b:") ? "upb" : "upa"))]);
            inputs.Add((p, candidates));
            inputs.Add((p, new PreferredSourceChanged(keys[p], T0, dst4.Address, paths[p][0].Src)));
            inputs.Add((p, new PreferredSourceChanged(keys[p], T0, dst6.Address, paths[p][2].Src)));
        }
        // Record with the loop running so probe rates follow the active path; Play re-runs the decisions.
        var table = new PeerTable(policy);
        var emitted = new List<PeerEvent>();
        int decisions = 0, reports = 0;
        foreach (var (_, e) in inputs)
            table.Turn(e, emitted);
        emitted.Clear();
        var end = T0 + length;
        ulong seq = 0;
        while (true)
        {
            int bp = 0, bi = 0;
            for (var p = 0; p < peers; p++)
                for (var i = 0; i < 4; i++)
                    if (next[p][i] < next[bp][bi])
                        (bp, bi) = (p, i);
            var at = next[bp][bi];
            if (at > end)
                break;
            var path = paths[bp][bi];
            var state = table.Find(keys[bp])!;
            // The prober learns of a switch decided at a deadline before it sends.
            var before = state.Active;
            emitted.Clear();
            table.AdvanceTo(at, emitted);
            Count(emitted, null, ref decisions, ref reports);
            next[bp][bi] = at + (state.Active == path ? policy.Options.ActiveInterval : policy.Options.StandbyInterval);
            var phase = (at - T0).TotalMilliseconds % 20_000;
            var lost = bi == 0 && phase >= 5000 + bp * 500 && phase < 9000 + bp * 500;
            // The peer's responder follows moves at once: its answers report our active source.
            PeerEvent e = lost
                ? new ProbeMissed(keys[bp], at, path, ++seq)
                : new ProbeReplied(keys[bp], at, path, ++seq, rtts[bp][bi] + random.NextDouble() * 4, new Endpoint(path.Src, 51820),
                    state.Active is { } a ? new Endpoint(a.Src, 51820) : null);
            inputs.Add((bp, e));
            emitted.Clear();
            table.Turn(e, emitted);
            Count(emitted, e, ref decisions, ref reports);
            if (state.Active is { } now && now != before)
                for (var i = 0; i < 4; i++)
                    if (paths[bp][i] == now && next[bp][i] > at + policy.Options.ActiveInterval)
                        next[bp][i] = at + policy.Options.ActiveInterval;
        }
        return new Stream(peers, [.. inputs], decisions, reports);
    }
}
