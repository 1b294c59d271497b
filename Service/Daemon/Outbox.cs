using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WgRouted.Service.Store;

namespace WgRouted.Service.Daemon;

/// <summary>
/// Events the store could not take yet, as JSON lines in DATADIR/outbox.jsonl, flushed to disk before the append
/// is given up on; drained in order once the store answers again.
/// </summary>
public sealed class Outbox(string path)
{
    private static readonly JsonSerializerOptions Json = EventJson.Create();
    private static readonly Dictionary<string, Type> Types =
        EventTypes.Peer.Concat(EventTypes.Host).ToDictionary(t => t.Name, StringComparer.Ordinal);

    public string Path { get; } = path;

    public bool IsEmpty => !File.Exists(Path) || new FileInfo(Path).Length == 0;

    public void Write(IReadOnlyList<(string Stream, object Event)> batch)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        using var file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        var sb = new StringBuilder();
        foreach (var (stream, e) in batch)
        {
            var line = new JsonObject
            {
                ["stream"] = stream,
                ["type"] = e.GetType().Name,
                ["data"] = JsonSerializer.SerializeToNode(e, e.GetType(), Json),
            };
            sb.Append(line.ToJsonString()).Append('\n');
        }
        file.Write(Encoding.UTF8.GetBytes(sb.ToString()));
        file.Flush(flushToDisk: true);
    }

    /// <summary>Reads every pending event; a line that cannot be read is reported, kept aside, and skipped.</summary>
    public List<(string Stream, object Event)> ReadAll(Action<int, string> onBadLine)
    {
        var result = new List<(string, object)>();
        if (!File.Exists(Path))
            return result;
        var number = 0;
        foreach (var line in File.ReadLines(Path))
        {
            number++;
            if (line.Length == 0)
                continue;
            try
            {
                var node = JsonNode.Parse(line)!.AsObject();
                var stream = node["stream"]!.GetValue<string>();
                var typeName = node["type"]!.GetValue<string>();
                if (!Types.TryGetValue(typeName, out var type))
                    throw new JsonException($"unknown event type '{typeName}'");
                var e = node["data"].Deserialize(type, Json) ?? throw new JsonException("no data");
                result.Add((stream, e));
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or NullReferenceException or FormatException)
            {
                File.AppendAllText(Path + ".rejected", line + "\n");
                onBadLine(number, ex.Message);
            }
        }
        return result;
    }

    public void Clear()
    {
        if (File.Exists(Path))
            File.Delete(Path);
    }
}
