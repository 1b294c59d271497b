using System.Runtime.InteropServices;

namespace WgRouted.Integrations.Netlink;

[StructLayout(LayoutKind.Sequential)]
internal struct IfAddrMsg // struct ifaddrmsg
{
    public byte Family;
    public byte PrefixLength;
    public byte Flags;
    public byte Scope;
    public int Index;
}
