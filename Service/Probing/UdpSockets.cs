using System.Net;
using System.Net.Sockets;
using System.Text;

namespace WgRouted.Service.Probing;

internal static class UdpSockets
{
    private const int SolSocket = 1; // SOL_SOCKET
    private const int SoBindToDevice = 25; // SO_BINDTODEVICE

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
