using System.Text.Json.Serialization;
using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;

namespace WgRouted.Service.Store;

/// <summary>
/// The serialized types' contracts, generated at build time: Native AOT has no reflection-based serialization. Every
/// event type Marten, the event log and the CLI write is listed, with the projected document.
/// </summary>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata, UseStringEnumConverter = true)]
[JsonSerializable(typeof(PeerConfigured))]
[JsonSerializable(typeof(CandidatesResolved))]
[JsonSerializable(typeof(PreferredSourceChanged))]
[JsonSerializable(typeof(ProbeReplied))]
[JsonSerializable(typeof(ProbeMissed))]
[JsonSerializable(typeof(PathLinkDown))]
[JsonSerializable(typeof(HandshakeObserved))]
[JsonSerializable(typeof(ReceiveStalled))]
[JsonSerializable(typeof(EndpointObserved))]
[JsonSerializable(typeof(PeerAdded))]
[JsonSerializable(typeof(PeerRemoved))]
[JsonSerializable(typeof(EndpointSwitched))]
[JsonSerializable(typeof(SwitchNotApplied))]
[JsonSerializable(typeof(MoveRequested))]
[JsonSerializable(typeof(MoveNotApplied))]
[JsonSerializable(typeof(PathMeasured))]
[JsonSerializable(typeof(PathWentDown))]
[JsonSerializable(typeof(PathCameUp))]
[JsonSerializable(typeof(EndpointSwitchDecided))]
[JsonSerializable(typeof(PeerUnreachable))]
[JsonSerializable(typeof(SwitchReasserted))]
[JsonSerializable(typeof(SwitchConverged))]
[JsonSerializable(typeof(SwitchFailed))]
[JsonSerializable(typeof(MoveFollowed))]
[JsonSerializable(typeof(BabelInterfaceObserved))]
[JsonSerializable(typeof(BabelNeighbourObserved))]
[JsonSerializable(typeof(BabelRouteObserved))]
[JsonSerializable(typeof(BabelCommandRefused))]
[JsonSerializable(typeof(TunnelLinkSet))]
[JsonSerializable(typeof(BabelInterfaceAdded))]
[JsonSerializable(typeof(TunnelWithdrawn))]
[JsonSerializable(typeof(TunnelRestored))]
[JsonSerializable(typeof(PathMismatch))]
[JsonSerializable(typeof(LinkChanged))]
[JsonSerializable(typeof(AddressAdded))]
[JsonSerializable(typeof(AddressRemoved))]
[JsonSerializable(typeof(RouteAdded))]
[JsonSerializable(typeof(RouteRemoved))]
[JsonSerializable(typeof(ResponderListenerRestarted))]
[JsonSerializable(typeof(ServiceRestarted))]
[JsonSerializable(typeof(PeerState))]
internal sealed partial class EventJsonContext : JsonSerializerContext;
