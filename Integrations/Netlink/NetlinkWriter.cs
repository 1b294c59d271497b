using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace WgRouted.Integrations.Netlink;

/// <summary>Builds one netlink message: header, fixed family header, attributes, nests.</summary>
internal sealed class NetlinkWriter
{
    private byte[] _buffer = new byte[256];
    private int _length;

    public NetlinkWriter(ushort type, ushort flags, uint seq)
    {
        Put(new NlMsgHdr { Type = type, Flags = flags, Seq = seq });
    }

    public void Put<T>(T header) where T : unmanaged
    {
        var size = Unsafe.SizeOf<T>();
        MemoryMarshal.Write(Reserve(Wire.Align(size)), in header);
    }

    public void Attribute(ushort type, ReadOnlySpan<byte> value)
    {
        var span = Reserve(Wire.Align(4 + value.Length));
        MemoryMarshal.Write(span, (ushort)(4 + value.Length));
        MemoryMarshal.Write(span[2..], type);
        value.CopyTo(span[4..]);
    }

    public void U32(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        MemoryMarshal.Write(bytes, value);
        Attribute(type, bytes);
    }

    public void U16(ushort type, ushort value)
    {
        Span<byte> bytes = stackalloc byte[2];
        MemoryMarshal.Write(bytes, value);
        Attribute(type, bytes);
    }

    public void U8(ushort type, byte value) => Attribute(type, [value]);

    public void String(ushort type, string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        Attribute(type, bytes);
    }

    public void Address(ushort type, IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        Attribute(type, bytes[..written]);
    }

    public int BeginNest(ushort type)
    {
        var start = _length;
        Attribute((ushort)(type | NetlinkMessage.NLA_F_NESTED), []);
        return start;
    }

    public void EndNest(int start) =>
        MemoryMarshal.Write(_buffer.AsSpan(start), (ushort)(_length - start));

    public byte[] ToArray()
    {
        MemoryMarshal.Write(_buffer.AsSpan(), (uint)_length);
        return _buffer.AsSpan(0, _length).ToArray();
    }

    private Span<byte> Reserve(int size)
    {
        if (_length + size > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + size));
        var span = _buffer.AsSpan(_length, size);
        span.Clear();
        _length += size;
        return span;
    }
}
