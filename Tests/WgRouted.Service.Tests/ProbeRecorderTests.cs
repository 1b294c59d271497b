using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using WgRouted.Engine;
using WgRouted.Engine.Policy;
using WgRouted.Service.Store;

namespace WgRouted.Service.Tests;

/// <summary>Each test in its own database of the shared cluster: retention drops whatever partitions are old.</summary>
[Trait("Category", "Integration")]
[Collection(PostgresCollection.Name)]
public sealed class ProbeRecorderTests(PostgresFixture pg) : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2031, 3, 4, 10, 0, 0, TimeSpan.Zero);
    private static readonly CandidatePath V4 = new(IPAddress.Parse("198.18.1.2"), Endpoint.Parse("198.18.3.2:51820"));
    private static readonly CandidatePath V4B = new(IPAddress.Parse("198.18.2.2"), Endpoint.Parse("198.18.3.2:51820"));
    private static readonly CandidatePath V6 = new(IPAddress.Parse("fd00:2::2"), Endpoint.Parse("[fd00:3::2]:51820"));
    private static readonly Endpoint NatV4 = Endpoint.Parse("203.0.113.7:40001");
    private static readonly Endpoint NatV6 = Endpoint.Parse("[2001:db8:ffff:1:2:3:4:5]:65535");

    private readonly string _database = "probes_" + Guid.NewGuid().ToString("N");
    private readonly string _spills = Directory.CreateTempSubdirectory("wgr-spill-").FullName;
    private string _connectionString = "";

    public async Task InitializeAsync()
    {
        await using var conn = new NpgsqlConnection(pg.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE {_database}", conn);
        await cmd.ExecuteNonQueryAsync();
        _connectionString = new NpgsqlConnectionStringBuilder(pg.ConnectionString) { Database = _database }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        await using (var conn = new NpgsqlConnection(pg.ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"DROP DATABASE {_database} WITH (FORCE)", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        Directory.Delete(_spills, recursive: true);
    }

    private static PeerKey NewPeer() => PeerKey.FromBytes(RandomNumberGenerator.GetBytes(32));

    private ProbeRecorder Recorder(TimeProvider? time = null, int retentionDays = 0, int maxPending = ProbeRecorder.DefaultMaxPending,
        Func<CancellationToken, Task<string>>? connect = null) =>
        new(connect ?? (_ => Task.FromResult(_connectionString)), _spills, retentionDays, time ?? TimeProvider.System,
            NullLogger<ProbeRecorder>.Instance, maxPending);

    private static ProbeOutcome Replied(PeerKey peer, CandidatePath path, ulong seq, DateTimeOffset at, double rtt = 12.5) =>
        new(peer, path, seq, at, rtt, NatV4, Endpoint.Parse("198.18.1.2:51821"));

    /// <summary>Posts, then stops: the last flush stores whatever is pending.</summary>
    private static async Task RecordAsync(ProbeRecorder recorder, List<ProbeOutcome> outcomes)
    {
        await recorder.StartAsync(CancellationToken.None);
        foreach (var o in outcomes)
            recorder.Post(o);
        await recorder.StopAsync(CancellationToken.None);
        Assert.Equal(0, recorder.Pending);
        Assert.Equal(outcomes.Count, recorder.Recorded);
    }

    private static DateTimeOffset Day(int year, int month, int day) => new(year, month, day, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Outcomes_round_trip_exactly_to_the_tick_and_the_bit()
    {
        var peer = NewPeer();
        var at = T0.AddTicks(1_234_567);
        List<ProbeOutcome> outcomes =
        [
            new(peer, V4, 0, at, 0.1 + 0.2, NatV4, Endpoint.Parse("198.18.1.2:51821")),
            new(peer, V6, 1, at.AddTicks(1), double.Epsilon, NatV6, Endpoint.Parse("[fd00:2::2]:51821")),
            new(peer, V4B, long.MaxValue, at.AddTicks(2), 1e-300, null, Endpoint.Parse("198.18.2.2:51821")),
            new(peer, V6, (ulong)long.MaxValue + 1, at.AddTicks(9_999_999), 123456.78901234567, NatV6, null),
            new(peer, V4, ulong.MaxValue, at.AddTicks(10_000_001), -0.0, null, null),
            new(peer, V4, 42, at.AddSeconds(3), double.MaxValue, NatV4, NatV4),
            new(peer, V6, 43, at.AddSeconds(4), 1.0 / 3, NatV6, NatV6),
            new(peer, V4B, 44, at.AddSeconds(5), null, null, null),
            new(peer, V6, 45, at.AddSeconds(6), null, NatV6, null),
            // Same instant, given in +02:00: read back in UTC.
            new(peer, V4, 46, at.AddSeconds(7).ToOffset(TimeSpan.FromHours(2)), 7.000000000000001, NatV4, null),
        ];
        var recorder = Recorder();
        await RecordAsync(recorder, outcomes);

        var read = await recorder.ReadAsync(peer, at, at.AddMinutes(1), CancellationToken.None);
        Assert.Equal(outcomes.Count, read.Count);
        for (var i = 0; i < outcomes.Count; i++)
        {
            Assert.Equal(outcomes[i], read[i]);
            Assert.Equal(outcomes[i].At.UtcTicks, read[i].At.UtcTicks);
            Assert.Equal(TimeSpan.Zero, read[i].At.Offset);
            Assert.Equal(outcomes[i].RttMs.HasValue, read[i].RttMs.HasValue);
            Assert.Equal(BitConverter.DoubleToInt64Bits(outcomes[i].RttMs ?? 0), BitConverter.DoubleToInt64Bits(read[i].RttMs ?? 0));
            Assert.Equal(outcomes[i].Sequence, read[i].Sequence);
        }
    }

    [Fact]
    public async Task A_peer_reads_back_only_its_own_outcomes_in_time_order_within_the_window()
    {
        var (peer, other) = (NewPeer(), NewPeer());
        var random = new Random(7);
        var outcomes = Enumerable.Range(0, 600).Select(i =>
        {
            var at = T0.AddTicks(random.NextInt64(TimeSpan.TicksPerMinute));
            var path = (i % 3) switch { 0 => V4, 1 => V4B, _ => V6 };
            return i % 10 == 0
                ? new ProbeOutcome(i % 2 == 0 ? peer : other, path, (ulong)i, at, null, null, null)
                : Replied(i % 2 == 0 ? peer : other, path, (ulong)i, at, random.NextDouble() * 100);
        }).ToList();
        var from = T0.AddSeconds(10);
        var to = T0.AddSeconds(50);
        outcomes.Add(Replied(peer, V4, 1000, from));
        outcomes.Add(Replied(peer, V6, 1001, to));
        outcomes.Add(Replied(peer, V4B, 1002, to.AddTicks(-1)));
        var recorder = Recorder();
        await recorder.StartAsync(CancellationToken.None);
        // Three flushes, each in shuffled order: the storage order is not the time order. Then the same At as
        // 1000 with a later sequence, stored before it: ties are ordered by sequence.
        var tie = Replied(peer, V4B, 1003, from);
        foreach (var third in outcomes.OrderBy(_ => random.Next()).Chunk(outcomes.Count / 3 + 1).Prepend([tie]))
        {
            var before = recorder.Recorded;
            foreach (var o in third)
                recorder.Post(o);
            await WaitUntil(() => recorder.Recorded == before + third.Length);
        }
        await recorder.StopAsync(CancellationToken.None);
        outcomes.Add(tie);

        var read = await recorder.ReadAsync(peer, from, to, CancellationToken.None);
        var expected = outcomes.Where(o => o.Peer == peer && o.At >= from && o.At < to).OrderBy(o => o.At).ThenBy(o => o.Sequence).ToList();
        Assert.Equal(expected, read);
        Assert.Equal([1000, 1003], read.Where(o => o.At == from).Select(o => o.Sequence));
        Assert.Contains(read, o => o.Sequence == 1002);
        Assert.DoesNotContain(read, o => o.Sequence == 1001);
        Assert.Empty(await recorder.ReadAsync(NewPeer(), from, to, CancellationToken.None));
    }

    [Fact]
    public async Task Day_partitions_are_made_ahead_and_outcomes_either_side_of_midnight_land_in_their_own()
    {
        var midnight = Day(2031, 3, 5);
        var time = new FakeTimeProvider(midnight.AddSeconds(-2));
        var recorder = Recorder(time);
        await recorder.StartAsync(CancellationToken.None);
        await WaitUntil(async () => (await PartitionsAsync()).SequenceEqual(["probe_outcomes_20310304", "probe_outcomes_20310305"]));

        var peer = NewPeer();
        recorder.Post(Replied(peer, V4, 1, midnight.AddTicks(-1)));
        recorder.Post(Replied(peer, V4, 2, midnight));
        time.Advance(TimeSpan.FromSeconds(1));
        await WaitUntil(() => recorder.Recorded == 2);
        Assert.Equal(
            [("wg_routed.probe_outcomes_20310304", midnight.UtcTicks - 1), ("wg_routed.probe_outcomes_20310305", midnight.UtcTicks)],
            await QueryAsync("SELECT tableoid::regclass::text, at_ticks FROM wg_routed.probe_outcomes ORDER BY at_ticks",
                r => (r.GetString(0), r.GetInt64(1))));

        time.Advance(TimeSpan.FromSeconds(2));
        await WaitUntil(async () => (await PartitionsAsync()).Contains("probe_outcomes_20310306"));
        await recorder.StopAsync(CancellationToken.None);
        Assert.Equal(["probe_outcomes_20310304", "probe_outcomes_20310305", "probe_outcomes_20310306"], await PartitionsAsync());
    }

    [Fact]
    public async Task Retention_drops_whole_day_partitions_past_the_window_and_keeps_every_row_of_the_rest()
    {
        var today = Day(2031, 6, 20);
        var peer = NewPeer();
        // Two outcomes a day from ten days ago to tomorrow, one just after midnight and one just before the next.
        var outcomes = Enumerable.Range(-10, 12).SelectMany(d => new[]
        {
            Replied(peer, V4, (ulong)(100 + 2 * d), today.AddDays(d)),
            Replied(peer, V6, (ulong)(101 + 2 * d), today.AddDays(d + 1).AddTicks(-1)),
        }).ToList();
        var time = new FakeTimeProvider(today.AddHours(12));
        var recorder = Recorder(time);
        await RecordAsync(recorder, outcomes);
        Assert.Equal(12, (await PartitionsAsync()).Count);

        var dropped = await recorder.ApplyRetentionAsync(7, today.AddHours(12), CancellationToken.None);

        // Kept: the day that straddles the cutoff (2031-06-13 12:00) and everything after it.
        Assert.Equal(["probe_outcomes_20310610", "probe_outcomes_20310611", "probe_outcomes_20310612"], dropped);
        Assert.Equal(Enumerable.Range(13, 9).Select(d => $"probe_outcomes_203106{d}"), await PartitionsAsync());
        var kept = outcomes.Where(o => o.At >= today.AddDays(-7)).ToList();
        Assert.Equal(kept, await recorder.ReadAsync(peer, today.AddDays(-30), today.AddDays(30), CancellationToken.None));
        Assert.Empty(await recorder.ApplyRetentionAsync(7, today.AddHours(12), CancellationToken.None));

        // The loop applies its own retention when it starts and as days pass.
        var daily = Recorder(time, retentionDays: 2);
        await daily.StartAsync(CancellationToken.None);
        await WaitUntil(async () => (await PartitionsAsync()).Count == 4);
        await daily.StopAsync(CancellationToken.None);
        Assert.Equal(Enumerable.Range(18, 4).Select(d => $"probe_outcomes_203106{d}"), await PartitionsAsync());
        Assert.Equal(outcomes.Where(o => o.At >= today.AddDays(-2)),
            await daily.ReadAsync(peer, today.AddDays(-30), today.AddDays(30), CancellationToken.None));
    }

    [Fact]
    public async Task An_unreachable_store_loses_nothing_spills_past_the_bound_and_stores_all_in_order_once_back()
    {
        var up = false;
        var wrong = $"Host=/nonexistent-{Guid.NewGuid():N};Username=postgres;Timeout=2";
        var recorder = Recorder(maxPending: 1000, connect: _ => Task.FromResult(Volatile.Read(ref up) ? _connectionString : wrong));
        var peer = NewPeer();
        var t0 = TimeProvider.System.GetUtcNow().AddMinutes(-10);
        var outcomes = Enumerable.Range(0, 5_500)
            .Select(i => Replied(peer, (i % 3) switch { 0 => V4, 1 => V4B, _ => V6 }, (ulong)i, t0.AddMilliseconds(i), i * 0.01))
            .ToList();
        await recorder.StartAsync(CancellationToken.None);

        foreach (var o in outcomes.Take(2_500))
            recorder.Post(o);
        await WaitUntil(() => recorder.Spilled == 2_500);
        foreach (var o in outcomes.Skip(2_500).Take(2_500))
            recorder.Post(o);
        await WaitUntil(() => recorder.Spilled == 5_000);
        foreach (var o in outcomes.Skip(5_000))
            recorder.Post(o);
        await Task.Delay(1500); // a flush or two that fail, under the bound: held in memory
        // A file per failed flush past the bound, each of at least maxPending: two, or more when a flush ran between
        // two posts of a batch (a loaded machine).
        Assert.InRange(Directory.GetFiles(_spills, "probe-spill-*.bin").Length, 2, 5);
        Assert.Equal(5_000, recorder.Spilled);
        Assert.Equal(5_500, recorder.Pending);
        Assert.Equal(0, recorder.Recorded);
        Assert.True(recorder.Lag >= TimeSpan.FromMinutes(10), recorder.Lag.ToString());

        Volatile.Write(ref up, true);
        await WaitUntil(() => recorder.Recorded == 5_500);
        await recorder.StopAsync(CancellationToken.None);
        Assert.Equal(0, recorder.Pending);
        Assert.Equal(TimeSpan.Zero, recorder.Lag);
        Assert.Empty(Directory.GetFiles(_spills));
        Assert.Equal(outcomes, await recorder.ReadAsync(peer, t0, t0.AddHours(1), CancellationToken.None));
        // Stored in the order they came: the spill files in turn, then what was held in memory.
        Assert.Equal(outcomes.Select(o => (long)o.Sequence),
            await QueryAsync("SELECT sequence FROM wg_routed.probe_outcomes ORDER BY ctid", r => r.GetInt64(0)));
    }

    [Fact]
    public async Task Outcomes_pending_at_a_stop_during_an_outage_are_stored_by_the_next_run()
    {
        var wrong = $"Host=/nonexistent-{Guid.NewGuid():N};Username=postgres;Timeout=2";
        var peer = NewPeer();
        var outcomes = Enumerable.Range(0, 300).Select(i => Replied(peer, V6, (ulong)i, T0.AddSeconds(i))).ToList();
        var down = Recorder(connect: _ => Task.FromResult(wrong));
        await down.StartAsync(CancellationToken.None);
        outcomes.ForEach(down.Post);
        await down.StopAsync(CancellationToken.None);
        Assert.Equal(0, down.Recorded);
        Assert.Equal(300, down.Spilled);
        Assert.Single(Directory.GetFiles(_spills, "probe-spill-*.bin"));

        var next = Recorder();
        await next.StartAsync(CancellationToken.None);
        await WaitUntil(() => next.Recorded == 300);
        await next.StopAsync(CancellationToken.None);
        Assert.Empty(Directory.GetFiles(_spills));
        Assert.Equal(outcomes, await next.ReadAsync(peer, T0, T0.AddHours(1), CancellationToken.None));
    }

    [Fact]
    public async Task A_store_that_never_comes_up_holds_outcomes_until_the_stop_then_spills_them()
    {
        var never = new TaskCompletionSource<string>();
        var peer = NewPeer();
        var recorder = Recorder(maxPending: 100, connect: _ => never.Task);
        await recorder.StartAsync(CancellationToken.None);
        for (var i = 0; i < 250; i++)
            recorder.Post(Replied(peer, V4, (ulong)i, T0.AddSeconds(i)));
        await WaitUntil(() => recorder.Spilled == 250);
        for (var i = 250; i < 260; i++)
            recorder.Post(Replied(peer, V4, (ulong)i, T0.AddSeconds(i)));
        await recorder.StopAsync(CancellationToken.None);
        Assert.Equal(260, recorder.Spilled);

        var next = Recorder();
        await next.StartAsync(CancellationToken.None);
        await WaitUntil(() => next.Recorded == 260);
        await next.StopAsync(CancellationToken.None);
        Assert.Equal(0, next.Pending);
        Assert.Equal(Enumerable.Range(0, 260).Select(i => (ulong)i),
            (await next.ReadAsync(peer, T0, T0.AddHours(1), CancellationToken.None)).Select(o => o.Sequence));
    }

    [Fact]
    public async Task A_damaged_spill_file_is_set_aside_and_recording_goes_on()
    {
        // A whole header that promises 5 rows, and nothing after it.
        await File.WriteAllBytesAsync(Path.Combine(_spills, "probe-spill-00000000.bin"), [.. "WGRPROB1"u8, 5, 0, 0, 0, .. new byte[8]]);
        await File.WriteAllBytesAsync(Path.Combine(_spills, "probe-spill-00000001.bin"), "not a spill file at all"u8.ToArray());
        var peer = NewPeer();
        var recorder = Recorder();
        await RecordAsync(recorder, [Replied(peer, V4, 1, T0)]);
        Assert.Equal(0, recorder.Pending);
        Assert.Equal(["probe-spill-00000000.bin.rejected", "probe-spill-00000001.bin.rejected"],
            Directory.GetFiles(_spills).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Single(await recorder.ReadAsync(peer, T0, T0.AddSeconds(1), CancellationToken.None));
    }

    [Fact]
    public async Task Posts_from_many_threads_are_all_recorded_exactly_once()
    {
        const int Threads = 8;
        const int PerThread = 5_000;
        var peer = NewPeer();
        var recorder = Recorder();
        await recorder.StartAsync(CancellationToken.None);
        using var start = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < PerThread; i++)
            {
                var seq = (ulong)(t * PerThread + i);
                recorder.Post(Replied(peer, (t % 3) switch { 0 => V4, 1 => V4B, _ => V6 }, seq, T0.AddTicks((long)seq * 1000), t + i / 1000.0));
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        await WaitUntil(() => recorder.Recorded == Threads * PerThread);
        await recorder.StopAsync(CancellationToken.None);

        Assert.Equal(0, recorder.Pending);
        var read = await recorder.ReadAsync(peer, T0, T0.AddHours(1), CancellationToken.None);
        Assert.Equal(Enumerable.Range(0, Threads * PerThread).Select(i => (ulong)i), read.Select(o => o.Sequence));
    }

    [Fact]
    public async Task Recorders_and_the_event_store_creating_the_schema_at_once_all_succeed()
    {
        var peers = Enumerable.Range(0, 4).Select(_ => NewPeer()).ToList();
        var recorders = peers.Select(_ => Recorder()).ToList();
        using var go = new ManualResetEventSlim();
        var work = recorders.Select((r, i) => Task.Run(async () =>
        {
            go.Wait();
            await RecordAsync(r, [Replied(peers[i], V4, (ulong)i, T0)]);
        })).Append(Task.Run(async () =>
        {
            go.Wait();
            await using var store = await EventStore.OpenAsync(_connectionString, new EndpointPolicy(PolicyOptions.Default), CancellationToken.None);
        })).ToList();
        go.Set();
        await Task.WhenAll(work);
        for (var i = 0; i < peers.Count; i++)
            Assert.Single(await recorders[i].ReadAsync(peers[i], T0, T0.AddSeconds(1), CancellationToken.None));
    }

    private async Task<List<string>> PartitionsAsync() =>
        await QueryAsync("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid " +
            "WHERE i.inhparent = to_regclass('wg_routed.probe_outcomes') ORDER BY 1", r => r.GetString(0));

    private async Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> row)
    {
        await using var conn = new NpgsqlConnection(_connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var result = new List<T>();
        while (await reader.ReadAsync())
            result.Add(row(reader));
        return result;
    }

    private static Task WaitUntil(Func<bool> condition) => WaitUntil(() => Task.FromResult(condition()));

    private static async Task WaitUntil(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("condition not met in 30 s");
            await Task.Delay(50);
        }
    }
}
