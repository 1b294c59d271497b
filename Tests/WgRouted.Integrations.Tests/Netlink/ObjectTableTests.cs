using WgRouted.Integrations.Netlink;

namespace WgRouted.Integrations.Tests.Netlink;

public class ObjectTableTests
{
    private sealed record Item(int Id, string Value);

    [Fact]
    public void Upserts_and_removals_report_only_real_changes()
    {
        var table = new ObjectTable<int, Item>(i => i.Id);
        var changes = new List<Change<Item>>();
        table.Upsert(new Item(1, "a"), changes);
        table.Upsert(new Item(1, "a"), changes);
        table.Upsert(new Item(1, "b"), changes);
        table.Remove(new Item(2, "x"), changes);
        table.Remove(new Item(1, "whatever"), changes);
        Assert.Equal(
            [
                new Change<Item>(ChangeKind.Added, null, new Item(1, "a")),
                new Change<Item>(ChangeKind.Changed, new Item(1, "a"), new Item(1, "b")),
                new Change<Item>(ChangeKind.Removed, new Item(1, "b"), null),
            ],
            changes);
    }

    [Fact]
    public void A_resync_diffs_the_whole_dump_against_the_copy()
    {
        var table = new ObjectTable<int, Item>(i => i.Id);
        table.ReplaceAll([new Item(1, "a"), new Item(2, "b"), new Item(3, "c")], []);
        var changes = new List<Change<Item>>();
        table.ReplaceAll([new Item(2, "b"), new Item(3, "C"), new Item(4, "d")], changes);
        Assert.Equal(
            [
                new Change<Item>(ChangeKind.Removed, new Item(1, "a"), null),
                new Change<Item>(ChangeKind.Changed, new Item(3, "c"), new Item(3, "C")),
                new Change<Item>(ChangeKind.Added, null, new Item(4, "d")),
            ],
            changes);
        Assert.Equal(3, table.Count);
    }
}
