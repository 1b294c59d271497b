using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace WgRouted.Integrations.Netlink;

/// <summary>Generic netlink messages of the "wireguard" family (include/uapi/linux/wireguard.h) and the controller lookup.</summary>
internal static class WireGuardGenlCodec
{
    public const ushort GENL_ID_CTRL = 0x10;
    public const byte CTRL_CMD_GETFAMILY = 3;
    public const ushort CTRL_ATTR_FAMILY_ID = 1;
    public const ushort CTRL_ATTR_FAMILY_NAME = 2;
    public const string FamilyName = "wireguard";
    public const byte WG_GENL_VERSION = 1;
    public const byte WG_CMD_GET_DEVICE = 0;
    public const byte WG_CMD_SET_DEVICE = 1;

    public const ushort WGDEVICE_A_IFINDEX = 1;
    public const ushort WGDEVICE_A_IFNAME = 2;
    public const ushort WGDEVICE_A_PRIVATE_KEY = 3;
    public const ushort WGDEVICE_A_PUBLIC_KEY = 4;
    public const ushort WGDEVICE_A_FLAGS = 5;
    public const ushort WGDEVICE_A_LISTEN_PORT = 6;
    public const ushort WGDEVICE_A_FWMARK = 7;
    public const ushort WGDEVICE_A_PEERS = 8;

    public const ushort WGPEER_A_PUBLIC_KEY = 1;
    public const ushort WGPEER_A_PRESHARED_KEY = 2;
    public const ushort WGPEER_A_FLAGS = 3;
    public const ushort WGPEER_A_ENDPOINT = 4;
    public const ushort WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL = 5;
    public const ushort WGPEER_A_LAST_HANDSHAKE_TIME = 6;
    public const ushort WGPEER_A_RX_BYTES = 7;
    public const ushort WGPEER_A_TX_BYTES = 8;
    public const ushort WGPEER_A_ALLOWEDIPS = 9;

    public const uint WGPEER_F_UPDATE_ONLY = 4;

    public const ushort WGALLOWEDIP_A_FAMILY = 1;
    public const ushort WGALLOWEDIP_A_IPADDR = 2;
    public const ushort WGALLOWEDIP_A_CIDR_MASK = 3;

    private const ushort Ack = NetlinkMessage.NLM_F_REQUEST | NetlinkMessage.NLM_F_ACK;

    public static byte[] EncodeGetFamily(uint seq)
    {
        var w = new NetlinkWriter(GENL_ID_CTRL, Ack, seq);
        w.Put(new GenlMsgHdr { Command = CTRL_CMD_GETFAMILY, Version = 1 });
        w.String(CTRL_ATTR_FAMILY_NAME, FamilyName);
        return w.ToArray();
    }

    public static ushort DecodeFamilyId(ReadOnlySpan<byte> payload)
    {
        var attributes = new NetlinkAttributes(payload[Math.Min(4, payload.Length)..]);
        while (attributes.Next(out var type, out var value))
            if (type == CTRL_ATTR_FAMILY_ID)
                return Wire.U16(value, "CTRL_ATTR_FAMILY_ID");
        throw new NetlinkFormatException("CTRL_CMD_GETFAMILY reply without CTRL_ATTR_FAMILY_ID");
    }

    /// <summary>GET_DEVICE is a dump: one device can take several messages when it has many peers.</summary>
    public static byte[] EncodeGetDevice(ushort family, string name, uint seq)
    {
        var w = new NetlinkWriter(family, Ack | NetlinkMessage.NLM_F_DUMP, seq);
        w.Put(new GenlMsgHdr { Command = WG_CMD_GET_DEVICE, Version = WG_GENL_VERSION });
        w.String(WGDEVICE_A_IFNAME, name);
        return w.ToArray();
    }

    /// <summary>Sets one existing peer's endpoint (WGPEER_F_UPDATE_ONLY: never creates a peer).</summary>
    public static byte[] EncodeSetEndpoint(ushort family, string name, ReadOnlySpan<byte> peerPublicKey, IPEndPoint endpoint, uint seq)
    {
        var w = new NetlinkWriter(family, Ack, seq);
        w.Put(new GenlMsgHdr { Command = WG_CMD_SET_DEVICE, Version = WG_GENL_VERSION });
        w.String(WGDEVICE_A_IFNAME, name);
        var peers = w.BeginNest(WGDEVICE_A_PEERS);
        var peer = w.BeginNest(0);
        w.Attribute(WGPEER_A_PUBLIC_KEY, peerPublicKey);
        w.U32(WGPEER_A_FLAGS, WGPEER_F_UPDATE_ONLY);
        w.Attribute(WGPEER_A_ENDPOINT, EncodeSockaddr(endpoint));
        w.EndNest(peer);
        w.EndNest(peers);
        return w.ToArray();
    }

