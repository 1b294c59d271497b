using WgRouted.Engine;
using WgRouted.Engine.Events;

namespace WgRouted.Service.Replay;

/// <summary>
/// One peer's recorded history for a replay: its inputs (Marten's and the recorder's probe outcomes, merged in
/// engine-time order, from the start of the daemon run that was live at <see cref="From"/>), its recorded outputs,
/// and the host facts of the window.
/// </summary>
public sealed record History(
    PeerKey Peer, DateTimeOffset From, DateTimeOffset To,
    IReadOnlyList<PeerEvent> Inputs, IReadOnlyList<PeerEvent> Outputs, IReadOnlyList<HostEvent> Host)
{
    public bool InWindow(DateTimeOffset at) => at >= From && at <= To;
}
