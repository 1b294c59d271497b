using WgRouted.Engine.Events;

namespace WgRouted.Service.Store;

/// <summary>Every event type Marten holds: peer inputs and outputs (probe outcomes go to the recorder), host facts.</summary>
public static class EventTypes
{
    public static readonly Type[] Peer = EventKinds.PeerTypes.Where(t => !t.IsSubclassOf(typeof(ProbeResult))).ToArray();

    public static readonly Type[] Host =
    [
        typeof(LinkChanged), typeof(AddressAdded), typeof(AddressRemoved), typeof(RouteAdded), typeof(RouteRemoved), typeof(ResponderListenerRestarted), typeof(ServiceRestarted),
    ];

    public static bool IsStored(object e) => e is not ProbeResult;
}
