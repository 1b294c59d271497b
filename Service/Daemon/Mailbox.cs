using System.Threading.Channels;

namespace WgRouted.Service.Daemon;

/// <summary>
/// What the policy loop hands one actuator: the loop posts, the actuator's own task reads. Unbounded so the loop
/// never waits on an actuator; the loop posts decisions and changes, not samples, so it stays small.
/// </summary>
public sealed class Mailbox<T>
{
    private readonly Channel<T> _channel = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true });

    public ChannelReader<T> Reader => _channel.Reader;

    /// <summary>Rung by every post, for an actuator whose loop runs on a thread of its own (the prober).</summary>
    public Doorbell Bell { get; } = new();

    public void Post(T item)
    {
        _channel.Writer.TryWrite(item);
        Bell.Ring();
    }
}
