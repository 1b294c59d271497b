namespace WgRouted.Integrations.Netlink;

/// <summary>WireGuard has no notifications: changes are found by diffing two GET_DEVICE results.</summary>
public static class WireGuardDiff
{
    public static IReadOnlyList<WireGuardChange> Compare(WireGuardDevice? before, WireGuardDevice after)
    {
        ArgumentNullException.ThrowIfNull(after);
        var changes = new List<WireGuardChange>();
        var old = (before?.Peers ?? []).ToDictionary(p => p.PublicKey);
        var current = after.Peers.ToDictionary(p => p.PublicKey);
        foreach (var peer in after.Peers)
        {
            if (!old.TryGetValue(peer.PublicKey, out var was))
            {
                changes.Add(new PeerAdded(after.Name, peer.PublicKey));
                if (peer.LatestHandshake is { } first)
                    changes.Add(new HandshakeObserved(after.Name, peer.PublicKey, first));
                continue;
            }
            if (peer.LatestHandshake is { } at && (was.LatestHandshake is not { } previous || at > previous))
                changes.Add(new HandshakeObserved(after.Name, peer.PublicKey, at));
            if (!Equals(was.Endpoint, peer.Endpoint))
                changes.Add(new EndpointChanged(after.Name, peer.PublicKey, was.Endpoint, peer.Endpoint));
            // Counters restart with the device: only a rise counts as sending.
            if (peer.TxBytes > was.TxBytes && peer.RxBytes == was.RxBytes)
                changes.Add(new ReceiveStalled(after.Name, peer.PublicKey, peer.TxBytes - was.TxBytes));
        }
        foreach (var peer in before?.Peers ?? [])
            if (!current.ContainsKey(peer.PublicKey))
                changes.Add(new PeerRemoved(after.Name, peer.PublicKey));
        return changes;
    }
}
