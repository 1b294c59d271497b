namespace WgRouted.Integrations.Babel;

/// <summary>One line babeld wrote on its control socket, parsed by <see cref="BabelCodec.Parse"/>.</summary>
public abstract record BabelLine;
