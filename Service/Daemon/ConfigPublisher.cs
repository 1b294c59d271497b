using Microsoft.Extensions.Hosting;
using WgRouted.Engine.Events;
using WgRouted.Service.Configuration;

namespace WgRouted.Service.Daemon;

/// <summary>Records each configured peer (PeerConfigured) when the daemon starts.</summary>
public sealed class ConfigPublisher(WgRoutedConfig config, Inbox inbox, TimeProvider time) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var (itf, peer) in config.Peers)
            inbox.Post(new PeerConfigured(peer.PublicKey, now, itf.Name, peer.Endpoints.Select(e => e.ToString()).ToList(), peer.ProbePort,
                itf.Babel ? BabelTunnel.Command(itf.Name, config.Options.Babel) : null, peer.Responder));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
