using WgRouted.Engine;
using WgRouted.Engine.Policy;

namespace WgRouted.Service.Configuration;

/// <summary>The validated configuration.</summary>
public sealed record WgRoutedConfig(WgRoutedOptions Options, PolicyOptions Policy, IReadOnlyList<InterfaceConfig> Interfaces)
{
    public IEnumerable<(InterfaceConfig Interface, PeerConfig Peer)> Peers =>
        Interfaces.SelectMany(i => i.Peers.Select(p => (i, p)));
}

/// <param name="PinTable">The routing table of the interface's pins (PinTable, by default the fwmark's number).</param>
/// <param name="Index">Its position in Interfaces, for error messages.</param>
public sealed record InterfaceConfig(string Name, uint Fwmark, bool Babel, IReadOnlyList<PeerConfig> Peers, uint PinTable, int Index = 0);

public sealed record PeerConfig(PeerKey PublicKey, IReadOnlyList<EndpointSpec> Endpoints, int ProbePort, bool Responder = true);
