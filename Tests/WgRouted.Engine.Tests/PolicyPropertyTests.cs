using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using CsCheck;
using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;
using static WgRouted.Engine.Tests.Simulation;

namespace WgRouted.Engine.Tests;

public class PolicyPropertyTests
{
    private static readonly CandidatePath[] All = [A4, B4, A6, B6];
    private static readonly EndpointPolicy Policy = new(PolicyOptions.Default);

    /// <summary>One step of a random history: wait, then do something to one path.</summary>
    public readonly record struct Step(int WaitMs, int Kind, int Path, double RttMs)
    {
        public override string ToString() => $"+{WaitMs} {Kind}@{Name(All[Path])} {RttMs:0.#}";
    }

    internal static readonly Gen<Step[]> Steps =
        Gen.Select(Gen.Int[0, 2500], Gen.Int[0, 11], Gen.Int[0, 3], Gen.Double[1, 80], (w, k, p, r) => new Step(w, k, p, r)).Array[1, 40];

    // ---- raw event streams, for the fold properties ----

    private static List<PeerEvent> Events(Step[] steps)
    {
        var events = new List<PeerEvent> { Resolved(Peer, T0, All) };
        ulong seq = 0;
        var t = T0;
        foreach (var s in steps)
        {
            t = t.AddMilliseconds(s.WaitMs);
            var path = All[s.Path];
            events.Add(s.Kind switch
            {
                0 or 1 or 2 => new ProbeReplied(Peer, t, path, ++seq, s.RttMs, new Endpoint(path.Src, 40000), s.RttMs > 40 ? new Endpoint(path.Src, 51820) : null),
                3 => new ProbeMissed(Peer, t, path, ++seq),
                4 => new PreferredSourceChanged(Peer, t, path.Dst.Address, s.RttMs > 60 ? null : path.Src),
                5 => new EndpointSwitchDecided(Peer, t, null, path, SwitchReason.ActiveDown, []),
                6 => new PathLinkDown(Peer, t, path, Uplink(path.Src)),
                7 => new PathCameUp(Peer, t, path, default(PathQuality).WithReply(t, s.RttMs)),
                8 => new SwitchFailed(Peer, t, path, "test"),
                9 => new PeerUnreachable(Peer, t, path, []),
                10 => new PathMeasured(Peer, t, path, default(PathQuality).WithReply(t, s.RttMs).WithReply(t, s.RttMs)),
                _ => Resolved(Peer, t, All.Where((_, i) => i != s.Path)),
            });
        }
        return events;
    }

    private sealed class IPAddressConverter : JsonConverter<IPAddress>
    {
        public override IPAddress Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            IPAddress.Parse(reader.GetString()!);

        public override void Write(Utf8JsonWriter writer, IPAddress value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.ToString());
    }

    internal static readonly JsonSerializerOptions JsonOptions = new() { Converters = { new IPAddressConverter() } };

    /// <summary>A canonical projection of the state: equal strings, equal states.</summary>
    public static string Canonical(PeerState state) => JsonSerializer.Serialize(state, JsonOptions);

    private static PeerState Fold(IEnumerable<PeerEvent> events, PeerState? state = null)
    {
        foreach (var e in events)
            state = Policy.Evolve(state, e);
        return state!;
    }

    [Fact]
    public void Canonical_projection_sees_every_change()
    {
        var state = Fold(Events([new Step(10, 0, 0, 20)]));
        var before = Canonical(state);
        Assert.Contains("\"192.0.2.10\"", before, StringComparison.Ordinal);
        state.Paths[0].Quality = state.Paths[0].Quality.WithReply(T0, 21);
        Assert.NotEqual(before, Canonical(state));
    }

    [Fact]
    public void Fold_is_deterministic()
    {
        Steps.Sample(steps =>
        {
            var events = Events(steps);
            Assert.Equal(Canonical(Fold(events)), Canonical(Fold(events)));
        }, iter: 300);
    }

    [Fact]
    public void Fold_does_not_depend_on_how_events_are_batched()
    {
        Gen.Select(Steps, Gen.Int[1, 10]).Sample((steps, chunk) =>
        {
            var events = Events(steps);
            var whole = Canonical(Fold(events));
            PeerState? state = null;
            foreach (var batch in events.Chunk(chunk))
            {
                state = Fold(batch, state);
                var before = Canonical(state);
                var copy = state.Clone();
                Assert.Equal(before, Canonical(copy));
                // Change the original every way the fold can: the copy must not share anything with it.
                Disturb(state);
                Assert.Equal(before, Canonical(copy));
                state = copy;
            }
            Assert.Equal(whole, Canonical(state!));
        }, iter: 300);
    }

    private static void Disturb(PeerState state)
    {
        var t = T0.AddHours(1);
        Fold([
            new PreferredSourceChanged(Peer, t, Dst4.Address, IPAddress.Parse("192.0.2.99")),
            new PreferredSourceChanged(Peer, t, Dst6.Address, null),
            .. All.Select(p => new ProbeReplied(Peer, t, p, 7, 99, null, null)),
            .. All.Select(p => new SwitchFailed(Peer, t, p, "disturb")),
            new EndpointSwitchDecided(Peer, t, null, B6, SwitchReason.Rtt, []),
            Resolved(Peer, t, [B6]),
        ], state);
        state.Endpoints.Add("x");
        state.Resolved.Add(new ResolvedEndpoint(9, Dst4));
        state.Sources.Add(new Source(IPAddress.Parse("192.0.2.77"), "x"));
    }

