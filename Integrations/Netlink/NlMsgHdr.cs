using System.Runtime.InteropServices;

namespace WgRouted.Integrations.Netlink;

[StructLayout(LayoutKind.Sequential)]
internal struct NlMsgHdr // struct nlmsghdr
{
    public uint Length;
    public ushort Type;
    public ushort Flags;
    public uint Seq;
    public uint Pid;
}
