using WgRouted.Service.Replay;

namespace WgRouted.Service.Tests;

/// <summary>A minute of one peer: A4 goes down and comes back, then IPv4 is blackholed and the peer rides IPv6.</summary>
/// <remarks>Regenerate the picture with <c>WGROUTED_SVG_SAMPLE=/tmp/incident.svg dotnet test --filter IncidentSvgTests</c>.</remarks>
internal static class IncidentSample
{
    public const string PathVariable = "WGROUTED_SVG_SAMPLE";
    public const string A4 = "198.18.1.2 -> 198.18.3.2:51820";
    public const string B4 = "198.18.2.2 -> 198.18.3.2:51820";
    public const string B6 = "2001:db8:2::2 -> [2001:db8:3::2]:51820";
    public static readonly DateTimeOffset Start = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);

    public static IncidentPicture Build()
    {
        var random = new Random(7);
        PathSeries Path(string label, double baseMs, (double From, double To)[] down, double spikeAt = -1)
        {
            var srtt = new List<(DateTimeOffset, double)>();
            double? smoothed = null;
            for (var t = 0.2; t < 60; t += 0.5)
            {
                if (down.Any(d => t >= d.From && t < d.To))
                {
                    smoothed = null;
                    continue;
                }
                var rtt = baseMs + random.NextDouble() * 4 - 1 + (Math.Abs(t - spikeAt) < 0.25 ? 2400 : 0);
                // RFC 6298: SRTT <- 7/8 SRTT + 1/8 R', the first sample taken as is.
                smoothed = smoothed is { } s ? 0.875 * s + 0.125 * rtt : rtt;
                srtt.Add((At(t), smoothed.Value));
            }
            return new PathSeries(label, srtt, [.. down.Select(d => (At(d.From), At(d.To)))]);
        }

        return new IncidentPicture(
            "wg0 peer 6pKZ…Yw= (site-b)",
            Start,
            At(60),
            [
                Path(A4, 20, [(5, 15), (25, 35)]),
                Path(B4, 35, [(25, 35)]),
                Path(B6, 40, [], spikeAt: 30.2),
            ],
            [
                new ActiveSpan(At(0.3), At(5.05), A4),
                new ActiveSpan(At(5.05), At(15.9), B4),
                new ActiveSpan(At(15.9), At(25.75), A4),
                new ActiveSpan(At(25.75), At(36.2), B6),
                new ActiveSpan(At(36.2), At(60), A4),
            ],
            [
                new SwitchMark(At(0.3), "Initial", A4, true),
                new SwitchMark(At(5.05), "ActiveDown", B4, true),
                new SwitchMark(At(15.9), "Preferred", A4, true),
                new SwitchMark(At(25.75), "ActiveDown", B6, true),
                new SwitchMark(At(36.2), "Preferred", A4, true),
            ],
            [
                new NoteMark(At(25), "blackhole 198.18.3.0/24 added"),
                new NoteMark(At(35), "blackhole 198.18.3.0/24 removed"),
            ]);
    }

    public static DateTimeOffset At(double seconds) => Start.AddSeconds(seconds);
}
