namespace WgRouted.Integrations.Netlink;

/// <summary>Something WireGuardDiff saw between two polls of a device.</summary>
public abstract record WireGuardChange(string Device, string Peer);
