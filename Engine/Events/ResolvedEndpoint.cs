namespace WgRouted.Engine.Events;

/// <summary>One address of a configured endpoint (a literal, or one DNS answer) and the endpoint's position in the list.</summary>
public readonly record struct ResolvedEndpoint(int Order, Endpoint Endpoint);
