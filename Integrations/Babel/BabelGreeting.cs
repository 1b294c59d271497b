namespace WgRouted.Integrations.Babel;

/// <summary>What babeld says when a client connects: `BABEL 1.0`, `version`, `host`, `my-id`, `ok`.</summary>
public sealed record BabelGreeting(string Protocol, string? Version, string? Host, BabelRouterId? MyId);
