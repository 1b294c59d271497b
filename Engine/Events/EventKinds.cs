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
    public static IReadOnlyList<Type> PeerTypes { get; } = typeof(PeerEvent).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(PeerEvent)) && !t.IsAbstract)
        .OrderBy(t => t.Name, StringComparer.Ordinal)
        .ToArray();
}
