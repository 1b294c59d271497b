using System.Net;

namespace WgRouted.Integrations.Netlink;

/// <summary>The peer's endpoint moved: the remote roamed, or someone set it.</summary>
public sealed record EndpointChanged(string Device, string Peer, IPEndPoint? Old, IPEndPoint? New) : WireGuardChange(Device, Peer);
