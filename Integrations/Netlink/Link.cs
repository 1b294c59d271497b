namespace WgRouted.Integrations.Netlink;

/// <summary>A network interface as RTM_NEWLINK describes it.</summary>
public sealed record Link(int Index, string Name, LinkFlags Flags, uint Mtu, OperState OperState, bool Carrier, string? Kind)
{
    public bool IsUp => (Flags & LinkFlags.Up) != 0;

    public bool IsLowerUp => (Flags & LinkFlags.LowerUp) != 0;
}
