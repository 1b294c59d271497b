namespace WgRouted.Integrations.Babel;

/// <summary>An object babeld reports: an interface, a neighbour, a route or an xroute.</summary>
public abstract record BabelObject
{
    /// <summary>What babeld identifies the object by, unique across kinds ("neighbour 55e11a976210").</summary>
    public abstract string Key { get; }
}
