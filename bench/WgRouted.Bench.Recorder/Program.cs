// The probe recorder's cost: PEERS peers x 4 paths at the default rates (1,000 peers: 7,000 outcomes/s) through
// ProbeRecorder into an embedded PostgreSQL. 30 s of outcomes as fast as they go, 10 s of sustained maximum,
// then 20 s in real time: CPU of this process and of PostgreSQL, lag, bytes per outcome on disk, a day's cost.
// dotnet run -c Release --project bench/WgRouted.Bench.Recorder [peers]
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using WgRouted.Bench.Recorder;
using WgRouted.Service.Store;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var peers = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
var rate = peers * Traffic.PerPeerPerSecond;
const int BurstSeconds = 30;
const int SustainSeconds = 10;
const int RealSeconds = 20;
// The bench keeps at most this many pending while it pushes for the maximum, as a hot loop would not.
const int SustainBacklog = 100_000;

var dir = Directory.CreateTempSubdirectory("wgr-bench-recorder-").FullName;
await using var pg = await EmbeddedPostgres.StartAsync(dir, NullLogger.Instance, CancellationToken.None);
try
{
    var time = TimeProvider.System;
    var recorder = new ProbeRecorder(_ => Task.FromResult(pg.ConnectionString), Path.Combine(dir, "spill"), retentionDays: 0,
        time, NullLogger<ProbeRecorder>.Instance);
    await recorder.StartAsync(CancellationToken.None);
    var traffic = new Traffic(peers, time.GetUtcNow());

    async Task<TimeSpan> DrainedAsync(long target)
    {
        var clock = Stopwatch.StartNew();
        while (recorder.Recorded < target)
            await Task.Delay(2);
        return clock.Elapsed;
    }

    var process = Process.GetCurrentProcess();
    long maxPending = 0;
    var maxLag = TimeSpan.Zero;
    // Posts the outcomes as they fall due, every 100 ms, for the duration: CPU of this process and of PostgreSQL.
    async Task<(TimeSpan Wall, TimeSpan Cpu, TimeSpan PgCpu)> PaceAsync(List<ProbeOutcome> outcomes, TimeSpan duration)
    {
        process.Refresh();
        var cpu0 = process.TotalProcessorTime;
        var pgCpu0 = PostgresCpu.Of(pg.DataDir);
        var posted = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        var pace = Stopwatch.StartNew();
        while (pace.Elapsed < duration && await timer.WaitForNextTickAsync())
        {
            var due = Math.Min(outcomes.Count, (int)(pace.Elapsed.TotalSeconds * rate));
            while (posted < due)
                recorder.Post(outcomes[posted++]);
            maxPending = Math.Max(maxPending, recorder.Pending);
            maxLag = recorder.Lag > maxLag ? recorder.Lag : maxLag;
        }
        while (posted < outcomes.Count)
            recorder.Post(outcomes[posted++]);
        var wall = pace.Elapsed;
        process.Refresh();
        return (wall, process.TotalProcessorTime - cpu0, PostgresCpu.Of(pg.DataDir) - pgCpu0);
    }
    List<ProbeOutcome> Seconds(DateTimeOffset from, int seconds) => Enumerable.Range(0, seconds).SelectMany(s => traffic.Second(from.AddSeconds(s))).ToList();

    // Warm-up, so JIT tiers and the connection pool are not in the figures: a second at once, then 5 s paced.
    var warm = Seconds(time.GetUtcNow(), 6);
    foreach (var o in warm.Take(rate))
        recorder.Post(o);
    await DrainedAsync(rate);
    await PaceAsync(warm.Skip(rate).ToList(), TimeSpan.FromSeconds(5));
    await DrainedAsync(warm.Count);

    // 1. Real time: 20 s at the configured rate, after 5 s of quiet (tiered JIT finishing its work). After it, 5 s
    // of the same loop posting nothing: this process's share without the recorder's work.
    await PaceAsync([], TimeSpan.FromSeconds(5));
    var realStart = time.GetUtcNow();
    var real = Seconds(realStart, RealSeconds);
    var before = recorder.Recorded;
    maxPending = 0;
    maxLag = TimeSpan.Zero;
    var (wall, cpu, pgCpu) = await PaceAsync(real, TimeSpan.FromSeconds(RealSeconds));
    var pendingAtEnd = recorder.Pending;
    var lagAtEnd = recorder.Lag;
    var drain = await DrainedAsync(before + real.Count);
    var idle = await PaceAsync([], TimeSpan.FromSeconds(5));

    // 2. Burst: 30 s of outcomes (from before the real-time ones) posted at once.
    var generated = realStart.AddHours(-1);
    var burst = Seconds(generated, BurstSeconds);
    generated = generated.AddSeconds(BurstSeconds);
    before = recorder.Recorded;
    var clock = Stopwatch.StartNew();
    foreach (var o in burst)
        recorder.Post(o);
    var postTime = clock.Elapsed;
    await DrainedAsync(before + burst.Count);
    var burstTime = clock.Elapsed;

    // 3. Sustained maximum: generate and post as fast as the recorder keeps up, for 10 s.
    before = recorder.Recorded;
    clock.Restart();
    while (clock.Elapsed < TimeSpan.FromSeconds(SustainSeconds))
    {
        if (recorder.Pending > SustainBacklog)
        {
            await Task.Delay(1);
            continue;
        }
        foreach (var o in traffic.Second(generated))
            recorder.Post(o);
        generated = generated.AddSeconds(1);
    }
    var sustained = (recorder.Recorded - before) / clock.Elapsed.TotalSeconds;
    while (recorder.Pending > 0)
        await Task.Delay(10);

    // 4. Size on disk, after the VACUUM that autovacuum would run on an insert-only table anyway.
    await using var conn = new NpgsqlConnection(pg.ConnectionString);
    await conn.OpenAsync();
    await using (var vacuum = new NpgsqlCommand($"VACUUM ANALYZE {ProbeRecorder.Table}", conn))
        await vacuum.ExecuteNonQueryAsync();
    await using var sizes = new NpgsqlCommand($"""
        SELECT (SELECT count(*) FROM {ProbeRecorder.Table}),
               sum(pg_relation_size(i.inhrelid)), sum(pg_indexes_size(i.inhrelid)), sum(pg_total_relation_size(i.inhrelid)),
               pg_total_relation_size('wg_routed.probe_paths') + pg_total_relation_size('wg_routed.probe_answers')
        FROM pg_inherits i WHERE i.inhparent = '{ProbeRecorder.Table}'::regclass
        """, conn);
    long rows, heap, index, total, dictionaries;
    await using (var r = await sizes.ExecuteReaderAsync())
    {
        await r.ReadAsync();
        (rows, heap, index, total, dictionaries) = (r.GetInt64(0), (long)r.GetDecimal(1), (long)r.GetDecimal(2), (long)r.GetDecimal(3), r.GetInt64(4));
    }
    var perOutcome = (double)total / rows;

    // 5. An incident replay's query: one peer's outcomes over the real-time window.
    var peer = traffic.Peer(peers / 2);
    await recorder.ReadAsync(peer, realStart, realStart.AddSeconds(RealSeconds), CancellationToken.None);
    clock.Restart();
    const int Reads = 20;
    var read = 0;
    for (var i = 0; i < Reads; i++)
        read = (await recorder.ReadAsync(peer, realStart, realStart.AddSeconds(RealSeconds), CancellationToken.None)).Count;
    var readTime = clock.Elapsed / Reads;
    clock.Restart();
    var readHour = (await recorder.ReadAsync(peer, realStart.AddHours(-1), realStart, CancellationToken.None)).Count;
    var readHourTime = clock.Elapsed;
    await using var explain = new NpgsqlCommand($"""
        EXPLAIN (ANALYZE, COSTS OFF) SELECT o.* FROM {ProbeRecorder.Table} o
        WHERE o.path_id = ANY(ARRAY(SELECT id FROM wg_routed.probe_paths WHERE peer = @peer))
          AND o.at_ticks / 600000000 BETWEEN @from / 600000000 AND (@to - 1) / 600000000
          AND o.at_ticks >= @from AND o.at_ticks < @to ORDER BY o.at_ticks, o.sequence
        """, conn);
    explain.Parameters.AddWithValue("peer", peer.Base64);
    explain.Parameters.AddWithValue("from", realStart.UtcTicks);
    explain.Parameters.AddWithValue("to", realStart.AddSeconds(RealSeconds).UtcTicks);
    var plan = new List<string>();
    await using (var r = await explain.ExecuteReaderAsync())
        while (await r.ReadAsync())
            plan.Add(r.GetString(0));

    await recorder.StopAsync(CancellationToken.None);

    static string Bytes(double b) => b >= 1e9 ? $"{b / 1e9:0.0} GB" : $"{b / 1e6:0.0} MB";
    var perPeerDay = perOutcome * Traffic.PerPeerPerSecond * 86_400;
    Console.WriteLine($"traffic: {peers} peers x {Traffic.PathsPerPeer} paths, {Traffic.PerPeerPerSecond} outcomes/s a peer = {rate:N0}/s, 1 % misses");
    Console.WriteLine($"burst:     {burst.Count:N0} outcomes ({BurstSeconds} s of traffic) posted in {postTime.TotalMilliseconds:0} ms, stored in {burstTime.TotalSeconds:0.00} s = {burst.Count / burstTime.TotalSeconds:N0}/s ({burst.Count / burstTime.TotalSeconds / rate:0.0}x real time)");
    Console.WriteLine($"sustained: {sustained:N0} outcomes/s for {SustainSeconds} s with generation in the loop ({sustained / rate:0.0}x the {rate:N0}/s needed)");
    Console.WriteLine($"real time: {real.Count:N0} outcomes over {wall.TotalSeconds:0.0} s at {rate:N0}/s");
    Console.WriteLine($"  this process (Post + recorder loop + Npgsql): {cpu.TotalMilliseconds:0} ms CPU = {100 * cpu / wall:0.00} % of one core (goal <= 5 %: {(100 * cpu / wall <= 5 ? "met" : "MISSED")}), {cpu.TotalMicroseconds / real.Count:0.00} us an outcome");
    Console.WriteLine($"  the same process posting nothing:               {100 * idle.Cpu / idle.Wall:0.00} % (PostgreSQL: {100 * idle.PgCpu / idle.Wall:0.00} %)");
    Console.WriteLine($"  PostgreSQL (all its processes):                 {pgCpu.TotalMilliseconds:0} ms CPU = {100 * pgCpu / wall:0.00} % of one core, {pgCpu.TotalMicroseconds / real.Count:0.00} us an outcome");
    Console.WriteLine($"  lag: pending at the end {pendingAtEnd:N0} (lag {lagAtEnd.TotalMilliseconds:0} ms), at most {maxPending:N0} pending / {maxLag.TotalMilliseconds:0} ms during the run; drained {drain.TotalMilliseconds:0} ms after the last post");
    Console.WriteLine($"disk: {rows:N0} rows, heap {Bytes(heap)} + indexes {Bytes(index)} = {Bytes(total)} (with FSM/VM); dictionaries {dictionaries / 1024.0:0} kB");
    Console.WriteLine($"  per outcome: {(double)heap / rows:0.0} B heap + {(double)index / rows:0.0} B index = {perOutcome:0.0} B");
    Console.WriteLine($"  a day of history: {Bytes(perPeerDay)} a peer; 10 peers {Bytes(perPeerDay * 10)}, 1,000 peers {Bytes(perPeerDay * 1000)} (x7 for the default retention: {Bytes(perPeerDay * 10 * 7)}, {Bytes(perPeerDay * 1000 * 7)})");
    Console.WriteLine($"read: one peer over {RealSeconds} s = {read} outcomes in {readTime.TotalMilliseconds:0.00} ms (ReadAsync, mean of {Reads}); " +
        $"over the hour before it (burst and sustained rows) {readHour:N0} outcomes in {readHourTime.TotalMilliseconds:0.0} ms");
    foreach (var line in plan)
        Console.WriteLine("  " + line);
}
finally
{
    await pg.DisposeAsync();
    Directory.Delete(dir, recursive: true);
}
