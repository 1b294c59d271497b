// The responder's capacity, run as root: dotnet run -c Release --project bench/WgRouted.Bench.Responder [peers] [seconds]
// The real Responder on a real UDP socket in a throw-away network namespace (wgrbench + random hex, 198.18.0.1 on lo).
// One client in the same process sends (a) valid probe requests round-robin over PEERS configured peers as fast as
// they are answered, (b) a flood of requests with bad MACs, each for SECONDS. CPU is the whole process's (client
// included), so the per-core figures are lower bounds for the responder alone.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using WgRouted.Engine;
using WgRouted.Engine.Probe;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Configuration;
using WgRouted.Service.Daemon;
using WgRouted.Service.Probing;

var peers = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2000;
var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 5;
const int Window = 64;
var address = IPAddress.Parse("198.18.0.1");

var ns = "wgrbench" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
Sh("ip", $"netns add {ns}");
var dir = Directory.CreateTempSubdirectory("wgr-bench-responder-").FullName;
try
{
    Sh("ip", $"-n {ns} link set lo up");
    Sh("ip", $"-n {ns} addr add {address}/32 dev lo");

    var ourPrivate = RandomNumberGenerator.GetBytes(32);
    var ourPublic = PeerKey.FromBytes(WireGuardKeys.PublicKey(ourPrivate));
    var theirs = Enumerable.Range(0, peers).Select(_ => RandomNumberGenerator.GetBytes(32)).ToArray();
    var keys = theirs.Select(k => PeerKey.FromBytes(WireGuardKeys.PublicKey(k))).ToArray();
    var config = ConfigurationLoader.Validate(new WgRoutedOptions
    {
        DataDirectory = dir,
        Interfaces = [new InterfaceOptions
        {
            Name = "wgrbench0", Fwmark = "0x5157",
            Peers = keys.Select(k => new PeerOptions { PublicKey = k.Base64, Endpoints = [] }).ToList(),
        }],
    });
    using var control = new WireGuardControl(networkNamespace: null, socketDirectory: dir);
    var keyring = new Keyring(config, control, NullLogger<Keyring>.Instance);
    keyring.Observe("wgrbench0", new WireGuardDevice("wgrbench0", ourPublic.Base64, ourPrivate, 51820, 0x5157,
        keys.Select((k, i) => new WireGuardPeer(k.Base64, false, new IPEndPoint(IPAddress.Parse($"198.19.{i / 250}.{1 + i % 250}"), 51820), [], null, 0, 0, 0)).ToList()));
    var probeKeys = theirs.Select((k, i) => ProbeKeys.Derive(k, keys[i].ToBytes(), ourPublic.ToBytes())).ToArray();

    var inbox = new Inbox();
    var commands = new Mailbox<ResponderCommand>();
    BindDatagram bind = (local, device) => NetworkNamespace.Run(ns, () => UdpDatagramSocket.Bind(local, device));
    using var responder = new Responder(config, keyring, control, new Fences(NullLogger<Fences>.Instance), inbox, commands, bind,
        TimeProvider.System, NullLogger<Responder>.Instance);
    await responder.StartAsync(CancellationToken.None);
    commands.Post(new ListenOn(new HashSet<IPAddress> { address }));
    var to = new IPEndPoint(address, config.Options.Probe.Port);
    using var client = NetworkNamespace.Run(ns, () =>
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(address, 0));
        s.ReceiveTimeout = 200;
        return s;
    });
    await Task.Delay(200);

    var sequences = keys.Select(_ => new ProbeSequence()).ToArray();
    var request = new byte[ProbeCodec.RequestSize];
    var answer = new byte[ProbeCodec.MaxSize + 1];

    // (a) valid requests, at most Window outstanding, for `seconds`.
    var (sent, answered, wall, cpu) = Measure(() =>
    {
        long s = 0, a = 0;
        var inFlight = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            while (inFlight < Window)
            {
                var i = (int)(s % peers);
                var now = DateTimeOffset.UtcNow;
                var n = ProbeCodec.Encode(new ProbeRequest(keys[i], sequences[i].Next(now), now), probeKeys[i], request);
                client.SendTo(request.AsSpan(0, n), to);
                s++;
                inFlight++;
            }
            try
            {
                client.Receive(answer);
                a++;
                inFlight--;
            }
            catch (SocketException)
            {
                inFlight = 0; // lost ones (budget, rate): start a new window
            }
        }
        return (s, a);
    });
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"(a) valid probes: {sent} sent, {answered} answered in {wall:F1} s = {answered / wall:F0} answers/s at {100 * cpu / wall:F0} % of one core (process) = {answered / cpu:F0} answers per CPU-second"));
    Console.WriteLine($"    engine inputs posted: {Drain(inbox)} (none expected: probes are answered, not posted)");

    // (b) bad MACs, sent as fast as one thread can for `seconds`; the responder drops them after the MAC.
    var forged = new byte[ProbeCodec.RequestSize];
    var now0 = DateTimeOffset.UtcNow;
    ProbeCodec.Encode(new ProbeRequest(keys[0], sequences[0].Next(now0), now0), probeKeys[0], forged);
    forged[^1] ^= 1;
    var before = responder.Refused.GetValueOrDefault(ProbeError.BadMac.Describe());
    var (flood, _, floodWall, floodCpu) = Measure(() =>
    {
        long s = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds && s < 5_000_000)
        {
            client.SendTo(forged, to);
            s++;
        }
        return (s, 0L);
    });
    await Task.Delay(500);
    var refused = responder.Refused.GetValueOrDefault(ProbeError.BadMac.Describe()) - before;
    var overBudget = responder.Refused.GetValueOrDefault("over the pre-authentication budget");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"(b) bad-MAC flood: {flood} sent in {floodWall:F1} s ({flood / floodWall:F0}/s); {refused} checked and refused, {overBudget} over the pre-authentication budget; {100 * floodCpu / floodWall:F0} % of one core (process)"));
    // (c) after the flood, a valid probe of a peer is still answered.
    var late = DateTimeOffset.UtcNow;
    var ln = ProbeCodec.Encode(new ProbeRequest(keys[1], sequences[1].Next(late), late), probeKeys[1], request);
    while (client.Available > 0)
        client.Receive(answer);
    client.ReceiveTimeout = 2000;
    client.SendTo(request.AsSpan(0, ln), to);
    Console.WriteLine($"(c) a peer's probe after the flood: {(TryReceive(client, answer) ? "answered" : "NOT answered")}");
    await responder.StopAsync(CancellationToken.None);
}
finally
{
    Sh("ip", $"netns del {ns}");
    Directory.Delete(dir, recursive: true);
}

static (long Sent, long Answered, double Wall, double Cpu) Measure(Func<(long, long)> work)
{
    var process = Process.GetCurrentProcess();
    var cpu0 = process.TotalProcessorTime;
    var clock = Stopwatch.StartNew();
    var (s, a) = work();
    var wall = clock.Elapsed.TotalSeconds;
    process.Refresh();
    return (s, a, wall, (process.TotalProcessorTime - cpu0).TotalSeconds);
}

static bool TryReceive(Socket socket, byte[] buffer)
{
    try
    {
        socket.Receive(buffer);
        return true;
    }
    catch (SocketException)
    {
        return false;
    }
}

static int Drain(Inbox inbox)
{
    var n = 0;
    while (inbox.Reader.TryRead(out _))
        n++;
    return n;
}

static void Sh(string program, string arguments)
{
    using var p = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardError = true, UseShellExecute = false })!;
    var error = p.StandardError.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0)
        throw new InvalidOperationException($"{program} {arguments}: {error}");
}
