namespace WgRouted.Integrations.Babel;

/// <summary>
/// Connected and monitoring: <see cref="Snapshot"/> is babeld's whole state (the monitor's dump); every later
/// change comes as a <see cref="BabelChanged"/>. After a reconnection, ids from before are void.
/// </summary>
public sealed record BabelConnected(BabelGreeting Greeting, BabelSnapshot Snapshot, bool Reconnected) : BabelEvent;
