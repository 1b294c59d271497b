using WgRouted.Tests.Shared;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using WgRouted.Integrations.Babel;

namespace WgRouted.Integrations.Tests.Babel;

/// <summary>The client against a scripted babeld (<see cref="FakeBabeld"/>): exact sequences, on demand.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit 2 disposes a test class through IAsyncLifetime.DisposeAsync")]
public sealed class BabelControlTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private const string Wg0 = "add interface wg0 up true ipv4 198.18.0.1\n";
    private const string XRoute = "add xroute 198.18.0.1/32-0.0.0.0/0 prefix 198.18.0.1/32 from 0.0.0.0/0 metric 0\n";
    private static string Neighbour(string reach) => $"neighbour 5d0 address fe80::1 if wg0 reach {reach} ureach 0000 rxcost 96 txcost 96 cost 96\n";
    private readonly CancellationTokenSource _stop = new();
    private readonly ListLogger<BabelControl> _log = new();
    private FakeBabeld? _babeld;
    private BabelControl? _control;
    private Task? _run;

    private BabelControl Start(FakeBabeld babeld, TimeProvider? time = null, BabelControlOptions? options = null)
    {
        _babeld = babeld;
        _control = new BabelControl(_log, time ?? TimeProvider.System,
            (options ?? new BabelControlOptions { Endpoint = babeld.Endpoint }) with { Endpoint = BabelEndpoint.Parse(babeld.Control) });
        _run = _control.RunAsync(_stop.Token);
        return _control;
    }

    private async Task<T> Next<T>() where T : BabelEvent
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var e = await _control!.Events.ReadAsync(timeout.Token);
        return Assert.IsType<T>(e);
    }

    [Theory]
    [InlineData("unix")]
    [InlineData("tcp")]
    public async Task A_reply_is_told_apart_from_the_notifications_around_it(string transport)
    {
        var control = Start(FakeBabeld.Start(transport, async (c, _) =>
        {
            await c.StartAsync(Wg0 + XRoute);
            await c.ExpectAsync("interface wg1 type tunnel enable-timestamps true");
            await c.SendAsync("add " + Neighbour("8000") + "add interface wg1 up false\n"
                + "change " + Neighbour("c000") + "ok\n");
            // No second `interface wg1`: babeld has it.
            await c.ExpectAsync("dump");
            await c.SendAsync(Wg0 + "add interface wg1 up false\nok\n");
            await c.ExpectCloseAsync();
        }));

        var connected = await Next<BabelConnected>();
        Assert.False(connected.Reconnected);
        Assert.Equal(new BabelGreeting("1.0", "babeld-1.12.1", "fake", BabelRouterId.Parse("02:00:00:00:00:00:0f:01")), connected.Greeting);
        Assert.Equal([new BabelInterface("wg0", true, IPAddress.Parse("198.18.0.1"), null)], connected.Snapshot.Interfaces);
        Assert.Single(connected.Snapshot.XRoutes);

        var tunnel = new BabelInterfaceConfig { Type = BabelInterfaceType.Tunnel, EnableTimestamps = true };
        Assert.Equal(BabelReply.Ok, await control.AddInterfaceAsync("wg1", tunnel, CancellationToken.None));
        var added = await Next<BabelChanged>();
        Assert.Null(added.Old);
        Assert.Equal(0x8000, Assert.IsType<BabelNeighbour>(added.New).Reach);
        Assert.Equal(new BabelChanged(null, new BabelInterface("wg1", false, null, null)), await Next<BabelChanged>());
        var changed = await Next<BabelChanged>();
        Assert.Equal(added.New, changed.Old);
        Assert.Equal(0xc000, Assert.IsType<BabelNeighbour>(changed.New).Reach);

        Assert.Null(await control.AddInterfaceAsync("wg1", tunnel, CancellationToken.None));

        var dumped = await control.DumpAsync(CancellationToken.None);
        Assert.Equal(["wg0", "wg1"], dumped.Interfaces.Select(i => i.Name));
        Assert.Empty(dumped.Neighbours);
        Assert.Empty(dumped.XRoutes);
        // What the dump no longer lists is reported gone, in key order.
        Assert.Equal(changed.New, (await Next<BabelChanged>()).Old);
        Assert.IsType<BabelXRoute>((await Next<BabelChanged>()).Old);
    }

    [Fact]
    public async Task Notifications_that_change_nothing_are_not_reported()
    {
        var control = Start(FakeBabeld.Unix(async (c, _) =>
        {
            await c.StartAsync("add " + Neighbour("8000"));
            await c.SendAsync("change " + Neighbour("8000") + "change " + Neighbour("c000"));
            await c.ExpectCloseAsync();
        }));
        await Next<BabelConnected>();
        Assert.Equal(0xc000, Assert.IsType<BabelNeighbour>((await Next<BabelChanged>()).New).Reach);
        Assert.False(control.Events.TryRead(out _));
    }

    [Fact]
    public async Task Garbage_and_overlong_lines_are_skipped_and_the_connection_stays()
    {
        var control = Start(FakeBabeld.Unix(async (c, _) =>
        {
            await c.StartAsync(Wg0 + "this is garbage\nadd neighbour zz\n" + new string('x', 5000) + "\n");
            await c.SendAsync("add interface wg1 up false\n");
            await c.ExpectCloseAsync();
        }));
        var connected = await Next<BabelConnected>();
        Assert.Equal(["wg0"], connected.Snapshot.Interfaces.Select(i => i.Name));
        Assert.Equal("wg1", Assert.IsType<BabelInterface>((await Next<BabelChanged>()).New).Name);
        Assert.True(control.IsConnected);
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("'add neighbour zz': neighbour id 'zz' is not a hexadecimal pointer", StringComparison.Ordinal));
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("longer than 1024 bytes", StringComparison.Ordinal));
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Debug && e.Message.Contains("'this is garbage'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_protocol_it_does_not_know_is_reported_once_and_it_goes_on()
    {
        Start(FakeBabeld.Unix(async (c, _) =>
        {
            await c.StartAsync(Wg0, protocol: "2.0", version: "babeld-2.0");
            c.Close();
        }), options: new BabelControlOptions { Endpoint = new IPEndPoint(IPAddress.IPv6Loopback, 1), ReconnectDelay = TimeSpan.FromMilliseconds(50) });

        Assert.Equal(new BabelVersionUnknown("2.0", "babeld-2.0"), await Next<BabelVersionUnknown>());
        var connected = await Next<BabelConnected>();
        Assert.Equal("2.0", connected.Greeting.Protocol);
        Assert.Equal(["wg0"], connected.Snapshot.Interfaces.Select(i => i.Name));
        await Next<BabelDisconnected>();
        Assert.True((await Next<BabelConnected>()).Reconnected);
        Assert.Single(_log.Entries, e => e.Message.Contains("control protocol 2.0, version babeld-2.0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_command_left_unanswered_times_out_drops_the_connection_and_reconnects()
    {
        var control = Start(FakeBabeld.Unix(async (c, n) =>
        {
            await c.StartAsync(Wg0);
            if (n == 1)
                await c.ExpectAsync("dump");
            await c.ExpectCloseAsync();
        }), options: new BabelControlOptions
        {
            Endpoint = new IPEndPoint(IPAddress.IPv6Loopback, 1),
            CommandTimeout = TimeSpan.FromMilliseconds(300),
            ReconnectDelay = TimeSpan.FromMilliseconds(50),
        });
        await Next<BabelConnected>();
        var failure = await Assert.ThrowsAsync<BabelControlException>(() => control.DumpAsync(CancellationToken.None));
        Assert.Equal("no reply to 'dump' within 0.3 s", failure.Message);
        Assert.Equal("no reply to 'dump' within 0.3 s", (await Next<BabelDisconnected>()).Reason);
        Assert.Empty(control.Snapshot().Interfaces);
        var again = await Next<BabelConnected>();
        Assert.True(again.Reconnected);
        Assert.Equal(["wg0"], control.Snapshot().Interfaces.Select(i => i.Name));
    }

    [Fact]
    public async Task Commands_fail_at_once_while_not_connected()
    {
        using var control = new BabelControl(_log, TimeProvider.System, new BabelControlOptions { Endpoint = BabelEndpoint.Parse("unix:/nonexistent/babeld.sock") });
        await Assert.ThrowsAsync<BabelControlException>(() => control.DumpAsync(CancellationToken.None));
        await Assert.ThrowsAsync<BabelControlException>(() => control.AddInterfaceAsync("wg0", new BabelInterfaceConfig(), CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => control.AddInterfaceAsync("wg 0", new BabelInterfaceConfig(), CancellationToken.None));
    }

    [Fact]
    public async Task After_a_lost_connection_retries_after_half_a_second_doubling_to_ten_on_its_time_provider()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        // The first connection monitors, then babeld goes; every later attempt is hung up on before its greeting.
        Start(FakeBabeld.Unix(async (c, n) =>
        {
            if (n == 1)
                await c.StartAsync(Wg0);
        }), time);
        var attempts = new List<TimeSpan>();
        double[] expected = [0.5, 1, 2, 4, 8, 10, 10];
        var step = TimeSpan.FromMilliseconds(50);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (attempts.Count < 8)
        {
            // At the next attempt's time the clock waits for the connection (up to 2 s of real time): on a loaded
            // machine a connect takes real milliseconds, and a clock moving on meanwhile stamped it 0.2 s late.
            if (attempts.Count is > 0 and <= 7
                && time.GetUtcNow() - DateTimeOffset.UnixEpoch >= attempts[^1] + TimeSpan.FromSeconds(expected[attempts.Count - 1]))
            {
                var held = DateTime.UtcNow + TimeSpan.FromSeconds(2);
                while (_babeld!.Accepted <= attempts.Count && DateTime.UtcNow < held)
                    await Task.Delay(1);
            }
            Assert.True(DateTime.UtcNow < deadline, $"attempts so far at {string.Join(", ", attempts)}");
            if (_babeld!.Accepted > attempts.Count)
            {
                attempts.Add(time.GetUtcNow() - DateTimeOffset.UnixEpoch);
                // The client logs its retry just before it starts waiting on the fake clock.
                while (_log.Entries.Count(e => e.Message.Contains(" in 0.5 s", StringComparison.Ordinal)
                    || e.Message.Contains("retrying in", StringComparison.Ordinal)) < attempts.Count)
                    await Task.Delay(2);
                await Task.Delay(10);
            }
            time.Advance(step);
            await Task.Delay(2);
        }
        var gaps = attempts.Zip(attempts.Skip(1), (a, b) => (b - a).TotalSeconds).ToList();
        for (var i = 0; i < expected.Length; i++)
            Assert.InRange(gaps[i], expected[i], expected[i] + 0.1);
        Assert.Equal(typeof(BabelConnected), (await _control!.Events.ReadAsync()).GetType());
        Assert.Equal("babeld closed the connection", (await Next<BabelDisconnected>()).Reason);
        Assert.False(_control.Events.TryRead(out _));
        Assert.Equal(
        [
            "Lost babeld's control connection (babeld closed the connection); reconnecting in 0.5 s",
            $"babeld's control socket {_babeld!.Control} is unavailable (babeld closed the connection); retrying in 1 s",
        ], _log.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // IAsyncLifetime, not IAsyncDisposable: xunit 2 never calls the latter on a test class (it leaked namespaces).
    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            if (_run is not null)
                await _run.WaitAsync(Timeout);
            if (_babeld is not null)
                await _babeld.DisposeAsync();
        }
        finally
        {
            _control?.Dispose();
            _stop.Dispose();
        }
    }
}
