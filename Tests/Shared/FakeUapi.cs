using System.Net;
using System.Net.Sockets;
using System.Text;

namespace WgRouted.Tests.Shared;

/// <summary>
/// A WireGuard device as its UAPI socket shows it (the text protocol wireguard-go speaks on
/// /var/run/wireguard/NAME.sock), in a directory of the test's own: WireGuardControl pointed at that directory
/// reads and sets this device. Keeps the peers' endpoints and every `set` it was sent.
/// </summary>
internal sealed class FakeUapi : IDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, IPEndPoint?> _endpoints = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _presharedKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (ulong Rx, ulong Tx)> _counters = new(StringComparer.Ordinal);

    public FakeUapi(string directory, string name, byte[] privateKey, ushort listenPort, params (byte[] PublicKey, IPEndPoint? Endpoint)[] peers)
    {
        PrivateKey = privateKey;
        ListenPort = listenPort;
        foreach (var (key, endpoint) in peers)
            _endpoints[Convert.ToHexStringLower(key)] = endpoint;
        var path = Path.Combine(directory, name + ".sock");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(16);
        _serving = ServeAsync();
    }

    public byte[] PrivateKey { get; }
    public ushort ListenPort { get; }
    public uint FirewallMark { get; private set; }

    /// <summary>Every `set` request's body, in order.</summary>
    public List<string> Sets { get; } = [];

    public void SetCounters(byte[] publicKey, ulong rx, ulong tx)
    {
        lock (_lock)
            _counters[Convert.ToHexStringLower(publicKey)] = (rx, tx);
    }

    public void SetPresharedKey(byte[] publicKey, byte[] presharedKey)
    {
        lock (_lock)
            _presharedKeys[Convert.ToHexStringLower(publicKey)] = presharedKey;
    }

    public IPEndPoint? EndpointOf(byte[] publicKey)
    {
        lock (_lock)
            return _endpoints.GetValueOrDefault(Convert.ToHexStringLower(publicKey));
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            using (client)
            {
                var request = new StringBuilder();
                var buffer = new byte[4096];
                while (!request.ToString().EndsWith("\n\n", StringComparison.Ordinal))
                {
                    var n = await client.ReceiveAsync(buffer, _stop.Token);
                    if (n == 0)
                        break;
                    request.Append(Encoding.UTF8.GetString(buffer, 0, n));
                }
                await client.SendAsync(Encoding.UTF8.GetBytes(Answer(request.ToString())), _stop.Token);
            }
        }
    }

    private string Answer(string request)
    {
        lock (_lock)
        {
            if (request.StartsWith("get=1\n", StringComparison.Ordinal))
            {
                var sb = new StringBuilder();
                sb.Append($"private_key={Convert.ToHexStringLower(PrivateKey)}\nlisten_port={ListenPort}\n");
                if (FirewallMark != 0)
                    sb.Append($"fwmark={FirewallMark}\n");
                foreach (var (key, endpoint) in _endpoints)
                {
                    sb.Append($"public_key={key}\n");
                    if (_presharedKeys.TryGetValue(key, out var psk))
                        sb.Append($"preshared_key={Convert.ToHexStringLower(psk)}\n");
                    if (endpoint is not null)
                        sb.Append($"endpoint={(endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]:{endpoint.Port}" : endpoint.ToString())}\n");
                    var (rx, tx) = _counters.GetValueOrDefault(key);
                    sb.Append($"last_handshake_time_sec=0\nlast_handshake_time_nsec=0\nrx_bytes={rx}\ntx_bytes={tx}\npersistent_keepalive_interval=0\nprotocol_version=1\n");
                }
                return sb.Append("errno=0\n\n").ToString();
            }
            if (!request.StartsWith("set=1\n", StringComparison.Ordinal))
                return "errno=22\n\n";
            var body = request["set=1\n".Length..].TrimEnd('\n');
            Sets.Add(body);
            string? peer = null;
            foreach (var line in body.Split('\n'))
            {
                var (key, value) = (line[..line.IndexOf('=', StringComparison.Ordinal)], line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..]);
                if (key == "fwmark")
                    FirewallMark = uint.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                else if (key == "public_key")
                    peer = _endpoints.ContainsKey(value) ? value : null;
                else if (key == "endpoint" && peer is not null)
                    _endpoints[peer] = IPEndPoint.Parse(value);
            }
            return "errno=0\n\n";
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        try
        {
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }
}
