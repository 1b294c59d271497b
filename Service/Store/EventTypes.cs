using WgRouted.Engine.Events;

namespace WgRouted.Service.Store;

/// <summary>Every event type the store holds (ProbeReplied and ProbeMissed are never stored).</summary>
public static class EventTypes
{
    public static readonly Type[] Peer =
    [
        typeof(PeerConfigured), typeof(CandidatesResolved), typeof(PreferredSourceChanged), typeof(PathMeasured),
        typeof(PathWentDown), typeof(PathCameUp), typeof(HandshakeObserved), typeof(EndpointObserved),
        typeof(EndpointSwitchDecided), typeof(PeerUnreachable), typeof(EndpointSwitched), typeof(SwitchConverged),
        typeof(SwitchFailed), typeof(PeerAdded), typeof(PeerRemoved),
    ];

    public static readonly Type[] Host =
    [
        typeof(LinkChanged), typeof(AddressAdded), typeof(AddressRemoved), typeof(RouteAdded), typeof(RouteRemoved),
    ];

    public static bool IsStored(object e) => e is not ProbeResult;
}
