namespace WgRouted.Engine.Events;

public enum SwitchReason
{
    /// <summary>The peer had no active path yet.</summary>
    Initial,
    /// <summary>The active path stopped being usable (failure-driven, undamped).</summary>
    ActiveDown,
    /// <summary>The active path is no longer a candidate (address removed, DNS answer changed).</summary>
    ActiveRemoved,
    /// <summary>A path better by preference (kernel's preferred source, then endpoint order) held up for the hold-down time.</summary>
    Preferred,
    /// <summary>A path of equal preference had a clearly lower RTT for the sustain time.</summary>
    Rtt,
}