    public static byte[] EncodeSetFirewallMark(ushort family, string name, uint mark, uint seq)
    {
        var w = new NetlinkWriter(family, Ack, seq);
        w.Put(new GenlMsgHdr { Command = WG_CMD_SET_DEVICE, Version = WG_GENL_VERSION });
        w.String(WGDEVICE_A_IFNAME, name);
        w.U32(WGDEVICE_A_FWMARK, mark);
        return w.ToArray();
    }

    /// <summary>Folds the messages of one GET_DEVICE dump into one device.</summary>
    public static WireGuardDevice DecodeDevice(IEnumerable<ReadOnlyMemory<byte>> payloads)
    {
        string? name = null, publicKey = null;
        byte[]? privateKey = null;
        ushort port = 0;
        uint mark = 0;
        var peers = new List<PeerBuilder>();
        foreach (var payload in payloads)
        {
            var attributes = new NetlinkAttributes(payload.Span[Math.Min(4, payload.Length)..]);
            while (attributes.Next(out var type, out var value))
            {
                switch (type)
                {
                    case WGDEVICE_A_IFNAME: name = Wire.String(value); break;
                    case WGDEVICE_A_PRIVATE_KEY: privateKey = Key(value, "WGDEVICE_A_PRIVATE_KEY"); break;
                    case WGDEVICE_A_PUBLIC_KEY: publicKey = Convert.ToBase64String(Key(value, "WGDEVICE_A_PUBLIC_KEY")); break;
                    case WGDEVICE_A_LISTEN_PORT: port = Wire.U16(value, "WGDEVICE_A_LISTEN_PORT"); break;
                    case WGDEVICE_A_FWMARK: mark = Wire.U32(value, "WGDEVICE_A_FWMARK"); break;
                    case WGDEVICE_A_PEERS:
                        var list = new NetlinkAttributes(value);
                        while (list.Next(out _, out var peerValue))
                        {
                            var peer = DecodePeer(peerValue);
                            // A peer too big for one message continues in the next with the same public key:
                            // wireguard-tools merges them the same way.
                            if (peers.Count > 0 && peers[^1].PublicKey == peer.PublicKey)
                                peers[^1].AllowedIps.AddRange(peer.AllowedIps);
                            else
                                peers.Add(peer);
                        }
                        break;
                }
            }
        }
        return new WireGuardDevice(name ?? throw new NetlinkFormatException("GET_DEVICE reply without WGDEVICE_A_IFNAME"),
            publicKey, privateKey, port, mark, peers.ConvertAll(p => p.Build()));
    }

    public static byte[] EncodeSockaddr(IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var v4 = endpoint.AddressFamily == AddressFamily.InterNetwork;
        var bytes = new byte[v4 ? 16 : 28]; // struct sockaddr_in / struct sockaddr_in6
        MemoryMarshal.Write(bytes, (ushort)(v4 ? 2 : 10));
        MemoryMarshal.Write(bytes.AsSpan(2), Wire.BigEndian((ushort)endpoint.Port));
        if (v4)
            endpoint.Address.TryWriteBytes(bytes.AsSpan(4), out _);
        else
        {
            endpoint.Address.TryWriteBytes(bytes.AsSpan(8), out _);
            MemoryMarshal.Write(bytes.AsSpan(24), (uint)endpoint.Address.ScopeId);
        }
        return bytes;
    }

    public static IPEndPoint? DecodeSockaddr(ReadOnlySpan<byte> value)
    {
        var family = Wire.U16(value, "WGPEER_A_ENDPOINT");
        if (family == 0)
            return null;
        if (value.Length < 4)
            throw new NetlinkFormatException($"WGPEER_A_ENDPOINT: {value.Length} bytes");
        var port = Wire.BigEndian(MemoryMarshal.Read<ushort>(value[2..]));
        return (family, value.Length) switch
        {
            (2, >= 16) => new IPEndPoint(new IPAddress(value.Slice(4, 4)), port),
            (10, >= 28) => new IPEndPoint(new IPAddress(value.Slice(8, 16), MemoryMarshal.Read<uint>(value[24..])), port),
            _ => throw new NetlinkFormatException($"WGPEER_A_ENDPOINT: family {family} in {value.Length} bytes"),
        };
    }

