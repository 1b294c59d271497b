namespace WgRouted.Integrations.Babel;

/// <summary>An interface's `type`. Tunnel turns timestamps (RTT) on and max-rtt-penalty to 96 by default.</summary>
public enum BabelInterfaceType
{
    Auto,
    Wired,
    Wireless,
    Tunnel,
}
