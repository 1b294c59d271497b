namespace WgRouted.Service.Replay;

/// <summary>One (source, destination) path: its smoothed RTT samples and the intervals it was down.</summary>
/// <param name="Label">How operators name the path, e.g. "198.18.1.2 -> 198.18.3.2:51820"; also the key <see cref="ActiveSpan.PathLabel"/> and <see cref="SwitchMark.ToLabel"/> refer to.</param>
internal sealed record PathSeries(
    string Label,
    IReadOnlyList<(DateTimeOffset At, double SrttMs)> Srtt,
    IReadOnlyList<(DateTimeOffset From, DateTimeOffset To)> Down);
