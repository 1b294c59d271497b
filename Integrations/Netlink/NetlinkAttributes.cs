using System.Runtime.InteropServices;

namespace WgRouted.Integrations.Netlink;

/// <summary>Walks the struct nlattr list of one message or nest.</summary>
internal ref struct NetlinkAttributes(ReadOnlySpan<byte> data)
{
    private const ushort TypeMask = 0x3fff; // strips NLA_F_NESTED and NLA_F_NET_BYTEORDER
    private ReadOnlySpan<byte> _rest = data;

    public bool Next(out ushort type, out ReadOnlySpan<byte> value)
    {
        // Trailing padding shorter than a header is tolerated, as libmnl does.
        if (_rest.Length < 4)
        {
            type = 0;
            value = default;
            return false;
        }
        var length = MemoryMarshal.Read<ushort>(_rest);
        if (length < 4 || length > _rest.Length)
            throw new NetlinkFormatException($"attribute length {length} with {_rest.Length} bytes left");
        type = (ushort)(MemoryMarshal.Read<ushort>(_rest[2..]) & TypeMask);
        value = _rest[4..length];
        var aligned = Wire.Align(length);
        _rest = aligned >= _rest.Length ? default : _rest[aligned..];
        return true;
    }
}
