// wgr-probe-farm PEERS_FILE ROUTER_PUBLIC_KEY PORT SECONDS
// The responders of many peers in one process, for the scale bench: PEERS_FILE has one line per peer,
// "PRIVATE_KEY_BASE64 IPV4 IPV6" (the peer's endpoint addresses, on this namespace's lo). A request is answered with the
// key of the peer whose address it was sent to (IP_PKTINFO); a move is answered as followed. Prints the answers a second.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using WgRouted.Engine;
using WgRouted.Engine.Probe;

if (args.Length != 4)
{
    Console.Error.WriteLine("usage: wgr-probe-farm PEERS_FILE ROUTER_PUBLIC_KEY PORT SECONDS");
    return 2;
}
var router = PeerKey.Parse(args[1]);
var port = int.Parse(args[2], CultureInfo.InvariantCulture);
var seconds = double.Parse(args[3], CultureInfo.InvariantCulture);
var byAddress = new Dictionary<IPAddress, (PeerKey Us, ProbeKey Key)>();
foreach (var line in File.ReadLines(args[0]))
{
    var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    if (f.Length != 3)
        continue;
    var secret = Convert.FromBase64String(f[0]);
    var us = PeerKey.FromBytes(new Org.BouncyCastle.Crypto.Parameters.X25519PrivateKeyParameters(secret).GeneratePublicKey().GetEncoded());
    var key = ProbeKeys.Derive(secret, us.ToBytes(), router.ToBytes());
    foreach (var a in f[1..])
    {
        var ip = IPAddress.Parse(a);
        if (!IsLab(ip))
            throw new ArgumentException($"{ip} is not a lab address (198.18.0.0/15, fd00::/8)");
        byAddress[ip] = (us, key);
    }
}
Console.Error.WriteLine($"{byAddress.Count} addresses of {byAddress.Values.Select(v => v.Us).Distinct().Count()} peers");

using var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true };
socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.PacketInformation, true);
socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.PacketInformation, true);
socket.ReceiveBufferSize = 4 << 20;
socket.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
socket.ReceiveTimeout = 1000;
var buffer = new byte[ProbeCodec.MaxSize + 1];
var reply = new byte[ProbeCodec.ReplySize];
var sequences = new Dictionary<PeerKey, ProbeSequence>();
// One replay window per peer, as each peer's own responder keeps: the router numbers its requests per peer.
var guards = new Dictionary<PeerKey, ProbeGuard>();
long answered = 0, refused = 0, lastAnswered = 0;
var clock = Stopwatch.StartNew();
var nextReport = 1.0;
while (clock.Elapsed.TotalSeconds < seconds)
{
    EndPoint from = new IPEndPoint(IPAddress.IPv6Any, 0);
    var flags = SocketFlags.None;
    int n;
    IPPacketInformation info;
    try
    {
        n = socket.ReceiveMessageFrom(buffer, ref flags, ref from, out info);
    }
    catch (SocketException)
    {
        n = -1;
        info = default;
    }
    if (n > 0)
    {
        var to = info.Address.IsIPv4MappedToIPv6 ? info.Address.MapToIPv4() : info.Address;
        var source = (IPEndPoint)from;
        var src = source.Address.IsIPv4MappedToIPv6 ? source.Address.MapToIPv4() : source.Address;
        var now = DateTimeOffset.UtcNow;
        if (byAddress.TryGetValue(to, out var peer)
            && ProbeCodec.TryDecode(buffer.AsSpan(0, n), k => k == router ? peer.Key : null, out var message, out _)
            && (message is MoveRequest || (guards.TryGetValue(peer.Us, out var guard) ? guard : guards[peer.Us] = new ProbeGuard()).TryAccept(message, now, out _)))
        {
            if (!sequences.TryGetValue(peer.Us, out var sequence))
                sequences[peer.Us] = sequence = new ProbeSequence();
            var observed = new Endpoint(src, source.Port);
            ProbeAnswer? answer = message switch
            {
                ProbeRequest r => r.Reply(peer.Us, sequence.Next(now), now, observed, new Endpoint(src, 51820)),
                MoveRequest m => m.Reply(peer.Us, sequence.Next(now), now, observed, m.Requested),
                _ => null,
            };
            if (answer is not null)
            {
                var length = ProbeCodec.Encode(answer, peer.Key, reply);
                socket.SendTo(reply.AsSpan(0, length), SocketFlags.None, source);
                answered++;
            }
        }
        else
            refused++;
    }
    if (clock.Elapsed.TotalSeconds >= nextReport)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"t={nextReport:F0} answered_per_s={answered - lastAnswered} refused={refused}"));
        lastAnswered = answered;
        nextReport += 1;
    }
}
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total answered={answered} refused={refused}"));
return 0;

static bool IsLab(IPAddress ip) =>
    ip.AddressFamily == AddressFamily.InterNetwork
        ? ip.GetAddressBytes() is [198, 18 or 19, ..]
        : ip.GetAddressBytes()[0] == 0xfd && ip.GetAddressBytes()[1] == 0x00;
