using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace WgRouted.Service.Probing;

/// <summary>struct iovec (64-bit).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoVec
{
    public nint Base;
    public nuint Length;
}

/// <summary>struct msghdr (64-bit), for sendmsg, sendmmsg and recvmmsg. Also compiled into the lab's probe farm.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct MsgHdr
{
    public nint Name;
    public uint NameLength;
    public nint Iov;
    public nuint IovLength;
    public nint Control;
    public nuint ControlLength;
    public int Flags;
}

/// <summary>struct sockaddr_in and sockaddr_in6, as the kernel takes them. Also compiled into the lab's probe farm.</summary>
internal static class Sockaddr
{
    /// <summary>sockaddr_in6, the larger of the two.</summary>
    public const int MaxSize = 28;

    /// <summary>Writes <paramref name="to"/> (IPv6 with its scope id) into <paramref name="sockaddr"/>; returns its length.</summary>
    public static int Write(IPEndPoint to, Span<byte> sockaddr)
    {
        sockaddr.Clear();
        BinaryPrimitives.WriteUInt16BigEndian(sockaddr[2..], (ushort)to.Port);
        if (to.AddressFamily == AddressFamily.InterNetwork)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(sockaddr, 2); // AF_INET, host order
            to.Address.TryWriteBytes(sockaddr[4..8], out _);
            return 16;
        }
        BinaryPrimitives.WriteUInt16LittleEndian(sockaddr, 10); // AF_INET6
        to.Address.TryWriteBytes(sockaddr[8..24], out _);
        BinaryPrimitives.WriteUInt32LittleEndian(sockaddr[24..], (uint)to.Address.ScopeId);
        return MaxSize;
    }
}
