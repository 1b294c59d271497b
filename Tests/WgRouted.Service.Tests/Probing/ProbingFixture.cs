using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Probe;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Configuration;
using WgRouted.Service.Daemon;
using WgRouted.Service.Probing;
using WgRouted.Tests.Shared;

namespace WgRouted.Service.Tests.Probing;

/// <summary>
/// One side of a probed tunnel on a fake clock and an in-memory network: our WireGuard device (a fake UAPI socket)
/// with one peer, the keyring, the inbox; the far side's keys to answer or ask as the peer would.
/// </summary>
internal sealed class ProbingFixture : IDisposable
{
    public const string Interface = "wgt0";
    public const ushort ListenPort = 51820;
    public static readonly Endpoint PeerEndpoint = Endpoint.Parse("198.18.3.2:51820");
    public static readonly CandidatePath A = new(IPAddress.Parse("198.18.1.2"), PeerEndpoint);
    public static readonly CandidatePath B = new(IPAddress.Parse("198.18.2.2"), PeerEndpoint);

    private readonly string _dir = Directory.CreateTempSubdirectory("wgr-probing-").FullName;

    /// <summary>A second peer on our device, not configured for WgRouted, at this endpoint.</summary>
    public static readonly Endpoint OtherPeerEndpoint = Endpoint.Parse("198.18.5.2:51820");

    /// <param name="stock">The peer is configured as a stock peer ("Responder": false).</param>
    /// <param name="presharedKey">The device's preshared key for the peer, if any.</param>
    public ProbingFixture(bool peerHasEndpoints = true, bool stock = false, byte[]? presharedKey = null)
    {
        var ours = RandomNumberGenerator.GetBytes(32);
        var theirs = RandomNumberGenerator.GetBytes(32);
        PeerPrivate = theirs;
        OurPublic = PeerKey.FromBytes(WireGuardKeys.PublicKey(ours));
        Peer = PeerKey.FromBytes(WireGuardKeys.PublicKey(theirs));
        // The far side's view: the same shared probe key, derived from its own private key.
        PeerProbeKey = ProbeKeys.Derive(theirs, Peer.ToBytes(), OurPublic.ToBytes());
        OtherPeer = PeerKey.FromBytes(WireGuardKeys.PublicKey(RandomNumberGenerator.GetBytes(32)));
        Uapi = new FakeUapi(_dir, Interface, ours, ListenPort, (Peer.ToBytes(), new IPEndPoint(PeerEndpoint.Address, PeerEndpoint.Port)),
            (OtherPeer.ToBytes(), new IPEndPoint(OtherPeerEndpoint.Address, OtherPeerEndpoint.Port)));
        Config = ConfigurationLoader.Validate(new WgRoutedOptions
        {
            DataDirectory = _dir,
            Interfaces = [new InterfaceOptions
            {
                Name = Interface, Fwmark = "0x5157",
                Peers = [new PeerOptions { PublicKey = Peer.Base64, Endpoints = peerHasEndpoints ? [PeerEndpoint.ToString()] : [], Responder = !stock }],
            }],
        });
        if (presharedKey is not null)
            Uapi.SetPresharedKey(Peer.ToBytes(), presharedKey);
        Control = new WireGuardControl(networkNamespace: null, socketDirectory: _dir);
        Keyring = new Keyring(Config, Control, NullLogger<Keyring>.Instance);
        // The poller's first read, which the daemon does at start.
        if (!Keyring.Refresh(Config.Interfaces[0]))
            throw new InvalidOperationException("the fake device is unreadable");
    }

    public PeerKey OtherPeer { get; }

    /// <summary>The peer's private key: the tests play the peer.</summary>
    public byte[] PeerPrivate { get; }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    public DatagramNetwork Network { get; } = new();
    public Inbox Inbox { get; } = new();
    public FakeUapi Uapi { get; }
    public WgRoutedConfig Config { get; }
    public WireGuardControl Control { get; }
    public Keyring Keyring { get; }
    public PeerKey OurPublic { get; }
    public PeerKey Peer { get; }
    public ProbeKey PeerProbeKey { get; }
    public IPEndPoint PeerResponder => new(PeerEndpoint.Address, Config.Options.Probe.Port);

    /// <summary>The next input the component posted, waiting (real time) at most 5 s.</summary>
    public async Task<object> NextAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        return await Inbox.Reader.ReadAsync(timeout.Token);
    }

    public bool NothingPosted() => !Inbox.Reader.TryPeek(out _);

    /// <summary>Until <paramref name="condition"/> holds (the component works on its own tasks), at most 5 s real time.</summary>
    public static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException(what);
            await Task.Delay(5);
        }
    }

    public byte[] Encode(ProbeMessage message)
    {
        var buffer = new byte[ProbeCodec.MaxSize];
        return buffer[..ProbeCodec.Encode(message, PeerProbeKey, buffer)];
    }

    public ProbeMessage Decode(byte[] packet) =>
        ProbeCodec.TryDecode(packet, k => k == OurPublic ? PeerProbeKey : null, out var message, out var error)
            ? message
            : throw new InvalidDataException(error.Describe());

    public void Dispose()
    {
        Control.Dispose();
        Uapi.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
