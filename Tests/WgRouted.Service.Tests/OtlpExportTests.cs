using System.Diagnostics;
using System.Security.Cryptography;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using WgRouted.Tests.Shared;
using Xunit.Abstractions;

namespace WgRouted.Service.Tests;

/// <summary>
/// OTLP export with the service's OpenTelemetry packages into a real receiver (the Aspire Dashboard on loopback):
/// a failover-shaped trace must come back as the same tree, over gRPC and over HTTP/protobuf.
/// </summary>
public sealed class OtlpExportTests(ITestOutputHelper output)
{
    // GET /api/telemetry/traces of Aspire Dashboard 13.6.5 after one trace from OpenTelemetry 1.20.1 over gRPC
    // (tags "text", 42, true, 1.5, ["x","y"] on the root; child1 Error "boom", child2 Ok).
    private const string CapturedTraces = """
        {"data":{"resourceSpans":[{"scopeSpans":[{"scope":{"name":"Scratch"},"spans":[{"traceId":"d1aecd9efbe9ceaf439eae96009c3f30","spanId":"22f41a69b40fcfa4","name":"root","kind":1,"startTimeUnixNano":"1796136227277100300","endTimeUnixNano":"1796136227278146500","attributes":[{"key":"s","value":{"stringValue":"text"}},{"key":"i","value":{"stringValue":"42"}},{"key":"b","value":{"stringValue":"true"}},{"key":"d","value":{"stringValue":"1.5"}},{"key":"arr","value":{"stringValue":"[\u0022x\u0022,\u0022y\u0022]"}}]},{"traceId":"d1aecd9efbe9ceaf439eae96009c3f30","spanId":"ac2055545365803a","parentSpanId":"22f41a69b40fcfa4","name":"child1","kind":1,"startTimeUnixNano":"1796136227277469600","endTimeUnixNano":"1796136227277620100","status":{"message":"boom","code":2}},{"traceId":"d1aecd9efbe9ceaf439eae96009c3f30","spanId":"00d495ecf38cb6d1","parentSpanId":"22f41a69b40fcfa4","name":"child2","kind":1,"startTimeUnixNano":"1796136227278138600","endTimeUnixNano":"1796136227278144600","status":{"message":"","code":1}}]}],"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"scratch-svc"}},{"key":"service.instance.id","value":{"stringValue":"d74bf6a7-b616-4cb6-a760-1d18c92401dc"}},{"key":"telemetry.sdk.language","value":{"stringValue":"dotnet"}},{"key":"telemetry.sdk.name","value":{"stringValue":"opentelemetry"}},{"key":"telemetry.sdk.version","value":{"stringValue":"1.20.1"}}]}}]},"totalCount":1,"returnedCount":1}
        """;

    [Fact]
    public void The_dashboards_traces_json_parses_to_spans_with_parents_attributes_and_status()
    {
        var spans = OtlpReceiver.ParseTraces(CapturedTraces);

        Assert.Equal(
            Lines([
                "root d1aecd9efbe9ceaf439eae96009c3f30/22f41a69b40fcfa4 parent=- scratch-svc 2026-12-01T14:43:47.2771003+00:00..2026-12-01T14:43:47.2781465+00:00 Unset [arr=[\"x\",\"y\"], b=true, d=1.5, i=42, s=text]",
                "child1 d1aecd9efbe9ceaf439eae96009c3f30/ac2055545365803a parent=22f41a69b40fcfa4 scratch-svc 2026-12-01T14:43:47.2774696+00:00..2026-12-01T14:43:47.2776201+00:00 Error []",
                "child2 d1aecd9efbe9ceaf439eae96009c3f30/00d495ecf38cb6d1 parent=22f41a69b40fcfa4 scratch-svc 2026-12-01T14:43:47.2781386+00:00..2026-12-01T14:43:47.2781446+00:00 Ok []",
            ]),
            Lines(spans.Select(Describe)));
    }

    [Fact]
    public void A_truncated_answer_is_refused_rather_than_read_as_all_spans() =>
        Assert.Throws<InvalidDataException>(() => OtlpReceiver.ParseTraces("""{"data":{"resourceSpans":[]},"totalCount":5,"returnedCount":0}"""));

    [Fact]
    [Trait("Category", "Integration")]
    public Task A_root_with_two_children_arrives_as_the_same_tree_over_grpc() => ExportAndReadBack(OtlpExportProtocol.Grpc);

