namespace WgRouted.Integrations.Babel;

/// <summary>The greeting's first line, `BABEL 1.0`: the version of the control protocol.</summary>
public sealed record BabelProtocol(string Version) : BabelLine;
