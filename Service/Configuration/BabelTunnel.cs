using WgRouted.Integrations.Babel;

namespace WgRouted.Service.Configuration;

/// <summary>How WgRouted asks babeld to run a managed tunnel, and how fast babeld's RTT then follows the underlay.</summary>
public static class BabelTunnel
{
    /// <summary>
    /// babeld sends an IHU every third hello and takes an RTT sample from each (RFC 9616 timestamps), smoothing
    /// them as rtt = rtt + (sample − rtt) × decay/256. A step change is followed to 90 % after n samples, with
    /// (1 − decay/256)^n = 0.1: n = ln 0.1 / ln(1 − decay/256); the time is n × 3 × hello. Defaults of babeld
    /// (hello 4 s, decay 42): 154 s (half after 47 s); WgRouted's (hello 1 s, decay 128): 10 s.
    /// </summary>
    public static TimeSpan Convergence(BabelOptions babel)
    {
        ArgumentNullException.ThrowIfNull(babel);
        const int HellosPerIhu = 3;
        var kept = 1 - babel.RttDecay / 256.0;
        var samples = kept <= 0 ? 1 : Math.Log(0.1) / Math.Log(kept);
        return TimeSpan.FromMilliseconds(samples * HellosPerIhu * babel.HelloIntervalMs);
    }

    /// <summary>The interface parameters of a managed tunnel: a tunnel (timestamps: babeld measures its RTT) with these settings.</summary>
    public static BabelInterfaceConfig Config(BabelOptions babel)
    {
        ArgumentNullException.ThrowIfNull(babel);
        return new BabelInterfaceConfig
        {
            Type = BabelInterfaceType.Tunnel,
            EnableTimestamps = true,
            HelloInterval = TimeSpan.FromMilliseconds(babel.HelloIntervalMs),
            RttDecay = babel.RttDecay,
            RttMin = TimeSpan.FromMilliseconds(babel.RttMinMs),
            RttMax = TimeSpan.FromMilliseconds(babel.RttMaxMs),
            MaxRttPenalty = babel.MaxRttPenalty,
        };
    }

    /// <summary>The babeld interface line (configuration file or read-write control socket) for a managed tunnel.</summary>
    public static string Command(string interfaceName, BabelOptions babel) => BabelCommand.Interface(interfaceName, Config(babel)).Text;
}
