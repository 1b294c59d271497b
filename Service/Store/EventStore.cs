using System.Diagnostics.CodeAnalysis;
using JasperFx;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Npgsql;
using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;

namespace WgRouted.Service.Store;

/// <summary>The Marten event store: one stream per peer (its public key), one per host ("host:NAME").</summary>
public sealed class EventStore : IAsyncDisposable
{
    public const string Schema = "wg_routed";
    public const string HostStreamPrefix = "host:";

    private readonly DocumentStore _store;
    private readonly EndpointPolicy _policy;

    private EventStore(DocumentStore store, EndpointPolicy policy, string connectionString)
    {
        _store = store;
        _policy = policy;
        ConnectionString = connectionString;
    }

    public string ConnectionString { get; }
    public IDocumentStore Documents => _store;

    public static string HostStream(string hostName) => HostStreamPrefix + hostName;

    // Marten finds the projection's Evolve override by reflection, which Native AOT keeps only for members named here.
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicMethods | DynamicallyAccessedMemberTypes.PublicConstructors, typeof(PeerStateProjection))]
    public static async Task<EventStore> OpenAsync(string connectionString, EndpointPolicy policy, CancellationToken ct)
    {
        var store = DocumentStore.For(opts =>
        {
            opts.Connection(connectionString);
            opts.DatabaseSchemaName = Schema;
            opts.Events.DatabaseSchemaName = Schema;
            opts.Events.StreamIdentity = StreamIdentity.AsString;
            opts.Events.AppendMode = EventAppendMode.Quick;
            opts.UseSystemTextJsonForSerialization(configure: EventJson.Configure);
            opts.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
            opts.Events.AddEventTypes(EventTypes.Peer);
            opts.Events.AddEventTypes(EventTypes.Host);
            opts.Projections.Add(new PeerStateProjection(policy), ProjectionLifecycle.Inline);
            opts.DisableNpgsqlLogging = true;
        });
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        return new EventStore(store, policy, connectionString);
    }

    /// <summary>Appends events in one transaction, grouped by stream.</summary>
    public async Task AppendAsync(IReadOnlyList<(string Stream, object Event)> events, CancellationToken ct)
    {
        if (events.Count == 0)
            return;
        await using var session = _store.LightweightSession();
        foreach (var group in events.GroupBy(e => e.Stream, StringComparer.Ordinal))
            session.Events.Append(group.Key, group.Select(e => e.Event).ToArray());
        await session.SaveChangesAsync(ct);
    }

    /// <summary>
    /// Appends logged events in one transaction, in order, each under its own id: events the store has already (a
    /// retry after a crash or a lost answer) are skipped, so each is stored exactly once. Returns how many were new.
    /// </summary>
    public async Task<int> AppendAsync(IReadOnlyList<LoggedEvent> events, CancellationToken ct)
    {
        if (events.Count == 0)
            return 0;
        var known = await KnownIdsAsync(events.Select(e => e.Id).ToArray(), ct);
        var fresh = events.Where(e => !known.Contains(e.Id)).ToList();
        await using var session = _store.LightweightSession();
        foreach (var group in fresh.GroupBy(e => e.Stream, StringComparer.Ordinal))
            session.Events.Append(group.Key, group.Select(e =>
            {
                var built = session.Events.BuildEvent(e.Event);
                built.Id = e.Id;
                return (object)built;
            }).ToArray());
        if (fresh.Count > 0)
            await session.SaveChangesAsync(ct);
        return fresh.Count;
    }

    /// <summary>Which of these event ids the store has. SQL, not Marten's LINQ: parsing that query every batch was 4 % of the daemon's CPU at 500 peers.</summary>
    private async Task<HashSet<Guid>> KnownIdsAsync(Guid[] ids, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand($"SELECT id FROM {Schema}.mt_events WHERE id = ANY(@ids)", conn);
        cmd.Parameters.AddWithValue("ids", ids);
        var known = new HashSet<Guid>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            known.Add(reader.GetGuid(0));
        return known;
    }

    /// <summary>Stored events, oldest first, optionally of one stream and from a time on.</summary>
    // Building `Timestamp >= s` looks the operator up by reflection; Native AOT keeps it only if named here.
    [DynamicDependency("op_GreaterThanOrEqual", typeof(DateTimeOffset))]
    public async Task<IReadOnlyList<IEvent>> ReadAsync(string? stream, DateTimeOffset? since, int limit, CancellationToken ct)
    {
        await using var session = _store.QuerySession();
        IQueryable<IEvent> query = session.Events.QueryAllRawEvents();
        if (stream is not null)
            query = query.Where(e => e.StreamKey == stream);
        if (since is { } s)
            query = query.Where(e => e.Timestamp >= s);
        return await query.OrderBy(e => e.Sequence).Take(limit).ToListAsync(ct);
    }

    /// <summary>
    /// A stream's event data, oldest first, deserialized straight from mt_events: a replay reads whole streams, and
    /// this skips Marten's per-event envelope (metadata it does not need). Types are mapped by Marten's own aliases.
    /// </summary>
    // Options are built once: System.Text.Json caches each type's contract in them.
    private static readonly System.Text.Json.JsonSerializerOptions ReadOptions = EventJson.Create();
    private Dictionary<string, Type>? _aliases;

    public async Task<List<object>> ReadStreamDataAsync(string stream, CancellationToken ct)
    {
        var types = _aliases ??= EventTypes.Peer.Concat(EventTypes.Host)
            .ToDictionary(t => ((Marten.Events.EventGraph)_store.Options.Events).EventMappingFor(t).EventTypeName, t => t, StringComparer.Ordinal);
        var json = ReadOptions;
        var result = new List<object>();
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand($"SELECT type, data FROM {Schema}.mt_events WHERE stream_id = @stream ORDER BY version", conn);
        cmd.Parameters.AddWithValue("stream", stream);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var type = reader.GetString(0);
            if (!types.TryGetValue(type, out var clr))
                throw new InvalidDataException($"stream {stream}: event type '{type}' is not one of WgRouted's");
            result.Add(System.Text.Json.JsonSerializer.Deserialize(reader.GetString(1), json.GetTypeInfo(clr))
                ?? throw new InvalidDataException($"stream {stream}: a null {type}"));
        }
        return result;
    }

    /// <summary>Events stored after <paramref name="sequence"/> (Marten's global sequence), oldest first.</summary>
    public async Task<IReadOnlyList<IEvent>> ReadAfterAsync(string? stream, long sequence, int limit, CancellationToken ct)
    {
        await using var session = _store.QuerySession();
        IQueryable<IEvent> query = session.Events.QueryAllRawEvents().Where(e => e.Sequence > sequence);
        if (stream is not null)
            query = query.Where(e => e.StreamKey == stream);
        return await query.OrderBy(e => e.Sequence).Take(limit).ToListAsync(ct);
    }

    /// <summary>The peer's current state as the inline projection stored it.</summary>
    public async Task<PeerState?> LoadPeerAsync(string peer, CancellationToken ct)
    {
        await using var session = _store.QuerySession();
        return await session.LoadAsync<PeerState>(peer, ct);
    }

    /// <summary>
    /// The peer's state as Marten's events alone give it at <paramref name="at"/> in engine time: decisions, host-driven
    /// path changes and the path qualities reported (PathMeasured), without the probe outcomes, which the recorder keeps
    /// (`wg-routed replay` merges both). Marten's own time travel goes by append time, and for an inline-projected type
    /// it answers with the stored document.
    /// </summary>
    public async Task<PeerState?> PeerStateAtAsync(string peer, DateTimeOffset at, CancellationToken ct)
    {
        await using var session = _store.QuerySession();
        var events = await session.Events.FetchStreamAsync(peer, token: ct);
        PeerState? state = null;
        foreach (var e in events)
            if (e.Data is PeerEvent pe && pe.At <= at)
                state = _policy.Evolve(state, pe);
        return state;
    }

    /// <summary>Refreshes planner statistics after a bulk load (without it, later queries crawl).</summary>
    public async Task AnalyzeAsync(CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand($"ANALYZE {Schema}.mt_events; ANALYZE {Schema}.mt_streams;", conn);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public ValueTask DisposeAsync() => _store.DisposeAsync();
}
