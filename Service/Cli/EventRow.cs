namespace WgRouted.Service.Cli;

/// <summary>A stored event as `events --json` prints it.</summary>
internal sealed record EventRow(Guid Id, long Sequence, string? Stream, long Version, DateTimeOffset At, DateTimeOffset Stored, string Type, object Data);
