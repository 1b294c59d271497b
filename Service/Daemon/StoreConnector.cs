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

    public async Task<EventStore> GetAsync(CancellationToken ct)
    {
        if (_store is { } ready)
            return ready;
        await _gate.WaitAsync(ct);
        try
        {
            if (_store is not null)
                return _store;
            var cs = config.Options.Store.ConnectionString;
            if (cs.Length == 0)
            {
                _embedded ??= await EmbeddedPostgres.StartAsync(config.Options.DataDirectory, logger, ct, adopt);
                cs = _embedded.ConnectionString;
            }
            _store = await EventStore.OpenAsync(cs, policy, ct);
            return _store;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is not null)
            await _store.DisposeAsync();
        if (_embedded is not null)
            await _embedded.DisposeAsync();
        _gate.Dispose();
    }
}
