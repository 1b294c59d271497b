using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Service.Configuration;

namespace WgRouted.Service.Daemon;

/// <summary>
/// Resolves endpoint names to A and AAAA. The system resolver gives no TTL, so answers are refreshed every
/// <see cref="Refresh"/>; a failed lookup keeps the last answer.
/// </summary>
public sealed partial class DnsSource(WgRoutedConfig config, CandidateTracker tracker, TimeProvider time, ILogger<DnsSource> logger)
    : BackgroundService
{
    public static readonly TimeSpan Refresh = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var names = config.Peers.SelectMany(p => p.Peer.Endpoints.Where(e => e.Literal is null).Select(e => (p.Peer.PublicKey, Spec: e))).ToList();
        if (names.Count == 0)
            return;
        using var timer = new PeriodicTimer(Refresh, time);
        do
        {
            foreach (var (peer, spec) in names)
            {
                try
                {
                    var addresses = await Dns.GetHostAddressesAsync(spec.Host, stoppingToken);
                    tracker.OnResolved(peer, spec, addresses.Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6).ToList());
                }
                catch (SocketException e)
                {
                    LogResolveFailed(logger, spec.Host, e.Message);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot resolve {Host}: {Error}; keeping its last addresses")]
    private static partial void LogResolveFailed(ILogger logger, string host, string error);
}
