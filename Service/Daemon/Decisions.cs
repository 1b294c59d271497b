using System.Threading.Channels;
using WgRouted.Engine.Events;

namespace WgRouted.Service.Daemon;

/// <summary>Decisions from the policy loop to the actuators (switcher, babeld bridge).</summary>
public sealed class Decisions
{
    private readonly Channel<PeerEvent> _channel = Channel.CreateUnbounded<PeerEvent>(new UnboundedChannelOptions { SingleReader = true });

    public ChannelReader<PeerEvent> Reader => _channel.Reader;

    public void Post(PeerEvent decision) => _channel.Writer.TryWrite(decision);
}
