using JasperFx.Events;
using Marten.Events.Aggregation;
using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;

namespace WgRouted.Service.Store;

/// <summary>The endpoint-policy projection: a thin Evolve override calling the engine's pure fold.</summary>
public sealed class PeerStateProjection : SingleStreamProjection<PeerState, string>
{
    private readonly EndpointPolicy _policy;

    public PeerStateProjection(EndpointPolicy policy)
    {
        _policy = policy;
        foreach (var type in EventTypes.Peer)
            IncludeType(type);
    }

    public override PeerState? Evolve(PeerState? snapshot, string id, IEvent e) =>
        e.Data is PeerEvent pe ? _policy.Evolve(snapshot, pe) : snapshot;
}
