using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace WgRouted.Integrations.Netlink;

public sealed partial class WireGuardControl
{
    private const int MaxUapiReply = 16 * 1024 * 1024;

    /// <summary>Null when no UAPI socket answers for this name.</summary>
    private WireGuardDevice? UapiGet(string name)
    {
        var reply = UapiExchange(name, "get=1\n\n");
        return reply is null ? null : ParseUapi(name, reply);
    }

    /// <summary>False when no UAPI socket answers for this name.</summary>
    private bool UapiSet(string name, string body)
    {
        var reply = UapiExchange(name, $"set=1\n{body}\n");
        if (reply is null)
            return false;
        var errno = ParseErrno(reply);
        if (errno != 0)
            throw new NetlinkException($"UAPI set on {name} ({body.Split('\n')[0].Split('=')[0]}...)", errno);
        return true;
    }

    private string? UapiExchange(string name, string request)
    {
        var path = Path.Combine(socketDirectory, $"{name}.sock");
        if (!File.Exists(path))
            return null;
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            return null; // a stale socket file left by a dead daemon
        }
        socket.ReceiveTimeout = 5000;
        socket.SendTimeout = 5000;
        socket.Send(Encoding.UTF8.GetBytes(request));
        var reply = new StringBuilder();
        var buffer = new byte[8192];
        while (true)
        {
            var n = socket.Receive(buffer);
            if (n == 0)
                break;
            reply.Append(Encoding.UTF8.GetString(buffer, 0, n));
            if (reply.Length >= 2 && reply[^1] == '\n' && reply[^2] == '\n')
                break;
            if (reply.Length > MaxUapiReply)
                throw new InvalidDataException($"UAPI reply from {path} exceeds {MaxUapiReply} bytes");
        }
        return reply.ToString();
    }

    internal static int ParseErrno(string reply)
    {
        foreach (var line in reply.Split('\n'))
            if (line.StartsWith("errno=", StringComparison.Ordinal))
                return int.TryParse(line.AsSpan(6), NumberStyles.Integer, CultureInfo.InvariantCulture, out var errno)
                    ? errno
                    : throw new InvalidDataException($"UAPI: bad errno line '{line}'");
        throw new InvalidDataException("UAPI reply without errno");
    }

    /// <summary>Parses a `get=1` reply (keys in hex, one key=value a line, peers start at public_key=).</summary>
    internal static WireGuardDevice ParseUapi(string name, string reply)
    {
        byte[]? privateKey = null;
        ushort port = 0;
        uint mark = 0;
        var peers = new List<WireGuardPeer>();
        WireGuardPeer? peer = null;
        List<IPNetwork>? allowed = null;
        long handshakeSeconds = 0, handshakeNanoseconds = 0;
        int? errno = null;

        void FinishPeer()
        {
            if (peer is null)
                return;
            var handshake = handshakeSeconds == 0 && handshakeNanoseconds == 0
                ? (DateTimeOffset?)null
                : WireGuardGenlCodec.Timestamp(handshakeSeconds, handshakeNanoseconds);
            peers.Add(peer with { AllowedIps = allowed!, LatestHandshake = handshake });
            peer = null;
        }

        foreach (var line in reply.Split('\n'))
        {
            if (line.Length == 0)
                continue;
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                throw new InvalidDataException($"UAPI {name}: line without key=value: '{line}'");
            var key = line[..eq];
            var value = line[(eq + 1)..];
            switch (key)
            {
                case "private_key": privateKey = HexKey(value, key); break;
                case "listen_port": port = ushort.Parse(value, CultureInfo.InvariantCulture); break;
                case "fwmark": mark = uint.Parse(value, CultureInfo.InvariantCulture); break;
                case "public_key":
                    FinishPeer();
                    peer = new WireGuardPeer(Convert.ToBase64String(HexKey(value, key)), false, null, [], null, 0, 0, 0);
                    allowed = [];
                    handshakeSeconds = handshakeNanoseconds = 0;
                    break;
                case "errno": errno = int.Parse(value, CultureInfo.InvariantCulture); break;
                default:
                    if (peer is null)
                        throw new InvalidDataException($"UAPI {name}: peer key '{key}' before any public_key");
                    switch (key)
                    {
                        case "preshared_key":
                            var psk = HexKey(value, key);
                            var has = psk.AsSpan().ContainsAnyExcept((byte)0);
                            peer = peer with { HasPresharedKey = has, PresharedKey = has ? psk : null };
                            break;
                        case "endpoint": peer = peer with { Endpoint = IPEndPoint.Parse(value) }; break;
                        case "last_handshake_time_sec": handshakeSeconds = long.Parse(value, CultureInfo.InvariantCulture); break;
                        case "last_handshake_time_nsec": handshakeNanoseconds = long.Parse(value, CultureInfo.InvariantCulture); break;
                        case "rx_bytes": peer = peer with { RxBytes = ulong.Parse(value, CultureInfo.InvariantCulture) }; break;
                        case "tx_bytes": peer = peer with { TxBytes = ulong.Parse(value, CultureInfo.InvariantCulture) }; break;
                        case "persistent_keepalive_interval": peer = peer with { PersistentKeepalive = ushort.Parse(value, CultureInfo.InvariantCulture) }; break;
                        case "allowed_ip": allowed!.Add(IPNetwork.Parse(value)); break;
                        case "protocol_version": break;
                        default: throw new InvalidDataException($"UAPI {name}: unknown key '{key}'");
                    }
                    break;
            }
        }
        FinishPeer();
        if (errno is null)
            throw new InvalidDataException($"UAPI {name}: reply without errno");
        if (errno != 0)
            throw new NetlinkException($"UAPI get on {name}", errno.Value);
        var publicKey = privateKey is null ? null : Convert.ToBase64String(WireGuardKeys.PublicKey(privateKey));
        return new WireGuardDevice(name, publicKey, privateKey, port, mark, peers);
    }

    private static byte[] HexKey(string hex, string key) =>
        hex.Length == 64 ? Convert.FromHexString(hex) : throw new InvalidDataException($"UAPI {key}: not 64 hex digits");
}
