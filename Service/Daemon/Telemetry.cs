using System.Diagnostics;
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
    public static readonly Counter<long> ResponderDropped = Meter.CreateCounter<long>("wgrouted.responder.dropped", description: "datagrams the responder dropped, by cause");
    public static readonly Counter<long> ResponderRejected = Meter.CreateCounter<long>("wgrouted.responder.rejected", description: "probe datagrams the responder refused (malformed, bad MAC, replayed, stale, moves not bound to their source), by cause");
    public static readonly Counter<long> ServiceRestarts = Meter.CreateCounter<long>("wgrouted.service.restarts", description: "sources and actuators started again after a failure, by service");
    public static readonly Histogram<double> Convergence = Meter.CreateHistogram<double>("wgrouted.switch.convergence", "ms", "from the decision to the peer reporting our new source");

    public static IServiceCollection AddWgRoutedTelemetry(this IServiceCollection services, WgRoutedConfig config)
    {
        var endpoint = config.Options.Otlp.Endpoint;
        if (endpoint.Length == 0)
            return services;
        var http = config.Options.Otlp.Protocol == "http/protobuf";
        void Exporter(OpenTelemetry.Exporter.OtlpExporterOptions o, string signal)
        {
            o.Protocol = http ? OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf : OpenTelemetry.Exporter.OtlpExportProtocol.Grpc;
            // Over HTTP the exporter posts to exactly this URI: the signal's path is ours to add.
            o.Endpoint = http ? new Uri(new Uri(endpoint.TrimEnd('/') + "/"), "v1/" + signal) : new Uri(endpoint);
        }
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(ServiceName))
            .WithTracing(t => t.AddSource(FailoverTraces.SourceName, Probing.Switcher.SourceName).AddOtlpExporter(o => Exporter(o, "traces")))
            .WithMetrics(m => m.AddMeter(Meter.Name).AddOtlpExporter(o => Exporter(o, "metrics")));
        return services;
    }
}
