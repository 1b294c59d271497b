using Marten;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Service.Store;

namespace WgRouted.Service.Replay;

/// <summary>Reads what a replay needs from the store only: Marten's streams and the probe recorder's table.</summary>
public sealed class HistoryReader(EventStore store, ProbeRecorder recorder)
{
    /// <summary>
    /// With --from, probe outcomes are read from this long before it: the daemon run live then started earlier (a run
    /// older than this folds from its first outcome in the window; its outputs still compare, its RTTs warm up).
    /// </summary>
    public const int RunLookbackDays = 7;

    /// <summary>Every peer with a stream, in key order.</summary>
    public async Task<IReadOnlyList<PeerKey>> PeersAsync(CancellationToken ct)
    {
        await using var session = store.Documents.QuerySession();
        var ids = await session.Events.QueryAllRawEvents()
            .Where(e => !e.StreamKey!.StartsWith(EventStore.HostStreamPrefix))
            .Select(e => e.StreamKey!).Distinct().ToListAsync(ct);
        return ids.Select(id => PeerKey.TryParse(id, out var k, out _) ? k : (PeerKey?)null)
            .OfType<PeerKey>().OrderBy(k => k.Base64, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The peer's history around [<paramref name="from"/>, <paramref name="to"/>]: the inputs from the last daemon start at
    /// or before <paramref name="from"/> (the state then is folded from there), up to <paramref name="to"/>.
    /// </summary>
    public async Task<History> ReadAsync(PeerKey peer, DateTimeOffset? from, DateTimeOffset? to, CancellationToken ct)
    {
        await using var session = store.Documents.QuerySession();
        // The probe outcomes are read alongside the stream; the run's start trims them afterwards.
        var until = to ?? DateTimeOffset.MaxValue;
        var probeRead = recorder.ReadAsync(peer, from is { } earliest ? earliest.AddDays(-RunLookbackDays) : DateTimeOffset.UnixEpoch,
            until, ct);
        var events = (await store.ReadStreamDataAsync(peer.Base64, ct)).OfType<PeerEvent>().ToList();
        var start = events.Count == 0 ? DateTimeOffset.MinValue : events.Min(e => e.At);
        if (from is { } f)
            foreach (var e in events)
                if (e is PeerConfigured && e.At <= f && e.At > start)
                    start = e.At;
        var marten = events.Where(e => e.At >= start && e.At <= until).ToList();
        var inputs = marten.Where(EventKinds.IsInput).ToList();
        var outputs = marten.Where(EventKinds.IsOutput).OrderBy(e => e.At).ToList();
        var probes = await probeRead;
        inputs.AddRange(probes.Where(p => p.At >= start && p.At <= until).Select(p => p.ToEvent()));
        // Stamps are unique and increasing within a daemon run: this is the loop's own order.
        inputs = inputs.OrderBy(e => e.At).ThenBy(e => e is PeerConfigured ? 0 : 1).ToList();
        var windowFrom = from ?? (inputs.Count > 0 ? inputs[0].At : start);
        var windowTo = to ?? Last(inputs, outputs, windowFrom);
        var host = await HostAsync(session, windowFrom, windowTo, ct);
        return new History(peer, windowFrom, windowTo, inputs, outputs, host);
    }

    private static DateTimeOffset Last(List<PeerEvent> inputs, List<PeerEvent> outputs, DateTimeOffset fallback)
    {
        var last = fallback;
        if (inputs.Count > 0 && inputs[^1].At > last)
            last = inputs[^1].At;
        if (outputs.Count > 0 && outputs[^1].At > last)
            last = outputs[^1].At;
        return last;
    }

    private static async Task<IReadOnlyList<HostEvent>> HostAsync(IQuerySession session, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        // Host events are appended within moments of their engine time: the append time narrows the read.
        var raw = await session.Events.QueryAllRawEvents()
            .Where(e => e.StreamKey!.StartsWith(EventStore.HostStreamPrefix) && e.Timestamp >= from.AddMinutes(-1) && e.Timestamp <= to.AddMinutes(1))
            .OrderBy(e => e.Sequence).ToListAsync(ct);
        return raw.Select(e => e.Data).OfType<HostEvent>().Where(h => h.At >= from && h.At <= to).OrderBy(h => h.At).ToList();
    }
}
