namespace WgRouted.Integrations.Babel;

/// <summary>What <see cref="BabelControl"/> reports, in order, on <see cref="BabelControl.Events"/>.</summary>
public abstract record BabelEvent;
