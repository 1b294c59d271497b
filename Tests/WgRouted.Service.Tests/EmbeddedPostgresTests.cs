using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using WgRouted.Service.Configuration;
using WgRouted.Service.Daemon;
using WgRouted.Service.Store;

namespace WgRouted.Service.Tests;

/// <summary>The embedded PostgreSQL trusts nothing it finds, lets in only its own OS user, and runs small.</summary>
[Trait("Category", "Integration")]
public sealed class EmbeddedPostgresTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wgr-pg-").FullName;

    [Fact]
    public async Task A_cluster_it_did_not_create_is_refused()
    {
        // A pre-seeded cluster (an attacker's, or an operator's): anything it holds would become the store.
        Directory.CreateDirectory(Path.Combine(_dir, "postgres", "data"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(Path.Combine(_dir, "postgres"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await File.WriteAllTextAsync(Path.Combine(_dir, "postgres", "data", "PG_VERSION"), "15\n");
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => EmbeddedPostgres.StartAsync(_dir, NullLogger.Instance, CancellationToken.None));
        Assert.Contains("holds a PostgreSQL cluster WgRouted did not create", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_symbolic_link_or_a_directory_others_can_write_is_refused()
    {
        var elsewhere = Directory.CreateTempSubdirectory("wgr-pg-elsewhere-").FullName;
        try
        {
            Directory.CreateSymbolicLink(Path.Combine(_dir, "postgres"), elsewhere);
            var link = await Assert.ThrowsAsync<InvalidOperationException>(() => EmbeddedPostgres.StartAsync(_dir, NullLogger.Instance, CancellationToken.None));
            Assert.Contains("is a symbolic link", link.Message, StringComparison.Ordinal);
            // Nothing was changed through the link.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(elsewhere));
            Assert.Empty(Directory.EnumerateFileSystemEntries(elsewhere));
        }
        finally
        {
            Directory.Delete(elsewhere);
        }
        File.Delete(Path.Combine(_dir, "postgres"));
        File.SetUnixFileMode(_dir, File.GetUnixFileMode(_dir) | UnixFileMode.OtherWrite);
        var writable = await Assert.ThrowsAsync<InvalidOperationException>(() => EmbeddedPostgres.StartAsync(_dir, NullLogger.Instance, CancellationToken.None));
        Assert.Contains("is writable by others", writable.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_parent_postgres_cannot_pass_through_is_named_not_changed()
    {
        var closed = Path.Combine(_dir, "closed");
        Directory.CreateDirectory(closed, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => EmbeddedPostgres.StartAsync(Path.Combine(closed, "data"), NullLogger.Instance, CancellationToken.None));
        Assert.Contains($"cannot pass through {closed}", e.Message, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(closed));
    }

    [Fact]
    public async Task Only_its_own_role_through_peer_authentication_and_small_settings()
    {
        await using var pg = await EmbeddedPostgres.StartAsync(_dir, NullLogger.Instance, CancellationToken.None);
        await using (var ours = new NpgsqlConnection(pg.ConnectionString))
        {
            await ours.OpenAsync();
            await using var show = new NpgsqlCommand("SELECT current_user, current_setting('shared_buffers'), current_setting('max_connections'), current_setting('max_wal_size')", ours);
            await using var row = await show.ExecuteReaderAsync();
            Assert.True(await row.ReadAsync());
            Assert.Equal((EmbeddedPostgres.Role, "16MB", "16", "64MB"), (row.GetString(0), row.GetString(1), row.GetString(2), row.GetString(3)));
        }
        // The bootstrap role of a default cluster does not exist, and no other role gets in over the socket.
        var other = new NpgsqlConnectionStringBuilder(pg.ConnectionString) { Username = "postgres", Pooling = false }.ConnectionString;
        await using var theirs = new NpgsqlConnection(other);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => theirs.OpenAsync());
        Assert.Equal("28000", refused.SqlState); // invalid_authorization_specification: no pg_hba.conf entry
    }

    /// <summary>
    /// A daemon stopped while its first start creates the cluster (CI saw it: a stop 0.4 s after the start): the caller
    /// that gave up does not leave a PostgreSQL no one stops, and the stopping daemon's last flush does not create one.
    /// </summary>
    [Fact]
    public async Task A_start_given_up_on_is_stopped_with_the_connector_and_a_closed_one_opens_nothing()
    {
        var config = ConfigurationLoader.Validate(new WgRoutedOptions { DataDirectory = _dir });
        var connector = new StoreConnector(config, new Engine.Policy.EndpointPolicy(config.Policy), NullLogger<StoreConnector>.Instance, adopt: true);
        using (var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(200)))
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connector.GetAsync(giveUp.Token));
        connector.Close();
        var closed = await Assert.ThrowsAsync<InvalidOperationException>(() => connector.GetAsync(CancellationToken.None));
        Assert.Contains("stopping", closed.Message, StringComparison.Ordinal);
        await connector.DisposeAsync();
        // The start ran to its end (the cluster is whole) and the cluster it started is stopped.
        var data = Path.Combine(_dir, "postgres", "data");
        Assert.True(File.Exists(Path.Combine(data, "PG_VERSION")), "the cluster was not created to its end");
        Assert.False(File.Exists(Path.Combine(data, "postmaster.pid")), "the PostgreSQL the given-up start started still runs");

        // A connector closed before any use creates nothing.
        var other = Directory.CreateTempSubdirectory("wgr-pg-").FullName;
        try
        {
            var unused = new StoreConnector(ConfigurationLoader.Validate(new WgRoutedOptions { DataDirectory = other }), new Engine.Policy.EndpointPolicy(config.Policy), NullLogger<StoreConnector>.Instance);
            unused.Close();
            await Assert.ThrowsAsync<InvalidOperationException>(() => unused.GetAsync(CancellationToken.None));
            await unused.DisposeAsync();
            Assert.False(Directory.Exists(Path.Combine(other, "postgres")));
        }
        finally
        {
            Directory.Delete(other, recursive: true);
        }
    }

    public void Dispose()
    {
        var data = Path.Combine(_dir, "postgres", "data");
        if (File.Exists(Path.Combine(data, "postmaster.pid")))
            WgRouted.Tests.Shared.TestNamespace.Run("runuser", $"-u postgres -- {EmbeddedPostgres.FindBinaries()}/pg_ctl -D {data} -m immediate stop");
        Directory.Delete(_dir, recursive: true);
    }
}
