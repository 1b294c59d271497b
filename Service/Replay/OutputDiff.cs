using WgRouted.Engine.Events;

namespace WgRouted.Service.Replay;

/// <summary>A recorded output the replay did not re-derive the same way, or one it derived that was not recorded.</summary>
/// <param name="Why">What differs: the fields, or that one side has no such output at that time.</param>
public sealed record OutputDiff(DateTimeOffset At, PeerEvent? Recorded, PeerEvent? Derived, string Why);
