namespace WgRouted.Integrations.Babel;

/// <summary>The greeting's `my-id xx:xx:xx:xx:xx:xx:xx:xx`: babeld's router-id.</summary>
public sealed record BabelMyId(BabelRouterId Id) : BabelLine;
