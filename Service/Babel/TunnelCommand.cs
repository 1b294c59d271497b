using WgRouted.Engine.Events;

namespace WgRouted.Service.Babel;

/// <summary>What the policy loop hands the babeld side: a tunnel's link down or up, an interface to add to babeld.</summary>
public sealed record TunnelCommand(PeerEvent Decision);
