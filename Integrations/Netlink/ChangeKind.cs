namespace WgRouted.Integrations.Netlink;

public enum ChangeKind
{
    Added,
    Removed,
    Changed,
}
