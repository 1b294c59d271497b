using System.Runtime.InteropServices;

namespace WgRouted.Integrations.Netlink;

[StructLayout(LayoutKind.Sequential)]
internal struct GenlMsgHdr // struct genlmsghdr
{
    public byte Command;
    public byte Version;
    public ushort Reserved;
}
