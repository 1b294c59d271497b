using System.Net;
using WgRouted.Engine.Events;

namespace WgRouted.Service.Probing;

/// <summary>What the policy loop tells the responder.</summary>
public abstract record ResponderCommand;

/// <summary>Listen on exactly these addresses (our usable sources).</summary>
public sealed record ListenOn(IReadOnlySet<IPAddress> Addresses) : ResponderCommand;

/// <summary>Follow this move: set the WireGuard endpoint, then answer the request.</summary>
public sealed record FollowMove(MoveFollowed Move) : ResponderCommand;
