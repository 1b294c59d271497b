using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Probe;
using WgRouted.Service.Daemon;
using WgRouted.Service.Probing;
using static WgRouted.Service.Tests.Probing.ProbingFixture;

namespace WgRouted.Service.Tests.Probing;

/// <summary>
/// The responder on a fake clock and an in-memory network, as the peer's side of a tunnel: here "we" answer, and the
/// fixture's peer is the initiator probing us over its paths.
/// </summary>
public sealed class ResponderTests : IAsyncLifetime, IDisposable
{
    private static readonly IPAddress Listening = PeerEndpoint.Address;
    private readonly ProbingFixture _f = new(peerHasEndpoints: false);
    private readonly Mailbox<ResponderCommand> _commands = new();
    private static readonly IPAddress InitiatorAddress = IPAddress.Parse("198.18.1.2");
    private static readonly Endpoint Wanted = new(InitiatorAddress, ListenPort);
    private readonly Fences _fences;
    private Responder _responder;
    private readonly IDatagramSocket _initiator;
    private readonly IPEndPoint _to;
    private readonly ProbeSequence _numbers = new();

    public ResponderTests()
    {
        _fences = new Fences(NullLogger<Fences>.Instance);
        _responder = NewResponder();
        _initiator = _f.Network.Bind(new IPEndPoint(InitiatorAddress, 0), "upa");
        _to = new IPEndPoint(Listening, _f.Config.Options.Probe.Port);
    }

    private Responder NewResponder() =>
        new(_f.Config, _f.Keyring, _f.Control, _fences, _f.Inbox, _commands, _f.Network.Bind, _f.Time, NullLogger<Responder>.Instance);

    /// <summary>The initiator's next sequence number (on the fake clock, as a real initiator numbers).</summary>
    private ulong Next() => _numbers.Next(_f.Time.GetUtcNow());

    private MoveRequest Move(Endpoint? requested = null) => new(_f.Peer, Next(), _f.Time.GetUtcNow(), requested ?? Wanted);

    public async Task InitializeAsync()
    {
        await _responder.StartAsync(CancellationToken.None);
        _commands.Post(new ListenOn(new HashSet<IPAddress> { Listening }));
        await Until(() => _f.Network.IsBound(_to), "the responder listens");
    }

