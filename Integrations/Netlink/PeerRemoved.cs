namespace WgRouted.Integrations.Netlink;

public sealed record PeerRemoved(string Device, string Peer) : WireGuardChange(Device, Peer);
