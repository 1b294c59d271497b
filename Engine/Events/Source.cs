using System.Net;

namespace WgRouted.Engine.Events;

/// <summary>A local address a tunnel can leave from, and the link (uplink) that owns it.</summary>
public sealed record Source(IPAddress Address, string Link);
