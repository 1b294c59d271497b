namespace WgRouted.Integrations.Babel;

/// <summary>A well-formed line of a kind this codec does not know (a newer babeld, or another object type).</summary>
public sealed record BabelUnknownLine(string Text) : BabelLine;
