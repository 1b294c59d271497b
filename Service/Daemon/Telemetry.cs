using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using WgRouted.Service.Configuration;

namespace WgRouted.Service.Daemon;

/// <summary>OpenTelemetry: a trace per failover (WgRouted.Switch), exported over OTLP when Otlp:Endpoint is set.</summary>
public static class Telemetry
{
    public const string ServiceName = "wg-routed";
    public static readonly Meter Meter = new("WgRouted");
    public static readonly Histogram<double> PathRtt = Meter.CreateHistogram<double>("wgrouted.path.rtt", "ms", "probe round trip time per path");
    public static readonly Counter<long> ProbesMissed = Meter.CreateCounter<long>("wgrouted.probe.missed", description: "probes without an answer in time");
    public static readonly Counter<long> Switches = Meter.CreateCounter<long>("wgrouted.switches", description: "endpoint switches decided, by reason");
    public static readonly Histogram<double> Convergence = Meter.CreateHistogram<double>("wgrouted.switch.convergence", "ms", "from the decision to the peer reporting our new source");

    public static IServiceCollection AddWgRoutedTelemetry(this IServiceCollection services, WgRoutedConfig config)
    {
        var endpoint = config.Options.Otlp.Endpoint;
        if (endpoint.Length == 0)
            return services;
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(ServiceName))
            .WithTracing(t => t.AddSource(Probing.Switcher.Activities.Name).AddOtlpExporter(o => o.Endpoint = new Uri(endpoint)))
            .WithMetrics(m => m.AddMeter(Meter.Name).AddOtlpExporter(o => o.Endpoint = new Uri(endpoint)));
        return services;
    }
}
