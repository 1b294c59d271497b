namespace WgRouted.Integrations.Netlink;

public sealed record PeerAdded(string Device, string Peer) : WireGuardChange(Device, Peer);
