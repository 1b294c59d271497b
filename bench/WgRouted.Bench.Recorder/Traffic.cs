using System.Net;
using WgRouted.Engine;
using WgRouted.Engine.Probe;
using WgRouted.Service.Store;

namespace WgRouted.Bench.Recorder;

/// <summary>
/// The prober's output for <c>peers</c> peers of four paths each at the default rates: the active path every 250 ms,
/// three standby paths every second (7 outcomes a second a peer), peers spread over the second, 1 % misses.
/// </summary>
public sealed class Traffic
{
    public const int PathsPerPeer = 4;
    public const int PerPeerPerSecond = 4 + (PathsPerPeer - 1);

    private readonly PeerKey[] _peers;
    private readonly CandidatePath[][] _paths;
    private readonly Endpoint[][] _observed;
    private readonly Endpoint[] _peerEndpoints;
    private readonly ProbeSequence _sequence;
    private readonly Random _random = new(1);

    public Traffic(int peers, DateTimeOffset start)
    {
        _sequence = new ProbeSequence();
        _peers = Enumerable.Range(0, peers).Select(_ => PeerKey.FromBytes(RandomBytes(32))).ToArray();
        _paths = Enumerable.Range(0, peers).Select(p => Enumerable.Range(0, PathsPerPeer).Select(i =>
            new CandidatePath(IPAddress.Parse($"198.18.{i}.2"), new Endpoint(IPAddress.Parse($"198.19.{p / 250}.{1 + p % 250}"), 51820))).ToArray()).ToArray();
        _observed = Enumerable.Range(0, peers).Select(p => Enumerable.Range(0, PathsPerPeer).Select(i =>
            new Endpoint(IPAddress.Parse($"203.0.{113 + i}.7"), 20000 + p)).ToArray()).ToArray();
        _peerEndpoints = _observed.Select(o => new Endpoint(o[0].Address, 51821)).ToArray();
    }

    public int Peers => _peers.Length;
    public PeerKey Peer(int i) => _peers[i];

    /// <summary>Every outcome of the second starting at <paramref name="second"/>, in time order.</summary>
    public List<ProbeOutcome> Second(DateTimeOffset second)
    {
        var list = new List<ProbeOutcome>(_peers.Length * PerPeerPerSecond);
        for (var p = 0; p < _peers.Length; p++)
        {
            var offset = TimeSpan.FromTicks(TimeSpan.TicksPerSecond / 4 * p / _peers.Length);
            for (var k = 0; k < 4; k++)
                list.Add(Outcome(p, 0, second + offset + TimeSpan.FromMilliseconds(250 * k)));
            for (var i = 1; i < PathsPerPeer; i++)
                list.Add(Outcome(p, i, second + offset + TimeSpan.FromMilliseconds(250 * (i - 1) + 125)));
        }
        list.Sort((a, b) => a.At.CompareTo(b.At));
        return list;
    }

    private ProbeOutcome Outcome(int p, int i, DateTimeOffset at)
    {
        // Scheduling noise: probes are not sent on the exact tick.
        at = at.AddTicks(_random.Next(0, 20_000));
        if (_random.Next(100) == 0)
            return new ProbeOutcome(_peers[p], _paths[p][i], _sequence.Next(at), at, null, null, null);
        var rtt = 5 + p % 80 + 10 * i + _random.NextDouble() * 3;
        return new ProbeOutcome(_peers[p], _paths[p][i], _sequence.Next(at), at, rtt, _observed[p][i], _peerEndpoints[p]);
    }

    private byte[] RandomBytes(int n)
    {
        var bytes = new byte[n];
        _random.NextBytes(bytes);
        return bytes;
    }
}
