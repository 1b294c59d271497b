using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;
using WgRouted.Service.Configuration;
using WgRouted.Service.Daemon;
using WgRouted.Service.Store;
using WgRouted.Tests.Shared;

namespace WgRouted.Service.Tests;

[Trait("Category", "Integration")]
[Collection(PostgresCollection.Name)]
public sealed class EventStoreTests(PostgresFixture pg)
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);
    private static readonly CandidatePath A = new(IPAddress.Parse("198.18.1.2"), Endpoint.Parse("198.18.3.2:51820"));
    private static readonly CandidatePath B = new(IPAddress.Parse("198.18.2.2"), Endpoint.Parse("198.18.3.2:51820"));
    private static readonly CandidatePath V6 = new(IPAddress.Parse("fd00:2::2"), Endpoint.Parse("[fd00:3::2]:51820"));
    private readonly EndpointPolicy _policy = new(PolicyOptions.Default);

    private static PeerKey NewPeer() => PeerKey.FromBytes(RandomNumberGenerator.GetBytes(32));

    /// <summary>A failover from A to B and back, as the loop would produce it: inputs and emitted events.</summary>
    private List<PeerEvent> Failover(PeerKey peer, out PeerState live)
    {
        var table = new PeerTable(_policy);
        var stored = new List<PeerEvent>();
        var emitted = new List<PeerEvent>();
        var at = T0;
        ulong seq = 0;
        // The loop's order: the peer's due deadlines, the input, what it leads to.
        void Feed(PeerEvent e)
        {
            emitted.Clear();
            table.Turn(e, emitted);
            stored.AddRange(emitted.Where(EventTypes.IsStored));
        }
        Endpoint? Sees() => table.Find(peer)?.Active is { } a ? new Endpoint(a.Src, 51820) : null;
        Feed(new PeerConfigured(peer, T0, "wg0", ["198.18.3.2:51820", "[fd00:3::2]:51820"], 51821, "interface wg0 type tunnel"));
        Feed(new CandidatesResolved(peer, T0, [new ResolvedEndpoint(0, A.Dst), new ResolvedEndpoint(1, V6.Dst)],
            [new Source(A.Src, "upa"), new Source(B.Src, "upb"), new Source(V6.Src, "upb")]));
        Feed(new PreferredSourceChanged(peer, T0, A.Dst.Address, A.Src));
        for (var i = 1; i <= 80; i++)
        {
            at = T0.AddMilliseconds(250 * i);
            var aDown = i is >= 20 and < 50;
            Feed(aDown ? new ProbeMissed(peer, at, A, ++seq) : new ProbeReplied(peer, at, A, ++seq, 10, new Endpoint(A.Src, 51820), Sees()));
            Feed(new ProbeReplied(peer, at.AddTicks(1), B, ++seq, 30, new Endpoint(B.Src, 51820), Sees()));
            if (i % 4 == 0)
                Feed(new ProbeReplied(peer, at.AddTicks(2), V6, ++seq, 25, null, Sees()));
        }
        Feed(new HandshakeObserved(peer, T0.AddSeconds(21), T0.AddSeconds(20)));
        Feed(new ReceiveStalled(peer, T0.AddSeconds(21).AddTicks(1), 148));
        Feed(new EndpointObserved(peer, T0.AddSeconds(21).AddTicks(2), Endpoint.Parse("[fd00:3::2]:51820")));
        Feed(new EndpointSwitched(peer, T0.AddSeconds(21).AddTicks(3), A));
        Feed(new SwitchNotApplied(peer, T0.AddSeconds(21).AddTicks(4), A, "RTNETLINK answers: No route to host"));
        Feed(new PathLinkDown(peer, T0.AddSeconds(22), B, "upb"));
        Feed(new MoveRequested(peer, T0.AddSeconds(23), Endpoint.Parse("198.18.1.2:51820"), Endpoint.Parse("198.18.2.2:51820"), 42));
        Feed(new MoveNotApplied(peer, T0.AddSeconds(23).AddTicks(1), Endpoint.Parse("198.18.1.2:51820"), "no such device"));
        Feed(new PeerAdded(peer, T0.AddSeconds(24), "wg0"));
        Feed(new PeerRemoved(peer, T0.AddSeconds(25), "wg0"));
        // babeld's side, as the bridge and the tunnel links report it and the engine decides.
        var babelAt = T0.AddSeconds(26);
        Feed(new BabelInterfaceObserved(peer, babelAt, "wg0", Present: false));
        Feed(new BabelCommandRefused(peer, babelAt.AddTicks(1), "interface wg0 type tunnel", "bad"));
        Feed(new BabelNeighbourObserved(peer, babelAt.AddTicks(2), "wg0", "fe80::2", true, 0xffff, 96, 1.5, 0));
        Feed(new BabelRouteObserved(peer, babelAt.AddTicks(3), "198.19.100.1/32", true, true, 96, "fe80::2"));
        Feed(new TunnelLinkSet(peer, babelAt.AddTicks(4), "wg0", false, null));
        // Outputs a longer history would bring (no path at all; babeld disagreeing for its whole convergence time).
        foreach (var output in new PeerEvent[]
        {
            new TunnelWithdrawn(peer, babelAt.AddTicks(5), "wg0"),
            new TunnelRestored(peer, babelAt.AddTicks(6), "wg0"),
            new PathMismatch(peer, babelAt.AddTicks(7), A, 45, 20, babelAt),
        })
        {
            _policy.Evolve(table.Find(peer), output);
            stored.Add(output);
        }
        live = table.Find(peer)!;
        return stored;
    }

    private async Task<EventStore> OpenAsync() => await EventStore.OpenAsync(pg.ConnectionString, _policy, CancellationToken.None);

    [Fact]
    public void Events_and_the_peer_state_are_written_as_reflection_wrote_them()
    {
        var reflection = EventJson.Create();
        reflection.TypeInfoResolverChain.Clear();
        reflection.TypeInfoResolverChain.Add(new DefaultJsonTypeInfoResolver());
        reflection.Converters.Add(new JsonStringEnumConverter());
        var generated = EventJson.Create();
        var peer = NewPeer();
        var values = new List<object>(Failover(peer, out var live)) { live };
        values.Add(new LinkChanged(T0, 3, "upa", true, false, "DOWN"));
        values.Add(new AddressAdded(T0, 3, A.Src, 24));
        values.Add(new AddressRemoved(T0, 3, V6.Src, 64));
        values.Add(new RouteAdded(T0, 254, "default", A.Dst.Address, 3, A.Src, 100, true));
        values.Add(new RouteRemoved(T0, 254, "198.18.3.0/24", null, null, null, 0, false));
        values.Add(new ResponderListenerRestarted(T0, V6.Src, "address not available"));
        values.Add(new ServiceRestarted(T0, "prober", "boom", 2));
        values.Add(new PathMeasured(peer, T0, A, new PathQuality { SrttMs = double.NaN, LastSuccessAt = T0 }) { TraceId = "4bf92f3577b34da6a3ce929d0e0e4736" });
        foreach (var value in values)
            Assert.Equal(JsonSerializer.Serialize(value, value.GetType(), reflection), JsonSerializer.Serialize(value, generated.GetTypeInfo(value.GetType())));
        Assert.Empty(EventTypes.Peer.Concat(EventTypes.Host).Except(values.Select(v => v.GetType())));
    }

    [Fact]
    public async Task Every_event_type_round_trips_through_the_store()
    {
        await using var store = await OpenAsync();
        var peer = NewPeer();
        var events = Failover(peer, out _);
        await store.AppendAsync(events.Select(e => (peer.Base64, (object)e)).ToList(), CancellationToken.None);
        var read = await store.ReadAsync(peer.Base64, null, 10000, CancellationToken.None);
        Assert.Equal(events.Count, read.Count);
        var json = EventJson.Create();
        for (var i = 0; i < events.Count; i++)
            Assert.Equal(System.Text.Json.JsonSerializer.Serialize(events[i], events[i].GetType(), json),
                System.Text.Json.JsonSerializer.Serialize(read[i].Data, read[i].Data.GetType(), json));
        Assert.Contains(read, e => e.Data is EndpointSwitchDecided { Reason: SwitchReason.ActiveDown });
        Assert.Contains(read, e => e.Data is EndpointSwitchDecided { Reason: SwitchReason.Preferred });
        // Every type Marten holds for a peer went through, not only those a failover produces.
        Assert.Empty(EventTypes.Peer.Except(read.Select(e => e.Data.GetType())));
    }

    [Fact]
    public async Task The_inline_projection_equals_the_in_memory_fold_across_appends()
    {
        await using var store = await OpenAsync();
        var peer = NewPeer();
        var events = Failover(peer, out var live);
        var half = events.Count / 2;
        await store.AppendAsync(events.Take(half).Select(e => (peer.Base64, (object)e)).ToList(), CancellationToken.None);
        await store.AppendAsync(events.Skip(half).Select(e => (peer.Base64, (object)e)).ToList(), CancellationToken.None);
        var projected = await store.LoadPeerAsync(peer.Base64, CancellationToken.None);
        Assert.NotNull(projected);
        Assert.Equal(live.Active, projected.Active);
        Assert.Equal(live.LastSwitchAt, projected.LastSwitchAt);
        Assert.Equal(live.LatestHandshake, projected.LatestHandshake);
        Assert.Equal(live.ObservedEndpoint, projected.ObservedEndpoint);
        Assert.Equal(live.Paths.Select(p => (p.Path, p.Down)), projected.Paths.Select(p => (p.Path, p.Down)));
        Assert.Equal(events.Count, projected.EventCount);
    }

    [Fact]
    public async Task Time_travel_gives_the_state_at_an_engine_time()
    {
        await using var store = await OpenAsync();
        var peer = NewPeer();
        var events = Failover(peer, out _);
        await store.AppendAsync(events.Select(e => (peer.Base64, (object)e)).ToList(), CancellationToken.None);
        var switches = events.OfType<EndpointSwitchDecided>().ToList();
        Assert.True(switches.Count >= 3);
        foreach (var s in switches)
        {
            var before = await store.PeerStateAtAsync(peer.Base64, s.At.AddTicks(-1), CancellationToken.None);
            var after = await store.PeerStateAtAsync(peer.Base64, s.At, CancellationToken.None);
            Assert.True(s.From == before?.Active, $"{s.At:HH:mm:ss.fff} {s.Reason} {s.From} => {s.To}; before: {before?.Active} ({string.Join(", ", switches.Select(x => $"{x.At:ss.fff} {x.Reason} {x.To}"))})");
            Assert.True(s.To == after!.Active, $"{s.At:ss.fff} {s.Reason} to {s.To}; after: {after.Active}; " + string.Join(" | ", events.Where(e => Math.Abs((e.At - s.At).TotalMilliseconds) < 300).Select(e => $"{e.At:ss.fff} {e.GetType().Name}")));
        }
        Assert.Null(await store.PeerStateAtAsync(peer.Base64, T0.AddTicks(-1), CancellationToken.None));
    }

    [Fact]
    public async Task Host_events_go_to_the_host_stream()
    {
        await using var store = await OpenAsync();
        var stream = EventStore.HostStream("test-" + Guid.NewGuid().ToString("N"));
        object[] facts =
        [
            new LinkChanged(T0, 3, "wgrA", Up: true, Carrier: false, "LOWERLAYERDOWN"),
            new AddressAdded(T0, 3, IPAddress.Parse("198.18.1.2"), 24),
            new RouteAdded(T0, 254, "0.0.0.0/0", IPAddress.Parse("198.18.1.1"), 3, null, 100, LinkDown: true),
            new RouteRemoved(T0, 254, "0.0.0.0/0", IPAddress.Parse("198.18.1.1"), 3, null, 100, LinkDown: true),
            new AddressRemoved(T0, 3, IPAddress.Parse("198.18.1.2"), 24),
            new ResponderListenerRestarted(T0, IPAddress.Parse("198.18.1.2"), "SocketException: Network is down"),
        ];
        await store.AppendAsync(facts.Select(f => (stream, f)).ToList(), CancellationToken.None);
        var read = await store.ReadAsync(stream, null, 100, CancellationToken.None);
        Assert.Equal(facts.Select(f => f.GetType()), read.Select(e => e.Data.GetType()));
        Assert.Equal(facts[2], read[2].Data);
        Assert.Null(await store.LoadPeerAsync(stream, CancellationToken.None));
    }

    [Fact]
    public async Task A_store_outage_loses_nothing_the_log_stores_it_in_order_and_once()
    {
        var peer = NewPeer();
        var events = Failover(peer, out _);
        var log = new EventLog(Path.Combine(pg.DataDirectory, $"events-{Guid.NewGuid():N}.log"));

        var down = ConfigFor($"Host=/nonexistent-{Guid.NewGuid():N};Username=postgres;Timeout=2");
        await using (var deadConnector = new StoreConnector(down, _policy, NullLogger<StoreConnector>.Instance))
        {
            var appender = new Appender(deadConnector, log, TimeProvider.System, NullLogger<Appender>.Instance);
            await appender.StartAsync(CancellationToken.None);
            foreach (var e in events.Take(10))
                appender.Post(peer.Base64, e);
            await WaitUntil(() => log.ReadUnstored((_, _) => { }).Count == 10);
            foreach (var e in events.Skip(10))
                appender.Post(peer.Base64, e);
            await appender.StopAsync(CancellationToken.None);
            Assert.Equal(0, appender.Appended);
        }
        var logged = log.ReadUnstored((_, _) => { });
        Assert.Equal(events.Count, logged.Count);
        Assert.Equal(events.Count, logged.Select(r => r.Event.Id).Distinct().Count());

        await using (var connector = new StoreConnector(ConfigFor(pg.ConnectionString), _policy, NullLogger<StoreConnector>.Instance))
        {
            var store = await connector.GetAsync(CancellationToken.None);
            // A crash after the store took the first half but before the log knew: stored again, kept once.
            Assert.Equal(5, await store.AppendAsync(logged.Take(5).Select(r => r.Event).ToList(), CancellationToken.None));
            var appender = new Appender(connector, log, TimeProvider.System, NullLogger<Appender>.Instance);
            await appender.StartAsync(CancellationToken.None);
            await WaitUntil(() => !log.HasUnstored);
            await appender.StopAsync(CancellationToken.None);
            var read = await store.ReadAsync(peer.Base64, null, 10000, CancellationToken.None);
            Assert.Equal(events.Select(e => e.GetType()), read.Select(e => e.Data.GetType()));
            Assert.Equal(events.Select(e => e.At), read.Select(e => ((PeerEvent)e.Data).At));
            Assert.Equal(logged.Select(r => r.Event.Id), read.Select(e => e.Id));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_stop_with_a_store_that_hangs_logs_every_queued_event_and_leaves_within_its_budget(bool running)
    {
        var peer = NewPeer();
        var log = new EventLog(Path.Combine(pg.DataDirectory, $"events-{Guid.NewGuid():N}.log"));
        // A "PostgreSQL" that takes the connection and never answers: every store attempt waits on it.
        var socketDir = Directory.CreateTempSubdirectory("wgr-hung-store-");
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(Path.Combine(socketDir.FullName, ".s.PGSQL.5432")));
        listener.Listen(16);
        var hung = ConfigFor($"Host={socketDir.FullName};Username=postgres;Timeout=60;Command Timeout=60");
        var events = Enumerable.Range(0, 3).SelectMany(i => Failover(peer, out var _)).ToList();
        while (events.Count < 1200)
            events.AddRange(events.Take(1200 - events.Count).ToList());
        try
        {
            await using var connector = new StoreConnector(hung, _policy, NullLogger<StoreConnector>.Instance);
            var appender = new Appender(connector, log, TimeProvider.System, NullLogger<Appender>.Instance);
            await appender.StartAsync(CancellationToken.None);
            foreach (var e in events)
                appender.Post(peer.Base64, e);
            // Stopped at once, the service's loop never ran (the host's Task.Run sees the stop first); or stopped once
            // its loop is running and its store attempt hangs.
            if (running)
                await WaitUntil(() => log.Length > 0);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await appender.StopAsync(CancellationToken.None);
            Assert.InRange(clock.Elapsed, TimeSpan.Zero, Appender.StopStoreBudget + TimeSpan.FromSeconds(5));
            Assert.Equal(0, appender.Appended);
        }
        finally
        {
            socketDir.Delete(recursive: true);
        }
        // More than one batch was queued at the stop: every one is in the log, for the next start.
        var logged = log.ReadUnstored((_, _) => { });
        Assert.Equal(events.Count, logged.Count);
        Assert.Equal(events.Select(e => e.GetType()), logged.Select(r => r.Event.Event.GetType()));
    }

    [Fact]
    public void A_log_whose_directory_is_not_there_yet_is_empty()
    {
        var log = new EventLog(Path.Combine(pg.DataDirectory, $"not-yet-{Guid.NewGuid():N}", "events.log"));
        Assert.Equal(0, log.Stored);
        Assert.False(log.HasUnstored);
        Assert.Empty(log.ReadUnstored((_, why) => Assert.Fail(why)));
        Assert.Equal((0, 0), log.Trim((_, why) => Assert.Fail(why)));
    }

    [Fact]
    public void A_torn_or_damaged_log_tail_is_cut_off_and_what_came_before_is_kept()
    {
        var path = Path.Combine(pg.DataDirectory, $"events-{Guid.NewGuid():N}.log");
        var log = new EventLog(path);
        var peer = NewPeer();
        log.Append([new LoggedEvent(Guid.CreateVersion7(), peer.Base64, new HandshakeObserved(peer, T0, T0))]);
        log.Append([new LoggedEvent(Guid.CreateVersion7(), peer.Base64, new HandshakeObserved(peer, T0.AddSeconds(1), T0))]);
        var whole = File.ReadAllBytes(path);
        // A crash mid-write: half of a third record.
        log.Append([new LoggedEvent(Guid.CreateVersion7(), peer.Base64, new HandshakeObserved(peer, T0.AddSeconds(2), T0))]);
        var three = File.ReadAllBytes(path);
        File.WriteAllBytes(path, three[..(whole.Length + (three.Length - whole.Length) / 2)]);
        var damage = new List<string>();
        var read = log.ReadUnstored((_, why) => damage.Add(why));
        Assert.Equal(2, read.Count);
        Assert.Contains("torn write", damage.Single(), StringComparison.Ordinal);
        Assert.Equal(whole.Length, new FileInfo(path).Length);
        // A flipped bit in the last record: checksum.
        var flipped = File.ReadAllBytes(path);
        flipped[^3] ^= 0x20;
        File.WriteAllBytes(path, flipped);
        damage.Clear();
        Assert.Single(log.ReadUnstored((_, why) => damage.Add(why)));
        Assert.Contains("checksum mismatch", damage.Single(), StringComparison.Ordinal);
        // Appending after the cut goes on from there.
        log.Append([new LoggedEvent(Guid.CreateVersion7(), peer.Base64, new HandshakeObserved(peer, T0.AddSeconds(3), T0))]);
        Assert.Equal(2, log.ReadUnstored((_, _) => { }).Count);
    }

    [Fact]
    public void A_backlog_is_read_a_window_at_a_time_every_record_once_and_in_order()
    {
        // About 2.5 MB: more than two windows (a window is at least one largest record, 1 MB).
        var log = new EventLog(Path.Combine(pg.DataDirectory, $"events-{Guid.NewGuid():N}.log"));
        var peer = NewPeer();
        var written = new List<Guid>();
        for (var b = 0; b < 20; b++)
        {
            var batch = Enumerable.Range(0, 500)
                .Select(i => new LoggedEvent(Guid.CreateVersion7(), peer.Base64, new HandshakeObserved(peer, T0.AddSeconds(b * 500 + i), T0)))
                .ToList();
            written.AddRange(batch.Select(e => e.Id));
            log.Append(batch);
        }
        var read = new List<Guid>();
        var damage = new List<string>();
        var windows = 0;
        while (log.HasUnstored)
        {
            var records = log.ReadUnstored((_, why) => damage.Add(why), maxBytes: 1);
            Assert.NotEmpty(records);
            Assert.True(records.Count < written.Count);
            read.AddRange(records.Select(r => r.Event.Id));
            log.MarkStored(records[^1].End);
            windows++;
        }
        Assert.Empty(damage);
        Assert.InRange(windows, 3, 10);
        Assert.Equal(written, read);
    }

    [Fact]
    public void A_full_log_drops_the_oldest_measurements_before_facts_and_decisions()
    {
        var peer = NewPeer();
        var path = Path.Combine(pg.DataDirectory, $"events-{Guid.NewGuid():N}.log");
        var log = new EventLog(path, maxBytes: 40_000);
        var path1 = new CandidatePath(IPAddress.Parse("198.18.1.2"), Endpoint.Parse("198.18.3.2:51820"));
        for (var i = 0; i < 200; i++)
            log.Append([new LoggedEvent(Guid.CreateVersion7(), peer.Base64, new PathMeasured(peer, T0.AddSeconds(i), path1, new PathQuality().WithReply(T0.AddSeconds(i), 3.5)))]);
        log.Append([new LoggedEvent(Guid.CreateVersion7(), peer.Base64, new HandshakeObserved(peer, T0.AddSeconds(300), T0))]);
        Assert.True(log.Length > log.MaxBytes);
        var (measurements, others) = log.Trim((_, _) => { });
        Assert.True(measurements > 0);
        Assert.Equal(0, others);
        Assert.True(log.Length <= log.MaxBytes * 8 / 10);
        var kept = log.ReadUnstored((_, _) => { }).Select(r => r.Event.Event).ToList();
        Assert.IsType<HandshakeObserved>(kept[^1]);
        // The newest measurements are the ones kept.
        Assert.Equal(T0.AddSeconds(199), kept.OfType<PathMeasured>().Last().At);
    }

    [Fact]
    public void A_full_log_drops_its_oldest_measurements_and_keeps_every_fact_and_decision_byte_for_byte()
    {
        var path = Path.Combine(pg.DataDirectory, $"events-{Guid.NewGuid():N}.log");
        var log = new EventLog(path, maxBytes: 200_000);
        // 3,000 records, every tenth a fact; the first 100 are stored already and not rewritten.
        var measurement = Enumerable.Range(0, 3_000).Select(i => i % 10 != 0).ToList();
        Fill(log, NewPeer(), measurement);
        var records = RecordsOf(path);
        log.MarkStored(records.Take(100).Sum(r => (long)r.Length));
        records = records[100..];
        measurement = measurement[100..];
        Assert.True(records.Sum(r => r.Length) > 4 * log.MaxBytes);

        var damage = new List<string>();
        var (measurements, others) = log.Trim((_, why) => damage.Add(why));

        Assert.Empty(damage);
        Assert.Equal(0, others);
        var kept = RecordsOf(path);
        Assert.Equal(Kept(records, measurement, measurements, others), kept.Select(Convert.ToHexString));
        var target = log.MaxBytes * 8 / 10;
        Assert.InRange(kept.Sum(r => (long)r.Length), 0, target);
        // No more than needed: the newest measurement dropped would not have fitted.
        var lastDropped = records.Where((_, i) => measurement[i]).ElementAt(measurements - 1);
        Assert.True(kept.Sum(r => (long)r.Length) + lastDropped.Length > target);
        Assert.Equal(0, log.Stored);
        Assert.Equal(kept.Count, log.ReadUnstored((_, _) => { }).Count);
    }

    [Fact]
    public void A_full_log_of_facts_and_decisions_drops_the_oldest_of_them_once_no_measurement_is_left()
    {
        var path = Path.Combine(pg.DataDirectory, $"events-{Guid.NewGuid():N}.log");
        var log = new EventLog(path, maxBytes: 200_000);
        var measurement = Enumerable.Range(0, 2_000).Select(i => i % 4 == 3).ToList();
        Fill(log, NewPeer(), measurement);
        var records = RecordsOf(path);
        Assert.True(records.Where((_, i) => !measurement[i]).Sum(r => r.Length) > log.MaxBytes);

        var (measurements, others) = log.Trim((_, _) => { });

        Assert.Equal(measurement.Count(m => m), measurements);
        Assert.True(others > 0);
        var kept = RecordsOf(path);
        Assert.Equal(Kept(records, measurement, measurements, others), kept.Select(Convert.ToHexString));
        var target = log.MaxBytes * 8 / 10;
        Assert.InRange(kept.Sum(r => (long)r.Length), 0, target);
        var lastDropped = records.Where((_, i) => !measurement[i]).ElementAt(others - 1);
        Assert.True(kept.Sum(r => (long)r.Length) + lastDropped.Length > target);
    }

    [Fact]
    public void A_torn_tail_met_while_trimming_is_cut_off_and_reported_and_the_rest_trimmed()
    {
        var path = Path.Combine(pg.DataDirectory, $"events-{Guid.NewGuid():N}.log");
        var log = new EventLog(path, maxBytes: 200_000);
        var measurement = Enumerable.Range(0, 3_000).Select(i => i % 10 != 0).ToList();
        measurement[^1] = false;
        Fill(log, NewPeer(), measurement);
        var records = RecordsOf(path);
        var whole = records[..^1].Sum(r => (long)r.Length);
        // A crash mid-write: half of the last record, a fact.
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
            file.SetLength(whole + records[^1].Length / 2);

        var damage = new List<(long Offset, string Why)>();
        var (measurements, others) = log.Trim((offset, why) => damage.Add((offset, why)));

        var (offset, why) = Assert.Single(damage);
        Assert.Equal(whole, offset);
        Assert.Contains("torn write", why, StringComparison.Ordinal);
        Assert.Equal(0, others);
        Assert.Equal(Kept(records[..^1], measurement[..^1], measurements, others), RecordsOf(path).Select(Convert.ToHexString));
        Assert.InRange(new FileInfo(path).Length, 0, log.MaxBytes * 8 / 10);
    }

    [Fact]
    public void A_log_many_windows_long_is_trimmed_a_window_at_a_time()
    {
        var path = Path.Combine(pg.DataDirectory, $"events-{Guid.NewGuid():N}.log");
        var log = new EventLog(path, maxBytes: 1 << 20);
        var measurement = Enumerable.Range(0, 32_000).Select(i => i % 20 != 0).ToList();
        Fill(log, NewPeer(), measurement);
        var records = RecordsOf(path);
        var unstored = records.Sum(r => (long)r.Length);
        // Eight windows or more (a window is one largest record, 1 MB), records running across their edges.
        Assert.True(unstored > 8L << 20);

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var (measurements, others) = log.Trim((_, _) => { });
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        Assert.Equal(0, others);
        Assert.Equal(Kept(records, measurement, measurements, others), RecordsOf(path).Select(Convert.ToHexString));
        Assert.InRange(new FileInfo(path).Length, 0, log.MaxBytes * 8 / 10);
        // Read twice a window at a time, with a few bytes a record: far less than the log (reading it whole took more).
        Assert.True(allocated < unstored / 3, $"{allocated} bytes allocated trimming {unstored}");
    }

    [Theory]
    // A fact (F) among 20 measurements (M), ten times: the 130 oldest measurements go, down to 80.
    [InlineData("FMMMMMMMMMMMMMMMMMMMM", 10, 130, 0)]
    // Three facts and a measurement, 30 times: all 30 measurements go, then the 10 oldest facts.
    [InlineData("FFFM", 30, 30, 10)]
    public async Task Events_neither_the_disk_nor_the_store_takes_are_bounded_in_memory_measurements_first(
        string cycle, int cycles, int measurementsDropped, int othersDropped)
    {
        var peer = NewPeer();
        var events = Enumerable.Range(0, cycle.Length * cycles)
            .Select(i => cycle[i % cycle.Length] == 'F'
                ? (PeerEvent)new HandshakeObserved(peer, T0.AddSeconds(i), T0)
                : new PathMeasured(peer, T0.AddSeconds(i), A, new PathQuality().WithReply(T0.AddSeconds(i), 3.5)))
            .ToList();
        var expected = events.Except(events.OfType<PathMeasured>().Take(measurementsDropped)).Skip(othersDropped).ToList();
        Assert.Equal(80, expected.Count);
        // sysfs takes no new file, even from root; the store's socket directory appears only once linked.
        var log = new EventLog($"/sys/wgr-events-{Guid.NewGuid():N}.log");
        var hosts = Directory.CreateTempSubdirectory("wgr-socket-");
        var socket = Path.Combine(hosts.FullName, "run");
        var connection = new NpgsqlConnectionStringBuilder(pg.ConnectionString);
        var socketDirectory = connection.Host!;
        connection.Host = socket;
        connection.Timeout = 2;
        // The store loop waits on this clock: it tries the store only when the test moves it.
        var time = new FakeTimeProvider(T0);
        var logger = new ListLogger<Appender>();
        bool Tick(Func<bool> condition)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            return condition();
        }
        try
        {
            await using var connector = new StoreConnector(ConfigFor(connection.ConnectionString), _policy, NullLogger<StoreConnector>.Instance);
            var appender = new Appender(connector, log, time, logger, maxUnlogged: 100);
            // Queued before the appender starts, so that they reach the disk as one batch.
            foreach (var e in events)
                appender.Post(peer.Base64, e);
            await appender.StartAsync(CancellationToken.None);
            await WaitUntil(() => appender.Pending == 80);
            Assert.Equal(0, log.Length);
            Assert.Contains(logger.Entries, e => e.Level == LogLevel.Error
                && e.Message.Contains($"dropped the oldest {measurementsDropped} measurements and {othersDropped} other events", StringComparison.Ordinal));
            // Refused by the store, and kept as they were.
            await WaitUntil(() => Tick(() => logger.Entries.Any(e => e.Message.StartsWith("The store did not take", StringComparison.Ordinal))));
            Assert.Equal(80, appender.Pending);
            Directory.CreateSymbolicLink(socket, socketDirectory);
            await WaitUntil(() => Tick(() => appender.Pending == 0));
            await appender.StopAsync(CancellationToken.None);
            var store = await connector.GetAsync(CancellationToken.None);
            var read = await store.ReadAsync(peer.Base64, null, 1000, CancellationToken.None);
            Assert.Equal(expected.Select(e => (e.GetType(), e.At)), read.Select(e => (e.Data.GetType(), ((PeerEvent)e.Data).At)));
        }
        finally
        {
            hosts.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Measurements_posted_past_the_queue_bound_are_dropped_and_facts_and_decisions_are_not()
    {
        var peer = NewPeer();
        var time = new FakeTimeProvider(T0);
        var logger = new ListLogger<Appender>();
        var log = new EventLog(Path.Combine(pg.DataDirectory, $"events-{Guid.NewGuid():N}.log"));
        var down = ConfigFor($"Host=/nonexistent-{Guid.NewGuid():N};Username=postgres;Timeout=2");
        await using var deadConnector = new StoreConnector(down, _policy, NullLogger<StoreConnector>.Instance);
        var appender = new Appender(deadConnector, log, time, logger, maxQueued: 100);
        var at = 0;
        PeerEvent Measurement() => new PathMeasured(peer, T0.AddSeconds(++at), A, new PathQuality().WithReply(T0.AddSeconds(at), 3.5));
        PeerEvent Fact() => new HandshakeObserved(peer, T0.AddSeconds(++at), T0);
        List<string> Warnings() => [.. logger.Entries.Where(e => e.Level == LogLevel.Warning && e.Message.Contains("not keeping up", StringComparison.Ordinal)).Select(e => e.Message)];
        var posted = new List<PeerEvent>();
        void Post(PeerEvent e)
        {
            posted.Add(e);
            appender.Post(peer.Base64, e);
        }

        // Not started: nothing leaves the queue, as with a log whose fsync hangs.
        for (var i = 0; i < 50; i++)
            Post(Measurement());
        for (var i = 0; i < 50; i++)
            Post(Fact());
        Assert.Equal(100, appender.Pending);
        var refused = Enumerable.Range(0, 30).Select(_ => Measurement()).ToList();
        foreach (var e in refused)
            Post(e);
        for (var i = 0; i < 10; i++)
            Post(Fact());
        Assert.Equal(110, appender.Pending);
        Assert.Contains("dropped 1 measurements", Assert.Single(Warnings()), StringComparison.Ordinal);
        time.Advance(TimeSpan.FromSeconds(59));
        var late = Measurement();
        Post(late);
        Assert.Single(Warnings());
        time.Advance(TimeSpan.FromSeconds(1));
        Post(Measurement());
        Assert.Equal(2, Warnings().Count);
        Assert.Contains("dropped 31 measurements", Warnings()[1], StringComparison.Ordinal);
        Assert.Equal(110, appender.Pending);

        await appender.StartAsync(CancellationToken.None);
        await WaitUntil(() => log.ReadUnstored((_, _) => { }).Count == 110);
        // Taken by the log, they are no longer queued: a measurement is welcome again.
        var after = Measurement();
        Post(after);
        await WaitUntil(() => log.ReadUnstored((_, _) => { }).Count == 111);
        Assert.Equal(111, appender.Pending);
        await appender.StopAsync(CancellationToken.None);
        var expected = posted.Take(100).Concat(posted.Skip(130).Take(10)).Append(after).ToList();
        Assert.Equal(expected.Select(e => (e.GetType(), e.At)),
            log.ReadUnstored((_, _) => { }).Select(r => (r.Event.Event.GetType(), ((PeerEvent)r.Event.Event).At)));
    }

    [Fact]
    public async Task Events_a_full_log_dropped_are_no_longer_pending()
    {
        var peer = NewPeer();
        var log = new EventLog(Path.Combine(pg.DataDirectory, $"events-{Guid.NewGuid():N}.log"), maxBytes: 40_000);
        var down = ConfigFor($"Host=/nonexistent-{Guid.NewGuid():N};Username=postgres;Timeout=2");
        await using var deadConnector = new StoreConnector(down, _policy, NullLogger<StoreConnector>.Instance);
        // The store loop waits on this clock, never moved: nothing is stored.
        var appender = new Appender(deadConnector, log, new FakeTimeProvider(T0), NullLogger<Appender>.Instance);
        for (var i = 0; i < 300; i++)
            appender.Post(peer.Base64, new PathMeasured(peer, T0.AddSeconds(i), A, new PathQuality().WithReply(T0.AddSeconds(i), 3.5)));
        appender.Post(peer.Base64, new HandshakeObserved(peer, T0.AddSeconds(300), T0));
        await appender.StartAsync(CancellationToken.None);
        await WaitUntil(() => appender.Pending < 301);
        var logged = log.ReadUnstored((_, _) => { });
        Assert.IsType<HandshakeObserved>(logged[^1].Event.Event);
        Assert.Equal(logged.Count, appender.Pending);
        await appender.StopAsync(CancellationToken.None);
    }

    /// <summary>Appends one event per entry: a PathMeasured where true, else a HandshakeObserved, a second apart.</summary>
    private static void Fill(EventLog log, PeerKey peer, List<bool> measurement)
    {
        for (var b = 0; b < measurement.Count; b += 500)
            log.Append(measurement.Skip(b).Take(500).Select((m, i) => new LoggedEvent(Guid.CreateVersion7(), peer.Base64, m
                ? new PathMeasured(peer, T0.AddSeconds(b + i), A, new PathQuality().WithReply(T0.AddSeconds(b + i), 3.5 + i % 7))
                : new HandshakeObserved(peer, T0.AddSeconds(b + i), T0))).ToList());
    }

    /// <summary>The log's records, header and payload, split by their length fields alone.</summary>
    private static List<byte[]> RecordsOf(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var records = new List<byte[]>();
        for (var at = 0; at < bytes.Length;)
        {
            var end = at + 8 + BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at));
            records.Add(bytes[at..end]);
            at = end;
        }
        return records;
    }

    /// <summary>The records a trim keeps, as hex: without the oldest measurements, then without the oldest of the rest.</summary>
    private static List<string> Kept(List<byte[]> records, List<bool> measurement, int measurements, int others)
    {
        var dropped = measurement.Select((m, i) => (m, i)).Where(r => r.m).Take(measurements).Select(r => r.i).ToHashSet();
        return [.. records.Where((_, i) => !dropped.Contains(i)).Skip(others).Select(Convert.ToHexString)];
    }

    private WgRoutedConfig ConfigFor(string connectionString) =>
        ConfigurationLoader.Validate(new WgRoutedOptions { DataDirectory = pg.DataDirectory, Store = new StoreOptions { ConnectionString = connectionString } });

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("condition not met in 30 s");
            await Task.Delay(50);
        }
    }
}
