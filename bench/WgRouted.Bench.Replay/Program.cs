using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;
using WgRouted.Service.Replay;
using WgRouted.Service.Store;

// Replay speed: `wg-routed replay`'s work for one peer (read its Marten stream and its probe outcomes, merge,
// fold + report + decide through the engine) against a raw Npgsql sequential read of the same rows, same server.
var minutes = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 60;
var runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
var dir = Directory.CreateTempSubdirectory("wgr-bench-replay-").FullName;
await using var pg = await EmbeddedPostgres.StartAsync(dir, NullLogger.Instance, CancellationToken.None);
try
{
    var policy = new EndpointPolicy(PolicyOptions.Default);
    await using var store = await EventStore.OpenAsync(pg.ConnectionString, policy, CancellationToken.None);
    using var recorder = new ProbeRecorder(_ => Task.FromResult(pg.ConnectionString), Path.Combine(dir, "spill"), 0,
        TimeProvider.System, NullLogger<ProbeRecorder>.Instance);
    var peer = PeerKey.FromBytes(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
    var (stored, outcomes) = History.Make(policy, peer, TimeSpan.FromMinutes(minutes));
    foreach (var chunk in stored.Chunk(500))
        await store.AppendAsync(chunk.Select(e => (peer.Base64, (object)e)).ToList(), CancellationToken.None);
    await recorder.StartAsync(CancellationToken.None);
    foreach (var o in outcomes)
        recorder.Post(o);
    while (recorder.Pending > 0)
        await Task.Delay(50);
    await recorder.StopAsync(CancellationToken.None);
    await store.AnalyzeAsync(CancellationToken.None);
    await using (var conn = new NpgsqlConnection(pg.ConnectionString))
    {
        await conn.OpenAsync();
        await using var analyze = new NpgsqlCommand("ANALYZE wg_routed.probe_outcomes", conn);
        await analyze.ExecuteNonQueryAsync();
    }
    var rows = stored.Count + outcomes.Count;
    Console.WriteLine($"history: {minutes} min of one peer, 4 paths: {stored.Count:N0} Marten events + {outcomes.Count:N0} probe outcomes = {rows:N0} rows");

    var reader = new HistoryReader(store, recorder);
    var from = outcomes[0].At;
    var to = outcomes[^1].At.AddTicks(1);
    async Task<(TimeSpan Read, TimeSpan Fold, int Derived)> Replay()
    {
        var sw = Stopwatch.StartNew();
        var history = await reader.ReadAsync(peer, null, null, CancellationToken.None);
        var read = sw.Elapsed;
        var analysis = Analysis.Run(history, policy, observe: false);
        var fold = sw.Elapsed - read;
        // Checked, not timed: the figure is read + fold + decide.
        var diffs = Verification.Compare(history.Outputs, analysis.Derived);
        if (diffs.Count != 0)
            throw new InvalidOperationException($"the replay differs from the recording in {diffs.Count} outputs");
        return (read, fold, analysis.Derived.Count);
    }
    async Task<(TimeSpan Time, long Rows)> Raw()
    {
        var sw = Stopwatch.StartNew();
        await using var conn = new NpgsqlConnection(pg.ConnectionString);
        await conn.OpenAsync();
        long n = 0;
        await using (var cmd = new NpgsqlCommand("SELECT data, type, version, seq_id FROM wg_routed.mt_events WHERE stream_id = @s ORDER BY version", conn))
        {
            cmd.Parameters.AddWithValue("s", peer.Base64);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                _ = r.GetString(0);
                _ = r.GetString(1);
                n++;
            }
        }
        await using (var cmd = new NpgsqlCommand(
            "SELECT o.at_ticks, o.sequence, o.rtt_ms, o.path_id, a.observed, a.peer_endpoint FROM wg_routed.probe_outcomes o JOIN wg_routed.probe_paths p ON p.id = o.path_id " +
            "LEFT JOIN wg_routed.probe_answers a ON a.id = o.answer_id " +
            "WHERE p.peer = @s AND o.at_ticks >= @from AND o.at_ticks < @to ORDER BY o.at_ticks", conn))
        {
            cmd.Parameters.AddWithValue("s", peer.Base64);
            cmd.Parameters.AddWithValue("from", from.UtcTicks);
            cmd.Parameters.AddWithValue("to", to.UtcTicks);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                _ = r.GetInt64(0);
                _ = r.GetInt64(1);
                _ = r.IsDBNull(2) ? 0 : r.GetDouble(2);
                _ = r.IsDBNull(4) ? null : r.GetString(4);
                _ = r.IsDBNull(5) ? null : r.GetString(5);
                n++;
            }
        }
        return (sw.Elapsed, n);
    }
    // Warm up past tiered compilation: the figure is the steady state.
    for (var k = 0; k < 8; k++)
    {
        await Replay();
        await Raw();
    }
    for (var k = 0; k < 2; k++)
    {
        var sw0 = Stopwatch.StartNew();
        _ = await store.ReadStreamDataAsync(peer.Base64, CancellationToken.None);
        var marten = sw0.Elapsed;
        sw0.Restart();
        _ = await recorder.ReadAsync(peer, DateTimeOffset.UnixEpoch, to, CancellationToken.None);
        Console.WriteLine($"breakdown: stream read {marten.TotalMilliseconds:F0} ms, recorder read {sw0.Elapsed.TotalMilliseconds:F0} ms");
    }
    var ratios = new List<double>();
    for (var i = 0; i < runs; i++)
    {
        var (read, fold, derived) = await Replay();
        var (raw, rawRows) = await Raw();
        if (rawRows != rows)
            throw new InvalidOperationException($"the raw read saw {rawRows} rows, not {rows}");
        var replay = read + fold;
        var ratio = raw / replay;
        ratios.Add(ratio);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"run {i + 1}: replay {replay.TotalMilliseconds,7:F0} ms (read {read.TotalMilliseconds:F0} + fold/decide {fold.TotalMilliseconds:F0}), {rows / replay.TotalSeconds,9:N0} rows/s, {derived} outputs; raw read {raw.TotalMilliseconds,6:F0} ms, {rows / raw.TotalSeconds,9:N0} rows/s; ratio {ratio:F2}"));
    }
    ratios.Sort();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median ratio replay/raw read speed: {ratios[ratios.Count / 2]:F2} (goal >= 0.5)"));
}
finally
{
    await pg.DisposeAsync();
    Directory.Delete(dir, recursive: true);
}

