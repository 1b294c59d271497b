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
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
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
        var start = Stored;
        var span = Math.Max(maxBytes, Window);
        Walk(start, span > long.MaxValue - start ? long.MaxValue : start + span, onDamage, (offset, record) =>
        {
            try
            {
                result.Add((Parse(record[HeaderSize..]), offset + record.Length));
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NullReferenceException)
            {
                onDamage(offset, $"record not readable ({e.Message}); skipped");
            }
        });
        return result;
    }

    /// <summary>What is read at a time: any whole record fits.</summary>
    private const int Window = HeaderSize + MaxRecord;

    private delegate void RecordVisitor(long offset, ReadOnlySpan<byte> record);

    /// <summary>
    /// Hands every record from <paramref name="start"/> on to <paramref name="visit"/> (its offset and its bytes, header
    /// included), reading a window at a time, up to the log's end or the first record that ends past
    /// <paramref name="until"/>. A damaged or torn tail is cut off and reported.
    /// </summary>
    private void Walk(long start, long until, Action<long, string> onDamage, RecordVisitor visit)
    {
        FileStream file;
        try
        {
            file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return;
        }
        long? cut = null;
        using (file)
        {
            var end = Math.Min(until, file.Length);
            var buffer = new byte[Math.Clamp(end - start, 0, Window)];
            var position = start;
            while (position < end)
            {
                var window = buffer.AsSpan(0, (int)Math.Min(buffer.Length, end - position));
                file.Position = position;
                file.ReadExactly(window);
                var atEnd = position + window.Length == file.Length;
                var offset = 0;
                while (offset < window.Length)
                {
                    var frame = ReadFrame(window[offset..], out var record, out var why);
                    // A record running past the window is read with the next one; only at the file's end is it a torn tail.
                    if (frame == Frame.Incomplete && !atEnd)
                        break;
                    if (frame != Frame.Whole)
                    {
                        onDamage(position + offset, why);
                        cut = position + offset;
                        break;
                    }
                    visit(position + offset, record);
                    offset += record.Length;
                }
                // The window reached `until` or the log's end: anything left in it is a record ending past `until`.
                if (cut is not null || position + window.Length == end)
                    break;
                position += offset;
            }
        }
        if (cut is { } at)
        {
            using var truncate = new FileStream(Path, FileMode.Open, FileAccess.Write);
            truncate.SetLength(at);
            truncate.Flush(flushToDisk: true);
        }
    }

    private enum Frame { Whole, Incomplete, Damaged }

    /// <summary>The record at the start of <paramref name="bytes"/>, header and payload, if they hold all of it and its checksum matches.</summary>
    private static Frame ReadFrame(ReadOnlySpan<byte> bytes, out ReadOnlySpan<byte> record, out string why)
    {
        record = default;
        if (bytes.Length < HeaderSize)
        {
            why = $"{bytes.Length} bytes of a record header (torn write)";
            return Frame.Incomplete;
        }
        var length = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]);
        if (length > MaxRecord)
        {
            why = $"a record of {length} bytes, more than any event (damaged header)";
            return Frame.Damaged;
        }
        if (bytes.Length - HeaderSize < length)
        {
            why = $"a record of {length} bytes where {bytes.Length - HeaderSize} remain (torn write)";
            return Frame.Incomplete;
        }
        if (Crc32Of(bytes.Slice(HeaderSize, (int)length)) != crc)
        {
            why = "checksum mismatch (damaged record)";
            return Frame.Damaged;
        }
        record = bytes[..(HeaderSize + (int)length)];
        why = "";
        return Frame.Whole;
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
    /// oldest of anything, until it fits in 80 %. Returns (measurements dropped, others dropped). The records kept are
    /// copied as they are; a record whose type cannot be read is dropped and reported, as reading would skip it.
    /// </summary>
    /// <remarks>
    /// The log is this big exactly when things are already bad: it is read twice a window at a time, and only each
    /// record's size and kind are held (parsing every record into events took several times the log in memory).
    /// </remarks>
    public (int Measurements, int Others) Trim(Action<long, string> onDamage)
    {
        if (Length <= MaxBytes)
            return (0, 0);
        var stored = Stored;
        var sizes = new List<int>();
        var kinds = new List<Kind>();
        Walk(stored, long.MaxValue, onDamage, (offset, record) =>
        {
            var kind = KindOf(record[HeaderSize..], out var why);
            if (kind == Kind.Unreadable)
                onDamage(offset, $"record not readable ({why}); skipped");
            sizes.Add(record.Length);
            kinds.Add(kind);
        });
        var keep = new bool[kinds.Count];
        long total = 0;
        for (var i = 0; i < keep.Length; i++)
            if (kinds[i] != Kind.Unreadable)
            {
                keep[i] = true;
                total += sizes[i];
            }
        var (measurements, others) = DropOldest(keep, total, MaxBytes * 8 / 10, i => sizes[i], i => kinds[i] == Kind.Measurement);
        var aside = Path + ".new";
        using (var file = new FileStream(aside, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
        {
            var next = 0;
            Walk(stored, long.MaxValue, onDamage, (_, record) =>
            {
                if (keep[next++])
                    file.Write(record);
            });
            file.Flush(flushToDisk: true);
        }
        File.Move(aside, Path, overwrite: true);
        File.Delete(StoredPath);
        Generation++;
        return (measurements, others);
    }

    /// <summary>
    /// What a full log, or anything else holding events past its bound, gives up: the oldest measurements, then the
    /// oldest of anything, until what <paramref name="keep"/> still keeps weighs at most <paramref name="target"/>
    /// (of <paramref name="total"/>). Returns how many of each it dropped.
    /// </summary>
    internal static (int Measurements, int Others) DropOldest(bool[] keep, long total, long target, Func<int, long> weight, Func<int, bool> measurement)
    {
        int measurements = 0, others = 0;
        for (var pass = 0; pass < 2 && total > target; pass++)
            for (var i = 0; i < keep.Length && total > target; i++)
                if (keep[i] && (pass == 1 || measurement(i)))
                {
                    keep[i] = false;
                    total -= weight(i);
                    if (pass == 0)
                        measurements++;
                    else
                        others++;
                }
        return (measurements, others);
    }

    private enum Kind : byte { Other, Measurement, Unreadable }

    /// <summary>Whether the record is a measurement, from its "type" alone: its data is neither parsed nor read.</summary>
    private static Kind KindOf(ReadOnlySpan<byte> payload, out string why)
    {
        why = "";
        try
        {
            var json = new Utf8JsonReader(payload);
            if (!json.Read() || json.TokenType != JsonTokenType.StartObject)
            {
                why = "not a JSON object";
                return Kind.Unreadable;
            }
            while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
            {
                var isType = json.ValueTextEquals("type"u8);
                json.Read();
                if (!isType)
                {
                    json.Skip();
                    continue;
                }
                if (json.TokenType != JsonTokenType.String)
                    break;
                if (json.ValueTextEquals(nameof(PathMeasured)))
                    return Kind.Measurement;
                var name = json.GetString()!;
                if (Types.ContainsKey(name))
                    return Kind.Other;
                why = $"unknown event type '{name}'";
                return Kind.Unreadable;
            }
            why = "no type";
            return Kind.Unreadable;
        }
        catch (JsonException e)
        {
            why = e.Message;
            return Kind.Unreadable;
        }
    }
}
