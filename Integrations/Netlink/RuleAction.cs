namespace WgRouted.Integrations.Netlink;

public enum RuleAction : byte // FR_ACT_*
{
    Unspecified = 0,
    ToTable = 1,
    Goto = 2,
    Nop = 3,
    Blackhole = 6,
    Unreachable = 7,
    Prohibit = 8,
}
