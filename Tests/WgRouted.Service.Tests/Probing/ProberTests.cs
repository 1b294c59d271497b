using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Probe;
using WgRouted.Service.Daemon;
using WgRouted.Service.Probing;
using static WgRouted.Service.Tests.Probing.ProbingFixture;

namespace WgRouted.Service.Tests.Probing;

/// <summary>The prober on a fake clock and an in-memory network: its schedule, timeouts, answers and move requests.</summary>
public sealed class ProberTests : IAsyncLifetime, IDisposable
{
    private readonly ProbingFixture _f = new();
    private readonly Mailbox<ProbeSchedule> _schedule = new();
    private readonly Prober _prober;
    private readonly IDatagramSocket _responder;

    public ProberTests()
    {
        _prober = new Prober(_f.Config, _f.Keyring, _f.Inbox, _schedule, _f.Network.Bind, _f.Time, NullLogger<Prober>.Instance);
        _responder = _f.Network.Bind(_f.PeerResponder, null);
    }

    public async Task InitializeAsync()
    {
        await _prober.StartAsync(CancellationToken.None);
        _schedule.Post(new ProbePaths(_f.Peer, [(A, "upa"), (B, "upb")]));
        _schedule.Post(new ProbeActive(_f.Peer, A));
    }

    private int From(CandidatePath p) => _f.Network.SentFrom(p.Src);

