using System.Text;

namespace WgRouted.Integrations.Babel;

/// <summary>
/// Cuts babeld's byte stream into parsed lines. A line longer than <see cref="BabelCodec.MaxLineBytes"/> becomes one
/// <see cref="BabelInvalidLine"/> (its start) and the rest of it is skipped, so garbage cannot grow the buffer.
/// </summary>
internal sealed class BabelLineFramer
{
    private readonly byte[] _line = new byte[BabelCodec.MaxLineBytes];
    private int _length;
    private bool _skipping;

    public void Feed(ReadOnlySpan<byte> data, List<BabelLine> lines)
    {
        while (!data.IsEmpty)
        {
            var newline = data.IndexOf((byte)'\n');
            var chunk = newline < 0 ? data : data[..newline];
            if (!_skipping)
            {
                var take = Math.Min(_line.Length - _length, chunk.Length);
                chunk[..take].CopyTo(_line.AsSpan(_length));
                _length += take;
                if (take < chunk.Length)
                {
                    var start = Encoding.UTF8.GetString(_line, 0, 80);
                    lines.Add(new BabelInvalidLine(start + "...", $"longer than {BabelCodec.MaxLineBytes} bytes"));
                    _skipping = true;
                }
            }
            if (newline < 0)
                return;
            if (!_skipping)
                lines.Add(BabelCodec.Parse(Encoding.UTF8.GetString(_line, 0, _length)));
            _length = 0;
            _skipping = false;
            data = data[(newline + 1)..];
        }
    }
}
