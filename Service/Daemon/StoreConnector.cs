using Microsoft.Extensions.Logging;
using WgRouted.Engine.Policy;
using WgRouted.Service.Configuration;
using WgRouted.Service.Store;

namespace WgRouted.Service.Daemon;

/// <summary>
/// Opens the event store on first use: the configured PostgreSQL, or the embedded one it starts. The daemon's
/// (<paramref name="adopt"/>) also takes over an embedded PostgreSQL a killed daemon left running.
/// </summary>
public sealed class StoreConnector(WgRoutedConfig config, EndpointPolicy policy, ILogger<StoreConnector> logger, bool adopt = false) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private EmbeddedPostgres? _embedded;
    private EventStore? _store;
    private Task? _starting;
    private volatile bool _closed;

    /// <summary>
    /// The open store, opening it first if need be. The embedded cluster's start (initdb, pg_ctl) runs to its end
    /// whatever <paramref name="ct"/> says: a caller that gives up leaves no half-started PostgreSQL that no one stops.
    /// </summary>
    public async Task<EventStore> GetAsync(CancellationToken ct)
    {
        if (_store is { } ready)
            return ready;
        await _gate.WaitAsync(ct);
        try
        {
            if (_store is not null)
                return _store;
            if (_closed)
                throw new InvalidOperationException("the daemon is stopping: a store that was not open is not opened now");
            var cs = config.Options.Store.ConnectionString;
            if (cs.Length == 0)
            {
                if (_embedded is null)
                {
                    var starting = _starting ??= StartEmbeddedAsync();
                    try
                    {
                        await starting.WaitAsync(ct);
                    }
                    finally
                    {
                        // Failed: the next call tries again. Given up on: the next call waits for the same start.
                        if (starting.IsCompleted)
                            _starting = null;
                    }
                }
                cs = _embedded!.ConnectionString;
            }
            _store = await EventStore.OpenAsync(cs, policy, ct);
            return _store;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task StartEmbeddedAsync() =>
        _embedded = await EmbeddedPostgres.StartAsync(config.Options.DataDirectory, logger, CancellationToken.None, adopt);

    /// <summary>
    /// No store is opened from now on (the daemon is stopping): a last flush goes to the store if it is open, else it
    /// waits on disk for the next start, rather than creating and starting a cluster only to stop it again.
    /// </summary>
    public void Close() => _closed = true;

    public async ValueTask DisposeAsync()
    {
        _closed = true;
        // A start a caller gave up on still ends in a running cluster: wait for it, and stop what it started.
        if (_starting is { IsCompleted: false } starting)
            await starting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_store is not null)
            await _store.DisposeAsync();
        if (_embedded is not null)
            await _embedded.DisposeAsync();
        _gate.Dispose();
    }
}
