namespace WgRouted.Service.Cli;

/// <summary>A peer's replay as `replay --json` prints it.</summary>
internal sealed record ReplayReport(
    string Peer, DateTimeOffset From, DateTimeOffset To, List<ReplayReportEvent> Events, int Probes, ReplayExposure Exposure,
    ReplayVerify? Verify, ReplayWhatIf? WhatIf, string? Svg);

internal sealed record ReplayReportEvent(DateTimeOffset At, string Kind, string Type, string? TraceId, object Data);

internal sealed record ReplayExposure(double DarkMs, double OnBackupMs);

internal sealed record ReplayVerify(int Recorded, List<ReplayDifference> Differences);

internal sealed record ReplayDifference(DateTimeOffset At, string Why, object? Recorded, object? Derived);

internal sealed record ReplayWhatIf(string? Settings, List<object> Decisions, List<object> BaselineDecisions, ReplayExposure BaselineExposure, ReplayExposure Exposure);
