namespace WgRouted.Integrations.Babel;

/// <summary>babeld's state as this client knows it, each list ordered by key.</summary>
public sealed record BabelSnapshot(
    IReadOnlyList<BabelInterface> Interfaces,
    IReadOnlyList<BabelNeighbour> Neighbours,
    IReadOnlyList<BabelXRoute> XRoutes,
    IReadOnlyList<BabelRoute> Routes)
{
    public static BabelSnapshot Empty { get; } = new([], [], [], []);

    public BabelInterface? Interface(string name) => Interfaces.FirstOrDefault(i => i.Name == name);
}
