namespace WgRouted.Service.Replay;

/// <summary>One peer's incident, as <see cref="IncidentSvg.Render"/> draws it: everything between <see cref="From"/> and <see cref="To"/>.</summary>
internal sealed record IncidentPicture(
    string Title,
    DateTimeOffset From,
    DateTimeOffset To,
    IReadOnlyList<PathSeries> Paths,
    IReadOnlyList<ActiveSpan> Active,
    IReadOnlyList<SwitchMark> Switches,
    IReadOnlyList<NoteMark> Notes);
