using System.Runtime.InteropServices;

namespace WgRouted.Integrations.Netlink;

[StructLayout(LayoutKind.Sequential)]
internal struct RtMsg // struct rtmsg
{
    public byte Family;
    public byte DstLength;
    public byte SrcLength;
    public byte Tos;
    public byte Table;
    public byte Protocol;
    public byte Scope;
    public byte Type;
    public uint Flags;
}
