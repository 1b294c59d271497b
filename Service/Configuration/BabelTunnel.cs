using WgRouted.Integrations.Babel;

namespace WgRouted.Service.Configuration;

/// <summary>How WgRouted asks babeld to run a managed tunnel, and how fast babeld's RTT then follows the underlay.</summary>
public static class BabelTunnel
{
    /// <summary>
    /// How long babeld's RTT takes to follow a change of the underlay. babeld takes an RTT sample from each IHU
    /// (every third hello, RFC 9616 timestamps) and smooths them as rtt += (sample − rtt) × decay/256: after n samples
    /// a step is followed but for (1 − decay/256)^n of it. To 90 %: n = ln 0.1 / ln(1 − decay/256), × 3 hellos —
    /// babeld's defaults (hello 4 s, decay 42) 154 s (half after 47 s), WgRouted's (hello 1 s, decay 128) 10 s. The
    /// cross-check waits until 99 % (a step of up to 500 ms is then within its 5 ms), plus one sample interval, since
    /// a change can land just after a sample: 23 s with WgRouted's settings.
    /// </summary>
    public static TimeSpan Convergence(BabelOptions babel, double followed = 0.99)
    {
        ArgumentNullException.ThrowIfNull(babel);
        const int HellosPerIhu = 3;
        var kept = 1 - babel.RttDecay / 256.0;
        var samples = kept <= 0 ? 1 : Math.Log(1 - followed) / Math.Log(kept);
        return TimeSpan.FromMilliseconds((samples + 1) * HellosPerIhu * babel.HelloIntervalMs);
    }

    /// <summary>To 90 % of a change, no sample interval added: what `babel-config` and the README quote.</summary>
    public static TimeSpan Follows90(BabelOptions babel)
    {
        ArgumentNullException.ThrowIfNull(babel);
        var kept = 1 - babel.RttDecay / 256.0;
        return TimeSpan.FromMilliseconds((kept <= 0 ? 1 : Math.Log(0.1) / Math.Log(kept)) * 3 * babel.HelloIntervalMs);
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
