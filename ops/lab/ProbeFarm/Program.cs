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

// Threads, each on its own socket sharing the port (SO_REUSEPORT: the kernel spreads the router's paths
// over them). A receive buffer for a burst: 1,000 real peers would each take their own few probes, never queueing, so a
// drop here is the farm's and not the router's (it was: at 1,000 peers a 128 KB buffer dropped half of the requests as
// they came in bursts, the paths flapped, and the switches took the router's CPU). SO_RCVBUFFORCE passes rmem_max
// (root); ops/lab/scale reports the drops that remain (RcvbufErrors) beside the daemon's figures.
const int SoReusePort = 15; // SOL_SOCKET, <asm-generic/socket.h>
const int SoRcvBufForce = 33;
// Two a core: a thread the scheduler holds back a moment leaves its socket to queue, not the farm to stop answering.
var threads = Math.Max(2, 2 * Environment.ProcessorCount);
var sockets = new List<Socket>();
for (var t = 0; t < threads; t++)
{
    var s = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true };
    s.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.PacketInformation, true);
    s.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.PacketInformation, true);
    s.SetRawSocketOption(1, SoReusePort, BitConverter.GetBytes(1));
    s.SetRawSocketOption(1, SoRcvBufForce, BitConverter.GetBytes(4 << 20));
    s.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
    s.ReceiveTimeout = 1000;
    sockets.Add(s);
}
// One replay window per peer, as each peer's own responder keeps: the router numbers its requests per peer. Made up
// front, locked while used: a peer's paths land on different threads.
var peers = byAddress.Values.Select(v => v.Us).Distinct().ToDictionary(p => p, _ => (Sequence: new ProbeSequence(), Guard: new ProbeGuard()));
// The scale bench starts wg-routed only after this line: probes sent before it would all be missed, every path down at once.
Console.Error.WriteLine($"listening on port {port} with {threads} threads");
long answered = 0, refused = 0;
// Why probes were refused, by the decoder's or the guard's error ("NoSuchAddress": sent to no peer's address).
var refusedBy = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
string Reasons() => string.Join(",", refusedBy.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}:{r.Value}"));
var clock = Stopwatch.StartNew();
var serving = sockets.Select(socket => new Thread(() => Serve(socket)) { IsBackground = true }).ToList();
serving.ForEach(t => t.Start());
long lastAnswered = 0;
for (var second = 1; second <= seconds; second++)
{
    Thread.Sleep(TimeSpan.FromSeconds(second) - clock.Elapsed is { Ticks: > 0 } wait ? wait : TimeSpan.Zero);
    var now = Interlocked.Read(ref answered);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"t={second} answered_per_s={now - lastAnswered} refused={Interlocked.Read(ref refused)} {Reasons()}"));
    lastAnswered = now;
}
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total answered={Interlocked.Read(ref answered)} refused={Interlocked.Read(ref refused)} {Reasons()}"));
sockets.ForEach(s => s.Dispose());
return 0;

void Refuse(string why)
{
    Interlocked.Increment(ref refused);
    refusedBy.AddOrUpdate(why, 1, (_, n) => n + 1);
}

void Serve(Socket socket)
{
    var buffer = new byte[ProbeCodec.MaxSize + 1];
    var reply = new byte[ProbeCodec.ReplySize];
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
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            continue;
        }
        var to = info.Address.IsIPv4MappedToIPv6 ? info.Address.MapToIPv4() : info.Address;
        var source = (IPEndPoint)from;
        var src = source.Address.IsIPv4MappedToIPv6 ? source.Address.MapToIPv4() : source.Address;
        var now = DateTimeOffset.UtcNow;
        if (!byAddress.TryGetValue(to, out var peer))
        {
            Refuse("NoSuchAddress");
            continue;
        }
        if (!ProbeCodec.TryDecode(buffer.AsSpan(0, n), k => k == router ? peer.Key : null, out var message, out var error))
        {
            Refuse(error.ToString());
            continue;
        }
        var state = peers[peer.Us];
        var fresh = true;
        lock (state.Guard)
            if (message is not MoveRequest)
                fresh = state.Guard.TryAccept(message, now, out error);
        if (!fresh)
        {
            Refuse(error.ToString());
            continue;
        }
        var observed = new Endpoint(src, source.Port);
        ProbeAnswer? answer = message switch
        {
            ProbeRequest r => r.Reply(peer.Us, state.Sequence.Next(now), now, observed, new Endpoint(src, 51820)),
            MoveRequest m => m.Reply(peer.Us, state.Sequence.Next(now), now, observed, m.Requested),
            _ => null,
        };
        if (answer is null)
            continue;
        var length = ProbeCodec.Encode(answer, peer.Key, reply);
        // From the address the request went to, as the peer's own responder answers.
        if (!WgRouted.Lab.ProbeFarm.ReplyFrom.Send(socket, reply.AsSpan(0, length), source, to, out var errno))
        {
            Refuse($"SendErrno{errno}");
            continue;
        }
        Interlocked.Increment(ref answered);
    }
}

static bool IsLab(IPAddress ip) =>
    ip.AddressFamily == AddressFamily.InterNetwork
        ? ip.GetAddressBytes() is [198, 18 or 19, ..]
        : ip.GetAddressBytes()[0] == 0xfd && ip.GetAddressBytes()[1] == 0x00;
