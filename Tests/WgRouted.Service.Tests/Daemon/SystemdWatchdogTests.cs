using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WgRouted.Service.Daemon;
using WgRouted.Service.Tests.Probing;

namespace WgRouted.Service.Tests.Daemon;

/// <summary>
/// The watchdog against a real notify socket (a unix datagram socket, as systemd's): WATCHDOG=1 arrives while the
/// loop answers heartbeats and stops when it does not.
/// </summary>
[Collection(nameof(SystemdWatchdogTests))]
public sealed class SystemdWatchdogTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"wgr-notify-{Guid.NewGuid():N}.sock");
    private readonly Socket _systemd = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly Inbox _inbox = new();
    private readonly SystemdNotifier _notifier;

    public SystemdWatchdogTests()
    {
        _systemd.Bind(new UnixDomainSocketEndPoint(_path));
        _systemd.ReceiveTimeout = 300;
        // SystemdNotifier takes NOTIFY_SOCKET when it is made, as in the daemon under systemd.
        Environment.SetEnvironmentVariable("NOTIFY_SOCKET", _path);
        try
        {
            _notifier = new SystemdNotifier();
        }
        finally
        {
            Environment.SetEnvironmentVariable("NOTIFY_SOCKET", null);
        }
    }

    private List<string> Received()
    {
        var messages = new List<string>();
        var buffer = new byte[256];
        while (true)
        {
            try
            {
                messages.Add(Encoding.ASCII.GetString(buffer, 0, _systemd.Receive(buffer)));
            }
            catch (SocketException)
            {
                return messages;
            }
        }
    }

    /// <summary>The policy loop's part: answer every heartbeat in the inbox now.</summary>
    private int Turn()
    {
        var n = 0;
        while (_inbox.Reader.TryRead(out var item))
        {
            ((LoopHeartbeat)item).Answer();
            n++;
        }
        return n;
    }

    [Fact]
    public async Task The_watchdog_is_fed_while_the_loop_turns_and_starves_when_it_is_stuck()
    {
        using var watchdog = new SystemdWatchdog(_inbox, _notifier, Interval, _time, NullLogger<SystemdWatchdog>.Instance);
        await watchdog.StartAsync(CancellationToken.None);
        for (var i = 0; i < 3; i++)
        {
            await ProbingFixture.Until(() => Turn() == 1, "a heartbeat in the inbox");
            _time.Advance(Interval / 2);
            await ProbingFixture.Until(() => Received().SequenceEqual(["WATCHDOG=1"]), "one WATCHDOG=1");
        }
        // The loop is stuck: the heartbeat waits unanswered, nothing reaches systemd for two whole intervals.
        await ProbingFixture.Until(() => _inbox.Reader.TryPeek(out _), "the unanswered heartbeat");
        for (var i = 0; i < 4; i++)
            _time.Advance(Interval / 2);
        Assert.Empty(Received());
        // It turns again: fed again.
        Assert.Equal(1, Turn());
        _time.Advance(Interval / 2);
        await ProbingFixture.Until(() => Received().Contains("WATCHDOG=1"), "fed again");
        await watchdog.StopAsync(CancellationToken.None);
    }

    [Fact]
    public void The_interval_is_systemds_and_only_for_this_process()
    {
        Environment.SetEnvironmentVariable("WATCHDOG_USEC", "10000000");
        try
        {
            Environment.SetEnvironmentVariable("WATCHDOG_PID", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(TimeSpan.FromSeconds(10), SystemdWatchdog.FromEnvironment());
            Environment.SetEnvironmentVariable("WATCHDOG_PID", "1");
            Assert.Null(SystemdWatchdog.FromEnvironment());
        }
        finally
        {
            Environment.SetEnvironmentVariable("WATCHDOG_USEC", null);
            Environment.SetEnvironmentVariable("WATCHDOG_PID", null);
        }
    }

    public void Dispose()
    {
        _systemd.Dispose();
        File.Delete(_path);
    }
}
