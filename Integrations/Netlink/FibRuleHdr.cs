using System.Runtime.InteropServices;

namespace WgRouted.Integrations.Netlink;

[StructLayout(LayoutKind.Sequential)]
internal struct FibRuleHdr // struct fib_rule_hdr
{
    public byte Family;
    public byte DstLength;
    public byte SrcLength;
    public byte Tos;
    public byte Table;
    public byte Reserved1;
    public byte Reserved2;
    public byte Action;
    public uint Flags;
}
