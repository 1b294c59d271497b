using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Org.BouncyCastle.Crypto.Digests;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Service.Daemon;
using WgRouted.Service.Probing;
using static WgRouted.Service.Tests.Probing.ProbingFixture;

namespace WgRouted.Service.Tests.Probing;

/// <summary>
/// The handshake prober on a fake clock and an in-memory network against a stock peer played by <see cref="FakeStockPeer"/>
/// (with a preshared key, read from the device): liveness, the switch by handshake, cookies, and forged answers.
/// </summary>
public sealed class HandshakeProberTests : IAsyncLifetime, IDisposable
{
    private static readonly byte[] Psk = RandomNumberGenerator.GetBytes(32);
    private readonly ProbingFixture _f = new(stock: true, presharedKey: Psk);
    private readonly Mailbox<HandshakeSchedule> _schedule = new();
    private readonly HandshakeProber _prober;
    private readonly FakeStockPeer _peer;
    private readonly List<object> _posted = [];
    private static readonly IPEndPoint PeerAt = new(PeerEndpoint.Address, PeerEndpoint.Port);

    public HandshakeProberTests()
    {
        _prober = new HandshakeProber(_f.Keyring, _f.Inbox, _schedule, _f.Network.Bind, _f.Config, _f.Time, NullLogger<HandshakeProber>.Instance);
        _peer = new FakeStockPeer(_f.Network, PeerAt, _f.PeerPrivate, _f.OurPublic, Psk);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Starts the prober with A active (after a test set up the peer: its first handshake goes out at once).</summary>
    private async Task Start()
    {
        await _prober.StartAsync(CancellationToken.None);
        _schedule.Post(new HandshakeSchedule(new ProbePaths(_f.Peer, [(A, "upa"), (B, "upb")])));
        _schedule.Post(new HandshakeSchedule(new ProbeActive(_f.Peer, A)));
    }

    private List<object> Posted()
    {
        while (_f.Inbox.Reader.TryRead(out var item))
            _posted.Add(item);
        return _posted;
    }

    private int Replied(CandidatePath path) => Posted().Count(e => e is ProbeReplied r && r.Path == path);
    private int Missed(CandidatePath path) => Posted().Count(e => e is ProbeMissed m && m.Path == path);
    private List<(IPEndPoint From, IPEndPoint To, byte[] Data)> Initiations() =>
        [.. _f.Network.Sent.ToList().Where(s => s.Data.Length == 148 && s.Data[0] == 1)];

    [Fact]
    public async Task The_active_path_is_checked_every_active_interval_from_our_listen_port_and_the_peer_stays_where_it_was()
    {
        await Start();
        await Until(() => Replied(A) == 1, "the first handshake answered");
        for (var i = 2; i <= 8; i++)
        {
            _f.Time.Advance(TimeSpan.FromMilliseconds(250));
            await Until(() => Replied(A) == i, $"handshake {i}");
        }
        var replies = Posted().OfType<ProbeReplied>().ToList();
        // The peer took our listen port and A's source as our endpoint: what the engine needs to call a switch done.
        Assert.All(replies, r => Assert.Equal(new Endpoint(A.Src, ListenPort), r.PeerEndpoint));
        Assert.All(Initiations(), s => Assert.Equal((new IPEndPoint(A.Src, ListenPort), PeerAt), (s.From, s.To)));
        Assert.Equal(8, _peer.Taken);
        Assert.Empty(_peer.Refused);
        Assert.Equal(new IPEndPoint(A.Src, ListenPort), _peer.Endpoint);
        // Only the active path: nothing from B.
        Assert.Equal(0, _f.Network.SentFrom(B.Src));
        Assert.Equal(0, Missed(A));
    }

    [Fact]
    public async Task A_socket_reader_that_fails_fails_the_prober_and_the_prober_started_again_checks_the_peer_on()
    {
        await Start();
        await Until(() => Replied(A) == 1, "the first handshake answered");
        // The failure surfaces with the next answer: a fault no catch in the reader expects.
        _f.Network.FailNextReceive(new IPEndPoint(A.Src, ListenPort), new NotSupportedException("injected"));
        _f.Time.Advance(TimeSpan.FromMilliseconds(250));
        var failure = await Assert.ThrowsAsync<IOException>(() => _prober.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Contains("handshake socket 198.18.1.2%upa:51820", failure.Message, StringComparison.Ordinal);
        Assert.Contains("injected", failure.Message, StringComparison.Ordinal);
        Assert.False(_f.Network.IsBound(new IPEndPoint(A.Src, ListenPort)));

        // Started again, as its supervisor does: the peer and its active path are still known, no schedule posted.
        var answered = Replied(A);
        await _prober.StartAsync(CancellationToken.None);
        _f.Time.Advance(TimeSpan.FromMilliseconds(250));
        await Until(() => Replied(A) > answered, "a handshake answered after the restart");
        Assert.Empty(_peer.Refused);
    }

    [Fact]
    public async Task Making_another_path_active_is_a_handshake_over_it_that_moves_the_peer()
    {
        await Start();
        await Until(() => Replied(A) == 1, "A answered");
        _f.Time.Advance(TimeSpan.FromMilliseconds(30));
        _schedule.Post(new HandshakeSchedule(new ProbeActive(_f.Peer, B)));
        await Until(() => Replied(B) == 1, "B answered");
        Assert.Equal(new IPEndPoint(B.Src, ListenPort), _peer.Endpoint);
        Assert.Equal(new Endpoint(B.Src, ListenPort), Posted().OfType<ProbeReplied>().Last().PeerEndpoint);
    }

    [Fact]
    public async Task An_unanswered_handshake_is_missed_after_its_timeout_and_sent_again_at_once()
    {
        _peer.Answers = _ => false;
        await Start();
        await Until(() => Initiations().Count == 1, "the first initiation");
        _f.Time.Advance(TimeSpan.FromMilliseconds(250));
        await Until(() => Missed(A) == 1, "the first miss");
        // Again at once, not an interval later: one unanswered handshake proves nothing.
        await Until(() => Initiations().Count == 2, "the retry");
    }

    [Fact]
    public async Task Two_initiations_to_a_peer_are_never_within_21_ms()
    {
        await Start();
        await Until(() => Replied(A) == 1, "the first handshake");
        // A host change asks for a handshake now: WireGuard's responder refuses one within 20 ms of the last (and the
        // timestamp must reach the next grain), so it waits.
        _schedule.Post(new HandshakeSchedule(new ProbeNow(null)));
        _f.Time.Advance(TimeSpan.FromMilliseconds(15));
        await Task.Delay(100);
        Assert.Single(Initiations());
        _f.Time.Advance(TimeSpan.FromMilliseconds(6));
        await Until(() => Replied(A) == 2, "the second handshake, 21 ms after the first");
        Assert.Empty(_peer.Refused);
    }

    [Fact]
    public async Task A_peer_under_load_sends_a_cookie_and_the_handshake_is_made_again_with_mac2()
    {
        await Start();
        await Until(() => Replied(A) == 1, "answered before the load");
        _peer.UnderLoad = true;
        _f.Time.Advance(TimeSpan.FromMilliseconds(250));
        await Until(() => _peer.Cookies == 1, "the cookie reply");
        _f.Time.Advance(TimeSpan.FromMilliseconds(25));
        await Until(() => Replied(A) == 2, "answered once mac2 was right");
        Assert.Equal(1, _peer.Cookies);
        Assert.Equal(0, Missed(A));
    }

    [Fact]
    public async Task Forged_answers_are_not_taken_for_the_peers()
    {
        // An on-path attacker sees our initiation (the index in it) and our public key (mac1's key): it answers before
        // the peer, which is silent, with a response whose mac1 is right and whose Noise payload it cannot make, and
        // replays a genuine response from another address.
        _peer.Answers = _ => false;
        await Start();
        await Until(() => Initiations().Count == 1, "the first initiation");
        var initiation = Initiations()[0].Data;
        var forged = new byte[92];
        forged[0] = 2;
        initiation.AsSpan(4, 4).CopyTo(forged.AsSpan(8));
        RandomNumberGenerator.Fill(forged.AsSpan(12, 48));
        var digest = new Blake2sDigest(FakeStockPeer.Hash("mac1----"u8.ToArray(), _f.OurPublic.ToBytes()), 16, null, null);
        digest.BlockUpdate(forged, 0, 60);
        digest.DoFinal(forged, 60);
        _f.Network.Inject(PeerAt, new IPEndPoint(A.Src, ListenPort), forged);
        // A genuine answer, but from elsewhere: the peer takes a fresh initiation and its response is sent on by another host.
        var genuine = _peer.Respond(initiation);
        _f.Network.Inject(new IPEndPoint(IPAddress.Parse("198.18.9.9"), PeerEndpoint.Port), new IPEndPoint(A.Src, ListenPort), genuine);
        await Task.Delay(100);
        Assert.Equal(0, Replied(A));
        _f.Time.Advance(TimeSpan.FromMilliseconds(250));
        await Until(() => Missed(A) == 1, "the handshake missed");
        Assert.Equal(0, Replied(A));
    }

    public async Task DisposeAsync() => await _prober.StopAsync(CancellationToken.None);

    public void Dispose()
    {
        _prober.Dispose();
        _peer.Dispose();
        _f.Dispose();
    }
}
