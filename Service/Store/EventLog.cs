using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text.Json;
using System.Text.Json.Nodes;
using WgRouted.Engine.Events;

namespace WgRouted.Service.Store;

/// <summary>An event on its way to the store: its id (the store's event id, so storing it twice stores it once), stream and data.</summary>
public sealed record LoggedEvent(Guid Id, string Stream, object Event);

/// <summary>
/// The local log every event reaches before the store (DataDirectory/events.log), so that a crash, a full store or a
/// PostgreSQL outage loses nothing. Records are `u32 length, u32 CRC-32, JSON {id, stream, type, data}`, appended a
/// batch at a time with one fsync (group commit). `events.log.stored` holds the offset up to which the store has
/// everything; the log is emptied once it has all. A torn or damaged tail (a crash mid-write) ends the log there: it
/// is cut off and reported, and what came before is kept. Bounded by <see cref="MaxBytes"/>: past 80 % it warns, and
/// full, it drops the oldest measurements (PathMeasured) first, facts and decisions only when nothing else is left.
/// Single writer (the appender).
/// </summary>
public sealed class EventLog
{
    private static readonly JsonSerializerOptions Json = EventJson.Create();
    private static readonly Dictionary<string, Type> Types =
        EventTypes.Peer.Concat(EventTypes.Host).ToDictionary(t => t.Name, StringComparer.Ordinal);
    private const int HeaderSize = 8;
    /// <summary>No event is near this; a length beyond it is damage, not a record.</summary>
    private const int MaxRecord = 1 << 20;

    public EventLog(string path, long maxBytes = 256L << 20)
    {
        Path = path;
        MaxBytes = maxBytes;
    }

    public string Path { get; }
    public long MaxBytes { get; }
    private string StoredPath => Path + ".stored";

    /// <summary>Bytes in the log now.</summary>
    public long Length => File.Exists(Path) ? new FileInfo(Path).Length : 0;

    /// <summary>Offset up to which the store has every record.</summary>
    public long Stored
    {
        get
        {
            try
            {
                var bytes = File.ReadAllBytes(StoredPath);
                return bytes.Length == 8 ? BinaryPrimitives.ReadInt64LittleEndian(bytes) : 0;
            }
            catch (FileNotFoundException)
            {
                return 0;
            }
        }
    }

    public bool HasUnstored => Length > Stored;

    /// <summary>Changes when <see cref="Trim"/> rewrites the log: offsets read before it mean nothing after.</summary>
    public int Generation { get; private set; }

