using System.Runtime.InteropServices;

namespace WgRouted.Lab.Attacker;

internal static partial class Libc
{
    public const int AF_PACKET = 17, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0x80000, O_RDONLY = 0, O_CLOEXEC = 0x80000;
    public const int CLONE_NEWNET = 0x40000000;
    public const short POLLIN = 0x0001;
    /// <summary>ETH_P_ALL (0x0003) in network byte order, as socket(2) wants the protocol of a packet socket.</summary>
    public const int ETH_P_ALL_BE = 0x0300;
    public const byte PACKET_OUTGOING = 4;

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct SockAddrLl // struct sockaddr_ll
    {
        public ushort Family;
        public ushort Protocol;
        public int IfIndex;
        public ushort HaType;
        public byte PktType;
        public byte HaLen;
        public fixed byte Addr[8];
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd // struct pollfd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(int fd, int nstype);

    [LibraryImport("libc", EntryPoint = "if_nametoindex", StringMarshalling = StringMarshalling.Utf8)]
    public static partial uint IfNameToIndex(string name);

    [LibraryImport("libc", EntryPoint = "recvfrom", SetLastError = true)]
    public static unsafe partial nint RecvFrom(int fd, byte* buffer, nuint length, int flags, SockAddrLl* from, int* fromLength);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "close")]
    public static partial int Close(int fd);
}
