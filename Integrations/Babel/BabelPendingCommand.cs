namespace WgRouted.Integrations.Babel;

/// <summary>A command sent and not yet answered. Dump marks a command whose reply ends a full listing
/// (dump, monitor).</summary>
internal sealed class BabelPendingCommand(BabelCommand command, bool dump)
{
    public BabelCommand Command => command;

    public bool Dump => dump;

    public TaskCompletionSource<BabelReply> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
