namespace WgRouted.Integrations.Babel;

/// <summary>local.c's local_kind: LOCAL_ADD, LOCAL_CHANGE, LOCAL_FLUSH.</summary>
public enum BabelNotificationKind
{
    Add,
    Change,
    Flush,
}
