using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace WgRouted.Integrations.Netlink;

/// <summary>Bounds-checked reads of host-order netlink fields.</summary>
internal static class Wire
{
    public static int Align(int length) => (length + 3) & ~3;

    public static T Read<T>(ReadOnlySpan<byte> data, string what) where T : unmanaged
    {
        if (data.Length < Unsafe.SizeOf<T>())
            throw new NetlinkFormatException($"{what}: {data.Length} bytes, need {Unsafe.SizeOf<T>()}");
        return MemoryMarshal.Read<T>(data);
    }

    public static uint U32(ReadOnlySpan<byte> value, string what) =>
        value.Length == 4 ? MemoryMarshal.Read<uint>(value) : throw Bad(what, value.Length);

    public static ushort U16(ReadOnlySpan<byte> value, string what) =>
        value.Length >= 2 ? MemoryMarshal.Read<ushort>(value) : throw Bad(what, value.Length);

    public static ulong U64(ReadOnlySpan<byte> value, string what) =>
        value.Length == 8 ? MemoryMarshal.Read<ulong>(value) : throw Bad(what, value.Length);

    public static byte U8(ReadOnlySpan<byte> value, string what) =>
        value.Length >= 1 ? value[0] : throw Bad(what, value.Length);

    public static string String(ReadOnlySpan<byte> value)
    {
        var end = value.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? value : value[..end]);
    }

    public static IPAddress Address(ReadOnlySpan<byte> value, AddressFamily family, string what) =>
        (family, value.Length) switch
        {
            (AddressFamily.InterNetwork, 4) or (AddressFamily.InterNetworkV6, 16) => new IPAddress(value),
            _ => throw Bad(what, value.Length),
        };

    public static AddressFamily Family(byte family) => family switch
    {
        2 => AddressFamily.InterNetwork,
        10 => AddressFamily.InterNetworkV6,
        _ => AddressFamily.Unknown,
    };

    public static byte Family(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => 2,
        AddressFamily.InterNetworkV6 => 10,
        AddressFamily.Unspecified => 0,
        _ => throw new ArgumentException($"unsupported address family {family}", nameof(family)),
    };

    public static IPAddress Any(AddressFamily family) =>
        family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;

    public static ushort BigEndian(ushort value) =>
        BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value;

    private static NetlinkFormatException Bad(string what, int length) =>
        new($"{what}: unexpected length {length}");
}
