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
