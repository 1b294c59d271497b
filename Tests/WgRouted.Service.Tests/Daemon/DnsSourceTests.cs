using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Configuration;
using WgRouted.Service.Daemon;
using WgRouted.Service.Tests.Probing;

namespace WgRouted.Service.Tests.Daemon;

public sealed class DnsSourceTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly Inbox _inbox = new();
    private readonly Queue<Func<IPAddress[]>> _answers = new();
    private int _lookups;

    private Task<IPAddress[]> Resolve(string host, CancellationToken ct)
    {
        Interlocked.Increment(ref _lookups);
        lock (_answers)
            return Task.FromResult(_answers.Count > 1 ? _answers.Dequeue()() : _answers.Peek()());
    }

    private static IPAddress[] Fail() => throw new SocketException((int)SocketError.TryAgain);

    private List<Endpoint> LastCandidates()
    {
        List<Endpoint>? last = null;
        while (_inbox.Reader.TryRead(out var item))
            if (item is CandidatesResolved c)
                last = c.Endpoints.Select(e => e.Endpoint).ToList();
        return last ?? [];
    }

    [Fact]
    public async Task A_resolver_down_at_start_is_tried_again_in_seconds_and_a_later_failure_keeps_the_last_answer()
    {
        var config = ConfigurationLoader.Validate(new WgRoutedOptions
        {
            DataDirectory = "/tmp/wgr-unused",
            Interfaces = [new InterfaceOptions { Name = "wg0", Fwmark = "0x5157",
                Peers = [new PeerOptions { PublicKey = PeerKey.FromBytes(new byte[32] { 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31 }).Base64,
                    Endpoints = ["peer.example.net:51820"] }] }],
        });
        var tracker = new CandidateTracker(config, _inbox, _time, _ => null, NullLogger<CandidateTracker>.Instance);
        tracker.OnHost(new HostSnapshot([], [], [], []), null);
        _answers.Enqueue(Fail);
        _answers.Enqueue(Fail);
        _answers.Enqueue(() => [IPAddress.Parse("198.18.3.2"), IPAddress.Parse("fd00:3::2")]);
        _answers.Enqueue(Fail);
        using var dns = new DnsSource(config, tracker, _time, NullLogger<DnsSource>.Instance, Resolve);
        await dns.StartAsync(CancellationToken.None);
        await ProbingFixture.Until(() => _lookups == 1, "lookup 1");
        Assert.Empty(LastCandidates());
        // Down at start: again after 5 s, then 10 s, not after the 5 minute refresh.
        await Task.Delay(20); // the source is waiting on the fake clock
        _time.Advance(DnsSource.RetryFirst);
        await ProbingFixture.Until(() => _lookups == 2, "lookup 2");
        await Task.Delay(20); // the source is waiting on the fake clock
        _time.Advance(DnsSource.RetryFirst * 2);
        await ProbingFixture.Until(() => _lookups == 3, "lookup 3");
        Assert.Equal([Endpoint.Parse("198.18.3.2:51820"), Endpoint.Parse("[fd00:3::2]:51820")], LastCandidates());
        // Answered: the next lookup at the refresh; it fails, and the last answer stays.
        await Task.Delay(20); // the source is waiting on the fake clock
        _time.Advance(DnsSource.Refresh);
        await ProbingFixture.Until(() => _lookups == 4, "lookup 4");
        Assert.Empty(LastCandidates());
        await dns.StopAsync(CancellationToken.None);
    }
}
