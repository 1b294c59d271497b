namespace WgRouted.Service.Replay;

/// <summary>The policy moved the peer to <paramref name="ToLabel"/>.</summary>
/// <param name="Reason">The <c>SwitchReason</c> name: Initial, ActiveDown, ActiveRemoved, Preferred, Rtt.</param>
/// <param name="Converged">Whether WireGuard ended up on the chosen endpoint; drawn dashed when not.</param>
internal sealed record SwitchMark(DateTimeOffset At, string Reason, string ToLabel, bool Converged);
