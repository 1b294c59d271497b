using System.Net;
using System.Net.Sockets;

namespace WgRouted.Service.Probing;

/// <summary>A kernel UDP socket behind <see cref="IDatagramSocket"/>.</summary>
public sealed class UdpDatagramSocket : IDatagramSocket
{
    private readonly Socket _socket;
    private readonly IPEndPoint _any;
    // Set up on the first batched read; reading ReceiveTimeout back instead cost a getsockopt on every answer.
    private bool _batchedReads;

    private UdpDatagramSocket(Socket socket, AddressFamily family)
    {
        _socket = socket;
        _any = UdpSockets.Any(family);
    }

    public static IDatagramSocket Bind(IPEndPoint local, string? device)
    {
        ArgumentNullException.ThrowIfNull(local);
        return new UdpDatagramSocket(UdpSockets.Bind(local, device), local.AddressFamily);
    }

    public void SendTo(ReadOnlySpan<byte> datagram, IPEndPoint to) => _socket.SendTo(datagram, SocketFlags.None, to);

    public ValueTask SendToAsync(ReadOnlyMemory<byte> datagram, IPEndPoint to, CancellationToken ct) =>
        AwaitSend(_socket.SendToAsync(datagram, SocketFlags.None, to, ct));

    private static async ValueTask AwaitSend(ValueTask<int> send) => await send;

    public async ValueTask<(int Length, IPEndPoint From)> ReceiveFromAsync(Memory<byte> buffer, CancellationToken ct)
    {
        var result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, _any, ct);
        return (result.ReceivedBytes, (IPEndPoint)result.RemoteEndPoint);
    }

    public int ReceiveFrom(Span<byte> buffers, int slot, Span<Datagram> datagrams)
    {
        if (!_batchedReads)
        {
            UdpSockets.PrepareBatchedReads(_socket);
            _batchedReads = true;
        }
        return UdpSockets.ReceiveBatch(_socket, buffers, slot, datagrams);
    }

    public void SendTo(ReadOnlySpan<byte> buffers, int slot, ReadOnlySpan<Outgoing> datagrams, Span<SocketError> errors) =>
        UdpSockets.SendBatch(_socket, buffers, slot, datagrams, errors);

    public bool HasQueued => _socket.Available > 0;

    public void Dispose() => _socket.Dispose();
}
