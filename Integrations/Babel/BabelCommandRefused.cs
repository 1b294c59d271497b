namespace WgRouted.Integrations.Babel;

/// <summary>babeld answered `no ...` or `bad` to a command (`bad` to every configuration command on a read-only
/// socket). Reported once per command line.</summary>
public sealed record BabelCommandRefused(string Command, BabelReply Reply) : BabelEvent;
