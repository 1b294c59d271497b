using System.Text.Json;
using System.Text.Json.Nodes;
using WgRouted.Engine.Events;
using WgRouted.Service.Store;

namespace WgRouted.Service.Replay;

/// <summary>Compares recorded outputs with re-derived ones, field by field (the trace id aside: a replay opens no trace).</summary>
public static class Verification
{
    private static readonly JsonSerializerOptions Json = EventJson.Create();

    public static string Canonical(PeerEvent e) =>
        JsonSerializer.Serialize(e with { TraceId = null }, Json.GetTypeInfo(e.GetType()));

    /// <summary>The differences, in time order; empty when every output matches.</summary>
    public static List<OutputDiff> Compare(IReadOnlyList<PeerEvent> recorded, IReadOnlyList<PeerEvent> derived)
    {
        var left = recorded.Select(e => (Event: e, Text: Canonical(e))).ToList();
        var right = derived.Select(e => (Event: e, Text: Canonical(e))).ToList();
        // Equal outputs cancel out, as a multiset (an input and its outputs may be stored in another order).
        var unmatched = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var r in right)
            unmatched[r.Text] = unmatched.GetValueOrDefault(r.Text) + 1;
        var onlyRecorded = new List<PeerEvent>();
        foreach (var l in left)
        {
            if (unmatched.TryGetValue(l.Text, out var n) && n > 0)
                unmatched[l.Text] = n - 1;
            else
                onlyRecorded.Add(l.Event);
        }
        var onlyDerived = new List<PeerEvent>();
        foreach (var r in right)
            if (unmatched.TryGetValue(r.Text, out var n) && n > 0)
            {
                unmatched[r.Text] = n - 1;
                onlyDerived.Add(r.Event);
            }
        // Pair what differs by time and type, to say which fields differ.
        var diffs = new List<OutputDiff>();
        foreach (var rec in onlyRecorded)
        {
            var twin = onlyDerived.FirstOrDefault(d => d.At == rec.At && d.GetType() == rec.GetType());
            if (twin is not null)
            {
                onlyDerived.Remove(twin);
                diffs.Add(new OutputDiff(rec.At, rec, twin, "differs in " + string.Join(", ", Fields(rec, twin))));
            }
            else
                diffs.Add(new OutputDiff(rec.At, rec, null, "recorded, not re-derived"));
        }
        diffs.AddRange(onlyDerived.Select(d => new OutputDiff(d.At, null, d, "re-derived, not recorded")));
        return diffs.OrderBy(d => d.At).ToList();
    }

    private static IEnumerable<string> Fields(PeerEvent a, PeerEvent b)
    {
        var x = JsonNode.Parse(Canonical(a))!.AsObject();
        var y = JsonNode.Parse(Canonical(b))!.AsObject();
        foreach (var (name, value) in x)
            if (!JsonNode.DeepEquals(value, y[name]))
                yield return name;
    }
}