    /// <summary>Appends the batch and flushes it to disk; throws IOException when the disk refuses.</summary>
    public void Append(IReadOnlyList<LoggedEvent> batch)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        using var buffer = new MemoryStream();
        foreach (var e in batch)
            WriteRecord(buffer, e);
        using var file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        file.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
        file.Flush(flushToDisk: true);
    }

    private static void WriteRecord(Stream to, LoggedEvent e)
    {
        var payload = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(payload))
        {
            json.WriteStartObject();
            json.WriteString("id", e.Id);
            json.WriteString("stream", e.Stream);
            json.WriteString("type", e.Event.GetType().Name);
            json.WritePropertyName("data");
            JsonSerializer.Serialize(json, e.Event, Json.GetTypeInfo(e.Event.GetType()));
            json.WriteEndObject();
        }
        Span<byte> header = stackalloc byte[HeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)payload.WrittenCount);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Crc32Of(payload.WrittenSpan));
        to.Write(header);
        to.Write(payload.WrittenSpan);
    }

    private static uint Crc32Of(ReadOnlySpan<byte> data) => Crc32.HashToUInt32(data);

    /// <summary>
    /// The records the store does not have yet, in order, each with the offset after it. A damaged tail is cut off
    /// (<paramref name="onDamage"/> says where and why); a record whose type is unknown is skipped and reported.
    /// </summary>
    /// <remarks>
    /// At most about <paramref name="maxBytes"/> of records (always at least one whole record): a store far behind is
    /// fed a window at a time, not the whole backlog read and parsed again on every attempt.
    /// </remarks>
    public List<(LoggedEvent Event, long End)> ReadUnstored(Action<long, string> onDamage, long maxBytes = long.MaxValue)
    {
        var result = new List<(LoggedEvent, long)>();
        byte[] bytes;
        long start;
        bool toEnd;
        try
        {
            using var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            start = Math.Min(Stored, file.Length);
            var window = Math.Min(file.Length - start, Math.Max(maxBytes, HeaderSize + MaxRecord));
            toEnd = start + window == file.Length;
            bytes = new byte[window];
            file.Position = start;
            file.ReadExactly(bytes);
        }
        catch (FileNotFoundException)
        {
            return result;
        }
        long offset = 0;
        while (offset < bytes.Length)
        {
            if (!TryRead(bytes, offset, out var payload, out var why))
            {
                // A record running past the window is read with the next one; only at the file's end is it a torn tail.
                if (!toEnd && (bytes.Length - offset < HeaderSize
                    || BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)offset)) is var length && length <= MaxRecord && bytes.Length - offset - HeaderSize < length))
                    break;
                onDamage(start + offset, why);
                using (var file = new FileStream(Path, FileMode.Open, FileAccess.Write))
                {
                    file.SetLength(start + offset);
                    file.Flush(flushToDisk: true);
                }
                break;
            }
            var end = offset + HeaderSize + payload.Length;
            try
            {
                result.Add((Parse(payload), start + end));
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NullReferenceException)
            {
                onDamage(start + offset, $"record not readable ({e.Message}); skipped");
            }
            offset = end;
        }
        return result;
    }

    private static bool TryRead(byte[] bytes, long offset, out ReadOnlySpan<byte> payload, out string why)
    {
        payload = default;
        if (bytes.Length - offset < HeaderSize)
        {
            why = $"{bytes.Length - offset} bytes of a record header (torn write)";
            return false;
        }
        var length = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)offset));
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)offset + 4));
        if (length > MaxRecord || bytes.Length - offset - HeaderSize < length)
        {
            why = $"a record of {length} bytes where {bytes.Length - offset - HeaderSize} remain (torn write)";
            return false;
        }
        payload = bytes.AsSpan((int)offset + HeaderSize, (int)length);
        if (Crc32Of(payload) != crc)
        {
            why = "checksum mismatch (damaged record)";
            return false;
        }
        why = "";
        return true;
    }

    private static LoggedEvent Parse(ReadOnlySpan<byte> payload)
    {
        var node = JsonNode.Parse(payload)!.AsObject();
        var typeName = node["type"]!.GetValue<string>();
        if (!Types.TryGetValue(typeName, out var type))
            throw new InvalidOperationException($"unknown event type '{typeName}'");
        var data = node["data"].Deserialize(Json.GetTypeInfo(type)) ?? throw new InvalidOperationException("no data");
        return new LoggedEvent(Guid.Parse(node["id"]!.GetValue<string>()), node["stream"]!.GetValue<string>(), data);
    }

    /// <summary>The store has everything up to <paramref name="offset"/>; the whole log stored, it starts afresh.</summary>
    public void MarkStored(long offset)
    {
        if (offset >= Length)
        {
            File.Delete(Path);
            File.Delete(StoredPath);
            return;
        }
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, offset);
        var aside = StoredPath + ".new";
        using (var file = new FileStream(aside, FileMode.Create, FileAccess.Write))
        {
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }
        File.Move(aside, StoredPath, overwrite: true);
    }

    /// <summary>
    /// Over <see cref="MaxBytes"/>: rewrites the unstored part without measurements, oldest first, then without the
    /// oldest of anything, until it fits in 80 %. Returns (measurements dropped, others dropped).
    /// </summary>
    public (int Measurements, int Others) Trim(Action<long, string> onDamage)
    {
        if (Length <= MaxBytes)
            return (0, 0);
        var records = ReadUnstored(onDamage);
        var sizes = records.Select((r, i) => r.End - (i == 0 ? Stored : records[i - 1].End)).ToList();
        var total = sizes.Sum();
        var target = MaxBytes * 8 / 10;
        var keep = Enumerable.Repeat(true, records.Count).ToArray();
        int measurements = 0, others = 0;
        for (var pass = 0; pass < 2 && total > target; pass++)
            for (var i = 0; i < records.Count && total > target; i++)
                if (keep[i] && (pass == 1 || records[i].Event.Event is PathMeasured))
                {
                    keep[i] = false;
                    total -= sizes[i];
                    if (pass == 0)
                        measurements++;
                    else
                        others++;
                }
        var aside = Path + ".new";
        using (var file = new FileStream(aside, FileMode.Create, FileAccess.Write))
        {
            for (var i = 0; i < records.Count; i++)
                if (keep[i])
                    WriteRecord(file, records[i].Event);
            file.Flush(flushToDisk: true);
        }
        File.Move(aside, Path, overwrite: true);
        File.Delete(StoredPath);
        Generation++;
        return (measurements, others);
    }
}
