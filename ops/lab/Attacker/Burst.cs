using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace WgRouted.Lab.Attacker;

/// <summary>burst: a whole capture sent again at once, from every source of each datagram's family, spread evenly over --within-ms.</summary>
internal static class Burst
{
    public static int Run(Arguments a)
    {
        var captured = Captured.Read(a.Text("in"));
        var from4 = a.Addresses("from4");
        var from6 = a.Addresses("from6");
        var within = a.Number("within-ms", 1, 10_000);
        List<(Captured Datagram, IPAddress Source)> all = [.. captured
            .Where(c => Arguments.IsLab(c.Destination.Address))
            .SelectMany(c => (c.Destination.AddressFamily == AddressFamily.InterNetwork ? from4 : from6).Select(s => (c, s)))];
        using var senders = new Senders();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < all.Count; i++)
        {
            var at = within * i / Math.Max(1, all.Count);
            while (clock.ElapsedMilliseconds < at)
                Thread.Sleep(1);
            senders.Send(all[i].Source, all[i].Datagram.Payload, all[i].Datagram.Destination);
        }
        Console.WriteLine($"sent={senders.Sent} send_errors={senders.Errors} captured={captured.Count} ms={clock.ElapsedMilliseconds}");
        return 0;
    }
}
