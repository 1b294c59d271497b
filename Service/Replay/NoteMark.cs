namespace WgRouted.Service.Replay;

/// <summary>Something that happened on the host at <paramref name="At"/>, e.g. "route removed".</summary>
internal sealed record NoteMark(DateTimeOffset At, string Text);
