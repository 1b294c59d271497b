using System.Globalization;
using System.Net;
using System.Net.Sockets;
using WgRouted.Engine.Probe;

namespace WgRouted.Lab.Attacker;

/// <summary>
/// move: authenticated move requests, the i-th of --requested sent from the i-th of --from, --interval-ms apart, the
/// whole list --count times. Numbered on the millisecond clock like wg-routed's own (ProbeSequence), or all with
/// --sequence. Prints the numbers sent and the move replies that came back (none when a source is an address whose
/// replies go elsewhere).
/// </summary>
internal static class Move
{
    public static int Run(Arguments a)
    {
        var identity = Identity.Load(a.Text("key"), a.Key("peer"));
        var to = a.Endpoint("to");
        var from = a.Addresses("from");
        var requested = a.List("requested").Select(r => Engine.Endpoint.TryParse(r, out var e, out var error) && Arguments.IsLab(e.Address)
            ? e : throw new UsageException($"--requested '{r}': {error ?? "not a lab address"}")).ToList();
        if (from.Count == 0 || from.Count != requested.Count)
            throw new UsageException("--from and --requested name as many sources as endpoints");
        var fixedSequence = a.Unsigned("sequence");
        var count = a.Number("count", 1, 100, 1);
        var interval = a.Number("interval-ms", 10, 5000, 100);
        using var senders = new Senders();
        var destination = new IPEndPoint(to.Address, to.Port);
        var clock = new ProbeSequence();
        var packet = new byte[ProbeCodec.RequestSize];
        List<ulong> sent = [];
        for (var i = 0; i < count * from.Count; i++)
        {
            if (i > 0)
                Thread.Sleep((int)interval);
            var now = DateTimeOffset.UtcNow;
            var sequence = fixedSequence ?? clock.Next(now);
            ProbeCodec.Encode(new MoveRequest(identity.Us, sequence, now, requested[i % from.Count]), identity.ProbeKey, packet);
            senders.Send(from[i % from.Count], packet, destination);
            sent.Add(sequence);
        }
        var sources = from.Distinct().ToList();
        var replies = sources.Sum(f => Replies(senders.For(f), identity, TimeSpan.FromMilliseconds(300.0 / sources.Count)));
        Console.WriteLine($"sent={senders.Sent} send_errors={senders.Errors} sequences={string.Join(',', sent.Select(s => s.ToString(CultureInfo.InvariantCulture)))} replies={replies}");
        return 0;
    }

    private static int Replies(Socket socket, Identity identity, TimeSpan wait)
    {
        var buffer = new byte[ProbeCodec.MaxSize + 1];
        var deadline = DateTimeOffset.UtcNow + wait;
        var replies = 0;
        while (socket.Poll(TimeSpan.FromTicks(Math.Max(0, (deadline - DateTimeOffset.UtcNow).Ticks)), SelectMode.SelectRead))
        {
            var n = socket.Receive(buffer);
            if (ProbeCodec.TryDecode(buffer.AsSpan(0, n), identity.KeyFor, out var message, out _) && message is MoveReply)
                replies++;
        }
        return replies;
    }
}
