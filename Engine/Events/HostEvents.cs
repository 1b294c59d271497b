using System.Net;

namespace WgRouted.Engine.Events;

public sealed record LinkChanged(DateTimeOffset At, int Index, string Name, bool Up, bool Carrier, string OperState)
    : HostEvent(At);

public sealed record AddressAdded(DateTimeOffset At, int LinkIndex, IPAddress Address, int PrefixLength)
    : HostEvent(At);

public sealed record AddressRemoved(DateTimeOffset At, int LinkIndex, IPAddress Address, int PrefixLength)
    : HostEvent(At);

/// <summary>A route as the kernel reported it; <paramref name="LinkDown"/> is RTNH_F_LINKDOWN (carrier lost, route kept).</summary>
public sealed record RouteAdded(DateTimeOffset At, int Table, string Dst, IPAddress? Gateway, int? LinkIndex, IPAddress? PreferredSource, int Metric, bool LinkDown)
    : HostEvent(At);

/// <summary>The responder's listener on <paramref name="Address"/> failed with <paramref name="Error"/> and was started again.</summary>
public sealed record ResponderListenerRestarted(DateTimeOffset At, IPAddress Address, string Error)
    : HostEvent(At);

/// <summary>A source or actuator of the daemon (<paramref name="Service"/>) failed or ended and was started again.</summary>
public sealed record ServiceRestarted(DateTimeOffset At, string Service, string Error, int Failures)
    : HostEvent(At);

public sealed record RouteRemoved(DateTimeOffset At, int Table, string Dst, IPAddress? Gateway, int? LinkIndex, IPAddress? PreferredSource, int Metric, bool LinkDown)
    : HostEvent(At);
