using System.Buffers.Binary;

namespace WgRouted.Integrations.Tests.WireGuard;

/// <summary>
/// A WG_CMD_GET_DEVICE reply built by hand from include/uapi/linux/wireguard.h attribute numbers, the way the
/// kernel splits it: peer A's allowed ips continue in the second message, where peer B follows.
/// </summary>
internal static class GenlFixtures
{
    public static readonly byte[] PrivateKey = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    public static readonly byte[] PublicKey = Enumerable.Range(101, 32).Select(i => (byte)i).ToArray();
    public static readonly byte[] PeerA = Enumerable.Range(33, 32).Select(i => (byte)i).ToArray();
    public static readonly byte[] PeerB = Enumerable.Range(65, 32).Select(i => (byte)i).ToArray();

    private const ushort Nested = 0x8000;

    public static byte[] FirstMessage() =>
    [
        0, 1, 0, 0, // genlmsghdr: WG_CMD_GET_DEVICE, version 1
        .. Attr(2, "wgx\0"u8), // WGDEVICE_A_IFNAME
        .. Attr(3, PrivateKey), // WGDEVICE_A_PRIVATE_KEY
        .. Attr(4, PublicKey), // WGDEVICE_A_PUBLIC_KEY
        .. Attr(6, U16(51820)), // WGDEVICE_A_LISTEN_PORT
        .. Attr(7, U32(0x10)), // WGDEVICE_A_FWMARK
        .. Attr(8 | Nested, Attr(0 | Nested, // WGDEVICE_A_PEERS { peer 0 {
            [
                .. Attr(1, PeerA), // WGPEER_A_PUBLIC_KEY
                .. Attr(2, new byte[32]), // WGPEER_A_PRESHARED_KEY (all zero: none)
                .. Attr(4, [2, 0, 0xca, 0x6c, 198, 18, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]), // WGPEER_A_ENDPOINT sockaddr_in :51820
                .. Attr(5, U16(25)), // WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL
                .. Attr(6, [.. U64(1_700_000_000), .. U64(500_000_000)]), // WGPEER_A_LAST_HANDSHAKE_TIME
                .. Attr(7, U64(100)), // WGPEER_A_RX_BYTES
                .. Attr(8, U64(200)), // WGPEER_A_TX_BYTES
                .. Attr(9 | Nested, Attr(0 | Nested, // WGPEER_A_ALLOWEDIPS { 0 {
                    [.. Attr(1, U16(2)), .. Attr(2, [198, 19, 0, 0]), .. Attr(3, [16])])), // family, ipaddr, cidr
            ])),
    ];

    public static byte[] SecondMessage() =>
    [
        0, 1, 0, 0,
        .. Attr(2, "wgx\0"u8),
        .. Attr(8 | Nested,
            [
                .. Attr(0 | Nested,
                [
                    .. Attr(1, PeerA),
                    .. Attr(9 | Nested, Attr(0 | Nested,
                        [.. Attr(1, U16(10)), .. Attr(2, [0xfd, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), .. Attr(3, [64])])),
                ]),
                .. Attr(1 | Nested,
                [
                    .. Attr(1, PeerB),
                    .. Attr(2, Enumerable.Repeat((byte)7, 32).ToArray()),
                    // sockaddr_in6 [fd00::2]:51821: family, port, flowinfo, address, scope id
                    .. Attr(4, [10, 0, 0xca, 0x6d, 0, 0, 0, 0, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0]),
                ]),
            ]),
    ];

    public static byte[] Attr(int type, ReadOnlySpan<byte> value)
    {
        var bytes = new byte[(4 + value.Length + 3) & ~3];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), (ushort)type);
        value.CopyTo(bytes.AsSpan(4));
        return bytes;
    }

    private static byte[] U16(ushort v) => BitConverter.GetBytes(v);

    private static byte[] U32(uint v) => BitConverter.GetBytes(v);

    private static byte[] U64(ulong v) => BitConverter.GetBytes(v);
}
