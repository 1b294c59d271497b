using System.Diagnostics;

namespace WgRouted.Tests.Shared;

/// <summary>A span as the OTLP receiver stored it: ids in lowercase hex, ParentSpanId null for a root.</summary>
internal sealed record ReceivedSpan(
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Name,
    string ServiceName,
    DateTimeOffset StartTime,
    DateTimeOffset EndTime,
    IReadOnlyDictionary<string, string> Attributes,
    ActivityStatusCode Status);
