namespace WgRouted.Integrations.Babel;

public enum BabelReplyKind
{
    Ok,
    No,
    Bad,
}
