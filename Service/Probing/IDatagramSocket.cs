using System.Net;
using System.Net.Sockets;

namespace WgRouted.Service.Probing;

/// <summary>
/// The prober's and the responder's seam to the network: one bound UDP socket. <see cref="UdpDatagramSocket"/> is the
/// real one; the tests pair it with an in-memory network. Errors are SocketExceptions, as the kernel gives them.
/// </summary>
public interface IDatagramSocket : IDisposable
{
    void SendTo(ReadOnlySpan<byte> datagram, IPEndPoint to);

    ValueTask SendToAsync(ReadOnlyMemory<byte> datagram, IPEndPoint to, CancellationToken ct);

    /// <summary>Whether a datagram has arrived that no receive has taken yet.</summary>
    bool HasQueued { get; }

    /// <summary>The next datagram (its length in <paramref name="buffer"/>) and where it came from.</summary>
    ValueTask<(int Length, IPEndPoint From)> ReceiveFromAsync(Memory<byte> buffer, CancellationToken ct);

    /// <summary>
    /// The next datagrams, waiting for the first on the calling thread (a loop on a thread of its own; never mixed with
    /// <see cref="ReceiveFromAsync"/> on one socket), then taking up to <c>datagrams.Length</c> already queued: datagram
    /// i at <c>i * slot</c> in <paramref name="buffers"/>. Returns how many. A receive waits a second at most
    /// (SocketException TimedOut), so that the loop can see the socket closed.
    /// </summary>
    int ReceiveFrom(Span<byte> buffers, int slot, Span<Datagram> datagrams);

    /// <summary>
    /// Sends datagram i (at <c>i * slot</c> in <paramref name="buffers"/>) to its address; <paramref name="errors"/>[i] is
    /// Success or why it was refused. One at a time unless the socket can hand the kernel the lot.
    /// </summary>
    void SendTo(ReadOnlySpan<byte> buffers, int slot, ReadOnlySpan<Outgoing> datagrams, Span<SocketError> errors)
    {
        for (var i = 0; i < datagrams.Length; i++)
        {
            try
            {
                SendTo(buffers.Slice(i * slot, datagrams[i].Length), datagrams[i].To);
                errors[i] = SocketError.Success;
            }
            catch (SocketException e)
            {
                errors[i] = e.SocketErrorCode;
            }
        }
    }
}

/// <summary>A datagram to send: its length (in its slot of a batch) and where to.</summary>
public readonly record struct Outgoing(int Length, IPEndPoint To);

/// <summary>
/// A datagram received: its length, its sender, and how long it had waited in the socket's buffer when it was read (the
/// kernel's receive timestamp against the clock), so that a late read does not lengthen a round trip.
/// </summary>
public readonly record struct Datagram(int Length, IPEndPoint From, TimeSpan Queued);

/// <summary>Opens a UDP socket bound to <paramref name="local"/> and, when given, to the device (SO_BINDTODEVICE).</summary>
public delegate IDatagramSocket BindDatagram(IPEndPoint local, string? device);

/// <summary>Opens a raw UDP socket sending from <paramref name="local"/>'s address and port (one another socket owns).</summary>
public delegate IDatagramSocket BindRawDatagram(IPEndPoint local, string? device);
