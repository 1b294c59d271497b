using WgRouted.Engine;
using WgRouted.Engine.Policy;

namespace WgRouted.Service.Configuration;

/// <summary>The validated configuration.</summary>
public sealed record WgRoutedConfig(WgRoutedOptions Options, PolicyOptions Policy, IReadOnlyList<InterfaceConfig> Interfaces)
{
    public IEnumerable<(InterfaceConfig Interface, PeerConfig Peer)> Peers =>
        Interfaces.SelectMany(i => i.Peers.Select(p => (i, p)));
}

public sealed record InterfaceConfig(string Name, uint Fwmark, bool Babel, IReadOnlyList<PeerConfig> Peers);

public sealed record PeerConfig(PeerKey PublicKey, IReadOnlyList<EndpointSpec> Endpoints, int ProbePort);