    [Fact]
    [Trait("Category", "Integration")]
    public Task A_root_with_two_children_arrives_as_the_same_tree_over_http_protobuf() => ExportAndReadBack(OtlpExportProtocol.HttpProtobuf);

    private async Task ExportAndReadBack(OtlpExportProtocol protocol)
    {
        var started = Stopwatch.StartNew();
        await using var receiver = await OtlpReceiver.StartAsync();
        output.WriteLine($"dashboard pid {receiver.ProcessId} ready in {started.ElapsedMilliseconds} ms at {receiver.FrontendUrl}");

        // A service and source of its own, so that nothing else the process emits can be counted.
        var service = "wgr-otlp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        using var source = new ActivitySource(service);
        Activity root, apply, converge;
        using (var provider = Sdk.CreateTracerProviderBuilder()
            .ConfigureResource(r => r.AddService(service))
            .AddSource(source.Name)
            .AddOtlpExporter(o =>
            {
                o.Protocol = protocol;
                o.Endpoint = protocol == OtlpExportProtocol.Grpc ? receiver.GrpcEndpoint : new Uri(receiver.HttpEndpoint, "v1/traces");
            })
            .Build())
        {
            using (root = source.StartActivity("failover") ?? throw new InvalidOperationException("no listener on " + source.Name))
            {
                root.SetTag("wgrouted.peer", "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=");
                root.SetTag("wgrouted.reason", "PathDown");
                root.SetTag("wgrouted.from", "198.18.1.2->198.18.3.2:51820");
                root.SetTag("wgrouted.to", "198.18.2.2->198.18.3.2:51820");
                using (apply = source.StartActivity("apply")!)
                {
                    apply.SetTag("wgrouted.table", 20823);
                    apply.SetStatus(ActivityStatusCode.Ok);
                }
                using (converge = source.StartActivity("converge")!)
                {
                    converge.SetTag("wgrouted.reasserts", 20);
                    converge.SetTag("wgrouted.converged", false);
                    converge.SetStatus(ActivityStatusCode.Error, "the peer did not report our new source");
                }
            }
            Assert.True(provider.ForceFlush(10_000), $"the {protocol} exporter did not flush; dashboard log:\n{receiver.Log}");
        }

        var spans = await receiver.WaitForSpansAsync(service, 3);
        var rootId = root.SpanId.ToHexString();
        Assert.Equal(
            Lines(new[]
            {
                Describe(Expected(root, service, null, ActivityStatusCode.Unset, new()
                {
                    ["wgrouted.peer"] = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=",
                    ["wgrouted.reason"] = "PathDown",
                    ["wgrouted.from"] = "198.18.1.2->198.18.3.2:51820",
                    ["wgrouted.to"] = "198.18.2.2->198.18.3.2:51820",
                })),
                Describe(Expected(apply, service, rootId, ActivityStatusCode.Ok, new() { ["wgrouted.table"] = "20823" })),
                Describe(Expected(converge, service, rootId, ActivityStatusCode.Error, new()
                {
                    ["wgrouted.reasserts"] = "20",
                    ["wgrouted.converged"] = "false",
                })),
            }.Order(StringComparer.Ordinal)),
            Lines(spans.Select(Describe).Order(StringComparer.Ordinal)));
    }

    private static ReceivedSpan Expected(Activity a, string service, string? parent, ActivityStatusCode status, Dictionary<string, string> attributes) =>
        new(a.TraceId.ToHexString(), a.SpanId.ToHexString(), parent, a.DisplayName, service,
            new DateTimeOffset(a.StartTimeUtc), new DateTimeOffset(a.StartTimeUtc + a.Duration), attributes, status);

    // One text for the whole tree: xunit shows where two strings differ, but cuts a collection's items short.
    private static string Lines(IEnumerable<string> lines) => string.Join('\n', lines);

    // One line per span, attributes sorted: records holding dictionaries compare by reference.
    private static string Describe(ReceivedSpan s) =>
        $"{s.Name} {s.TraceId}/{s.SpanId} parent={s.ParentSpanId ?? "-"} {s.ServiceName} {s.StartTime:O}..{s.EndTime:O} {s.Status} " +
        $"[{string.Join(", ", s.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={a.Value}"))}]";
}
