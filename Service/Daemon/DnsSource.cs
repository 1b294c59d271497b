using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Service.Configuration;

namespace WgRouted.Service.Daemon;

/// <summary>
/// Resolves endpoint names to A and AAAA. The system resolver gives no TTL, so answers are refreshed every
/// <see cref="Refresh"/>; a failed lookup keeps the last answer and is tried again sooner, from <see cref="RetryFirst"/>
/// doubling up to <see cref="Refresh"/>, so a resolver down at boot costs seconds, not minutes.
/// </summary>
public sealed partial class DnsSource(
    WgRoutedConfig config, CandidateTracker tracker, TimeProvider time, ILogger<DnsSource> logger,
    Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null)
    : BackgroundService
{
    public static readonly TimeSpan Refresh = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan RetryFirst = TimeSpan.FromSeconds(5);

    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve = resolve ?? Dns.GetHostAddressesAsync;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var names = config.Peers.SelectMany(p => p.Peer.Endpoints.Where(e => e.Literal is null).Select(e => (p.Peer.PublicKey, Spec: e))).ToList();
        if (names.Count == 0)
            return;
        var retry = RetryFirst;
        while (true)
        {
            var failed = false;
            foreach (var (peer, spec) in names)
            {
                try
                {
                    var addresses = await _resolve(spec.Host, stoppingToken);
                    tracker.OnResolved(peer, spec, addresses.Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6).ToList());
                }
                catch (SocketException e)
                {
                    failed = true;
                    LogResolveFailed(logger, spec.Host, e.Message);
                }
            }
            var wait = failed ? retry : Refresh;
            retry = failed ? TimeSpan.FromTicks(Math.Min(Refresh.Ticks, retry.Ticks * 2)) : RetryFirst;
            await Task.Delay(wait, time, stoppingToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot resolve {Host}: {Error}; keeping its last addresses, trying again soon")]
    private static partial void LogResolveFailed(ILogger logger, string host, string error);
}
