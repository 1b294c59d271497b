using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WgRouted.Engine.Events;
using WgRouted.Service.Daemon;
using WgRouted.Service.Tests.Probing;

namespace WgRouted.Service.Tests.Daemon;

public sealed class SupervisorTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly Inbox _inbox = new();
    private readonly Lifetime _lifetime = new();

    /// <summary>Fails its first <c>failures</c> runs (throws), then runs until stopped.</summary>
    private sealed class Flaky(int failures) : BackgroundService
    {
        public int Runs;

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            if (Interlocked.Increment(ref Runs) <= failures)
                throw new IOException($"run {Runs} failed");
            await Task.Delay(Timeout.Infinite, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private sealed class Lifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;
        public CancellationToken ApplicationStopping => CancellationToken.None;
        public CancellationToken ApplicationStopped => CancellationToken.None;
        public bool StopRequested { get; private set; }
        public void StopApplication() => StopRequested = true;
    }

    private Supervisor Supervise(BackgroundService service, DaemonHealth health) =>
        new(service, "flaky", _inbox, health, _time, NullLogger<Supervisor>.Instance);

    private async Task<ServiceRestarted> NextRestartAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        return Assert.IsType<ServiceRestarted>(await _inbox.Reader.ReadAsync(timeout.Token));
    }

    [Fact]
    public async Task A_failed_service_is_started_again_after_a_doubling_backoff_and_each_restart_is_an_event()
    {
        var flaky = new Flaky(failures: 2);
        var health = new DaemonHealth(_lifetime);
        using var supervisor = Supervise(flaky, health);
        await supervisor.StartAsync(CancellationToken.None);

        var first = await NextRestartAsync();
        Assert.Equal(("flaky", 1), (first.Service, first.Failures));
        Assert.Contains("run 1 failed", first.Error, StringComparison.Ordinal);
        _time.Advance(Supervisor.FirstDelay);
        var second = await NextRestartAsync();
        Assert.Equal(2, second.Failures);
        // The second delay is twice the first: not yet started again after 100 ms.
        _time.Advance(Supervisor.FirstDelay);
        await Task.Delay(50);
        Assert.Equal(2, flaky.Runs);
        _time.Advance(Supervisor.FirstDelay);
        await ProbingFixture.Until(() => flaky.Runs == 3, "the third run");
        Assert.Equal(2, supervisor.Restarts);
        Assert.Equal(0, health.ExitCode);
        await supervisor.StopAsync(CancellationToken.None);
        Assert.True(flaky.ExecuteTask!.IsCompleted);
    }

    [Fact]
    public async Task A_service_that_keeps_failing_stops_the_daemon_with_a_non_zero_exit()
    {
        var flaky = new Flaky(failures: int.MaxValue);
        var health = new DaemonHealth(_lifetime);
        using var supervisor = Supervise(flaky, health);
        await supervisor.StartAsync(CancellationToken.None);
        for (var i = 1; i < Supervisor.FatalFailures; i++)
        {
            Assert.Equal(i, (await NextRestartAsync()).Failures);
            _time.Advance(Supervisor.MaxDelay);
        }
        await ProbingFixture.Until(() => _lifetime.StopRequested, "the daemon stopped");
        Assert.Equal(1, health.ExitCode);
        Assert.Contains("flaky failed 10 times in a row", health.FatalError, StringComparison.Ordinal);
        await supervisor.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_service_that_ends_without_a_fault_had_nothing_to_do_and_is_left_alone()
    {
        var ended = new Ends();
        using var supervisor = Supervise(ended, new DaemonHealth(_lifetime));
        await supervisor.StartAsync(CancellationToken.None);
        _time.Advance(Supervisor.MaxDelay);
        await Task.Delay(100);
        Assert.Equal(0, supervisor.Restarts);
        Assert.False(_inbox.Reader.TryPeek(out _));
        await supervisor.StopAsync(CancellationToken.None);
    }

    private sealed class Ends : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
    }
}

public sealed class DaemonServicesTests
{
    [Fact]
    public void Every_source_and_actuator_is_a_hosted_service_of_its_own()
    {
        // Regression: registered through AddHostedService, every supervisor but the first was dropped as a duplicate.
        var config = Configuration.ConfigurationLoader.Validate(new Configuration.WgRoutedOptions
        {
            DataDirectory = "/tmp/wgr-unused",
            Interfaces = [new Configuration.InterfaceOptions { Name = "wg0", Fwmark = "0x5157" }],
        });
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection().AddWgRouted(config);
        // 12 supervised (appender, recorder, loop, host, DNS, poller, responder, prober, handshake prober, switcher,
        // tunnel links, babeld bridge) and 5 plain (config publisher, pins, fences, gauges, watchdog).
        Assert.Equal(17, services.Count(d => d.ServiceType == typeof(IHostedService)));
    }
}
