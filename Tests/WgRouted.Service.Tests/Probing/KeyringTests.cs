using System.Security.Cryptography;
using WgRouted.Engine;
using WgRouted.Engine.Probe;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Probing;

namespace WgRouted.Service.Tests.Probing;

public sealed class KeyringTests : IDisposable
{
    private readonly ProbingFixture _f = new();

    public void Dispose() => _f.Dispose();

    private WireGuardDevice Device(byte[]? privateKey, ushort listenPort) => new(
        ProbingFixture.Interface, privateKey is null ? null : PeerKey.FromBytes(WireGuardKeys.PublicKey(privateKey)).Base64,
        privateKey, listenPort, 0, [new WireGuardPeer(_f.Peer.Base64, false, null, [], null, 0, 0, 0)]);

    [Fact]
    public void A_probe_takes_the_peers_key_and_ours_from_one_read_of_the_device()
    {
        var probing = _f.Keyring.ProbingOf(_f.Peer);
        Assert.NotNull(probing);
        Assert.Equal((_f.OurPublic, ProbingFixture.ListenPort), (probing.Us, probing.ListenPort));
        Assert.Same(_f.Keyring.KeyFor(_f.Peer), probing.Key);
        Assert.True(probing.Key.SameAs(_f.PeerProbeKey));
        // On the device but not configured: no key.
        Assert.Null(_f.Keyring.ProbingOf(_f.OtherPeer));
        Assert.Null(_f.Keyring.KeyFor(_f.OtherPeer));
    }

    [Fact]
    public void A_new_device_key_a_new_port_and_a_lost_key_each_reach_the_probes_at_once()
    {
        // A path's probe holds the keys it last took (the prober's turn): each change must reach it too.
        var cache = default(Keyring.ProbingCache);
        var before = _f.Keyring.ProbingOf(_f.Peer, ref cache);
        Assert.Same(_f.Keyring.ProbingOf(_f.Peer), before);
        Assert.Same(before, _f.Keyring.ProbingOf(_f.Peer, ref cache));

        var rotated = RandomNumberGenerator.GetBytes(32);
        _f.Keyring.Observe(ProbingFixture.Interface, Device(rotated, 40000));
        var probing = _f.Keyring.ProbingOf(_f.Peer);
        Assert.NotNull(probing);
        Assert.Same(probing, _f.Keyring.ProbingOf(_f.Peer, ref cache));
        Assert.NotSame(before, probing);
        Assert.Equal(PeerKey.FromBytes(WireGuardKeys.PublicKey(rotated)), probing.Us);
        Assert.Equal((ushort)40000, probing.ListenPort);
        var expected = ProbeKeys.Derive(_f.PeerPrivate, _f.Peer.ToBytes(), WireGuardKeys.PublicKey(rotated));
        Assert.True(probing.Key.SameAs(expected));
        Assert.Same(probing.Key, _f.Keyring.KeyFor(_f.Peer));

        // The same key on another port: the key is kept, the port follows.
        _f.Keyring.Observe(ProbingFixture.Interface, Device(rotated, 40001));
        Assert.Same(probing.Key, _f.Keyring.KeyFor(_f.Peer));
        Assert.Equal((ushort)40001, _f.Keyring.ProbingOf(_f.Peer)?.ListenPort);
        Assert.Equal((ushort)40001, _f.Keyring.ProbingOf(_f.Peer, ref cache)?.ListenPort);

        _f.Keyring.Observe(ProbingFixture.Interface, Device(null, 40001));
        Assert.Null(_f.Keyring.ProbingOf(_f.Peer));
        Assert.Null(_f.Keyring.ProbingOf(_f.Peer, ref cache));
        Assert.Null(_f.Keyring.KeyFor(_f.Peer));
    }
}
