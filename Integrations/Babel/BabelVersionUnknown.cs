namespace WgRouted.Integrations.Babel;

/// <summary>The greeting names a protocol other than 1.0 or a daemon other than babeld 1.x; the client goes on
/// (lines it cannot parse are skipped). Reported once per protocol and version.</summary>
public sealed record BabelVersionUnknown(string Protocol, string? Version) : BabelEvent;
