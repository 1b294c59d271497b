namespace WgRouted.Engine.Events;

/// <summary>A raw fact about the host (links, addresses, routes) on the host's stream, for incident analysis.</summary>
public abstract record HostEvent(DateTimeOffset At);
