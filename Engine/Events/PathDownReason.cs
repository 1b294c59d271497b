namespace WgRouted.Engine.Events;

public enum PathDownReason
{
    ProbesMissed,
    LinkDown,
    SwitchFailed,
}
