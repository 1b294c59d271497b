namespace WgRouted.Integrations.Babel;

/// <summary>One object's change: Old is null when added, New is null when flushed. Notifications that change
/// nothing (babeld repeats a neighbour on every hello) are not reported.</summary>
public sealed record BabelChanged(BabelObject? Old, BabelObject? New) : BabelEvent;
