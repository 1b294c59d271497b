using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;
using WgRouted.Engine;

namespace WgRouted.Service.Store;

/// <summary>
/// Spill files, SPILLDIR/probe-spill-NNNNNNNN.bin, replayed in name order. Little-endian; strings as BinaryWriter
/// writes them (7-bit length, UTF-8):
/// <code>
/// magic    8 bytes  "WGRPROB1"
/// count    i32      outcome rows
/// first    i64      ticks of the first row (Lag, without reading the rest)
/// paths    i32 n, n x (32-byte peer key, string src, string dst)            a row's path is an index here
/// answers  i32 n, n x (string observed, string peer endpoint; "" = none)   a row's answer is an index, -1 none
/// rows     count x (i64 ticks, u64 sequence, f64 rtt, i32 path, i32 answer, u8 replied)   33 bytes each
/// </code>
/// Written as NAME.tmp, flushed to disk, then renamed: a file under its final name is whole.
/// </summary>
public sealed partial class ProbeRecorder
{
    private const ulong SpillMagic = 0x31424F5250524757; // "WGRPROB1" read as a little-endian u64
    private const string SpillPattern = "probe-spill-*.bin";

    private readonly Queue<SpillFile> _spills = new();
    private long _spillNumber;
    private bool _spillsLoaded;

    private readonly record struct SpillFile(string Path, int Count, long FirstTicks);

    /// <summary>Spill files left by an earlier run (the store was down when it stopped).</summary>
    private void LoadSpills()
    {
        if (_spillsLoaded)
            return;
        _spillsLoaded = true;
        if (!Directory.Exists(spillDirectory))
            return;
        Span<byte> header = stackalloc byte[20];
        foreach (var path in Directory.GetFiles(spillDirectory, SpillPattern).Order(StringComparer.Ordinal))
        {
            if (!long.TryParse(Path.GetFileNameWithoutExtension(path).AsSpan("probe-spill-".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                continue;
            _spillNumber = Math.Max(_spillNumber, number + 1);
            using (var file = File.OpenRead(path))
                if (file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length
                    || BinaryPrimitives.ReadUInt64LittleEndian(header) != SpillMagic)
                {
                    Reject(path, "not a probe spill file");
                    continue;
                }
            var count = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
            _spills.Enqueue(new SpillFile(path, count, BinaryPrimitives.ReadInt64LittleEndian(header[12..])));
            Interlocked.Add(ref _spilled, count);
        }
        if (_spills.Count > 0)
            LogSpillsFound(logger, _spills.Count, Spilled, spillDirectory);
        NoteOldestHeld();
    }

    /// <summary>Moves the backlog to a new spill file (on failure it stays in memory: nothing else to do with it).</summary>
    private void SpillBacklog()
    {
        if (_backlog.Count == 0)
            return;
        var path = Path.Combine(spillDirectory, string.Create(CultureInfo.InvariantCulture, $"probe-spill-{_spillNumber:D8}.bin"));
        try
        {
            Directory.CreateDirectory(spillDirectory);
            using (var file = new FileStream(path + ".tmp", FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                using var w = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true);
                w.Write(SpillMagic);
                w.Write(_backlog.Count);
                w.Write(_backlog[0].Ticks);
                w.Write(_names.Paths.Count);
                foreach (var (peer, p) in _names.Paths)
                {
                    w.Write(peer.ToBytes());
                    w.Write(p.Src.ToString());
                    w.Write(p.Dst.ToString());
                }
                w.Write(_names.Answers.Count);
                foreach (var (observed, peerEndpoint) in _names.Answers)
                {
                    w.Write(observed?.ToString() ?? "");
                    w.Write(peerEndpoint?.ToString() ?? "");
                }
                foreach (var r in _backlog)
                {
                    w.Write(r.Ticks);
                    w.Write(r.Sequence);
                    w.Write(r.Rtt);
                    w.Write(r.Path);
                    w.Write(r.Answer);
                    w.Write(r.Replied);
                }
                w.Flush();
                file.Flush(flushToDisk: true);
            }
            File.Move(path + ".tmp", path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogSpillFailed(logger, path, _backlog.Count, e.Message);
            return;
        }
        _spillNumber++;
        _spills.Enqueue(new SpillFile(path, _backlog.Count, _backlog[0].Ticks));
        Interlocked.Add(ref _spilled, _backlog.Count);
        _backlog.Clear();
        Volatile.Write(ref _backlogCount, 0);
        NoteOldestHeld();
    }

    /// <summary>A spill file's rows, their names taken into this run's numbering; a damaged file is set aside.</summary>
    private List<PendingOutcome> ReadSpill(string path)
    {
        try
        {
            using var r = new BinaryReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16), Encoding.UTF8);
            if (r.ReadUInt64() != SpillMagic)
                throw new InvalidDataException("not a probe spill file");
            var count = r.ReadInt32();
            if (count < 0 || count > r.BaseStream.Length / 33)
                throw new InvalidDataException($"a row count of {count} does not fit the file");
            var rows = new List<PendingOutcome>(count);
            r.ReadInt64();
            var paths = new int[r.ReadInt32()];
            for (var i = 0; i < paths.Length; i++)
            {
                var peer = PeerKey.FromBytes(r.ReadBytes(PeerKey.KeyLength));
                var src = IPAddress.Parse(r.ReadString());
                paths[i] = _names.PathOf(peer, new CandidatePath(src, ParseEndpoint(r.ReadString())));
            }
            var answers = new int[r.ReadInt32()];
            for (var i = 0; i < answers.Length; i++)
            {
                var observed = r.ReadString();
                var peerEndpoint = r.ReadString();
                answers[i] = _names.AnswerOf(observed.Length == 0 ? null : ParseEndpoint(observed), peerEndpoint.Length == 0 ? null : ParseEndpoint(peerEndpoint));
            }
            while (rows.Count < count)
            {
                var (ticks, sequence, rtt, p, a, replied) = (r.ReadInt64(), r.ReadUInt64(), r.ReadDouble(), r.ReadInt32(), r.ReadInt32(), r.ReadBoolean());
                rows.Add(new PendingOutcome(ticks, sequence, rtt, paths[p], a < 0 ? -1 : answers[a], replied));
            }
            return rows;
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or FormatException or ArgumentException or IndexOutOfRangeException)
        {
            Reject(path, e.Message);
            return [];
        }
    }

    private void Reject(string path, string error)
    {
        File.Move(path, path + ".rejected", overwrite: true);
        LogSpillRejected(logger, path, error);
    }
}
