using System.Diagnostics;
using System.Text.Json;
using WgRouted.Tests.Shared;

namespace WgRouted.Service.Tests.Daemon;

/// <summary>
/// `wg-routed run` for real inside a namespace: a router with two uplinks (veths to an "internet" namespace),
/// wireguard-go, the embedded PostgreSQL. Checks what reaches the store when routes and carrier change.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DaemonTests : IDisposable
{
    private const string PeerEndpoint = "198.18.3.2:51820";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly TestNamespace _router = new();
    private readonly TestNamespace _inet = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("wgr-daemon-").FullName;
    private readonly string _iface = "wgrd" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
    private readonly string _peerKey;
    private readonly List<Process> _processes = [];

    public DaemonTests()
    {
        // A failing setup must not leave namespaces or processes behind: xunit calls Dispose only after a
        // constructor that returned.
        try
        {
            // The embedded PostgreSQL (user postgres) passes through to DataDirectory.
            File.SetUnixFileMode(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            TestNamespace.Run("ip", $"link add a0 netns {_router.Name} type veth peer name a1 netns {_inet.Name}");
            TestNamespace.Run("ip", $"link add b0 netns {_router.Name} type veth peer name b1 netns {_inet.Name}");
            foreach (var (ns, link, address) in new[] { (_router, "a0", "198.18.1.2/24"), (_router, "b0", "198.18.2.2/24"), (_inet, "a1", "198.18.1.1/24"), (_inet, "b1", "198.18.2.1/24") })
            {
                ns.Ip($"addr add {address} dev {link}");
                ns.Ip($"link set {link} up");
            }
            _router.Ip("route add default via 198.18.1.1 metric 100");
            _router.Ip("route add default via 198.18.2.1 metric 200");

            var wireguard = TestNamespace.Start("ip", $"netns exec {_router.Name} wireguard-go -f {_iface}");
            _processes.Add(wireguard);
            WaitUntil(() => File.Exists($"/var/run/wireguard/{_iface}.sock"), "wireguard-go's socket");
            var privateKey = TestNamespace.Run("wg", "genkey").Trim();
            File.WriteAllText(Path.Combine(_dir, "key"), privateKey);
            _peerKey = TestNamespace.Run("wg", "pubkey", TestNamespace.Run("wg", "genkey")).Trim();
            // The device has a fwmark of its own, which WgRouted must give back.
            Exec(_router, "wg", $"set {_iface} fwmark 0x77 private-key {Path.Combine(_dir, "key")} peer {_peerKey} allowed-ips 198.19.0.2/32 endpoint {PeerEndpoint}");

            File.WriteAllText(Path.Combine(_dir, "config.json"), $$"""
                { "DataDirectory": "{{_dir}}/data",
                  "Interfaces": [ { "Name": "{{_iface}}", "Fwmark": "0x5157",
                      "Peers": [ { "PublicKey": "{{_peerKey}}", "Endpoints": ["{{PeerEndpoint}}"] } ] } ] }
                """);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private Process Start(System.Text.StringBuilder log)
    {
        var daemon = TestNamespace.Start("ip", $"netns exec {_router.Name} dotnet {Repository.Cli()} run --config {_dir}/config.json");
        _processes.Add(daemon);
        daemon.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        daemon.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        daemon.BeginErrorReadLine();
        daemon.BeginOutputReadLine();
        return daemon;
    }

    [Fact]
    public void The_daemon_records_route_and_carrier_changes_and_cleans_up_on_stop()
    {
        var log = new System.Text.StringBuilder();
        var daemon = Start(log);

        // Start: the kernel prefers uplink A for the peer, both uplinks are candidates, pins are in place.
        WaitForEvent(daemon, log, "PreferredSourceChanged", e => e.GetProperty("src").GetString() == "198.18.1.2");
        var candidates = WaitForEvent(daemon, log, "CandidatesResolved", _ => true);
        Assert.Equal(["198.18.1.2", "198.18.2.2"], candidates.GetProperty("sources").EnumerateArray().Select(c => c.GetProperty("address").GetString()).Order());
        Assert.Equal(["a0", "b0"], candidates.GetProperty("sources").EnumerateArray().Select(c => c.GetProperty("link").GetString()).Order());
        WaitForEvent(daemon, log, "PeerAdded", e => e.GetProperty("interface").GetString() == _iface);
        Assert.Contains("fwmark 0x5157 lookup 20823", _router.Ip("rule show"), StringComparison.Ordinal);
        Assert.Equal("0x5157", Exec(_router, "wg", $"show {_iface} fwmark").Trim());

        // The primary's route is withdrawn: the kernel now prefers B, and the host stream has the removal.
        _router.Ip("route del default via 198.18.1.1");
        WaitForEvent(daemon, log, "PreferredSourceChanged", e => e.GetProperty("src").GetString() == "198.18.2.2");
        WaitForEvent(daemon, log, "RouteRemoved", e => e.GetProperty("gateway").GetString() == "198.18.1.1", hostStream: true);

        // Silent loss: B's far end loses carrier, its routes stay: the path from B is reported down anyway.
        _inet.Ip("link set b1 down");
        WaitForEvent(daemon, log, "PathLinkDown", e => e.GetProperty("path").GetProperty("src").GetString() == "198.18.2.2" && e.GetProperty("link").GetString() == "b0");

        // SIGTERM: a clean stop removes the pin rule and stops PostgreSQL.
        TestNamespace.Run("kill", $"-TERM {daemon.Id}");
        Assert.True(daemon.WaitForExit(30_000), "the daemon did not stop in 30 s");
        Assert.True(daemon.ExitCode == 0, log.ToString());
        Assert.DoesNotContain("lookup 20823", _router.Ip("rule show"), StringComparison.Ordinal);
        Assert.Equal("0x77", Exec(_router, "wg", $"show {_iface} fwmark").Trim());
        Assert.False(File.Exists(Path.Combine(_dir, "data", "postgres", "data", "postmaster.pid")), "PostgreSQL still running");
    }

    [Fact]
    public void After_a_SIGKILL_cleanup_removes_what_the_daemon_made_and_nothing_else()
    {
        _router.Ip("route add 198.19.7.0/24 via 198.18.1.1 table 300");
        var log = new System.Text.StringBuilder();
        var daemon = Start(log);
        WaitForEvent(daemon, log, "PeerAdded", e => e.GetProperty("interface").GetString() == _iface);
        WaitUntil(() => _router.Exec("nft", "list table inet wgrouted").Code == 0, "the fences' table");
        TestNamespace.Run("kill", $"-KILL {daemon.Id}");
        Assert.True(daemon.WaitForExit(10_000));
        Assert.Contains("lookup 20823 proto 157", _router.Ip("rule show"), StringComparison.Ordinal);

        var (code, output, error) = _router.Exec("dotnet", $"{Repository.Cli()} cleanup --config {_dir}/config.json");
        Assert.True(code == 0, output + error);
        Assert.DoesNotContain("proto 157", _router.Ip("rule show") + _router.Ip("route show table all"), StringComparison.Ordinal);
        Assert.NotEqual(0, _router.Exec("nft", "list table inet wgrouted").Code);
        Assert.Equal("0x77", Exec(_router, "wg", $"show {_iface} fwmark").Trim());
        Assert.Contains("198.19.7.0/24", _router.Ip("route show table 300"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_pin_table_holding_the_operators_routes_is_refused_and_left_alone()
    {
        // As with a fwmark of 51820, wg-quick's table: the table is the fwmark's number unless PinTable says otherwise.
        _router.Ip("route add default via 198.18.2.1 table 20823");
        var log = new System.Text.StringBuilder();
        var daemon = Start(log);
        Assert.True(daemon.WaitForExit(60_000), "the daemon did not refuse to start");
        daemon.WaitForExit(); // the output, to its end
        Assert.Equal(1, daemon.ExitCode);
        Assert.False(Directory.Exists(Path.Combine(_dir, "data", "postgres")), "PostgreSQL was set up before the refusal");
        Assert.Contains("Interfaces:0:PinTable: table 20823 holds what WgRouted did not make (route 0.0.0.0/0", log.ToString(), StringComparison.Ordinal);
        Assert.Contains("default via 198.18.2.1", _router.Ip("route show table 20823"), StringComparison.Ordinal);
        Assert.Equal("0x77", Exec(_router, "wg", $"show {_iface} fwmark").Trim());
    }

    [Fact]
    public async Task Killed_at_fifty_random_moments_and_restarted_it_loses_nothing_stores_nothing_twice_and_leaves_nothing_behind()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var data = Path.Combine(_dir, "data");
        var logPath = Path.Combine(data, "events.log");
        var logged = new HashSet<Guid>();
        for (var i = 0; i < Runs; i++)
        {
            var log = new System.Text.StringBuilder();
            var daemon = Start(log);
            // From before PostgreSQL answers to well after the first decisions.
            Thread.Sleep(random.Next(50, 2500));
            TestNamespace.Run("kill", $"-KILL {daemon.Id}");
            Assert.True(daemon.WaitForExit(10_000), $"run {i} (seed {seed}) did not die");
            // What the log holds is what the daemon promised to store: it must all reach the store.
            foreach (var (record, _) in new Service.Store.EventLog(logPath).ReadUnstored((_, _) => { }))
                logged.Add(record.Id);
        }
        // The last run stops cleanly, after storing what the log holds.
        var last = new System.Text.StringBuilder();
        var final = Start(last);
        try
        {
            WaitUntil(() => !File.Exists(logPath) && last.ToString().Contains("Embedded PostgreSQL", StringComparison.Ordinal), "the log stored");
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the log was not stored (seed {seed}, log {(File.Exists(logPath) ? new FileInfo(logPath).Length : -1)} bytes): {last}");
        }
        Assert.Equal(1, CountLines(_router.Ip("rule show"), "lookup 20823"));
        Assert.Equal(1, CountLines(_router.Ip("-6 rule show"), "lookup 20823"));
        TestNamespace.Run("kill", $"-TERM {final.Id}");
        Assert.True(final.WaitForExit(30_000));
        Assert.True(final.ExitCode == 0, last.ToString());
        Assert.False(File.Exists(Path.Combine(data, "postgres", "data", "postmaster.pid")), $"PostgreSQL left running (seed {seed}): {last}");
        Assert.DoesNotContain("proto 157", _router.Ip("rule show") + _router.Ip("route show table all"), StringComparison.Ordinal);
        Assert.Equal("0x77", Exec(_router, "wg", $"show {_iface} fwmark").Trim());

        await using var pg = await Service.Store.EmbeddedPostgres.StartAsync(data, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None);
        await using var connection = new Npgsql.NpgsqlConnection(pg.ConnectionString);
        await connection.OpenAsync();
        var stored = new HashSet<Guid>();
        var bodies = new HashSet<string>();
        var duplicates = 0;
        await using (var query = new Npgsql.NpgsqlCommand("SELECT id, type, data::text FROM wg_routed.mt_events", connection))
        await using (var rows = await query.ExecuteReaderAsync())
            while (await rows.ReadAsync())
            {
                stored.Add(rows.GetGuid(0));
                if (!bodies.Add(rows.GetString(1) + rows.GetString(2)))
                    duplicates++;
            }
        Assert.True(logged.Count > 0, $"nothing was ever caught in the log (seed {seed})");
        Assert.Empty(logged.Except(stored));
        Assert.Equal(0, duplicates);
    }

    private static readonly int Runs = int.TryParse(Environment.GetEnvironmentVariable("WGR_CRASH_RUNS"), out var n) ? n : 50;

    private static int CountLines(string text, string what) => text.Split('\n').Count(l => l.Contains(what, StringComparison.Ordinal));

    [Fact]
    public void Under_systemd_it_says_ready_feeds_the_watchdog_while_it_runs_and_says_stopping()
    {
        // systemd's side of Type=notify and WatchdogSec, on a real notify socket: the daemon is started as systemd
        // would (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID and SYSTEMD_EXEC_PID naming the daemon's own PID).
        var path = Path.Combine(_dir, "notify.sock");
        using var systemd = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Unspecified);
        systemd.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        systemd.ReceiveTimeout = 1000;
        var start = new ProcessStartInfo("ip", ["netns", "exec", _router.Name, "bash", "-c",
            $"export SYSTEMD_EXEC_PID=$$ WATCHDOG_PID=$$ NOTIFY_SOCKET={path} WATCHDOG_USEC=2000000; exec dotnet {Repository.Cli()} run --config {_dir}/config.json"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var daemon = Process.Start(start)!;
        _processes.Add(daemon);
        var log = new System.Text.StringBuilder();
        daemon.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        daemon.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        daemon.BeginErrorReadLine();
        daemon.BeginOutputReadLine();

        var messages = new List<string>();
        var buffer = new byte[512];
        var deadline = DateTime.UtcNow.AddSeconds(40);
        while (DateTime.UtcNow < deadline && messages.Count(m => m.Contains("WATCHDOG=1", StringComparison.Ordinal)) < 3)
        {
            try
            {
                messages.Add(System.Text.Encoding.ASCII.GetString(buffer, 0, systemd.Receive(buffer)));
            }
            catch (System.Net.Sockets.SocketException)
            {
                Assert.False(daemon.HasExited, log.ToString());
            }
        }
        Assert.Contains(messages, m => m.Contains("READY=1", StringComparison.Ordinal));
        Assert.True(messages.Count(m => m.Contains("WATCHDOG=1", StringComparison.Ordinal)) >= 3, string.Join(" | ", messages) + log);

        TestNamespace.Run("kill", $"-TERM {daemon.Id}");
        var stopping = false;
        for (var i = 0; i < 20 && !stopping; i++)
        {
            try
            {
                stopping = System.Text.Encoding.ASCII.GetString(buffer, 0, systemd.Receive(buffer)).Contains("STOPPING=1", StringComparison.Ordinal);
            }
            catch (System.Net.Sockets.SocketException)
            {
            }
        }
        Assert.True(stopping, "no STOPPING=1");
        Assert.True(daemon.WaitForExit(30_000));
        Assert.Equal(0, daemon.ExitCode);
    }

    private JsonElement WaitForEvent(Process daemon, System.Text.StringBuilder log, string type, Func<JsonElement, bool> match, bool hostStream = false)
    {
        var cli = Repository.Cli();
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            Assert.False(daemon.HasExited, $"the daemon exited: {log}");
            var peer = hostStream ? "" : $"--peer {_peerKey}";
            var (code, output, error) = _router.Exec("dotnet", $"{cli} events --config {_dir}/config.json {peer} --json");
            if (code == 0)
                foreach (var e in JsonDocument.Parse(output).RootElement.EnumerateArray())
                    if (e.GetProperty("type").GetString() == type && match(e.GetProperty("data")))
                        return e.GetProperty("data").Clone();
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no {type} stored in {Timeout.TotalSeconds} s (events: {code} {error}); daemon log:\n{log}");
            Thread.Sleep(300);
        }
    }

    private static string Exec(TestNamespace ns, string program, string args)
    {
        var (code, output, error) = ns.Exec(program, args);
        return code == 0 ? output : throw new InvalidOperationException($"{program} {args}: {error}");
    }

    private static void WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{what} did not appear");
            Thread.Sleep(20);
        }
    }


    public void Dispose()
    {
        foreach (var p in _processes)
        {
            if (!p.HasExited)
            {
                TestNamespace.Run("kill", $"-TERM {p.Id}");
                if (!p.WaitForExit(30_000))
                    p.Kill(entireProcessTree: true);
            }
            p.Dispose();
        }
        // A daemon killed hard leaves its PostgreSQL: stop it by its own data directory.
        var data = Path.Combine(_dir, "data", "postgres", "data");
        if (File.Exists(Path.Combine(data, "postmaster.pid")))
            TestNamespace.Run("runuser", $"-u postgres -- {Service.Store.EmbeddedPostgres.FindBinaries()}/pg_ctl -D {data} -m immediate stop");
        _router.Dispose();
        _inet.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
