namespace WgRouted.Integrations.Netlink;

public sealed record HostMonitorOptions
{
    /// <summary>Named network namespace to watch; null for the daemon's own.</summary>
    public string? NetworkNamespace { get; init; }

    /// <summary>Full re-dump period: catches whatever notifications missed (IPv4 drops routes silently on link down).</summary>
    public TimeSpan ResyncInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Socket receive buffer for notifications; too small and bursts overflow (ENOBUFS, then a resync).</summary>
    public int ReceiveBufferSize { get; init; } = 4 * 1024 * 1024;
}
