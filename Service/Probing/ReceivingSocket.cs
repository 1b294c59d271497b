using System.Net;
using System.Net.Sockets;

namespace WgRouted.Service.Probing;

/// <summary>A socket read by a loop of its own until it is disposed: the prober's per source and uplink, the handshake prober's per source.</summary>
internal sealed class ReceivingSocket(IDatagramSocket socket) : IDisposable
{
    private readonly CancellationTokenSource _closing = new();
    private int _disposed;

    public IDatagramSocket Socket { get; } = socket;

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The loop reading it (kept so that it is not a fire-and-forget task).</summary>
    public Task? Receiving { get; set; }

    /// <summary>
    /// The next datagram, or null once disposed. Errors a receive reports (ICMP port unreachable on a connected path and
    /// the like) are skipped: the probe's timeout counts the miss.
    /// </summary>
    public async ValueTask<(int Length, IPEndPoint From)?> NextAsync(Memory<byte> buffer)
    {
        while (true)
        {
            try
            {
                return await Socket.ReceiveFromAsync(buffer, _closing.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return null;
            }
            catch (SocketException)
            {
            }
        }
    }

    /// <summary>
    /// The next datagrams (<see cref="IDatagramSocket.ReceiveFrom(Span{byte}, int, Span{Datagram})"/>), waiting on the
    /// calling thread (a loop of its own); 0 once disposed. Receive errors and timeouts are skipped as above.
    /// </summary>
    public int Next(Span<byte> buffers, int slot, Span<Datagram> datagrams)
    {
        while (Volatile.Read(ref _disposed) == 0)
        {
            try
            {
                var count = Socket.ReceiveFrom(buffers, slot, datagrams);
                return Volatile.Read(ref _disposed) == 0 ? count : 0;
            }
            catch (ObjectDisposedException)
            {
                return 0;
            }
            catch (SocketException)
            {
            }
        }
        return 0;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _closing.Cancel();
        Socket.Dispose();
        _closing.Dispose();
    }
}
