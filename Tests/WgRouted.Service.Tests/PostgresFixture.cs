using Microsoft.Extensions.Logging.Abstractions;
using WgRouted.Service.Store;

namespace WgRouted.Service.Tests;

/// <summary>A private PostgreSQL cluster for the store tests, started and stopped by the project's own code.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private EmbeddedPostgres? _postgres;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("wgr-store-").FullName;
    public string ConnectionString => _postgres!.ConnectionString;

    public async Task InitializeAsync() =>
        _postgres = await EmbeddedPostgres.StartAsync(DataDirectory, NullLogger.Instance, CancellationToken.None);

    public async Task DisposeAsync()
    {
        if (_postgres is not null)
            await _postgres.DisposeAsync();
        Directory.Delete(DataDirectory, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}
