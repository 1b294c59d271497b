using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using WgRouted.Engine;
using WgRouted.Engine.Probe;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Probing;

namespace WgRouted.Service.Cli;

/// <summary>`probe`: send probes over one path to the peer's responder and print each round trip, like ping.</summary>
internal static class ProbeCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var peer = new Option<string>("--peer") { Description = "the peer's public key (base64)", Required = true };
        var from = new Option<string>("--from") { Description = "our source address", Required = true };
        var to = new Option<string?>("--to") { Description = "the peer's address (default: its first endpoint of the source's family)" };
        var count = new Option<int>("--count", "-n") { Description = "probes to send (1..10000)", DefaultValueFactory = _ => 10 };
        var interval = new Option<int>("--interval", "-i") { Description = "milliseconds between probes (10..10000)", DefaultValueFactory = _ => 100 };
        var json = CommonOptions.Json();
        var command = new Command("probe", "probe one path to a peer's responder and print the round trips")
            { config, peer, from, to, count, interval, json };
        command.SetAction(parse =>
        {
            var loaded = CommonOptions.LoadOrReport(parse.GetRequiredValue(config));
            if (loaded is null)
                return CommonOptions.Failure;
            if (!PeerKey.TryParse(parse.GetRequiredValue(peer), out var key, out var keyError))
                return Usage($"--peer: {keyError}");
            if (!IPAddress.TryParse(parse.GetRequiredValue(from), out var src))
                return Usage($"--from: '{parse.GetRequiredValue(from)}' is not an IP address");
            var n = parse.GetValue(count);
            var gap = parse.GetValue(interval);
            if (n is < 1 or > 10000)
                return Usage($"--count: {n} is not 1..10000");
            if (gap is < 10 or > 10000)
                return Usage($"--interval: {gap} is not 10..10000");
            var configured = loaded.Peers.FirstOrDefault(p => p.Peer.PublicKey == key);
            if (configured.Peer is null)
                return Usage($"--peer: {key} is not a configured peer");
            IPAddress? dst = null;
            if (parse.GetValue(to) is { } t && !IPAddress.TryParse(t, out dst))
                return Usage($"--to: '{t}' is not an IP address");
            dst ??= configured.Peer.Endpoints.Select(e => e.Literal).FirstOrDefault(a => a?.AddressFamily == src.AddressFamily);
            if (dst is null)
                return Usage($"peer {key} has no literal endpoint of {src.AddressFamily}; give --to");

            using var control = new WireGuardControl();
            var keyring = new Keyring(loaded, control, NullLogger<Keyring>.Instance);
            if (!keyring.Refresh(configured.Interface) || keyring.KeyFor(key) is not { } probeKey || keyring.Us(key) is not { } us)
            {
                Console.Error.WriteLine($"cannot read the keys of {configured.Interface.Name}");
                return CommonOptions.Failure;
            }
            using var socket = UdpSockets.Bind(new IPEndPoint(src, 0), device: null);
            socket.ReceiveTimeout = Math.Max(gap, 1000);
            var remote = new IPEndPoint(dst, configured.Peer.ProbePort);
            var sequence = new ProbeSequence();
            var guard = new ProbeGuard();
            var request = new byte[ProbeCodec.RequestSize];
            var buffer = new byte[ProbeCodec.MaxSize + 1];
            var rtts = new List<double>();
            for (var i = 0; i < n; i++)
            {
                var now = DateTimeOffset.UtcNow;
                var seq = sequence.Next(now);
                var length = ProbeCodec.Encode(new ProbeRequest(us.Public, seq, now), probeKey, request);
                var sent = Stopwatch.GetTimestamp();
                socket.SendTo(request.AsSpan(0, length), remote);
                double? rtt = null;
                while (rtt is null && Stopwatch.GetElapsedTime(sent).TotalMilliseconds < socket.ReceiveTimeout)
                {
                    int received;
                    try
                    {
                        received = socket.Receive(buffer);
                    }
                    catch (SocketException)
                    {
                        break;
                    }
                    var arrived = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                    if (ProbeCodec.TryDecode(buffer.AsSpan(0, received), s => s == key ? probeKey : null, out var m, out _)
                        && guard.TryAccept(m, DateTimeOffset.UtcNow, out _) && m is ProbeReply r && r.EchoSequence == seq)
                        rtt = arrived;
                }
                if (rtt is { } ms)
                    rtts.Add(ms);
                if (!parse.GetValue(json))
                    Console.WriteLine(rtt is { } v
                        ? string.Create(CultureInfo.InvariantCulture, $"probe {i + 1} {src} -> {remote}: rtt {v:0.000} ms")
                        : $"probe {i + 1} {src} -> {remote}: no answer");
                var wait = gap - Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                if (i + 1 < n && wait > 0)
                    Thread.Sleep(TimeSpan.FromMilliseconds(wait));
            }
            var summary = new ProbeSummary(
                src.ToString(),
                remote.ToString(),
                n,
                rtts.Count,
                rtts.Count > 0 ? rtts.Min() : null,
                rtts.Count > 0 ? rtts.Average() : null,
                rtts.Count > 0 ? rtts.Max() : null);
            Console.WriteLine(parse.GetValue(json)
                ? JsonSerializer.Serialize(summary, CliJson.Create().GetTypeInfo(typeof(ProbeSummary)))
                : string.Create(CultureInfo.InvariantCulture, $"{n} sent, {rtts.Count} answered; rtt min/avg/max {summary.MinMs:0.000}/{summary.AvgMs:0.000}/{summary.MaxMs:0.000} ms"));
            return rtts.Count > 0 ? 0 : CommonOptions.Failure;
        });
        return command;
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine(message);
        return CommandLine.UsageError;
    }
}
