namespace WgRouted.Integrations.Babel;

/// <summary>
/// babeld's answer to one command line (`ok`, `no[ MESSAGE]` or `bad`), and the greeting's last line (`ok`).
/// </summary>
/// <remarks>`bad` is babeld's answer to a line it could not parse, and also to every configuration command on a
/// read-only socket (configuration.c cannot tell the two apart there).</remarks>
public sealed record BabelReply(BabelReplyKind Kind, string? Message = null) : BabelLine
{
    public static BabelReply Ok { get; } = new(BabelReplyKind.Ok);

    public bool IsOk => Kind == BabelReplyKind.Ok;

    public override string ToString() => Kind switch
    {
        BabelReplyKind.Ok => "ok",
        BabelReplyKind.No => Message is null ? "no" : $"no {Message}",
        _ => Message is null ? "bad" : $"bad {Message}",
    };
}