    /// <summary>The peer's responder answers every request from a source <paramref name="answers"/> says (at once, on the fake clock).</summary>
    private void Answer(Func<IPAddress, bool> answers, Func<DateTimeOffset>? wall = null)
    {
        _ = Task.Run(async () =>
        {
            var buffer = new byte[ProbeCodec.MaxSize + 1];
            while (true)
            {
                (int Length, IPEndPoint From) got;
                try
                {
                    got = await _responder.ReceiveFromAsync(buffer, CancellationToken.None);
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                if (!answers(got.From.Address) || _f.Decode(buffer[..got.Length]) is not ProbeRequest request)
                    continue;
                var reply = request.Reply(_f.Peer, request.Sequence, (wall ?? _f.Time.GetUtcNow)(), new Endpoint(got.From.Address, got.From.Port), new Endpoint(A.Src, ListenPort));
                _responder.SendTo(_f.Encode(reply), got.From);
            }
        });
    }

    private readonly List<object> _posted = [];

    /// <summary>Answers the engine got so far on <paramref name="path"/> (keeps what it reads from the inbox).</summary>
    private int Replied(CandidatePath path)
    {
        while (_f.Inbox.Reader.TryRead(out var item))
            _posted.Add(item);
        return _posted.Count(e => e is ProbeReplied r && r.Path == path);
    }

    [Fact]
    public async Task New_paths_are_probed_fast_while_they_settle_then_the_active_one_every_250_ms_and_the_others_every_second()
    {
        Answer(_ => true);
        await Until(() => Replied(A) == 1 && Replied(B) == 1, "the first answers");
        // A new candidate is probed at the active rate for Prober.SettleTime (3 s): both paths, 13 probes each by then.
        for (var i = 1; i <= 12; i++)
        {
            _f.Time.Advance(TimeSpan.FromMilliseconds(250));
            await Until(() => Replied(A) == i + 1 && Replied(B) == i + 1, $"probe {i + 1}: A {From(A)}, B {From(B)}");
        }
        // Settled: the active path every 250 ms, the other every second.
        for (var i = 1; i <= 8; i++)
        {
            _f.Time.Advance(TimeSpan.FromMilliseconds(250));
            // B's answers read too before the clock moves on (see the wall-clock test).
            await Until(() => Replied(A) == 13 + i && Replied(A) + Replied(B) == From(A) + From(B), $"A's probe {13 + i}");
        }
        await Until(() => From(B) == 15, $"two seconds at the standby rate: B {From(B)}");
        Assert.Equal(21, From(A));
        Assert.DoesNotContain(_posted, e => e is ProbeMissed);
        // Sent from a socket bound to each path's source and uplink, to the peer's responder.
        Assert.All(_f.Network.Sent.Where(s => !s.From.Equals(_f.PeerResponder)), s => Assert.Equal(_f.PeerResponder, s.To));
    }

    [Fact]
    public async Task A_path_that_is_down_is_probed_at_the_active_rate_and_the_active_paths_first_miss_sends_the_rest_of_the_threshold_at_once()
    {
        // B never answers (down); A answers until it, too, goes silent.
        var aAnswers = true;
        Answer(src => src.Equals(A.Src) && Volatile.Read(ref aAnswers));
        await Until(() => Replied(A) == 1 && From(B) == 1, "the first probes");
        for (var i = 1; i <= 20; i++)
        {
            _f.Time.Advance(TimeSpan.FromMilliseconds(250));
            await Until(() => Replied(A) == i + 1, $"A's answer {i + 1}");
        }
        // Five seconds, far past the settling: B, down, is still probed every 250 ms.
        await Until(() => From(B) == 21, $"B at the active rate: {From(B)}");

        Volatile.Write(ref aAnswers, false);
        _f.Time.Advance(TimeSpan.FromMilliseconds(250));
        await Until(() => From(A) == 22, "A's unanswered probe");
        Drain();
        // Its timeout (no more than an active interval) passes: one miss, and at once the two more probes that can
        // confirm it, without waiting two more intervals.
        _f.Time.Advance(TimeSpan.FromMilliseconds(100));
        await Until(() => From(A) >= 24, $"the confirmation probes: A {From(A)}");
        _f.Time.Advance(TimeSpan.FromMilliseconds(100));
        // Counted over every read: the prober posts each miss on its own, and a read can fall between two of them.
        var missed = 0;
        await Until(() => (missed += Drain().Count(e => e is ProbeMissed m && m.Path == A)) >= 3,
            "the first miss and its two confirmations missed");
    }

    [Fact]
    public async Task A_socket_reader_that_fails_fails_the_prober_and_the_prober_started_again_probes_its_paths_anew()
    {
        Answer(_ => true);
        await Until(() => Replied(A) == 1 && Replied(B) == 1, "the first answers");
        var socketA = _f.Network.Sent.Last(s => s.From.Address.Equals(A.Src)).From;
        var socketB = _f.Network.Sent.Last(s => s.From.Address.Equals(B.Src)).From;
        // The failure surfaces with A's next answer: a fault no catch in the reader expects.
        _f.Network.FailNextReceive(socketA, new NotSupportedException("injected"));
        _f.Time.Advance(TimeSpan.FromMilliseconds(250));
        var failure = await Assert.ThrowsAsync<IOException>(() => _prober.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Contains("probe socket 198.18.1.2", failure.Message, StringComparison.Ordinal);
        Assert.Contains("injected", failure.Message, StringComparison.Ordinal);
        Assert.False(_f.Network.IsBound(socketA));

        // Started again, as its supervisor does: both paths probed and answered on new sockets, with no schedule posted.
        var (a, b) = (Replied(A), Replied(B));
        await _prober.StartAsync(CancellationToken.None);
        await Until(() => Replied(A) > a && Replied(B) > b, "answers on both paths after the restart");
        Assert.NotEqual(socketA, _f.Network.Sent.Last(s => s.From.Address.Equals(A.Src)).From);
        Assert.NotEqual(socketB, _f.Network.Sent.Last(s => s.From.Address.Equals(B.Src)).From);
        Assert.DoesNotContain(_posted.Concat(Drain()), e => e is ProbeMissed);
    }

    [Fact]
    public async Task A_path_whose_link_has_no_carrier_is_not_probed_and_is_probed_at_once_when_the_carrier_returns()
    {
        // A probe sent without carrier left the gateway's neighbour entry INCOMPLETE, and after the carrier returned
        // the next probe waited up to a second for that entry's next retry (lab b-carrier).
        Answer(_ => true);
        await Until(() => Replied(A) == 1 && Replied(B) == 1, "the first answers");
        _schedule.Post(new ProbeLink("upb", Carrier: false));
        // The loop reads its commands before each turn: after A's next answer, B's link is known to be down.
        _f.Time.Advance(TimeSpan.FromMilliseconds(250));
        await Until(() => Replied(A) == 2, "A's second answer");
        var b0 = From(B);
        for (var i = 3; i <= 14; i++)
        {
            _f.Time.Advance(TimeSpan.FromMilliseconds(250));
            await Until(() => Replied(A) == i, $"A's answer {i}");
        }
        Assert.Equal(b0, From(B));
        Assert.DoesNotContain(Drain(), e => e is ProbeMissed m && m.Path == B);

        // The carrier back: the link change probes every path now (PolicyLoop), B included, with no time passing.
        _schedule.Post(new ProbeLink("upb", Carrier: true));
        _schedule.Post(new ProbeNow(null));
        await Until(() => From(B) == b0 + 1, $"B probed when its carrier returned: {From(B)}");
        await Until(() => Replied(B) == b0 + 1, "B's answer");
    }

    [Fact]
    public async Task Beyond_the_fast_probe_budget_a_path_that_is_down_is_probed_at_the_standby_rate_and_the_active_one_is_not_held_back()
    {
        // Regression: at 1,000 peers every path down at once was probed at the active rate, more than could be answered
        // in time, and no path ever came back. A budget of one fast probe a second for this prober alone.
        var prober = new Prober(_f.Config, _f.Keyring, _f.Inbox, _schedule, _f.Network.Bind, _f.Time, NullLogger<Prober>.Instance) { FastBudget = 1 };
        await _prober.StopAsync(CancellationToken.None);
        var b0 = From(B);
        Answer(src => src.Equals(A.Src));
        var replied0 = Replied(A);
        await prober.StartAsync(CancellationToken.None);
        try
        {
            _schedule.Post(new ProbePaths(_f.Peer, [(A, "upa"), (B, "upb")]));
            _schedule.Post(new ProbeActive(_f.Peer, A));
            await Until(() => Replied(A) >= replied0 + 1 && From(B) >= b0 + 1, "the first probes");
            for (var i = 1; i <= 40; i++)
            {
                _f.Time.Advance(TimeSpan.FromMilliseconds(250));
                await Until(() => Replied(A) >= replied0 + i + 1, $"A's answer {i + 1}: {Replied(A) - replied0}");
            }
            // Ten seconds: A, active, answered every 250 ms all along (the loop); B, down, between the standby rate (11)
            // and the active one (41): one fast probe a second, the rest a second apart.
            Assert.InRange(From(B) - b0, 11, 20);
        }
        finally
        {
            await prober.StopAsync(CancellationToken.None);
            prober.Dispose();
        }
    }

    [Fact]
    public async Task A_wall_clock_stepped_an_hour_either_way_misses_no_probe_and_keeps_the_cadence()
    {
        // A second prober on a clock whose wall time is stepped while monotonic time runs on (NTP at boot).
        var clock = new SteppedClock(_f.Time);
        var prober = new Prober(_f.Config, _f.Keyring, _f.Inbox, _schedule, _f.Network.Bind, clock, NullLogger<Prober>.Instance);
        await _prober.StopAsync(CancellationToken.None);
        // Probes of the stopped prober: answered into closed sockets.
        var unanswerable = From(A) + From(B);
        // The peer's clock agrees with ours after each step (the step brought ours to the true time).
        Answer(_ => true, clock.GetUtcNow);
        await prober.StartAsync(CancellationToken.None);
        try
        {
            _schedule.Post(new ProbePaths(_f.Peer, [(A, "upa"), (B, "upb")]));
            _schedule.Post(new ProbeActive(_f.Peer, A));
            var sent = From(A);
            // B's first answer read too: one answered before a step and read after it is an hour old, and refused.
            await Until(() => Replied(A) >= 1 && Replied(A) + Replied(B) == From(A) + From(B) - unanswerable, "the first answers");
            foreach (var step in new[] { TimeSpan.FromHours(1), TimeSpan.FromHours(-1) })
            {
                clock.Step += step;
                var before = Replied(A);
                for (var i = 1; i <= 8; i++)
                {
                    _f.Time.Advance(TimeSpan.FromMilliseconds(250));
                    // Every answer read before the clock moves on (B's too): one still unread at its deadline would
                    // wait out the read grace on a clock that only the test moves.
                    await Until(() => Replied(A) == before + i && Replied(A) + Replied(B) == From(A) + From(B) - unanswerable,
                        $"A's answer {i} after a step of {step}: {Replied(A) - before}; {From(A) + From(B) - unanswerable - Replied(A) - Replied(B)} unanswered");
                }
            }
            Assert.DoesNotContain(_posted, e => e is ProbeMissed);
        }
        finally
        {
            await prober.StopAsync(CancellationToken.None);
            prober.Dispose();
        }
    }

    [Fact]
    public async Task Paths_from_one_source_and_uplink_share_one_socket_and_each_answer_goes_to_the_path_whose_probe_it_echoes()
    {
        // The peer at a second address too (another candidate endpoint), probed from A's source and uplink.
        var second = new CandidatePath(A.Src, Endpoint.Parse("198.18.3.9:51820"));
        var secondAt = new IPEndPoint(second.Dst.Address, _f.PeerResponder.Port);
        using var secondResponder = _f.Network.Bind(secondAt, null);
        _schedule.Post(new ProbePaths(_f.Peer, [(A, "upa"), (B, "upb"), (second, "upa")]));
        await Until(() => _f.Network.SentTo(secondAt) >= 1 && _f.Network.SentTo(_f.PeerResponder) >= 2, "probes to both addresses");
        Assert.Single(_f.Network.Sent.Where(s => s.From.Address.Equals(A.Src)).Select(s => s.From).Distinct());
        // Only the second address answers: its answer is the second path's, and A's probe stays unanswered.
        Drain();
        var buffer = new byte[ProbeCodec.MaxSize + 1];
        var got = await secondResponder.ReceiveFromAsync(buffer, CancellationToken.None);
        var request = Assert.IsType<ProbeRequest>(_f.Decode(buffer[..got.Length]));
        _f.Time.Advance(TimeSpan.FromMilliseconds(10));
        var reply = request.Reply(_f.Peer, request.Sequence, _f.Time.GetUtcNow(), new Endpoint(got.From.Address, got.From.Port), new Endpoint(A.Src, ListenPort));
        secondResponder.SendTo(_f.Encode(reply), got.From);
        var replied = await NextOfPath<ProbeReplied>(second);
        Assert.Equal(request.Sequence, replied.Sequence);
        Assert.Equal(10, replied.RttMs, 3);
        Assert.DoesNotContain(Drain(), e => e is ProbeReplied r && r.Path != second);
    }

    [Fact]
    public async Task An_answer_is_a_ProbeReplied_with_the_rtt_on_the_fake_clock_and_what_the_responder_saw()
    {
        await Until(() => From(A) == 1, "A's probe");
        var (from, _, data) = _f.Network.Sent.First(s => s.From.Address.Equals(A.Src));
        var request = Assert.IsType<ProbeRequest>(_f.Decode(data));
        _f.Time.Advance(TimeSpan.FromMilliseconds(30));
        var seen = new Endpoint(A.Src, ListenPort);
        var reply = request.Reply(_f.Peer, 7, _f.Time.GetUtcNow(), new Endpoint(from.Address, from.Port), seen);
        _responder.SendTo(_f.Encode(reply), from);
        var replied = await NextOfPath<ProbeReplied>(A);
        Assert.Equal(request.Sequence, replied.Sequence);
        Assert.Equal(30, replied.RttMs, 3);
        Assert.Equal(new Endpoint(from.Address, from.Port), replied.Observed);
        Assert.Equal(seen, replied.PeerEndpoint);
    }

    [Fact]
    public async Task Only_an_answer_to_an_outstanding_probe_feeds_the_engine()
    {
        // A replayed answer would otherwise report a convergence that did not happen.
        await Until(() => From(A) == 1, "A's probe");
        var (from, _, data) = _f.Network.Sent.First(s => s.From.Address.Equals(A.Src));
        var reply = _f.Encode(((ProbeRequest)_f.Decode(data)).Reply(_f.Peer, 7, _f.Time.GetUtcNow(), new Endpoint(from.Address, from.Port), new Endpoint(A.Src, ListenPort)));
        _responder.SendTo(reply, from);
        await NextOfPath<ProbeReplied>(A);
        _responder.SendTo(reply, from);
        var replayed = _f.Encode(new ProbeReply(_f.Peer, 8, _f.Time.GetUtcNow(), 424242, _f.Time.GetUtcNow(), new Endpoint(from.Address, from.Port), new Endpoint(A.Src, ListenPort)));
        _responder.SendTo(replayed, from);
        await Task.Delay(200);
        Assert.DoesNotContain(Drain(), e => e is ProbeReplied);
    }

    [Fact]
    public async Task An_unanswered_probe_is_missed_at_its_timeout_and_not_before()
    {
        await Until(() => From(B) == 1, "B's probe");
        var sequence = ((ProbeRequest)_f.Decode(_f.Network.Sent.First(s => s.From.Address.Equals(B.Src)).Data)).Sequence;
        _f.Time.Advance(TimeSpan.FromMilliseconds(200));
        await Task.Delay(100);
        Assert.DoesNotContain(Drain(), e => e is ProbeMissed m && m.Path == B);
        // No RTT known yet: the timeout is one active interval.
        _f.Time.Advance(TimeSpan.FromMilliseconds(50));
        var missed = await NextOfPath<ProbeMissed>(B);
        Assert.Equal(sequence, missed.Sequence);
    }

    [Fact]
    public async Task A_forged_answer_is_dropped()
    {
        await Until(() => From(A) == 1, "A's probe");
        var (from, _, data) = _f.Network.Sent.First(s => s.From.Address.Equals(A.Src));
        var reply = _f.Encode(((ProbeRequest)_f.Decode(data)).Reply(_f.Peer, 7, _f.Time.GetUtcNow(), new Endpoint(from.Address, from.Port), null));
        reply[^1] ^= 1;
        _responder.SendTo(reply, from);
        // Refused (counted by cause, for the log's summary) before the deadline: a miss waits while its socket holds an
        // answer not yet gone through (Prober.ReadGrace), and the fake clock moves only when told.
        await Until(() => _prober.Refused.GetValueOrDefault(ProbeError.BadMac.Describe()) == 1, "the forged answer refused");
        _f.Time.Advance(TimeSpan.FromMilliseconds(250));
        var missed = await NextOfPath<ProbeMissed>(A);
        Assert.Equal(A, missed.Path);
    }

    [Fact]
    public async Task A_move_request_leaves_from_the_paths_socket_and_asks_for_its_source_with_our_listen_port()
    {
        await Until(() => From(B) == 1, "B's probe");
        Assert.True(_prober.SendMove(_f.Peer, B, ListenPort));
        var (_, _, data) = _f.Network.Sent.Last(s => s.From.Address.Equals(B.Src));
        var move = Assert.IsType<MoveRequest>(_f.Decode(data));
        Assert.Equal(new Endpoint(B.Src, ListenPort), move.Requested);
        Assert.False(_prober.SendMove(_f.Peer, new CandidatePath(IPAddress.Parse("198.18.9.9"), PeerEndpoint), ListenPort));
    }

    private List<object> Drain()
    {
        var items = new List<object>();
        while (_f.Inbox.Reader.TryRead(out var item))
            items.Add(item);
        return items;
    }

    private async Task<T> NextOfPath<T>(CandidatePath path) where T : ProbeResult
    {
        while (true)
            if (await _f.NextAsync() is T t && t.Path == path)
                return t;
    }

    public async Task DisposeAsync() => await _prober.StopAsync(CancellationToken.None);

    public void Dispose()
    {
        _prober.Dispose();
        _responder.Dispose();
        _f.Dispose();
    }
}
