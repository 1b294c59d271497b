using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using WgRouted.Engine.Probe;

namespace WgRouted.Lab.Attacker;

/// <summary>
/// capture-replay: an on-path observer in inet. Every datagram to the probe port arriving from the router is written to
/// the capture file and sent again to the same destination, after each delay, from each source of its family.
/// </summary>
internal static class CaptureReplay
{
    /// <summary>A capture longer than this is not a probe exchange any more: the bound of the run.</summary>
    private const int MaxPackets = 10_000;

    public static int Run(Arguments a)
    {
        var netns = a.Text("netns");
        var interfaces = a.List("ifaces");
        var port = (int)a.Number("port", 1, 65535);
        var seconds = a.Number("seconds", 1, 60);
        var delays = a.List("delays").Select(d => long.TryParse(d, CultureInfo.InvariantCulture, out var ms) && ms is >= 0 and <= 30_000
            ? ms : throw new UsageException($"--delays: '{d}' is not 0..30000 ms")).ToList();
        var from4 = a.Addresses("from4");
        var from6 = a.Addresses("from6");
        var path = a.Text("out");
        if (interfaces.Count == 0 || delays.Count == 0 || from4.Count + from6.Count == 0)
            throw new UsageException("--ifaces, --delays and --from4 or --from6 must name something");

        using var seen = new BlockingCollection<Captured>(MaxPackets);
        var until = DateTimeOffset.UtcNow.AddSeconds(seconds);
        var capture = PacketCapture.Start(netns, interfaces, port, until, MaxPackets, c => seen.TryAdd(c));
        Console.WriteLine($"capturing UDP to port {port} on {string.Join(',', interfaces)} for {seconds} s");
        Console.Out.Flush();

        using var senders = new Senders();
        using var file = new StreamWriter(path);
        var due = new PriorityQueue<(Captured Datagram, IPAddress Source), long>();
        long captured = 0, requests = 0, moves = 0, skipped = 0;
        // Bounded: the capture's end, the longest delay, and a second to send the last replays.
        var deadline = until.AddMilliseconds(delays.Max() + 1000);
        while (DateTimeOffset.UtcNow < deadline && (capture.IsAlive || seen.Count > 0 || due.Count > 0))
        {
            while (seen.TryTake(out var c))
            {
                captured++;
                file.WriteLine(c.ToLine());
                requests += c.Type == (byte)ProbeType.Request ? 1 : 0;
                moves += c.Type == (byte)ProbeType.MoveRequest ? 1 : 0;
                if (!Arguments.IsLab(c.Destination.Address))
                {
                    skipped++;
                    continue;
                }
                foreach (var delay in delays)
                    foreach (var source in c.Destination.AddressFamily == AddressFamily.InterNetwork ? from4 : from6)
                        due.Enqueue((c, source), c.AtMs + delay);
            }
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            while (due.TryPeek(out var next, out var at) && at <= now)
            {
                due.Dequeue();
                senders.Send(next.Source, next.Datagram.Payload, next.Datagram.Destination);
            }
            Thread.Sleep(due.TryPeek(out _, out var first) ? (int)Math.Clamp(first - now, 1, 10) : 10);
        }
        Console.WriteLine($"captured={captured} requests={requests} moves={moves} replays={senders.Sent} send_errors={senders.Errors} not_sent={due.Count + skipped}");
        return 0;
    }
}