/// <summary>A recorded history made by the engine's own loop: a prober at the default rates, the primary failing every 20 s.</summary>
internal static class History
{
    public static (List<PeerEvent> Stored, List<ProbeOutcome> Outcomes) Make(EndpointPolicy policy, PeerKey peer, TimeSpan length)
    {
        var t0 = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var dst4 = Endpoint.Parse("198.51.100.7:51820");
        var dst6 = Endpoint.Parse("[2001:db8:ff::7]:51820");
        CandidatePath[] paths =
        [
            new(IPAddress.Parse("192.0.2.10"), dst4), new(IPAddress.Parse("203.0.113.10"), dst4),
            new(IPAddress.Parse("2001:db8:a::10"), dst6), new(IPAddress.Parse("2001:db8:b::10"), dst6),
        ];
        double[] rtt = [20, 30, 22, 33];
        var stored = new List<PeerEvent>();
        var outcomes = new List<ProbeOutcome>();
        var emitted = new List<PeerEvent>();
        PeerState? state = null;
        var clock = t0;
        void Feed(PeerEvent e)
        {
            emitted.Clear();
            state = policy.Turn(state, e, emitted);
            foreach (var x in emitted)
                if (x is ProbeResult p)
                    outcomes.Add(ProbeOutcome.From(p));
                else
                    stored.Add(x);
        }
        DateTimeOffset Tick(DateTimeOffset at) => clock = at > clock ? at : clock.AddTicks(1);
        Feed(new PeerConfigured(peer, Tick(t0), "wg0", [dst4.ToString(), dst6.ToString()], 51821));
        Feed(new CandidatesResolved(peer, Tick(t0), [new ResolvedEndpoint(0, dst4), new ResolvedEndpoint(1, dst6)],
            [new Source(paths[0].Src, "upa"), new Source(paths[1].Src, "upb"), new Source(paths[2].Src, "upa"), new Source(paths[3].Src, "upb")]));
        Feed(new PreferredSourceChanged(peer, Tick(t0), dst4.Address, paths[0].Src));
        Feed(new PreferredSourceChanged(peer, Tick(t0), dst6.Address, paths[2].Src));
        var next = paths.Select(_ => t0).ToArray();
        var random = new Random(7);
        ulong seq = 0;
        while (true)
        {
            var i = Array.IndexOf(next, next.Min());
            var at = next[i];
            if (at > t0 + length)
                break;
            next[i] = at + (state!.Active == paths[i] ? policy.Options.ActiveInterval : policy.Options.StandbyInterval);
            var lost = i == 0 && (at - t0).TotalSeconds % 20 is >= 8 and < 12;
            var sees = state.Active is { } a ? new Endpoint(a.Src, 51820) : (Endpoint?)null;
            Feed(lost
                ? new ProbeMissed(peer, Tick(at), paths[i], ++seq)
                : new ProbeReplied(peer, Tick(at), paths[i], ++seq, rtt[i] + random.NextDouble() * 3, new Endpoint(paths[i].Src, 51820), sees));
            if (state.Active is { } now && next.Where((_, k) => paths[k] == now).First() > at + policy.Options.ActiveInterval)
                next[Array.IndexOf(paths, now)] = at + policy.Options.ActiveInterval;
        }
        return (stored, outcomes);
    }
}
