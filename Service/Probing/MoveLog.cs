using System.Globalization;
using System.Text;
using WgRouted.Engine;

namespace WgRouted.Service.Probing;

/// <summary>
/// The last move sequence number followed per sender, on disk (DataDirectory/moves), so that after a restart no
/// move request accepted before it is accepted again. One line per sender, "PUBLICKEY SEQUENCE"; the file is
/// replaced whole (written aside, flushed to disk, renamed over), so a crash leaves the old or the new one.
/// </summary>
public sealed class MoveLog(string path)
{
    public string Path { get; } = path;

    /// <summary>The records; an unreadable or damaged file gives none and says why in <paramref name="problem"/>.</summary>
    public Dictionary<PeerKey, ulong> Load(out string? problem)
    {
        problem = null;
        var accepted = new Dictionary<PeerKey, ulong>();
        string[] lines;
        try
        {
            if (!File.Exists(Path))
                return accepted;
            lines = File.ReadAllLines(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = e.Message;
            return accepted;
        }
        for (var i = 0; i < lines.Length; i++)
        {
            var fields = lines[i].Split(' ');
            if (fields.Length != 2 || !PeerKey.TryParse(fields[0], out var key, out _)
                || !ulong.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
            {
                problem = $"line {i + 1} is not 'PUBLICKEY SEQUENCE'";
                return [];
            }
            accepted[key] = sequence;
        }
        return accepted;
    }

    /// <summary>Writes every record; throws IOException when the disk refuses.</summary>
    public void Save(IReadOnlyDictionary<PeerKey, ulong> accepted)
    {
        var text = new StringBuilder();
        foreach (var (key, sequence) in accepted)
            text.Append(CultureInfo.InvariantCulture, $"{key.Base64} {sequence}\n");
        var aside = Path + ".new";
        using (var file = new FileStream(aside, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(Encoding.ASCII.GetBytes(text.ToString()));
            file.Flush(flushToDisk: true);
        }
        File.Move(aside, Path, overwrite: true);
    }
}