    private async Task<ProbeAnswer> AnswerAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var buffer = new byte[ProbeCodec.MaxSize];
        var (length, from) = await _initiator.ReceiveFromAsync(buffer, timeout.Token);
        Assert.Equal(_to, from);
        return Assert.IsAssignableFrom<ProbeAnswer>(_f.Decode(buffer[..length]));
    }

    [Fact]
    public async Task A_probe_is_answered_with_the_source_it_came_from_and_our_endpoint_for_the_sender()
    {
        var request = new ProbeRequest(_f.Peer, Next(), _f.Time.GetUtcNow());
        _initiator.SendTo(_f.Encode(request), _to);
        var answer = await AnswerAsync();
        Assert.Equal(request.Sequence, answer.EchoSequence);
        Assert.Equal(new Endpoint(IPAddress.Parse("198.18.1.2"), 40000), answer.ObservedSource);
        Assert.Equal(PeerEndpoint, answer.WireGuardEndpoint);
    }

    [Fact]
    public async Task A_move_goes_to_the_engine_and_is_answered_only_once_followed()
    {
        var move = Move();
        _initiator.SendTo(_f.Encode(move), _to);
        var requested = Assert.IsType<MoveRequested>(await _f.NextAsync());
        Assert.Equal(Wanted, requested.Requested);
        Assert.Equal(PeerEndpoint, requested.Previous);
        Assert.Equal(move.Sequence, requested.Sequence);
        // Nothing set, nothing answered until the engine decides.
        await Task.Delay(100);
        Assert.Empty(_f.Uapi.Sets);
        Assert.Equal(0, _f.Network.SentTo(new IPEndPoint(IPAddress.Parse("198.18.1.2"), 40000)));

        _commands.Post(new FollowMove(new MoveFollowed(_f.Peer, _f.Time.GetUtcNow(), requested.Requested, requested.Previous, requested.Sequence)));
        var answer = Assert.IsType<MoveReply>(await AnswerAsync());
        Assert.Equal(move.Sequence, answer.EchoSequence);
        Assert.Equal(requested.Requested, answer.WireGuardEndpoint);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("198.18.1.2"), ListenPort), _f.Uapi.EndpointOf(_f.Peer.ToBytes()));
    }

    [Fact]
    public async Task A_replayed_or_forged_request_gets_no_answer()
    {
        var request = _f.Encode(new ProbeRequest(_f.Peer, Next(), _f.Time.GetUtcNow()));
        _initiator.SendTo(request, _to);
        await AnswerAsync();
        _initiator.SendTo(request, _to);
        var forged = (byte[])request.Clone();
        forged[^1] ^= 1;
        _initiator.SendTo(forged, _to);
        // One replay window per sender: the same request from another address and port is no fresher.
        var elsewhere = new IPEndPoint(IPAddress.Parse("198.18.4.66"), 40001);
        _f.Network.Inject(elsewhere, _to, request);
        await Task.Delay(200);
        Assert.Equal(1, _f.Network.SentTo(new IPEndPoint(InitiatorAddress, 40000)));
        Assert.Equal(0, _f.Network.SentTo(elsewhere));
        Assert.Equal(2, _responder.Refused[ProbeError.Replayed.Describe()]);
        Assert.Equal(1, _responder.Refused[ProbeError.BadMac.Describe()]);
    }

    [Fact]
    public async Task A_move_delivered_from_an_address_other_than_the_one_it_asks_for_is_refused()
    {
        // An on-path host holds back a move and delivers it from its own address: the address is under the MAC.
        var move = _f.Encode(Move());
        var attacker = new IPEndPoint(IPAddress.Parse("198.18.4.66"), 40000);
        _f.Network.Inject(attacker, _to, move);
        // Nor can a move name another address than it is sent from.
        _initiator.SendTo(_f.Encode(Move(new Endpoint(IPAddress.Parse("198.18.4.66"), ListenPort))), _to);
        await Until(() => _responder.Refused.GetValueOrDefault(ProbeError.MoveFromAnotherAddress.Describe()) == 2, "both refused");
        Assert.True(_f.NothingPosted());
        // The genuine one, from its own address, still goes through.
        _initiator.SendTo(move, _to);
        Assert.IsType<MoveRequested>(await _f.NextAsync());
    }

    [Fact]
    public async Task Moves_must_be_newer_than_the_last_one_followed_and_at_most_3_s_old()
    {
        var older = _f.Encode(Move());
        var newer = _f.Encode(Move());
        _initiator.SendTo(newer, _to);
        Assert.IsType<MoveRequested>(await _f.NextAsync());
        // A delayed older move cannot undo the newer one, and the newer one counts once.
        _initiator.SendTo(older, _to);
        _initiator.SendTo(newer, _to);
        await Until(() => _responder.Refused.GetValueOrDefault(ProbeError.MoveNotNewer.Describe()) == 2, "older and repeated refused");
        _f.Time.Advance(TimeSpan.FromSeconds(1));
        var late = _f.Encode(Move());
        _f.Time.Advance(MoveGuard.Freshness + TimeSpan.FromMilliseconds(1));
        _initiator.SendTo(late, _to);
        await Until(() => _responder.Refused.GetValueOrDefault(ProbeError.Stale.Describe()) == 1, "stale refused");
        Assert.True(_f.NothingPosted());
    }

    [Fact]
    public async Task After_a_restart_no_move_followed_before_it_is_accepted_again()
    {
        var move = _f.Encode(Move());
        _initiator.SendTo(move, _to);
        Assert.IsType<MoveRequested>(await _f.NextAsync());
        Assert.True(File.Exists(Path.Combine(_f.Config.Options.DataDirectory, "moves")));

        await _responder.StopAsync(CancellationToken.None);
        _responder.Dispose();
        _responder = NewResponder();
        await InitializeAsync();
        // Within its 3 s, the same request again: refused, its number was on disk.
        _initiator.SendTo(move, _to);
        await Until(() => _responder.Refused.GetValueOrDefault(ProbeError.MoveNotNewer.Describe()) == 1, "the old move refused after the restart");
        Assert.True(_f.NothingPosted());
        _initiator.SendTo(_f.Encode(Move()), _to);
        Assert.IsType<MoveRequested>(await _f.NextAsync());
    }

    [Fact]
    public async Task A_move_to_another_peers_endpoint_is_refused()
    {
        // A peer asking to be reached at another peer's endpoint (sent from that address, spoofed) would draw that
        // peer's traffic and, with a fence, make its packets arrive as the asker's.
        var spoofed = new IPEndPoint(OtherPeerEndpoint.Address, 40000);
        _f.Network.Inject(spoofed, _to, _f.Encode(Move(OtherPeerEndpoint)));
        await Until(() => _responder.Refused.GetValueOrDefault(ProbeError.MoveToAnotherPeersEndpoint.Describe()) == 1, "refused");
        Assert.True(_f.NothingPosted());
        Assert.Empty(_f.Uapi.Sets);
    }

    [Fact]
    public async Task A_datagram_from_source_port_0_is_dropped_and_the_next_probe_is_answered()
    {
        // Regression: a request from port 0 threw inside the serve loop, whose task nobody watched: silent for good.
        var zero = new IPEndPoint(IPAddress.Parse("198.18.1.2"), 0);
        _f.Network.Inject(zero, _to, _f.Encode(new ProbeRequest(_f.Peer, Next(), _f.Time.GetUtcNow())));
        _f.Network.Inject(zero, _to, _f.Encode(Move()));
        _f.Network.Inject(zero, _to, [1, 2, 3]);
        var request = new ProbeRequest(_f.Peer, Next(), _f.Time.GetUtcNow());
        _initiator.SendTo(_f.Encode(request), _to);
        Assert.Equal(request.Sequence, (await AnswerAsync()).EchoSequence);
        Assert.True(_f.NothingPosted());
    }

    [Fact]
    public async Task A_listener_that_fails_is_started_again_and_that_is_an_event()
    {
        // The failure surfaces with the next datagram: a fault no catch in the serve loop expects.
        _f.Network.FailNextReceive(_to, new NotSupportedException("injected"));
        _initiator.SendTo(_f.Encode(new ProbeRequest(_f.Peer, Next(), _f.Time.GetUtcNow())), _to);
        var restarted = Assert.IsType<ResponderListenerRestarted>(await _f.NextAsync());
        Assert.Equal(Listening, restarted.Address);
        Assert.Contains("injected", restarted.Error, StringComparison.Ordinal);
        await Task.Delay(50);
        _f.Time.Advance(TimeSpan.FromMilliseconds(100));
        var request = new ProbeRequest(_f.Peer, Next(), _f.Time.GetUtcNow());
        _initiator.SendTo(_f.Encode(request), _to);
        Assert.Equal(request.Sequence, (await AnswerAsync()).EchoSequence);
    }

    [Fact]
    public async Task Replayed_copies_of_the_peers_own_requests_cost_it_no_answer()
    {
        // Regression: the sender's rate was charged before the replay check, so 50 replays of one captured request
        // (no key needed) used up the genuine sender's share and its next probes went unanswered.
        var captured = _f.Encode(new ProbeRequest(_f.Peer, Next(), _f.Time.GetUtcNow()));
        _initiator.SendTo(captured, _to);
        await AnswerAsync();
        var attacker = new IPEndPoint(IPAddress.Parse("198.18.4.66"), 40000);
        for (var i = 0; i < 500; i++)
            _f.Network.Inject(attacker, _to, captured);
        for (var i = 0; i < 5; i++)
        {
            var request = new ProbeRequest(_f.Peer, Next(), _f.Time.GetUtcNow());
            _initiator.SendTo(_f.Encode(request), _to);
            Assert.Equal(request.Sequence, (await AnswerAsync()).EchoSequence);
        }
        Assert.Equal(500, _responder.Refused[ProbeError.Replayed.Describe()]);
    }

    [Fact]
    public async Task A_spoofed_flood_with_bad_macs_from_the_peers_address_costs_the_peer_no_answer()
    {
        // Regression: the rate limit ran before the MAC, by source address: 50 forged packets "from" the peer's path
        // drained its bucket, and its probes went unanswered (an off-path spoofer steering failover without a key).
        var peerPath = new IPEndPoint(IPAddress.Parse("198.18.1.2"), 40000);
        var forged = _f.Encode(new ProbeRequest(_f.Peer, Next(), _f.Time.GetUtcNow()));
        forged[^1] ^= 1;
        for (var i = 0; i < 2000; i++)
            _f.Network.Inject(peerPath, _to, forged);
        for (var i = 0; i < 5; i++)
        {
            var request = new ProbeRequest(_f.Peer, Next(), _f.Time.GetUtcNow());
            _initiator.SendTo(_f.Encode(request), _to);
            Assert.Equal(request.Sequence, (await AnswerAsync()).EchoSequence);
        }
    }

    public async Task DisposeAsync() => await _responder.StopAsync(CancellationToken.None);

    public void Dispose()
    {
        _responder.Dispose();
        _initiator.Dispose();
        _f.Dispose();
    }
}
