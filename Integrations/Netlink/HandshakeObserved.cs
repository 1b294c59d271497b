namespace WgRouted.Integrations.Netlink;

public sealed record HandshakeObserved(string Device, string Peer, DateTimeOffset At) : WireGuardChange(Device, Peer);
