using System.Net;
using Npgsql;
using NpgsqlTypes;
using WgRouted.Engine;

namespace WgRouted.Service.Store;

public sealed partial class ProbeRecorder
{
    private const string Copy = $"COPY {Table} (at_ticks, sequence, rtt_ms, path_id, answer_id) FROM STDIN (FORMAT BINARY)";

    /// <summary>One COPY: all the rows or none. Adds the days it wrote to <paramref name="days"/>.</summary>
    private async Task CopyAsync(NpgsqlConnection conn, List<PendingOutcome> rows, HashSet<long> days, CancellationToken ct)
    {
        if (rows.Count == 0)
            return;
        var last = -1L;
        foreach (var r in rows)
            if (r.Ticks / TimeSpan.TicksPerDay != last)
                days.Add(last = r.Ticks / TimeSpan.TicksPerDay);
        await EnsurePartitionsAsync(conn, days, ct);
        await ResolveAsync(conn, ct);
        var pathIds = _names.PathIds;
        var answerIds = _names.AnswerIds;
        await using var copy = await conn.BeginBinaryImportAsync(Copy, ct);
        foreach (var r in rows)
        {
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(r.Ticks, NpgsqlDbType.Bigint, ct);
            await copy.WriteAsync(unchecked((long)r.Sequence), NpgsqlDbType.Bigint, ct);
            if (r.Replied)
                await copy.WriteAsync(r.Rtt, NpgsqlDbType.Double, ct);
            else
                await copy.WriteNullAsync(ct);
            await copy.WriteAsync(pathIds[r.Path], NpgsqlDbType.Integer, ct);
            if (r.Answer >= 0)
                await copy.WriteAsync(answerIds[r.Answer], NpgsqlDbType.Integer, ct);
            else
                await copy.WriteNullAsync(ct);
        }
        // Not cancelled once every row is sent: a cancel racing the commit would leave us unsure whether it was stored.
        await copy.CompleteAsync(CancellationToken.None);
    }

    /// <summary>Database ids for the paths and answers that have none yet, in one round trip each.</summary>
    private async Task ResolveAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var paths = Enumerable.Range(0, _names.Paths.Count).Where(i => _names.PathIds[i] == 0).ToList();
        if (paths.Count > 0)
        {
            var byText = paths.ToDictionary(i => (_names.Paths[i].Peer.Base64, _names.Paths[i].Path.Src.ToString(), _names.Paths[i].Path.Dst.ToString()));
            // DO UPDATE rather than DO NOTHING so that existing rows come back too; it runs only for names new to this run.
            await using var cmd = new NpgsqlCommand($"""
                INSERT INTO {EventStore.Schema}.probe_paths (peer, src, dst) SELECT * FROM unnest(@peer, @src, @dst)
                ON CONFLICT (peer, src, dst) DO UPDATE SET peer = EXCLUDED.peer RETURNING id, peer, src, dst
                """, conn);
            cmd.Parameters.AddWithValue("peer", byText.Keys.Select(k => k.Item1).ToArray());
            cmd.Parameters.AddWithValue("src", byText.Keys.Select(k => k.Item2).ToArray());
            cmd.Parameters.AddWithValue("dst", byText.Keys.Select(k => k.Item3).ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                _names.PathIds[byText[(reader.GetString(1), reader.GetString(2), reader.GetString(3))]] = reader.GetInt32(0);
        }
        var answers = Enumerable.Range(0, _names.Answers.Count).Where(i => _names.AnswerIds[i] == 0).ToList();
        if (answers.Count > 0)
        {
            var byText = answers.ToDictionary(i => (_names.Answers[i].Observed?.ToString(), _names.Answers[i].PeerEndpoint?.ToString()));
            await using var cmd = new NpgsqlCommand($"""
                INSERT INTO {EventStore.Schema}.probe_answers (observed, peer_endpoint) SELECT * FROM unnest(@observed, @peer_endpoint)
                ON CONFLICT (observed, peer_endpoint) DO UPDATE SET observed = EXCLUDED.observed RETURNING id, observed, peer_endpoint
                """, conn);
            cmd.Parameters.AddWithValue("observed", byText.Keys.Select(k => k.Item1).ToArray());
            cmd.Parameters.AddWithValue("peer_endpoint", byText.Keys.Select(k => k.Item2).ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                _names.AnswerIds[byText[(reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2))]] = reader.GetInt32(0);
        }
    }

    /// <summary>The peer's outcomes with <paramref name="from"/> &lt;= At &lt; <paramref name="to"/>, ordered by At (then sequence).</summary>
    public async Task<IReadOnlyList<ProbeOutcome>> ReadAsync(PeerKey peer, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        await using var conn = await OpenAsync(await connect(ct), ct);
        var paths = new Dictionary<int, CandidatePath>();
        await using (var cmd = new NpgsqlCommand($"SELECT id, src, dst FROM {EventStore.Schema}.probe_paths WHERE peer = @peer", conn))
        {
            cmd.Parameters.AddWithValue("peer", peer.Base64);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                paths[reader.GetInt32(0)] = new CandidatePath(IPAddress.Parse(reader.GetString(1)), ParseEndpoint(reader.GetString(2)));
        }
        var result = new List<ProbeOutcome>();
        if (paths.Count == 0)
            return result;
        var endpoints = new Dictionary<string, Endpoint>(StringComparer.Ordinal);
        Endpoint? EndpointAt(NpgsqlDataReader reader, int column)
        {
            if (reader.IsDBNull(column))
                return null;
            var text = reader.GetString(column);
            if (!endpoints.TryGetValue(text, out var endpoint))
                endpoints[text] = endpoint = ParseEndpoint(text);
            return endpoint;
        }
        // The minute condition is the index's; the ticks condition prunes partitions and trims the minutes' edges.
        await using (var cmd = new NpgsqlCommand($"""
            SELECT o.at_ticks, o.sequence, o.rtt_ms, o.path_id, a.observed, a.peer_endpoint
            FROM {Table} o LEFT JOIN {EventStore.Schema}.probe_answers a ON a.id = o.answer_id
            WHERE o.path_id = ANY(@paths) AND o.at_ticks / 600000000 BETWEEN @from / 600000000 AND (@to - 1) / 600000000
              AND o.at_ticks >= @from AND o.at_ticks < @to
            ORDER BY o.at_ticks, o.sequence
            """, conn))
        {
            cmd.Parameters.AddWithValue("paths", paths.Keys.ToArray());
            cmd.Parameters.AddWithValue("from", from.UtcTicks);
            cmd.Parameters.AddWithValue("to", to.UtcTicks);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                result.Add(new ProbeOutcome(peer, paths[reader.GetInt32(3)], unchecked((ulong)reader.GetInt64(1)),
                    new DateTimeOffset(reader.GetInt64(0), TimeSpan.Zero), reader.IsDBNull(2) ? null : reader.GetDouble(2),
                    EndpointAt(reader, 4), EndpointAt(reader, 5)));
        }
        return result;
    }

    /// <summary>Endpoint.Parse refuses zone ids ("%eth0"), which a stored link-local endpoint may carry.</summary>
    private static Endpoint ParseEndpoint(string text) =>
        Endpoint.TrySplitHostPort(text, out var host, out var port, out var error)
            ? new Endpoint(IPAddress.Parse(host), port)
            : throw new FormatException(error);
}
