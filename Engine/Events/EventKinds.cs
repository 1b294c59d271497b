using System.Collections.Concurrent;
using System.Reflection;

namespace WgRouted.Engine.Events;

public static class EventKinds
{
    private static readonly ConcurrentDictionary<Type, EventKind> Kinds = new();

    /// <summary>The kind marked on the type; a peer event type without a mark is a programming error.</summary>
    public static EventKind Of(Type type) => Kinds.GetOrAdd(type, static t =>
        t.GetCustomAttribute<EventKindAttribute>() is { } a
            ? a.Kind
            : throw new InvalidOperationException($"{t.Name} is not marked as an input or an output"));

    public static bool IsOutput(PeerEvent e) => Of(e.GetType()) == EventKind.Output;

    public static bool IsInput(PeerEvent e) => Of(e.GetType()) == EventKind.Input;

    /// <summary>Every peer event type, for the store's registration and the tests.</summary>
    // Listed, not scanned for: Native AOT keeps no list of an assembly's types (a test checks the list is whole).
    public static IReadOnlyList<Type> PeerTypes { get; } =
    [
        typeof(BabelCommandRefused), typeof(BabelInterfaceAdded), typeof(BabelInterfaceObserved),
        typeof(BabelNeighbourObserved), typeof(BabelRouteObserved), typeof(CandidatesResolved),
        typeof(EndpointObserved), typeof(EndpointSwitchDecided), typeof(EndpointSwitched), typeof(HandshakeObserved),
        typeof(MoveFollowed), typeof(MoveNotApplied), typeof(MoveRequested), typeof(PathCameUp), typeof(PathLinkDown),
        typeof(PathMeasured), typeof(PathMismatch), typeof(PathWentDown), typeof(PeerAdded), typeof(PeerConfigured),
        typeof(PeerRemoved), typeof(PeerUnreachable), typeof(PreferredSourceChanged), typeof(ProbeMissed),
        typeof(ProbeReplied), typeof(ReceiveStalled), typeof(SwitchConverged), typeof(SwitchFailed),
        typeof(SwitchNotApplied), typeof(SwitchReasserted), typeof(TunnelLinkSet), typeof(TunnelRestored),
        typeof(TunnelWithdrawn),
    ];
}
