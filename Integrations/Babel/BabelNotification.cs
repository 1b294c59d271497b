namespace WgRouted.Integrations.Babel;

/// <summary>`add|change|flush interface|neighbour|route|xroute ...`: a monitor notification or a dump line.</summary>
public sealed record BabelNotification(BabelNotificationKind Kind, BabelObject Object) : BabelLine;
