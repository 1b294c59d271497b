namespace WgRouted.Integrations.Netlink;

/// <summary>What changed between two states of the monitored host; Resync is true when a full dump found it.</summary>
public sealed record HostChanges(
    IReadOnlyList<Change<Link>> Links,
    IReadOnlyList<Change<Address>> Addresses,
    IReadOnlyList<Change<Route>> Routes,
    IReadOnlyList<Change<Rule>> Rules,
    bool Resync)
{
    public bool IsEmpty => Links.Count == 0 && Addresses.Count == 0 && Routes.Count == 0 && Rules.Count == 0;
}
