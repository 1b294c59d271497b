using System.Net;
using System.Net.Sockets;
using WgRouted.Engine;
using WgRouted.Engine.Probe;

namespace WgRouted.Lab.Attacker;

/// <summary>probe: one authenticated request; exit 0 and "answered=yes rtt_ms=..." when the reply came, 1 and "answered=no" otherwise.</summary>
internal static class ProbeOnce
{
    public static int Run(Arguments a)
    {
        var identity = Identity.Load(a.Text("key"), a.Key("peer"));
        var to = a.Endpoint("to");
        var timeout = (int)a.Number("timeout-ms", 1, 10_000, 1000);
        var from = a.Has("from") ? a.Address("from") : to.Family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any;
        using var socket = Senders.Bind(new IPEndPoint(from, 0));
        var now = DateTimeOffset.UtcNow;
        var sequence = new ProbeSequence().Next(now);
        var packet = new byte[ProbeCodec.RequestSize];
        ProbeCodec.Encode(new ProbeRequest(identity.Us, sequence, now), identity.ProbeKey, packet);
        socket.SendTo(packet, SocketFlags.None, new IPEndPoint(to.Address, to.Port));
        var buffer = new byte[ProbeCodec.MaxSize + 1];
        var deadline = now.AddMilliseconds(timeout);
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (!socket.Poll(TimeSpan.FromMilliseconds(Math.Max(1, (deadline - DateTimeOffset.UtcNow).TotalMilliseconds)), SelectMode.SelectRead))
                break;
            var n = socket.Receive(buffer);
            if (ProbeCodec.TryDecode(buffer.AsSpan(0, n), identity.KeyFor, out var message, out _)
                && message is ProbeReply reply && reply.Sender == identity.Peer && reply.EchoSequence == sequence)
            {
                Console.WriteLine(FormattableString.Invariant(
                    $"answered=yes rtt_ms={reply.RoundTrip(DateTimeOffset.UtcNow).TotalMilliseconds:F3} observed={reply.ObservedSource} endpoint={reply.WireGuardEndpoint?.ToString() ?? "none"}"));
                return 0;
            }
        }
        Console.WriteLine("answered=no");
        return 1;
    }
}
