using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace WgRouted.Service.Store;

/// <summary>
/// A private PostgreSQL cluster under DATADIR/postgres, from the system's PostgreSQL binaries: unix socket only
/// (listen_addresses empty), in a 0700 directory, run as the postgres user when we are root (initdb refuses root),
/// else as our own user. It trusts nothing it finds: a cluster it did not create (no marker), a directory others can
/// write, or a symbolic link anywhere from DATADIR down refuses the start. Its one role, wgrouted, is reached only
/// by peer authentication of our own OS user, and its settings are sized for a small router.
/// </summary>
public sealed partial class EmbeddedPostgres : IAsyncDisposable
{
    public const string DebianPackage = "postgresql";
    private const string ServiceUser = "postgres";
    public const string Role = "wgrouted";
    /// <summary>Written after initdb: a cluster without it was not made by WgRouted.</summary>
    private const string Marker = "created-by-wg-routed";

    /// <summary>
    /// A small router's share (the footprint in README): 16 MB of buffers, a few connections (the daemon's pool, the
    /// recorder's COPY, a CLI command), WAL capped at 64 MB, one autovacuum worker.
    /// </summary>
    private const string Settings = "-c shared_buffers=16MB -c max_connections=16 -c work_mem=2MB -c maintenance_work_mem=16MB " +
        "-c max_wal_size=64MB -c min_wal_size=32MB -c wal_buffers=1MB -c autovacuum_max_workers=1 -c autovacuum_naptime=60s " +
        "-c effective_cache_size=64MB -c huge_pages=off";

    private readonly string _root;
    private readonly string _binDir;
    private readonly ILogger _logger;
    private bool _startedByUs;

    private EmbeddedPostgres(string root, string binDir, ILogger logger)
    {
        _root = root;
        _binDir = binDir;
        _logger = logger;
    }

    public string DataDir => Path.Combine(_root, "data");
    public string SocketDir => Path.Combine(_root, "run");
    public string LogFile => Path.Combine(_root, "postgres.log");

    public string ConnectionString =>
        $"Host={SocketDir};Username={Role};Database=postgres;Pooling=true;Maximum Pool Size=8;Timeout=30";

    /// <summary>
    /// Starts the cluster, or uses it if it runs. With <paramref name="adopt"/> (the daemon, which holds its data
    /// directory alone) a running cluster is one a killed daemon left: it is taken over and stopped with this one.
    /// </summary>
    public static async Task<EmbeddedPostgres> StartAsync(string dataDirectory, ILogger logger, CancellationToken ct, bool adopt = false)
    {
        var bin = FindBinaries() ?? throw new InvalidOperationException(
            $"no PostgreSQL server binaries found (looked for /usr/lib/postgresql/*/bin/postgres and pg_config --bindir); " +
            $"install the Debian package '{DebianPackage}' (apt-get install {DebianPackage}) or set Store:ConnectionString");
        var pg = new EmbeddedPostgres(Path.Combine(dataDirectory, "postgres"), bin, logger);
        PrepareDataDirectory(dataDirectory);
        // The daemon and a CLI command (events, show) may start the cluster at the same moment: one at a time.
        await using (await LockAsync(Path.Combine(dataDirectory, "postgres.lock"), ct))
            await pg.StartAsync(ct);
        if (adopt && !pg._startedByUs)
        {
            pg._startedByUs = true;
            LogAdopted(logger, pg.DataDir);
        }
        return pg;
    }

