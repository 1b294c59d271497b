using WgRouted.Engine.Policy;

namespace WgRouted.Engine.Replay;

/// <summary>
/// What a history cost the peer, measured over a replay's turns: time dark (no active path, or the active path's
/// last probe went unanswered, or it is down) and time on a backup (the active path is not the one routing and
/// endpoint order prefer). Each interval between two turns counts as the state at its start.
/// </summary>
public sealed class Exposure
{
    private DateTimeOffset? _last;
    private bool _dark;
    private bool _backup;

    public TimeSpan Dark { get; private set; }
    public TimeSpan OnBackup { get; private set; }

    public void Observe(PeerState state, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (_last is { } last && at > last)
        {
            if (_dark)
                Dark += at - last;
            else if (_backup)
                OnBackup += at - last;
        }
        if (_last is null || at > _last)
            _last = at;
        var active = state.Active is { } a ? state.Find(a) : null;
        _dark = state.Paths.Count > 0 && (active is null || active.Down || active.Quality.ConsecutiveMisses > 0);
        _backup = active is not null && !IsPrimary(state, active);
    }

    private static bool IsPrimary(PeerState state, PathState active)
    {
        if (state.PreferredSourceFor(active.Path.Dst.Address) is { } preferred && !preferred.Equals(active.Path.Src))
            return false;
        foreach (var p in state.Paths)
            if (p.Order < active.Order)
                return false;
        return true;
    }
}
