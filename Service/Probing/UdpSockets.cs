using System.Net;
using System.Net.Sockets;
using System.Text;

namespace WgRouted.Service.Probing;

internal static class UdpSockets
{
    private const int SolSocket = 1; // SOL_SOCKET
    private const int SoBindToDevice = 25; // SO_BINDTODEVICE
    private const int SoRcvBufForce = 33; // SO_RCVBUFFORCE: past net.core.rmem_max, with CAP_NET_ADMIN

    /// <summary>
    /// A receive buffer for a whole round of answers at once: a prober's socket is shared by the paths from one source,
    /// at 1,000 peers a thousand answers can queue while its loop waits for a core, about 700 bytes of buffer each. The
    /// default (rmem_default, 208 KB) dropped 30,000 answers in a minute at start (ops/lab/scale). Only what queues
    /// takes memory.
    /// </summary>
    public const int ReceiveBuffer = 4 << 20;

    /// <summary>A UDP socket bound to <paramref name="local"/> and, when given, to the device (SO_BINDTODEVICE).</summary>
    public static Socket Bind(IPEndPoint local, string? device)
    {
        var socket = new Socket(local.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (local.AddressFamily == AddressFamily.InterNetworkV6)
                socket.DualMode = false;
            if (device is not null)
                socket.SetRawSocketOption(SolSocket, SoBindToDevice, Encoding.ASCII.GetBytes(device + "\0"));
            try
            {
                socket.SetRawSocketOption(SolSocket, SoRcvBufForce, BitConverter.GetBytes(ReceiveBuffer));
            }
            catch (SocketException)
            {
                // Without CAP_NET_ADMIN: as much as rmem_max allows.
                socket.ReceiveBufferSize = ReceiveBuffer;
            }
            socket.Bind(local);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static IPEndPoint Any(AddressFamily family) =>
        new(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
}
