namespace WgRouted.Integrations.Netlink;

public enum OperState : byte // IF_OPER_*
{
    Unknown = 0,
    NotPresent = 1,
    Down = 2,
    LowerLayerDown = 3,
    Testing = 4,
    Dormant = 5,
    Up = 6,
}
