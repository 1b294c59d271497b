using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace WgRouted.Service.Store;

/// <summary>
/// A private PostgreSQL cluster under DATADIR/postgres, from the system's PostgreSQL binaries: unix socket only
/// (listen_addresses empty), in a 0700 directory, run as the postgres user when we are root (initdb refuses root).
/// </summary>
public sealed partial class EmbeddedPostgres : IAsyncDisposable
{
    public const string DebianPackage = "postgresql";
    private const string ServiceUser = "postgres";

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
        $"Host={SocketDir};Username={ServiceUser};Database=postgres;Pooling=true;Maximum Pool Size=20;Timeout=30";

    public static async Task<EmbeddedPostgres> StartAsync(string dataDirectory, ILogger logger, CancellationToken ct)
    {
        var bin = FindBinaries() ?? throw new InvalidOperationException(
            $"no PostgreSQL server binaries found (looked for /usr/lib/postgresql/*/bin/postgres and pg_config --bindir); " +
            $"install the Debian package '{DebianPackage}' (apt-get install {DebianPackage}) or set Store:ConnectionString");
        var pg = new EmbeddedPostgres(Path.Combine(dataDirectory, "postgres"), bin, logger);
        Directory.CreateDirectory(dataDirectory);
        // The daemon and a CLI command (events, show) may start the cluster at the same moment: one at a time.
        await using (await LockAsync(Path.Combine(dataDirectory, "postgres.lock"), ct))
            await pg.StartAsync(ct);
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

    private async Task StartAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(_root);
        Directory.CreateDirectory(SocketDir);
        if (IsRoot)
        {
            // postgres must traverse the data directory's parents to reach its own directory.
            for (var dir = Path.GetDirectoryName(_root); !string.IsNullOrEmpty(dir) && dir != "/"; dir = Path.GetDirectoryName(dir))
            {
                var mode = File.GetUnixFileMode(dir);
                if (!mode.HasFlag(UnixFileMode.OtherExecute))
                    File.SetUnixFileMode(dir, mode | UnixFileMode.OtherExecute);
            }
            await RunAsync("chown", ["-R", $"{ServiceUser}:{ServiceUser}", _root], asServiceUser: false, ct);
        }
        File.SetUnixFileMode(_root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(SocketDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        if (!File.Exists(Path.Combine(DataDir, "PG_VERSION")))
        {
            LogInitdb(_logger, DataDir);
            // trust is safe here: the only way in is the socket in a 0700 directory (no TCP listener).
            await RunAsync(Path.Combine(_binDir, "initdb"),
                ["-D", DataDir, "-U", ServiceUser, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"],
                asServiceUser: true, ct);
        }
        if (await IsRunningAsync(ct))
        {
            LogReusing(_logger, DataDir);
            return;
        }
        var options = $"-c listen_addresses='' -k {SocketDir} -c unix_socket_permissions=0700 -c fsync=on -c max_connections=50";
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded PostgreSQL started, socket in {SocketDir}")]
    private static partial void LogStarted(ILogger logger, string socketDir);

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded PostgreSQL in {DataDir} stopped")]
    private static partial void LogStopped(ILogger logger, string dataDir);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stopping the embedded PostgreSQL failed: {Error}")]
    private static partial void LogStopFailed(ILogger logger, string error);
}
