using Microsoft.Extensions.Hosting;
using WgRouted.Service.Store;

namespace WgRouted.Service.Daemon;

/// <summary>The store's and the recorder's lag, observed when metrics are collected.</summary>
public sealed class TelemetryGauges(Appender appender, ProbeRecorder recorder) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        Telemetry.Meter.CreateObservableGauge("wgrouted.store.pending", () => appender.Pending, description: "events posted and not stored yet");
        Telemetry.Meter.CreateObservableGauge("wgrouted.recorder.pending", () => recorder.Pending, description: "probe outcomes not stored yet");
        Telemetry.Meter.CreateObservableGauge("wgrouted.recorder.lag", () => recorder.Lag.TotalSeconds, "s", "age of the oldest probe outcome not stored yet");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
