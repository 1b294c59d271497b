using System.Net;
using System.Net.Sockets;
using System.Text;

namespace WgRouted.Integrations.Tests.Babel;

/// <summary>
/// A scripted stand-in for babeld's control socket, on a unix path or TCP [::1]: every connection runs the script
/// (given the connection's number, from 1). A script's failure is kept and rethrown by <see cref="DisposeAsync"/>.
/// </summary>
internal sealed class FakeBabeld : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Func<Connection, int, Task> _script;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly string? _directory;
    private readonly Task _accepting;
    private int _accepted;

    private FakeBabeld(Socket listener, string? directory, Func<Connection, int, Task> script)
    {
        _listener = listener;
        _directory = directory;
        _script = script;
        _accepting = AcceptAsync();
    }

    public EndPoint Endpoint => _listener.LocalEndPoint!;

    public int Accepted => Volatile.Read(ref _accepted);

    public static FakeBabeld Unix(Func<Connection, int, Task> script)
    {
        var directory = Directory.CreateTempSubdirectory("wgrfake").FullName;
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(Path.Combine(directory, "control.sock")));
        listener.Listen(2);
        return new FakeBabeld(listener, directory, script);
    }

    public static FakeBabeld Tcp(Func<Connection, int, Task> script)
    {
        var listener = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        listener.Listen(2);
        return new FakeBabeld(listener, null, script);
    }

    public static FakeBabeld Start(string transport, Func<Connection, int, Task> script) =>
        transport == "tcp" ? Tcp(script) : Unix(script);

    /// <summary>The `Babel:Control` form of <see cref="Endpoint"/>.</summary>
    public string Control => Endpoint is IPEndPoint ip ? $"tcp://{ip}" : $"unix:{Endpoint}";

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptAsync(_stop.Token);
                var n = Interlocked.Increment(ref _accepted);
                lock (_connections)
                    _connections.Add(RunAsync(new Connection(socket, _stop.Token), n));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunAsync(Connection connection, int n)
    {
        using (connection)
            await _script(connection, n);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _accepting;
        _listener.Dispose();
        Task[] connections;
        lock (_connections)
            connections = [.. _connections];
        try
        {
            await Task.WhenAll(connections).WaitAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            _stop.Dispose();
            if (_directory is not null)
                Directory.Delete(_directory, recursive: true);
        }
    }

    internal sealed class Connection(Socket socket, CancellationToken stop) : IDisposable
    {
        private readonly List<byte> _buffer = [];

        public Task GreetAsync(string protocol = "1.0", string version = "babeld-1.12.1") =>
            SendAsync($"BABEL {protocol}\nversion {version}\nhost fake\nmy-id 02:00:00:00:00:00:0f:01\nok\n");

        public async Task SendAsync(string text) => await socket.SendAsync(Encoding.UTF8.GetBytes(text), SocketFlags.None, stop);

        /// <summary>The next line the client sent, or null when it closed (or the fake is stopping).</summary>
        public async Task<string?> ReadLineAsync()
        {
            var chunk = new byte[256];
            while (true)
            {
                var newline = _buffer.IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    var line = Encoding.UTF8.GetString([.. _buffer.Take(newline)]);
                    _buffer.RemoveRange(0, newline + 1);
                    return line;
                }
                int n;
                try
                {
                    n = await socket.ReceiveAsync(chunk, SocketFlags.None, stop);
                }
                catch (OperationCanceledException)
                {
                    return null;
                }
                if (n == 0)
                    return null;
                _buffer.AddRange(chunk.AsSpan(0, n));
            }
        }

        public async Task ExpectAsync(string line) => Assert.Equal(line, await ReadLineAsync());

        /// <summary>Greets, answers the monitor with the given lines and ok.</summary>
        public async Task StartAsync(string monitorDump = "", string protocol = "1.0", string version = "babeld-1.12.1")
        {
            await GreetAsync(protocol, version);
            await ExpectAsync("monitor");
            await SendAsync(monitorDump + "ok\n");
        }

        /// <summary>Waits until the client closes (or the fake stops); fails on any other line.</summary>
        public async Task ExpectCloseAsync() => Assert.Null(await ReadLineAsync());

        public void Close() => socket.Shutdown(SocketShutdown.Both);

        public void Dispose() => socket.Dispose();
    }
}
