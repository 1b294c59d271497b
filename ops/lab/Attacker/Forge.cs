using System.Globalization;
using System.Net;
using WgRouted.Engine.Probe;

namespace WgRouted.Lab.Attacker;

/// <summary>
/// forge: with the sender's key, each captured move request again (once per sequence number) with a fresh timestamp
/// and its own sequence number, sent from the address it asks for: a copy that passes the MAC, the freshness bound
/// and the address check, so only the number can refuse it.
/// </summary>
internal static class Forge
{
    public static int Run(Arguments a)
    {
        var identity = Identity.Load(a.Text("key"), a.Key("peer"));
        var captured = Captured.Read(a.Text("in"));
        using var senders = new Senders();
        var packet = new byte[ProbeCodec.RequestSize];
        HashSet<ulong> done = [];
        List<string> forged = [];
        var undecodable = 0;
        foreach (var c in captured.Where(c => c.Type == (byte)ProbeType.MoveRequest))
        {
            if (!ProbeCodec.TryDecode(c.Payload, identity.KeyFor, out var message, out _) || message is not MoveRequest move)
            {
                undecodable++;
                continue;
            }
            if (!done.Add(move.Sequence) || !Arguments.IsLab(move.Requested.Address) || !Arguments.IsLab(c.Destination.Address))
                continue;
            ProbeCodec.Encode(move with { Timestamp = DateTimeOffset.UtcNow }, identity.ProbeKey, packet);
            senders.Send(move.Requested.Address, packet, c.Destination);
            forged.Add(string.Create(CultureInfo.InvariantCulture, $"{move.Sequence}@{move.Requested}"));
            Thread.Sleep(20);
        }
        Console.WriteLine($"forged={forged.Count} undecodable={undecodable} send_errors={senders.Errors} moves={string.Join(',', forged)}");
        return 0;
    }
}
