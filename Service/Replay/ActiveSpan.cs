namespace WgRouted.Service.Replay;

/// <summary>The peer's endpoint was on this path from <paramref name="From"/> to <paramref name="To"/>; time covered by no span had no active path.</summary>
internal sealed record ActiveSpan(DateTimeOffset From, DateTimeOffset To, string PathLabel);
