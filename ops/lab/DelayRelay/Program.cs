using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using WgRouted.Lab.DelayRelay;

// wgr-delay-relay TUN_A TUN_B DELAY_MS [QUEUE_PACKETS]
// Opens two TUN devices (IFF_TUN | IFF_NO_PI) in the current network namespace. A packet the kernel routes
// out of TUN_A is written into TUN_B (the kernel receives it there) DELAY_MS later, and the other way round.
// Each direction has a bounded queue: a packet arriving at a full queue is dropped (counted). Exits on
// SIGTERM/SIGINT and prints its counters.
if (args.Length is < 3 or > 4 || !int.TryParse(args[2], out var delayMs) || delayMs < 0 || delayMs > 10_000)
{
    Console.Error.WriteLine("usage: wgr-delay-relay TUN_A TUN_B DELAY_MS(0..10000) [QUEUE_PACKETS]");
    return 2;
}
var capacity = args.Length == 4 && int.TryParse(args[3], out var q) && q > 0 ? q : 4096;
using var stop = new CancellationTokenSource();
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });

int a, b;
try
{
    a = Tun.Open(args[0]);
    b = Tun.Open(args[1]);
}
catch (IOException e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}

var delay = TimeSpan.FromMilliseconds(delayMs);
using var ab = new Direction($"{args[0]}->{args[1]}", a, b, delay, capacity);
using var ba = new Direction($"{args[1]}->{args[0]}", b, a, delay, capacity);
Thread[] threads = [ab.Reader(stop.Token), ab.Writer(stop.Token), ba.Reader(stop.Token), ba.Writer(stop.Token)];
foreach (var t in threads)
    t.Start();
Console.WriteLine($"relaying {args[0]} <-> {args[1]} delay {delayMs} ms queue {capacity}");
Console.Out.Flush();
foreach (var t in threads)
    t.Join();
Tun.Close(a);
Tun.Close(b);
Console.WriteLine($"{ab}; {ba}");
return 0;

namespace WgRouted.Lab.DelayRelay
{
    /// <summary>One direction: a reader thread timestamps packets into a bounded queue, a writer releases each at its time.</summary>
    internal sealed class Direction(string name, int from, int to, TimeSpan delay, int capacity) : IDisposable
    {
        public void Dispose() => _queue.Dispose();

        private readonly BlockingCollection<(long Due, byte[] Packet)> _queue = new(capacity);
        private long _relayed, _dropped, _writeErrors;

        public Thread Reader(CancellationToken stop) => new(() =>
        {
            var buffer = new byte[65_536];
            while (!stop.IsCancellationRequested)
            {
                if (!Tun.WaitReadable(from, 200))
                    continue;
                var n = Tun.Read(from, buffer);
                if (n <= 0)
                    continue;
                var due = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
                if (!_queue.TryAdd((due, buffer.AsSpan(0, n).ToArray())))
                    Interlocked.Increment(ref _dropped);
            }
            _queue.CompleteAdding();
        }) { IsBackground = true, Name = name + " reader" };

        public Thread Writer(CancellationToken stop) => new(() =>
        {
            try
            {
                foreach (var (due, packet) in _queue.GetConsumingEnumerable(stop))
                {
                    // WaitOne counts whole milliseconds (truncated): wait again until the packet is due.
                    TimeSpan wait;
                    while ((wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due)) > TimeSpan.Zero)
                    {
                        if (stop.WaitHandle.WaitOne((int)Math.Ceiling(wait.TotalMilliseconds)))
                            return;
                    }
                    if (Tun.Write(to, packet) == packet.Length)
                        Interlocked.Increment(ref _relayed);
                    else
                        Interlocked.Increment(ref _writeErrors);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }) { IsBackground = true, Name = name + " writer" };

        public override string ToString() => $"{name}: relayed {_relayed} dropped {_dropped} write-errors {_writeErrors}";
    }

    internal static partial class Tun
    {
        private const int O_RDWR = 2, O_CLOEXEC = 0x80000;
        private const ulong TUNSETIFF = 0x400454ca;
        private const short IFF_TUN = 0x0001, IFF_NO_PI = 0x1000, POLLIN = 0x0001;

        [StructLayout(LayoutKind.Sequential)]
        private unsafe struct IfReq
        {
            public fixed byte Name[16];
            public short Flags;
            public fixed byte Pad[22];
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct PollFd
        {
            public int Fd;
            public short Events;
            public short Revents;
        }

        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        private static partial int SysOpen(string path, int flags);

        [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
        private static unsafe partial int SysIoctl(int fd, ulong request, IfReq* req);

        [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
        private static unsafe partial nint SysRead(int fd, byte* buffer, nuint count);

        [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
        private static unsafe partial nint SysWrite(int fd, byte* buffer, nuint count);

        [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
        private static unsafe partial int SysPoll(PollFd* fds, nuint count, int timeoutMs);

        [LibraryImport("libc", EntryPoint = "close")]
        private static partial int SysClose(int fd);

        public static unsafe int Open(string name)
        {
            var bytes = System.Text.Encoding.ASCII.GetBytes(name);
            if (bytes.Length is 0 or > 15)
                throw new IOException($"TUN name '{name}' must be 1..15 characters");
            var fd = SysOpen("/dev/net/tun", O_RDWR | O_CLOEXEC);
            if (fd < 0)
                throw new IOException($"open /dev/net/tun: errno {Marshal.GetLastPInvokeError()}");
            var req = default(IfReq);
            for (var i = 0; i < bytes.Length; i++)
                req.Name[i] = bytes[i];
            req.Flags = IFF_TUN | IFF_NO_PI;
            if (SysIoctl(fd, TUNSETIFF, &req) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                _ = SysClose(fd);
                throw new IOException($"TUNSETIFF {name}: errno {errno}");
            }
            return fd;
        }

        public static unsafe bool WaitReadable(int fd, int timeoutMs)
        {
            var p = new PollFd { Fd = fd, Events = POLLIN };
            return SysPoll(&p, 1, timeoutMs) > 0 && (p.Revents & POLLIN) != 0;
        }

        public static unsafe int Read(int fd, byte[] buffer)
        {
            fixed (byte* b = buffer)
                return (int)SysRead(fd, b, (nuint)buffer.Length);
        }

        public static unsafe int Write(int fd, byte[] packet)
        {
            fixed (byte* b = packet)
                return (int)SysWrite(fd, b, (nuint)packet.Length);
        }

        public static void Close(int fd) => _ = SysClose(fd);
    }
}
