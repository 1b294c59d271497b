using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using WgRouted.Service.Probing;

namespace WgRouted.Lab.ProbeFarm;

/// <summary>
/// A reply sent from the address its request was sent to (sendmsg with IPV6_PKTINFO on the farm's dual-stack socket;
/// an IPv4 address in its mapped form). Left to the kernel, each IPv6 reply's source was chosen among the thousand
/// addresses of the farm's lo: three quarters of the farm's CPU (perf: ipv6_get_saddr_eval, __ipv6_dev_get_saddr), a
/// whole core at 7,000 answers a second, and replies from whichever address that choice gave.
/// </summary>
internal static partial class ReplyFrom
{
    private const int SolIpv6 = 41; // SOL_IPV6
    private const int Ipv6PktInfo = 50; // IPV6_PKTINFO: struct in6_pktinfo { in6_addr; int ifindex; }
    private const int CmsgHeader = 16; // struct cmsghdr on 64-bit: size_t len, int level, int type
    private const int PktInfoSize = 20;
    private const int ControlSpace = CmsgHeader + 24; // CMSG_SPACE(20): the data padded to 8

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static unsafe partial nint SendMsg(nint fd, MsgHdr* message, int flags);

    /// <summary>Sends <paramref name="datagram"/> to <paramref name="to"/> from <paramref name="from"/>; false with the errno when refused.</summary>
    public static unsafe bool Send(Socket socket, ReadOnlySpan<byte> datagram, IPEndPoint to, IPAddress from, out int errno)
    {
        Span<byte> name = stackalloc byte[Sockaddr.MaxSize];
        Span<byte> control = stackalloc byte[ControlSpace];
        var nameLength = Sockaddr.Write(new IPEndPoint(Mapped(to.Address), to.Port), name);
        control.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(control, CmsgHeader + PktInfoSize);
        BinaryPrimitives.WriteInt32LittleEndian(control[8..], SolIpv6);
        BinaryPrimitives.WriteInt32LittleEndian(control[12..], Ipv6PktInfo);
        Mapped(from).TryWriteBytes(control.Slice(CmsgHeader, 16), out _);
        nint sent;
        fixed (byte* data = datagram)
        fixed (byte* n = name)
        fixed (byte* c = control)
        {
            var segment = new IoVec { Base = (nint)data, Length = (nuint)datagram.Length };
            var message = new MsgHdr
            {
                Name = (nint)n, NameLength = (uint)nameLength, Iov = (nint)(&segment), IovLength = 1,
                Control = (nint)c, ControlLength = ControlSpace,
            };
            sent = SendMsg(socket.Handle, &message, 0);
        }
        errno = sent < 0 ? Marshal.GetLastPInvokeError() : 0;
        return sent >= 0;
    }

    private static IPAddress Mapped(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork ? address.MapToIPv6() : address;
}
