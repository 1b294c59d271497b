using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace WgRouted.Service.Probing;

internal static partial class UdpSockets
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

    // SIOCGSTAMPNS: the receive time of the last datagram read, a timespec of 64-bit fields on the 64-bit hosts we
    // build for (SIOCGSTAMPNS_OLD in the kernel's headers; the _NEW one differs only on 32-bit).
    private const nuint SiocGStampNs = 0x8907;

    /// <summary>A stamp older than this is not believed: a step of the wall clock, not a datagram that waited.</summary>
    private static readonly TimeSpan MaxQueued = TimeSpan.FromSeconds(1);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlTimespec(nint fd, nuint request, out Timespec value);

    /// <summary>
    /// Readies a socket for blocking reads on a thread of its own, once before the first: a read waits a second at most
    /// (so the thread sees the socket closed), and the kernel stamps each datagram as it queues (the first SIOCGSTAMPNS
    /// turns SOCK_TIMESTAMP on, without the control messages SO_TIMESTAMPNS would add to every read).
    /// </summary>
    public static void PrepareBlockingReads(Socket socket)
    {
        socket.ReceiveTimeout = 1000;
        IoctlTimespec(socket.Handle, SiocGStampNs, out _);
    }

    /// <summary>
    /// How long the datagram just read waited in the socket's buffer: the kernel's receive stamp against the same clock
    /// (CLOCK_REALTIME) now. Zero when there is no stamp or it is not believable.
    /// </summary>
    public static TimeSpan Queued(Socket socket)
    {
        if (IoctlTimespec(socket.Handle, SiocGStampNs, out var stamp) != 0)
            return TimeSpan.Zero;
        var queued = TimeSpan.FromTicks((DateTime.UtcNow - DateTime.UnixEpoch).Ticks - (stamp.Seconds * TimeSpan.TicksPerSecond + stamp.Nanoseconds / 100));
        return queued > TimeSpan.Zero && queued < MaxQueued ? queued : TimeSpan.Zero;
    }

    public static IPEndPoint Any(AddressFamily family) =>
        new(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
}
