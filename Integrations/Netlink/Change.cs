namespace WgRouted.Integrations.Netlink;

/// <summary>One object's change: Old is null when added, New is null when removed.</summary>
public sealed record Change<T>(ChangeKind Kind, T? Old, T? New) where T : class;