    private static PeerBuilder DecodePeer(ReadOnlySpan<byte> data)
    {
        var peer = new PeerBuilder();
        var attributes = new NetlinkAttributes(data);
        while (attributes.Next(out var type, out var value))
        {
            switch (type)
            {
                case WGPEER_A_PUBLIC_KEY: peer.PublicKey = Convert.ToBase64String(Key(value, "WGPEER_A_PUBLIC_KEY")); break;
                case WGPEER_A_PRESHARED_KEY:
                    var psk = Key(value, "WGPEER_A_PRESHARED_KEY");
                    peer.PresharedKey = psk.AsSpan().ContainsAnyExcept((byte)0) ? psk : null;
                    break;
                case WGPEER_A_ENDPOINT: peer.Endpoint = DecodeSockaddr(value); break;
                case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL: peer.Keepalive = Wire.U16(value, "WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL"); break;
                case WGPEER_A_LAST_HANDSHAKE_TIME:
                    var time = Wire.Read<KernelTimespec>(value, "WGPEER_A_LAST_HANDSHAKE_TIME");
                    peer.Handshake = time.Seconds == 0 && time.Nanoseconds == 0 ? null : Timestamp(time.Seconds, time.Nanoseconds);
                    break;
                case WGPEER_A_RX_BYTES: peer.Rx = Wire.U64(value, "WGPEER_A_RX_BYTES"); break;
                case WGPEER_A_TX_BYTES: peer.Tx = Wire.U64(value, "WGPEER_A_TX_BYTES"); break;
                case WGPEER_A_ALLOWEDIPS:
                    var list = new NetlinkAttributes(value);
                    while (list.Next(out _, out var ip))
                        peer.AllowedIps.Add(DecodeAllowedIp(ip));
                    break;
            }
        }
        if (peer.PublicKey.Length == 0)
            throw new NetlinkFormatException("peer without WGPEER_A_PUBLIC_KEY");
        return peer;
    }

    private static IPNetwork DecodeAllowedIp(ReadOnlySpan<byte> data)
    {
        ushort family = 0;
        byte cidr = 0;
        ReadOnlySpan<byte> address = default;
        var attributes = new NetlinkAttributes(data);
        while (attributes.Next(out var type, out var value))
        {
            switch (type)
            {
                case WGALLOWEDIP_A_FAMILY: family = Wire.U16(value, "WGALLOWEDIP_A_FAMILY"); break;
                case WGALLOWEDIP_A_IPADDR: address = value; break;
                case WGALLOWEDIP_A_CIDR_MASK: cidr = Wire.U8(value, "WGALLOWEDIP_A_CIDR_MASK"); break;
            }
        }
        var ip = Wire.Address(address, Wire.Family((byte)family), "WGALLOWEDIP_A_IPADDR");
        if (cidr > (ip.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
            throw new NetlinkFormatException($"WGALLOWEDIP_A_CIDR_MASK {cidr} too long");
        try
        {
            return new IPNetwork(ip, cidr);
        }
        catch (ArgumentException e)
        {
            throw new NetlinkFormatException($"allowed ip {ip}/{cidr}: {e.Message}", e);
        }
    }

    public static DateTimeOffset Timestamp(long seconds, long nanoseconds) =>
        seconds is >= 0 and <= MaxUnixSeconds && nanoseconds is >= 0 and < 1_000_000_000
            ? DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(nanoseconds / 100)
            : throw new NetlinkFormatException($"handshake time {seconds}.{nanoseconds} out of range");

    private const long MaxUnixSeconds = 253_402_300_798; // 9999-12-31, DateTimeOffset's limit

    private static byte[] Key(ReadOnlySpan<byte> value, string what) =>
        value.Length == 32 ? value.ToArray() : throw new NetlinkFormatException($"{what}: {value.Length} bytes, need 32");

    [StructLayout(LayoutKind.Sequential)]
    private struct KernelTimespec // struct __kernel_timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    private sealed class PeerBuilder
    {
        public string PublicKey { get; set; } = "";
        public byte[]? PresharedKey { get; set; }
        public IPEndPoint? Endpoint { get; set; }
        public ushort Keepalive { get; set; }
        public DateTimeOffset? Handshake { get; set; }
        public ulong Rx { get; set; }
        public ulong Tx { get; set; }
        public List<IPNetwork> AllowedIps { get; } = [];

        public WireGuardPeer Build() => new(PublicKey, PresharedKey is not null, Endpoint, AllowedIps, Handshake, Rx, Tx, Keepalive) { PresharedKey = PresharedKey };
    }
}
