namespace WgRouted.Integrations.Netlink;

/// <summary>Between two reads the device sent the peer <paramref name="SentBytes"/> and received nothing from it.</summary>
public sealed record ReceiveStalled(string Device, string Peer, ulong SentBytes) : WireGuardChange(Device, Peer);
