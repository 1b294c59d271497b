namespace WgRouted.Service.Cli;

/// <summary>What `probe --json` prints.</summary>
internal sealed record ProbeSummary(string Src, string Dst, int Sent, int Received, double? MinMs, double? AvgMs, double? MaxMs);
