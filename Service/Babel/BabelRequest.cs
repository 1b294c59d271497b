using WgRouted.Engine.Events;

namespace WgRouted.Service.Babel;

/// <summary>What the policy loop hands the babeld bridge: an interface to add over the read-write socket.</summary>
public sealed record BabelRequest(BabelInterfaceAdded Added);
