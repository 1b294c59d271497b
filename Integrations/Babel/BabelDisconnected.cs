namespace WgRouted.Integrations.Babel;

/// <summary>The connection ended (babeld stopped, restarted, or stopped answering): everything known is dropped
/// until the next <see cref="BabelConnected"/>.</summary>
public sealed record BabelDisconnected(string Reason) : BabelEvent;
