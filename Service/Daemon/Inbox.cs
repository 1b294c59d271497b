using System.Threading.Channels;
using WgRouted.Engine.Events;

namespace WgRouted.Service.Daemon;

/// <summary>
/// The one queue every source and actuator posts into; the policy loop is its only reader. Unbounded so that a
/// source never blocks on the loop; sources post changes, not samples, so it stays small.
/// </summary>
public sealed class Inbox
{
    private readonly Channel<object> _channel = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });

    public ChannelReader<object> Reader => _channel.Reader;

    /// <summary>Rung by every post: the policy loop's thread waits on it.</summary>
    public Doorbell Bell { get; } = new();

    public void Post(PeerEvent e) => Write(e);

    public void Post(HostEvent e) => Write(e);

    public void Post(LoopHeartbeat beat) => Write(beat);

    private void Write(object e)
    {
        if (!_channel.Writer.TryWrite(e))
            throw new InvalidOperationException("the inbox is closed");
        Bell.Ring();
    }

    public void Complete()
    {
        _channel.Writer.TryComplete();
        Bell.Ring();
    }
}