    private static async Task<FileStream> LockAsync(string path, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            try
            {
                // .NET takes an flock(LOCK_EX) for FileShare.None on Linux: an inter-process lock, released on exit.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, ct);
            }
        }
    }

    private static bool IsRoot => Environment.UserName == "root" || GetEuid() == 0;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    public static string? FindBinaries()
    {
        const string debian = "/usr/lib/postgresql";
        if (Directory.Exists(debian))
        {
            var best = Directory.GetDirectories(debian)
                .Select(d => (Dir: d, Version: int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1))
                .Where(d => d.Version > 0 && File.Exists(Path.Combine(d.Dir, "bin", "postgres")) && File.Exists(Path.Combine(d.Dir, "bin", "initdb")))
                .OrderByDescending(d => d.Version)
                .Select(d => Path.Combine(d.Dir, "bin"))
                .FirstOrDefault();
            if (best is not null)
                return best;
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
            if (dir.Length > 0 && File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")))
                return dir;
        return null;
    }

    /// <summary>
    /// DATADIR itself: created if missing, never a symbolic link, writable by no one else. As root, postgres must pass
    /// through it (o+x on DATADIR, which is ours), and through its parents, which are the operator's and left as they
    /// are: one postgres cannot pass refuses the start, named.
    /// </summary>
    private static void PrepareDataDirectory(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        Refuse(dataDirectory);
        if (!IsRoot)
            return;
        for (var dir = Path.GetDirectoryName(Path.GetFullPath(dataDirectory)); !string.IsNullOrEmpty(dir) && dir != "/"; dir = Path.GetDirectoryName(dir))
            if (!File.GetUnixFileMode(dir).HasFlag(UnixFileMode.OtherExecute))
                throw new InvalidOperationException(
                    $"the embedded PostgreSQL runs as '{ServiceUser}', which cannot pass through {dir} (no o+x) to DataDirectory {dataDirectory}: " +
                    $"choose a DataDirectory under a searchable directory (the default /var/lib/wg-routed is), or set Store:ConnectionString");
        var mode = File.GetUnixFileMode(dataDirectory);
        if (!mode.HasFlag(UnixFileMode.OtherExecute))
            File.SetUnixFileMode(dataDirectory, mode | UnixFileMode.OtherExecute);
    }

    /// <summary>Throws unless <paramref name="path"/> is a real directory (not a link) that no group or other may write.</summary>
    private static void Refuse(string path)
    {
        var info = new DirectoryInfo(path);
        if (info.LinkTarget is not null)
            throw new InvalidOperationException($"{path} is a symbolic link (to {info.LinkTarget}): the embedded PostgreSQL follows none; use the real directory");
        var mode = File.GetUnixFileMode(path);
        if ((mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
            throw new InvalidOperationException($"{path} is writable by others (mode {Convert.ToString((int)mode, 8)}): anyone could replace the store; chmod go-w it");
    }

    private async Task StartAsync(CancellationToken ct)
    {
        var fresh = !Directory.Exists(_root);
        if (!fresh)
        {
            Refuse(_root);
            foreach (var dir in new[] { DataDir, SocketDir }.Where(Directory.Exists))
                Refuse(dir);
            if (File.Exists(Path.Combine(DataDir, "PG_VERSION")) && !File.Exists(Path.Combine(_root, Marker)))
                throw new InvalidOperationException(
                    $"{DataDir} holds a PostgreSQL cluster WgRouted did not create (no {Path.Combine(_root, Marker)}): move it away, or set Store:ConnectionString to use it");
        }
        Directory.CreateDirectory(_root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(SocketDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        // Marked before initdb: a cluster found later without the mark was not made here.
        if (fresh)
            await File.WriteAllTextAsync(Path.Combine(_root, Marker), $"wg-routed {DateTimeOffset.UtcNow:O}\n", ct);
        if (IsRoot)
            // chown -R changes links themselves, never what they point at (-P, its default).
            await RunAsync("chown", ["-R", "-P", $"{ServiceUser}:{ServiceUser}", _root], asServiceUser: false, ct);
        File.SetUnixFileMode(_root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(SocketDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        if (!File.Exists(Path.Combine(DataDir, "PG_VERSION")))
        {
            LogInitdb(_logger, DataDir);
            // Into a directory aside, then renamed: a crash during initdb leaves no half cluster where a whole one belongs.
            var building = DataDir + ".initdb";
            foreach (var partial in new[] { building, DataDir }.Where(Directory.Exists))
                Directory.Delete(partial, recursive: true);
            await RunAsync(Path.Combine(_binDir, "initdb"),
                ["-D", building, "-U", Role, "--auth-local=peer", "--auth-host=reject", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"],
                asServiceUser: true, ct);
            Directory.Move(building, DataDir);
        }
        // Only our own OS user, as role wgrouted, over the socket (in a 0700 directory; no TCP listener). Written at
        // every start: whatever edited them, or a crash between initdb and here, does not change who gets in.
        var access = await WriteAsServiceAsync(Path.Combine(DataDir, "pg_hba.conf"), $"local all {Role} peer map={Role}\n", ct)
            | await WriteAsServiceAsync(Path.Combine(DataDir, "pg_ident.conf"), $"{Role} {Environment.UserName} {Role}\n", ct);
        if (await IsRunningAsync(ct))
        {
            if (access)
                await RunAsync(Path.Combine(_binDir, "pg_ctl"), ["-D", DataDir, "reload"], asServiceUser: true, ct);
            LogReusing(_logger, DataDir);
            return;
        }
        var options = $"-c listen_addresses='' -k {SocketDir} -c unix_socket_permissions=0700 -c fsync=on {Settings}";
        await RunAsync(Path.Combine(_binDir, "pg_ctl"), ["-D", DataDir, "-l", LogFile, "-w", "-t", "60", "-o", options, "start"], asServiceUser: true, ct);
        _startedByUs = true;
        LogStarted(_logger, SocketDir);
    }

    private async Task<bool> IsRunningAsync(CancellationToken ct)
    {
        var (code, _) = await RunRawAsync(Path.Combine(_binDir, "pg_ctl"), ["-D", DataDir, "status"], asServiceUser: true, ct);
        return code == 0;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_startedByUs)
            return;
        _startedByUs = false;
        try
        {
            await RunAsync(Path.Combine(_binDir, "pg_ctl"), ["-D", DataDir, "-m", "fast", "-w", "-t", "60", "stop"], asServiceUser: true, CancellationToken.None);
            LogStopped(_logger, DataDir);
        }
        catch (InvalidOperationException e)
        {
            LogStopFailed(_logger, e.Message);
        }
    }

    /// <summary>Writes a file of the cluster's, owned by the user PostgreSQL runs as; false if it held that already.</summary>
    private async Task<bool> WriteAsServiceAsync(string path, string text, CancellationToken ct)
    {
        if (File.Exists(path) && await File.ReadAllTextAsync(path, ct) == text)
            return false;
        await File.WriteAllTextAsync(path, text, ct);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (IsRoot)
            await RunAsync("chown", ["-P", $"{ServiceUser}:{ServiceUser}", path], asServiceUser: false, ct);
        return true;
    }

    private async Task RunAsync(string file, IReadOnlyList<string> args, bool asServiceUser, CancellationToken ct)
    {
        var (code, output) = await RunRawAsync(file, args, asServiceUser, ct);
        if (code != 0)
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} failed with exit code {code}: {output.Trim()}" +
                (File.Exists(LogFile) ? $" (see {LogFile})" : ""));
    }

    private static async Task<(int Code, string Output)> RunRawAsync(string file, IReadOnlyList<string> args, bool asServiceUser, CancellationToken ct)
    {
        var psi = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        if (asServiceUser && IsRoot)
        {
            psi.FileName = "runuser";
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add(ServiceUser);
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(file);
        }
        else
            psi.FileName = file;
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {psi.FileName}");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return (process.ExitCode, await stdout + await stderr);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Creating the embedded PostgreSQL cluster in {DataDir}")]
    private static partial void LogInitdb(ILogger logger, string dataDir);

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded PostgreSQL already running on {DataDir}; using it")]
    private static partial void LogReusing(ILogger logger, string dataDir);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Embedded PostgreSQL on {DataDir} was left running by a daemon that did not stop: taken over, stopped with this one")]
    private static partial void LogAdopted(ILogger logger, string dataDir);

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded PostgreSQL started, socket in {SocketDir}")]
    private static partial void LogStarted(ILogger logger, string socketDir);

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded PostgreSQL in {DataDir} stopped")]
    private static partial void LogStopped(ILogger logger, string dataDir);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stopping the embedded PostgreSQL failed: {Error}")]
    private static partial void LogStopFailed(ILogger logger, string error);
}
