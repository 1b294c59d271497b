namespace WgRouted.Integrations.Babel;

/// <summary>The greeting's `host NAME` (gethostname: the same in every network namespace of a host).</summary>
public sealed record BabelHost(string Name) : BabelLine;
