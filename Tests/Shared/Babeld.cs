using System.Diagnostics;
using System.Text;

namespace WgRouted.Tests.Shared;

/// <summary>
/// A babeld inside a <see cref="TestNamespace"/>, with its configuration, state file and control socket in a temp
/// directory of its own; stopped by PID on Dispose. babeld refuses to start without an interface, and WireGuard
/// links have no MAC to derive a router-id from: give it both.
/// </summary>
/// <example><code>
/// using var a = new TestNamespace();
/// using var b = new TestNamespace();
/// Veth.Connect(a, "a0", "198.18.30.1/24", b, "b0", "198.18.30.2/24");
/// using var babelA = Babeld.Start(a, "02:00:00:00:00:00:0a:01", ["interface a0 type tunnel hello-interval 0.2"]);
/// // connect a client to babelA.Control ("unix:/tmp/wgrbabel.../control.sock")
/// </code></example>
internal sealed class Babeld : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);
    private readonly string _directory;
    private readonly StringBuilder _log = new();
    private Process? _process;

    private Babeld(TestNamespace ns, string routerId, string directory)
    {
        Namespace = ns;
        RouterId = routerId;
        _directory = directory;
    }

    public TestNamespace Namespace { get; }

    public string RouterId { get; }

    /// <summary>The unix socket babeld listens on (local-path-readwrite, or local-path when read-only).</summary>
    public string ControlPath => Path.Combine(_directory, "control.sock");

    /// <summary>The `Babel:Control` setting for <see cref="ControlPath"/>.</summary>
    public string Control => $"unix:{ControlPath}";

    public int Pid => _process?.Id ?? throw new InvalidOperationException("babeld is not running");

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>What babeld wrote on stderr so far (its log).</summary>
    public string Log
    {
        get
        {
            lock (_log)
                return _log.ToString();
        }
    }

    /// <summary>Starts babeld and waits until its control socket accepts connections.</summary>
    /// <param name="routerId">`router-id` (8 bytes, xx:xx:xx:xx:xx:xx:xx:xx).</param>
    /// <param name="config">babeld.conf lines; at least one `interface NAME ...`.</param>
    /// <param name="readWrite">local-path-readwrite (commands allowed) or local-path (dump and monitor only).</param>
    public static Babeld Start(TestNamespace ns, string routerId, IEnumerable<string> config, bool readWrite = true)
    {
        var directory = Directory.CreateTempSubdirectory("wgrbabel").FullName;
        File.WriteAllLines(Path.Combine(directory, "babeld.conf"),
        [
            $"router-id {routerId}",
            $"{(readWrite ? "local-path-readwrite" : "local-path")} {Path.Combine(directory, "control.sock")}",
            $"state-file {Path.Combine(directory, "state")}",
            .. config,
        ]);
        var babeld = new Babeld(ns, routerId, directory);
        try
        {
            babeld.Launch();
        }
        catch
        {
            babeld.Dispose();
            throw;
        }
        return babeld;
    }

    /// <summary>SIGKILL, as a crash: the control socket file stays behind, as it would.</summary>
    public void Kill()
    {
        if (_process is not { HasExited: false } p)
            return;
        p.Kill();
        p.WaitForExit();
    }

    /// <summary>SIGTERM (babeld retracts its routes and removes its socket), SIGKILL if still there after 5 s.</summary>
    public void Stop()
    {
        if (_process is not { HasExited: false } p)
            return;
        TestNamespace.Run("kill", $"-TERM {p.Id}");
        if (!p.WaitForExit(5000))
            Kill();
    }

    /// <summary>
    /// Starts babeld again with the same configuration. A killed babeld leaves its socket file, on which a new one's
    /// bind fails ("local_server_socket: Address already in use") and it exits: the file is removed first.
    /// </summary>
    public void Restart()
    {
        Stop();
        Launch();
    }

    public void Dispose()
    {
        try
        {
            Stop();
        }
        finally
        {
            _process?.Dispose();
            _process = null;
            Directory.Delete(_directory, recursive: true);
        }
    }

    private void Launch()
    {
        File.Delete(ControlPath);
        _process?.Dispose();
        // `ip netns exec` execs babeld: the process's id is babeld's. -I "": no pid file (a killed babeld's would stop
        // the next from starting).
        var start = new ProcessStartInfo("ip")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "netns", "exec", Namespace.Name, "babeld", "-c", Path.Combine(_directory, "babeld.conf"), "-I", "" })
            start.ArgumentList.Add(arg);
        var p = Process.Start(start) ?? throw new InvalidOperationException("could not start babeld");
        _process = p;
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                lock (_log)
                    _log.AppendLine(e.Data);
        };
        p.OutputDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        var deadline = Stopwatch.StartNew();
        while (!Accepts(ControlPath))
        {
            if (p.HasExited)
                throw new InvalidOperationException($"babeld in {Namespace.Name} exited {p.ExitCode}: {Log}");
            if (deadline.Elapsed > StartTimeout)
                throw new TimeoutException($"babeld in {Namespace.Name} did not open {ControlPath} in {StartTimeout.TotalSeconds} s: {Log}");
            Thread.Sleep(20);
        }
    }

    private static bool Accepts(string path)
    {
        if (!File.Exists(path))
            return false;
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        try
        {
            // Connect only: a client is greeted at once and dropped when it closes, taking none of the 4 slots for long.
            socket.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }
}
