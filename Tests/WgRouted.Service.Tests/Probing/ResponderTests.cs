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
    private readonly Fences _fences;
    private readonly Responder _responder;
    private readonly IDatagramSocket _initiator;
    private readonly IPEndPoint _to;
    private ulong _sequence = 1000;

    public ResponderTests()
    {
        _fences = new Fences(_f.Time, NullLogger<Fences>.Instance);
        _responder = new Responder(_f.Config, _f.Keyring, _f.Control, _fences, _f.Inbox, _commands, _f.Network.Bind, _f.Time, NullLogger<Responder>.Instance);
        _initiator = _f.Network.Bind(new IPEndPoint(IPAddress.Parse("198.18.1.2"), 0), "upa");
        _to = new IPEndPoint(Listening, _f.Config.Options.Probe.Port);
    }

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
        var request = new ProbeRequest(_f.Peer, ++_sequence, _f.Time.GetUtcNow());
        _initiator.SendTo(_f.Encode(request), _to);
        var answer = await AnswerAsync();
        Assert.Equal(request.Sequence, answer.EchoSequence);
        Assert.Equal(new Endpoint(IPAddress.Parse("198.18.1.2"), 40000), answer.ObservedSource);
        Assert.Equal(PeerEndpoint, answer.WireGuardEndpoint);
    }

    [Fact]
    public async Task A_move_goes_to_the_engine_and_is_answered_only_once_followed()
    {
        var move = new MoveRequest(_f.Peer, ++_sequence, _f.Time.GetUtcNow(), ListenPort);
        _initiator.SendTo(_f.Encode(move), _to);
        var requested = Assert.IsType<MoveRequested>(await _f.NextAsync());
        Assert.Equal(new Endpoint(IPAddress.Parse("198.18.1.2"), ListenPort), requested.Requested);
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
        var request = _f.Encode(new ProbeRequest(_f.Peer, ++_sequence, _f.Time.GetUtcNow()));
        _initiator.SendTo(request, _to);
        await AnswerAsync();
        _initiator.SendTo(request, _to);
        var forged = (byte[])request.Clone();
        forged[^1] ^= 1;
        _initiator.SendTo(forged, _to);
        await Task.Delay(200);
        Assert.Equal(1, _f.Network.SentTo(new IPEndPoint(IPAddress.Parse("198.18.1.2"), 40000)));
    }

    [Fact]
    public async Task A_datagram_from_source_port_0_is_dropped_and_the_next_probe_is_answered()
    {
        // Regression: a request from port 0 threw inside the serve loop, whose task nobody watched: silent for good.
        var zero = new IPEndPoint(IPAddress.Parse("198.18.1.2"), 0);
        _f.Network.Inject(zero, _to, _f.Encode(new ProbeRequest(_f.Peer, ++_sequence, _f.Time.GetUtcNow())));
        _f.Network.Inject(zero, _to, _f.Encode(new MoveRequest(_f.Peer, ++_sequence, _f.Time.GetUtcNow(), ListenPort)));
        _f.Network.Inject(zero, _to, [1, 2, 3]);
        var request = new ProbeRequest(_f.Peer, ++_sequence, _f.Time.GetUtcNow());
        _initiator.SendTo(_f.Encode(request), _to);
        Assert.Equal(request.Sequence, (await AnswerAsync()).EchoSequence);
        Assert.True(_f.NothingPosted());
    }

    [Fact]
    public async Task A_spoofed_flood_with_bad_macs_from_the_peers_address_costs_the_peer_no_answer()
    {
        // Regression: the rate limit ran before the MAC, by source address: 50 forged packets "from" the peer's path
        // drained its bucket, and its probes went unanswered (an off-path spoofer steering failover without a key).
        var peerPath = new IPEndPoint(IPAddress.Parse("198.18.1.2"), 40000);
        var forged = _f.Encode(new ProbeRequest(_f.Peer, ++_sequence, _f.Time.GetUtcNow()));
        forged[^1] ^= 1;
        for (var i = 0; i < 2000; i++)
            _f.Network.Inject(peerPath, _to, forged);
        for (var i = 0; i < 5; i++)
        {
            var request = new ProbeRequest(_f.Peer, ++_sequence, _f.Time.GetUtcNow());
            _initiator.SendTo(_f.Encode(request), _to);
            Assert.Equal(request.Sequence, (await AnswerAsync()).EchoSequence);
        }
    }

    public async Task DisposeAsync() => await _responder.StopAsync(CancellationToken.None);

    public void Dispose()
    {
        _responder.Dispose();
        _initiator.Dispose();
        _fences.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _f.Dispose();
    }
}
