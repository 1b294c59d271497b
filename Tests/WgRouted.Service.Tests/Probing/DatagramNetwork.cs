using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using WgRouted.Service.Probing;

namespace WgRouted.Service.Tests.Probing;

/// <summary>
/// An in-memory UDP network for the prober's and responder's tests: sockets bound by address and port, datagrams
/// delivered at once to the socket bound at the destination (or lost, like UDP), every datagram recorded.
/// </summary>
internal sealed class DatagramNetwork
{
    private readonly Lock _lock = new();
    private readonly Dictionary<IPEndPoint, Memory> _bound = [];
    private int _nextPort = 40000;

    /// <summary>Every datagram sent: from, to, bytes.</summary>
    public List<(IPEndPoint From, IPEndPoint To, byte[] Data)> Sent { get; } = [];

    /// <summary>Datagrams this says to drop are lost on the way.</summary>
    public Func<IPEndPoint, IPEndPoint, bool> Drop { get; set; } = (_, _) => false;

    public int SentTo(IPEndPoint to)
    {
        lock (_lock)
            return Sent.Count(s => s.To.Equals(to));
    }

    public int SentFrom(IPAddress from)
    {
        lock (_lock)
            return Sent.Count(s => s.From.Address.Equals(from));
    }

    /// <summary>A datagram claiming any source (a spoofer's, port 0 included), delivered like any other.</summary>
    public void Inject(IPEndPoint from, IPEndPoint to, byte[] data) => Deliver(from, to, data);

    /// <summary>The socket bound to <paramref name="local"/> fails its next receive with <paramref name="failure"/>.</summary>
    public void FailNextReceive(IPEndPoint local, Exception failure)
    {
        lock (_lock)
            _bound[local].Failure = failure;
    }

    /// <summary>Datagrams that arrived at <paramref name="local"/> and no receive took yet.</summary>
    public int Unread(IPEndPoint local)
    {
        lock (_lock)
            return _bound.TryGetValue(local, out var socket) ? socket.Queue.Reader.Count : 0;
    }

    public bool IsBound(IPEndPoint local)
    {
        lock (_lock)
            return _bound.ContainsKey(local);
    }

    public IDatagramSocket Bind(IPEndPoint local, string? device)
    {
        lock (_lock)
        {
            var address = local.Port == 0 ? new IPEndPoint(local.Address, _nextPort++) : local;
            if (_bound.ContainsKey(address))
                throw new SocketException((int)SocketError.AddressAlreadyInUse);
            var socket = new Memory(this, address, device);
            _bound[address] = socket;
            return socket;
        }
    }

    private void Deliver(IPEndPoint from, IPEndPoint to, byte[] data)
    {
        Memory? target;
        lock (_lock)
        {
            Sent.Add((from, to, data));
            if (Drop(from, to) || !_bound.TryGetValue(to, out target))
                return;
        }
        target.Queue.Writer.TryWrite((data, from));
    }

    private void Unbind(Memory socket)
    {
        lock (_lock)
            _bound.Remove(socket.Local);
    }

    internal sealed class Memory(DatagramNetwork network, IPEndPoint local, string? device) : IDatagramSocket
    {
        public IPEndPoint Local { get; } = local;
        public string? Device { get; } = device;
        public Channel<(byte[] Data, IPEndPoint From)> Queue { get; } = Channel.CreateUnbounded<(byte[], IPEndPoint)>();
        private Exception? _failure;
        public Exception? Failure { get => _failure; set => _failure = value; }

        public void SendTo(ReadOnlySpan<byte> datagram, IPEndPoint to) => network.Deliver(Local, to, datagram.ToArray());

        public bool HasQueued => Queue.Reader.Count > 0;

        public ValueTask SendToAsync(ReadOnlyMemory<byte> datagram, IPEndPoint to, CancellationToken ct)
        {
            network.Deliver(Local, to, datagram.ToArray());
            return ValueTask.CompletedTask;
        }

        public async ValueTask<(int Length, IPEndPoint From)> ReceiveFromAsync(Memory<byte> buffer, CancellationToken ct)
        {
            try
            {
                var (data, from) = await Queue.Reader.ReadAsync(ct);
                if (Interlocked.Exchange(ref _failure, null) is { } failure)
                    throw failure;
                data.AsSpan(0, Math.Min(data.Length, buffer.Length)).CopyTo(buffer.Span);
                return (Math.Min(data.Length, buffer.Length), from);
            }
            catch (ChannelClosedException)
            {
                throw new ObjectDisposedException(nameof(Memory));
            }
        }

        /// <summary>What is queued, up to a batch, once the first datagram is there (the kernel's recvmmsg).</summary>
        public int ReceiveFrom(Span<byte> buffers, int slot, Span<Datagram> datagrams)
        {
            var data = new byte[slot];
            var count = 0;
            do
            {
                var (length, sender) = ReceiveFromAsync(data, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                data.AsSpan(0, length).CopyTo(buffers[(count * slot)..]);
                datagrams[count++] = new Datagram(length, sender, TimeSpan.Zero);
            }
            while (count < datagrams.Length && HasQueued && Failure is null && (count + 1) * slot <= buffers.Length);
            return count;
        }

        public void Dispose()
        {
            Queue.Writer.TryComplete();
            network.Unbind(this);
        }
    }
}
