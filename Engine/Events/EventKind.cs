namespace WgRouted.Engine.Events;

/// <summary>
/// Inputs are observed (host facts, candidates, probe outcomes, handshakes, moves asked for, actuators'
/// outcomes); outputs are decided by the engine from the inputs. A replay folds the inputs and re-derives
/// the outputs.
/// </summary>
public enum EventKind
{
    Input,
    Output,
}

/// <summary>Marks a peer event type as an input or an output of the engine.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class EventKindAttribute(EventKind kind) : Attribute
{
    public EventKind Kind { get; } = kind;
}