    // ---- random networks through the whole loop, for the decision properties ----

    /// <summary>Plays random link conditions, preferences, address changes and switch failures over four paths.</summary>
    internal static Simulation Play(Step[] steps, Action<Simulation> watch)
    {
        var sim = new Simulation().Candidates(All);
        watch(sim);
        foreach (var s in steps)
        {
            sim.RunFor(s.WaitMs);
            var path = All[s.Path];
            switch (s.Kind)
            {
                case <= 4:
                    if (sim.State.Find(path) is not null)
                        sim.Up(path, s.RttMs);
                    break;
                case <= 6:
                    if (sim.State.Find(path) is not null)
                        sim.Silent(path);
                    break;
                case 7:
                    if (sim.State.Find(path) is not null)
                        sim.Stall(path);
                    break;
                case 8:
                    sim.Preferred(path.Dst, s.RttMs > 60 ? null : path);
                    break;
                case 9:
                    sim.Candidates(All.Where((_, i) => i != s.Path).ToArray());
                    break;
                case 10:
                    sim.Candidates(All);
                    break;
                default:
                    // The kernel refuses the switch, or the peer stops following moves (a stock peer, a lost request).
                    if (sim.State.Active is { } active)
                        sim.Post(new SwitchNotApplied(Peer, sim.Now, active, "test"));
                    sim.PeerFollows = s.RttMs < 60;
                    break;
            }
        }
        return sim.RunFor(5000);
    }

    [Fact]
    public void A_usable_path_is_active_whenever_one_exists()
    {
        Steps.Sample(steps =>
        {
            DateTimeOffset? awaiting = null;
            Play(steps, sim => sim.AfterStep = (state, now) =>
            {
                var usable = state.Paths.Where(p => Policy.IsUsable(state, p, now)).ToList();
                // The active path missing its probes is left only for a path that answered meanwhile: the policy waits
                // for one, at most until the usable paths' answers from before go stale.
                if (!Policy.AwaitsWitness(state, now))
                    awaiting = null;
                else
                {
                    awaiting ??= now;
                    Assert.True(now - awaiting <= PolicyOptions.FreshIntervals * Policy.Options.StandbyInterval,
                        $"at +{(now - T0).TotalMilliseconds} ms still awaiting a witness since +{(awaiting.Value - T0).TotalMilliseconds} ms: "
                        + string.Join("; ", state.Paths.Select(p => $"{Name(p.Path)} {(state.Active == p.Path ? "active " : "")}answered +{(p.Quality.LastSuccessAt - T0)?.TotalMilliseconds} probed +{(p.Quality.LastProbeAt - T0)?.TotalMilliseconds} missing since +{(p.Quality.MissingSince - T0)?.TotalMilliseconds} misses {p.Quality.ConsecutiveMisses} down {p.Down}")));
                    return;
                }
                if (usable.Count == 0)
                    return;
                var active = state.Active is { } a ? state.Find(a) : null;
                Assert.True(active is not null && Policy.IsUsable(state, active, now),
                    $"at +{(now - T0).TotalMilliseconds} ms {string.Join(", ", usable.Select(p => Name(p.Path)))} usable, active {state.Active} is not");
            });
        }, iter: 150);
    }

    [Fact]
    public void Never_switches_to_a_path_without_a_recent_successful_probe()
    {
        var switches = 0;
        Steps.Sample(steps =>
        {
            Play(steps, sim => sim.OnDecision = (state, d) =>
            {
                if (d is not EndpointSwitchDecided s)
                    return;
                switches++;
                var to = state.Find(s.To);
                Assert.NotNull(to);
                Assert.False(to.Down);
                Assert.True(to.Quality.ConsecutiveMisses < Policy.Options.LossThreshold);
                Assert.NotNull(to.Quality.LastSuccessAt);
                Assert.InRange(s.At - to.Quality.LastSuccessAt!.Value, TimeSpan.Zero, 3 * Policy.Options.StandbyInterval);
            });
        }, iter: 150);
        Assert.True(switches > 100, $"only {switches} switches: the generator does not exercise the policy");
    }

    [Fact]
    public void Unreachable_is_reported_at_most_once_per_outage()
    {
        Steps.Sample(steps =>
        {
            var sim = Play(steps, sim => sim.OnDecision = (state, d) =>
                Assert.False(d is PeerUnreachable && state.Unreachable, $"PeerUnreachable again at +{(d.At - T0).TotalMilliseconds} ms"));
            // Records holding arrays compare by reference: compare what was decided, with the inputs it saw, as text.
            // The same decision twice in a row, seeing the same, would be one decision emitted twice.
            var decided = sim.Decisions.Select(d => d.GetType().Name + JsonSerializer.Serialize(d, d.GetType(), JsonOptions)).ToList();
            for (var i = 1; i < decided.Count; i++)
                Assert.NotEqual(decided[i - 1], decided[i]);
        }, iter: 150);
    }

    [Fact]
    public void The_loop_replays_to_the_same_decisions()
    {
        Steps.Sample(steps =>
        {
            var first = Play(steps, _ => { });
            var second = Play(steps, _ => { });
            Assert.Equal(first.Timeline(), second.Timeline());
            Assert.Equal(Canonical(first.State), Canonical(second.State));
        }, iter: 100);
    }
}
