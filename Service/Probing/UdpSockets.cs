using System.Buffers.Binary;
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

    private const int SoTimestampNs = 35; // SO_TIMESTAMPNS (_OLD: 64-bit timespec on the 64-bit hosts we build for)
    private const int MsgWaitForOne = 0x10000; // MSG_WAITFORONE
    private const int SockaddrSize = Sockaddr.MaxSize;
    private const int CmsgHeaderSize = 16; // cmsghdr: size_t len, int level, int type
    // One cmsghdr and its timespec: the only control message asked for.
    private const int ControlSize = CmsgHeaderSize + 16;

    [StructLayout(LayoutKind.Sequential)]
    private struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }

    [LibraryImport("libc", EntryPoint = "recvmmsg", SetLastError = true)]
    private static unsafe partial int RecvMmsg(nint fd, MMsgHdr* messages, uint count, int flags, nint timeout);

    [LibraryImport("libc", EntryPoint = "sendmmsg", SetLastError = true)]
    private static unsafe partial int SendMmsg(nint fd, MMsgHdr* messages, uint count, int flags);

    /// <summary>
    /// Readies a socket for batched blocking reads on a thread of its own, once before the first: a read waits a
    /// second at most (so the thread sees the socket closed), and each datagram comes with the kernel's receive stamp
    /// (SO_TIMESTAMPNS).
    /// </summary>
    public static void PrepareBatchedReads(Socket socket)
    {
        socket.ReceiveTimeout = 1000;
        socket.SetRawSocketOption(SolSocket, SoTimestampNs, BitConverter.GetBytes(1));
    }

    /// <summary>
    /// Up to <c>datagrams.Length</c> datagrams in one system call (recvmmsg): waits for the first (the socket's receive
    /// timeout at most), then takes those already queued. Datagram i is at <c>i * slot</c> in <paramref name="buffers"/>,
    /// cut to <paramref name="slot"/> bytes if longer. Throws SocketException as a receive does (TimedOut after the wait).
    /// </summary>
    public static unsafe int ReceiveBatch(Socket socket, Span<byte> buffers, int slot, Span<Datagram> datagrams)
    {
        var count = Math.Min(datagrams.Length, buffers.Length / slot);
        if (count == 0)
            return 0;
        var messages = stackalloc MMsgHdr[count];
        var iovs = stackalloc IoVec[count];
        var names = stackalloc byte[count * SockaddrSize];
        var controls = stackalloc byte[count * ControlSize];
        int received;
        fixed (byte* data = buffers)
        {
            for (var i = 0; i < count; i++)
            {
                iovs[i] = new IoVec { Base = (nint)(data + i * slot), Length = (nuint)slot };
                messages[i] = new MMsgHdr
                {
                    Header = new MsgHdr
                    {
                        Name = (nint)(names + i * SockaddrSize), NameLength = SockaddrSize,
                        Iov = (nint)(iovs + i), IovLength = 1,
                        Control = (nint)(controls + i * ControlSize), ControlLength = ControlSize,
                    },
                };
            }
            var handle = socket.SafeHandle;
            var added = false;
            try
            {
                // Held open for the call: closed by another thread meanwhile, the descriptor is not reused under us.
                handle.DangerousAddRef(ref added);
                received = RecvMmsg(handle.DangerousGetHandle(), messages, (uint)count, MsgWaitForOne, 0);
            }
            finally
            {
                if (added)
                    handle.DangerousRelease();
            }
        }
        if (received < 0)
            throw new SocketException((int)SocketErrorOf(Marshal.GetLastPInvokeError()));
        var now = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks;
        for (var i = 0; i < received; i++)
        {
            var header = messages[i].Header;
            datagrams[i] = new Datagram((int)Math.Min(messages[i].Length, (uint)slot),
                EndPointOf(new ReadOnlySpan<byte>(names + i * SockaddrSize, (int)header.NameLength)),
                QueuedOf(new ReadOnlySpan<byte>((void*)header.Control, (int)header.ControlLength), now));
        }
        return received;
    }

    /// <summary>
    /// Sends datagram i (at <c>i * slot</c> in <paramref name="buffers"/>) to its address, as few system calls as the
    /// kernel allows (sendmmsg); <paramref name="errors"/>[i] is Success or why the kernel refused that one.
    /// </summary>
    public static unsafe void SendBatch(Socket socket, ReadOnlySpan<byte> buffers, int slot, ReadOnlySpan<Outgoing> datagrams, Span<SocketError> errors)
    {
        var count = datagrams.Length;
        var messages = stackalloc MMsgHdr[count];
        var iovs = stackalloc IoVec[count];
        var names = stackalloc byte[count * SockaddrSize];
        fixed (byte* data = buffers)
        {
            for (var i = 0; i < count; i++)
            {
                iovs[i] = new IoVec { Base = (nint)(data + i * slot), Length = (nuint)datagrams[i].Length };
                messages[i] = new MMsgHdr
                {
                    Header = new MsgHdr
                    {
                        Name = (nint)(names + i * SockaddrSize),
                        NameLength = (uint)Sockaddr.Write(datagrams[i].To, new Span<byte>(names + i * SockaddrSize, SockaddrSize)),
                        Iov = (nint)(iovs + i), IovLength = 1,
                    },
                };
            }
            // sendmmsg stops at the first datagram refused: sent again from there, the refused one is the first and
            // gives its error.
            var handle = socket.SafeHandle;
            var added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                var fd = handle.DangerousGetHandle();
                for (var next = 0; next < count;)
                {
                    var sent = SendMmsg(fd, messages + next, (uint)(count - next), 0);
                    if (sent > 0)
                    {
                        errors[next..(next + sent)].Clear(); // Success
                        next += sent;
                    }
                    else
                        errors[next++] = SocketErrorOf(sent < 0 ? Marshal.GetLastPInvokeError() : 0);
                }
            }
            finally
            {
                if (added)
                    handle.DangerousRelease();
            }
        }
    }

    private static IPEndPoint EndPointOf(ReadOnlySpan<byte> sockaddr)
    {
        if (sockaddr.Length >= 16 && BinaryPrimitives.ReadUInt16LittleEndian(sockaddr) == 2)
            return new IPEndPoint(new IPAddress(sockaddr[4..8]), BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]));
        if (sockaddr.Length >= SockaddrSize && BinaryPrimitives.ReadUInt16LittleEndian(sockaddr) == 10)
            return new IPEndPoint(new IPAddress(sockaddr[8..24], BinaryPrimitives.ReadUInt32LittleEndian(sockaddr[24..])),
                BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]));
        return new IPEndPoint(IPAddress.None, 0);
    }

    /// <summary>How long a datagram waited, from its SCM_TIMESTAMPNS against <paramref name="nowTicks"/> (Unix ticks); zero as in <see cref="Queued"/>.</summary>
    private static TimeSpan QueuedOf(ReadOnlySpan<byte> control, long nowTicks)
    {
        for (var at = 0; at + CmsgHeaderSize <= control.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(control[at..]);
            if (length < CmsgHeaderSize || at + length > control.Length)
                break;
            if (BinaryPrimitives.ReadInt32LittleEndian(control[(at + 8)..]) == SolSocket
                && BinaryPrimitives.ReadInt32LittleEndian(control[(at + 12)..]) == SoTimestampNs && length >= ControlSize)
            {
                var seconds = BinaryPrimitives.ReadInt64LittleEndian(control[(at + CmsgHeaderSize)..]);
                var nanoseconds = BinaryPrimitives.ReadInt64LittleEndian(control[(at + CmsgHeaderSize + 8)..]);
                var queued = TimeSpan.FromTicks(nowTicks - (seconds * TimeSpan.TicksPerSecond + nanoseconds / 100));
                return queued > TimeSpan.Zero && queued < MaxQueued ? queued : TimeSpan.Zero;
            }
            at += (length + 7) & ~7;
        }
        return TimeSpan.Zero;
    }

    /// <summary>The SocketError .NET gives for the errno values a UDP send or receive can return.</summary>
    internal static SocketError SocketErrorOf(int errno) => errno switch
    {
        1 or 13 => SocketError.AccessDenied, // EPERM (a firewall's drop on output), EACCES
        4 => SocketError.Interrupted,
        9 => SocketError.OperationAborted, // EBADF: closed under us
        11 => SocketError.TimedOut, // EAGAIN: the receive timeout passed
        22 => SocketError.InvalidArgument,
        90 => SocketError.MessageSize,
        97 => SocketError.AddressFamilyNotSupported,
        99 => SocketError.AddressNotAvailable,
        100 => SocketError.NetworkDown,
        101 => SocketError.NetworkUnreachable,
        105 => SocketError.NoBufferSpaceAvailable,
        111 => SocketError.ConnectionRefused,
        113 => SocketError.HostUnreachable,
        _ => SocketError.SocketError,
    };

    public static IPEndPoint Any(AddressFamily family) =>
        new(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
}
