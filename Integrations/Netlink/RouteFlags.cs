namespace WgRouted.Integrations.Netlink;

/// <summary>rtm_flags: RTNH_F_* next-hop flags in the low byte, RTM_F_* above.</summary>
[Flags]
public enum RouteFlags : uint
{
    None = 0,
    Dead = 0x1, // RTNH_F_DEAD
    Pervasive = 0x2,
    OnLink = 0x4,
    Offload = 0x8,
    LinkDown = 0x10, // RTNH_F_LINKDOWN: carrier lost, the route stays but is skipped
    Unresolved = 0x20,
    Trap = 0x40,
    Notify = 0x100, // RTM_F_NOTIFY
    Cloned = 0x200,
    Equalize = 0x400,
    Prefix = 0x800,
    LookupTable = 0x1000,
    FibMatch = 0x2000,
}
