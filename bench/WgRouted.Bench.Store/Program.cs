using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;
using WgRouted.Service.Store;

// Event append through WgRouted's store path (Marten quick append, inline engine projection, batches of 500)
// against a raw Npgsql binary COPY of the same JSON into a table shaped like mt_events, on the same server.
var total = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 20000;
const int Peers = 16;
const int Batch = 500;
var dir = Directory.CreateTempSubdirectory("wgr-bench-store-").FullName;
await using var pg = await EmbeddedPostgres.StartAsync(dir, NullLogger.Instance, CancellationToken.None);
try
{
    var policy = new EndpointPolicy(PolicyOptions.Default);
    await using var store = await EventStore.OpenAsync(pg.ConnectionString, policy, CancellationToken.None);
    var json = EventJson.Create();

    List<(string Stream, object Event)> MakeEvents(int n)
    {
        var keys = Enumerable.Range(0, Peers).Select(_ => PeerKey.FromBytes(RandomNumberGenerator.GetBytes(32))).ToArray();
        var path = new CandidatePath(IPAddress.Parse("198.18.1.2"), Endpoint.Parse("198.18.3.2:51820"));
        var t0 = DateTimeOffset.UtcNow;
        var list = new List<(string, object)>(n);
        var q = new PathQuality();
        for (var i = 0; i < n; i++)
        {
            var key = keys[i % Peers];
            q = q.WithReply(t0.AddMilliseconds(i), 10 + i % 7);
            list.Add((key.Base64, new PathMeasured(key, t0.AddMilliseconds(i), path, q)));
        }
        return list;
    }

    async Task<double> StorePath(int n)
    {
        var events = MakeEvents(n);
        var sw = Stopwatch.StartNew();
        foreach (var chunk in events.Chunk(Batch))
            await store.AppendAsync(chunk, CancellationToken.None);
        return n / sw.Elapsed.TotalSeconds;
    }

    await using var conn = new NpgsqlConnection(pg.ConnectionString);
    await conn.OpenAsync();
    await using (var create = new NpgsqlCommand("""
        DROP TABLE IF EXISTS public.copy_events;
        CREATE TABLE public.copy_events (seq_id bigserial PRIMARY KEY, id uuid NOT NULL, stream_id varchar NOT NULL,
          version bigint NOT NULL, data jsonb NOT NULL, type varchar(500) NOT NULL, timestamp timestamptz NOT NULL DEFAULT now(),
          tenant_id varchar DEFAULT '*DEFAULT*', mt_dotnet_type varchar, is_archived bool DEFAULT false,
          UNIQUE (stream_id, version));
        """, conn))
        await create.ExecuteNonQueryAsync();

    async Task<double> RawCopy(int n)
    {
        var events = MakeEvents(n);
        var versions = new Dictionary<string, long>();
        var sw = Stopwatch.StartNew();
        foreach (var chunk in events.Chunk(Batch))
        {
            await using var writer = await conn.BeginBinaryImportAsync(
                "COPY public.copy_events (id, stream_id, version, data, type, timestamp, mt_dotnet_type) FROM STDIN (FORMAT BINARY)");
            foreach (var (stream, e) in chunk)
            {
                var v = versions[stream] = versions.GetValueOrDefault(stream) + 1;
                await writer.StartRowAsync();
                await writer.WriteAsync(Guid.NewGuid(), NpgsqlDbType.Uuid);
                await writer.WriteAsync(stream, NpgsqlDbType.Varchar);
                await writer.WriteAsync(v, NpgsqlDbType.Bigint);
                await writer.WriteAsync(JsonSerializer.Serialize(e, e.GetType(), json), NpgsqlDbType.Jsonb);
                await writer.WriteAsync("path_measured", NpgsqlDbType.Varchar);
                await writer.WriteAsync(((PeerEvent)e).At, NpgsqlDbType.TimestampTz);
                await writer.WriteAsync(e.GetType().FullName!, NpgsqlDbType.Varchar);
            }
            await writer.CompleteAsync();
        }
        return n / sw.Elapsed.TotalSeconds;
    }

    await StorePath(2000);
    await RawCopy(2000);
    var storeRates = new List<double>();
    var copyRates = new List<double>();
    for (var run = 0; run < 3; run++)
    {
        storeRates.Add(await StorePath(total));
        copyRates.Add(await RawCopy(total));
    }
    await store.AnalyzeAsync(CancellationToken.None);
    var s = storeRates.Order().ElementAt(1);
    var c = copyRates.Order().ElementAt(1);
    Console.WriteLine($"events per run: {total} over {Peers} peer streams, batches of {Batch}; median of 3 runs");
    Console.WriteLine($"store path (Marten quick append + inline engine projection): {s,10:N0} events/s");
    Console.WriteLine($"raw Npgsql binary COPY, same JSON, same table shape:        {c,10:N0} events/s");
    Console.WriteLine($"ratio store/COPY: {s / c:0.00}");
}
finally
{
    await pg.DisposeAsync();
    Directory.Delete(dir, recursive: true);
}
