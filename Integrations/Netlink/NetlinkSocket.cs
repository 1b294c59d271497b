using System.Runtime.InteropServices;

namespace WgRouted.Integrations.Netlink;

/// <summary>An AF_NETLINK socket: requests with acks, multipart dumps, multicast receive.</summary>
internal sealed unsafe class NetlinkSocket : IDisposable
{
    public const int NETLINK_ROUTE = 0;
    public const int NETLINK_GENERIC = 16;

    // Large enough for any one datagram the kernel builds for a dump (it caps them at 32 KiB).
    private const int DatagramBuffer = 64 * 1024;
    private const int MaxDumpAttempts = 10;

    private readonly byte[] _buffer = new byte[DatagramBuffer];
    private readonly Lock _lock = new();
    private int _fd;
    private uint _seq;

    private NetlinkSocket(int fd)
    {
        _fd = fd;
        _seq = (uint)Environment.TickCount;
    }

    public static NetlinkSocket Open(int protocol)
    {
        var fd = Libc.Socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, protocol);
        if (fd < 0)
            throw new NetlinkException($"socket(AF_NETLINK, {protocol})", Marshal.GetLastPInvokeError());
        var socket = new NetlinkSocket(fd);
        try
        {
            var address = new Libc.SockaddrNl { Family = Libc.AF_NETLINK };
            if (Libc.Bind(fd, &address, sizeof(Libc.SockaddrNl)) < 0)
                throw new NetlinkException("bind(AF_NETLINK)", Marshal.GetLastPInvokeError());
            socket.SetOption(Libc.SOL_NETLINK, Libc.NETLINK_EXT_ACK, 1, "NETLINK_EXT_ACK");
            socket.SetOption(Libc.SOL_NETLINK, Libc.NETLINK_CAP_ACK, 1, "NETLINK_CAP_ACK");
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void JoinGroup(int group) =>
        SetOption(Libc.SOL_NETLINK, Libc.NETLINK_ADD_MEMBERSHIP, group, $"NETLINK_ADD_MEMBERSHIP {group}");

    /// <summary>SO_RCVBUFFORCE (root) lifts the rmem_max cap; SO_RCVBUF is the fallback. The kernel doubles the value.</summary>
    public void SetReceiveBufferSize(int bytes)
    {
        int value = bytes;
        if (Libc.SetSockOpt(_fd, Libc.SOL_SOCKET, Libc.SO_RCVBUFFORCE, &value, sizeof(int)) < 0)
            SetOption(Libc.SOL_SOCKET, Libc.SO_RCVBUF, bytes, "SO_RCVBUF");
    }

    public uint NextSeq()
    {
        lock (_lock)
            return ++_seq == 0 ? ++_seq : _seq;
    }

    /// <summary>Sends a request with NLM_F_ACK (or a dump) and collects replies until the ack or NLMSG_DONE.</summary>
    public List<NetlinkMessage> Transact(byte[] request, string name)
    {
        lock (_lock)
        {
            var header = MemoryMarshal.Read<NlMsgHdr>(request);
            var isDump = (header.Flags & NetlinkMessage.NLM_F_DUMP) == NetlinkMessage.NLM_F_DUMP;
            Send(request, name);
            var replies = new List<NetlinkMessage>();
            while (true)
            {
                var length = Receive(_buffer, -1, name);
                foreach (var message in NetlinkMessage.Split(_buffer.AsMemory(0, length)))
                {
                    if (message.Seq != header.Seq)
                        continue; // a late reply to an earlier request that gave up
                    switch (message.Type)
                    {
                        case NetlinkMessage.NLMSG_ERROR:
                            var (errno, text) = message.ReadError();
                            if (errno != 0)
                                throw new NetlinkException(name, errno, text);
                            return replies;
                        case NetlinkMessage.NLMSG_DONE:
                            replies.Add(message);
                            return replies;
                        case NetlinkMessage.NLMSG_NOOP:
                            break;
                        case NetlinkMessage.NLMSG_OVERRUN:
                            throw new NetlinkException(name, Libc.ENOBUFS, "NLMSG_OVERRUN");
                        default:
                            replies.Add(new NetlinkMessage(message.Type, message.Flags, message.Seq, message.Payload.ToArray()));
                            if (!isDump && (message.Flags & NetlinkMessage.NLM_F_MULTI) == 0 && (header.Flags & NetlinkMessage.NLM_F_ACK) == 0)
                                return replies;
                            break;
                    }
                }
            }
        }
    }

    /// <summary>A dump, redone while the kernel marks it NLM_F_DUMP_INTR (the table changed under it).</summary>
    public List<NetlinkMessage> Dump(Func<uint, byte[]> request, string name)
    {
        for (var attempt = 1; ; attempt++)
        {
            var replies = Transact(request(NextSeq()), name);
            if (!replies.Exists(m => (m.Flags & NetlinkMessage.NLM_F_DUMP_INTR) != 0))
                return replies.FindAll(m => m.Type != NetlinkMessage.NLMSG_DONE);
            if (attempt == MaxDumpAttempts)
                throw new NetlinkException(name, Libc.EINTR, $"dump interrupted {attempt} times in a row");
        }
    }

    public void Send(ReadOnlySpan<byte> request, string name)
    {
        var kernel = new Libc.SockaddrNl { Family = Libc.AF_NETLINK };
        fixed (byte* p = request)
        {
            while (true)
            {
                var sent = Libc.SendTo(_fd, p, request.Length, 0, &kernel, sizeof(Libc.SockaddrNl));
                if (sent >= 0)
                    return;
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Libc.EINTR)
                    throw new NetlinkException(name, errno);
            }
        }
    }

    /// <summary>Receives one datagram; 0 when timeoutMs elapsed first. ENOBUFS surfaces as NetlinkException.</summary>
    public int Receive(Span<byte> buffer, int timeoutMs, string name)
    {
        while (true)
        {
            if (timeoutMs >= 0)
            {
                var pollFd = new Libc.PollFd { Fd = _fd, Events = Libc.POLLIN };
                var ready = Libc.Poll(&pollFd, 1, timeoutMs);
                if (ready == 0)
                    return 0;
                if (ready < 0)
                {
                    var pollErrno = Marshal.GetLastPInvokeError();
                    if (pollErrno == Libc.EINTR)
                        continue;
                    throw new NetlinkException($"{name}: poll", pollErrno);
                }
            }
            fixed (byte* p = buffer)
            {
                var received = Libc.RecvFrom(_fd, p, buffer.Length, 0, null, null);
                if (received >= 0)
                    return (int)received;
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Libc.EINTR)
                    throw new NetlinkException(name, errno);
            }
        }
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
            Libc.Close(fd);
    }

    private void SetOption(int level, int option, int value, string name)
    {
        if (Libc.SetSockOpt(_fd, level, option, &value, sizeof(int)) < 0)
            throw new NetlinkException($"setsockopt({name})", Marshal.GetLastPInvokeError());
    }
}
