using System.Diagnostics;
using WgRouted.Engine.Events;

namespace WgRouted.Service.Probing;

/// <summary>
/// A switch decision or re-assertion for the switcher to carry out (pin, endpoint, move request), under the
/// failover's trace.
/// </summary>
public sealed record SwitchCommand(PeerEvent Decision, ActivityContext Trace);
