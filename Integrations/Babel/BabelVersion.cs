namespace WgRouted.Integrations.Babel;

/// <summary>The greeting's `version babeld-1.12.1`.</summary>
public sealed record BabelVersion(string Version) : BabelLine;
