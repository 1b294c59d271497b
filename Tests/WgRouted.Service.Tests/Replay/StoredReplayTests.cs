using Microsoft.Extensions.Logging.Abstractions;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Tests;
using WgRouted.Service.Replay;
using WgRouted.Service.Store;
using static WgRouted.Engine.Tests.Simulation;

namespace WgRouted.Service.Tests.Replay;

/// <summary>Store, then replay from the store alone (Marten and the recorder): every recorded output re-derived.</summary>
[Trait("Category", "Integration")]
[Collection(PostgresCollection.Name)]
public sealed class StoredReplayTests(PostgresFixture pg)
{
    private static readonly CandidatePath[] All = [A4, B4, A6, B6];

    /// <summary>Random link conditions, preferences, refused switches and a peer that stops following moves.</summary>
    private static Simulation Play(int seed)
    {
        var random = new Random(seed);
        var sim = new Simulation { UniqueTimes = true };
        sim.Post(new PeerConfigured(Peer, At(0), "wg0", [Dst4.ToString(), Dst6.ToString()], 51821));
        sim.Candidates(All);
        foreach (var p in All)
            sim.Up(p, 10 + random.Next(40));
        for (var step = 0; step < 40; step++)
        {
            sim.RunFor(random.Next(50, 2500));
            var path = All[random.Next(All.Length)];
            switch (random.Next(7))
            {
                case 0 or 1:
                    sim.Up(path, 5 + random.NextDouble() * 60);
                    break;
                case 2:
                    sim.Silent(path);
                    break;
                case 3:
                    sim.Preferred(path.Dst, random.Next(3) == 0 ? null : path);
                    break;
                case 4:
                    sim.Post(new PathLinkDown(Peer, sim.Now, path, Uplink(path.Src)));
                    break;
                case 5:
                    if (sim.State.Active is { } active)
                        sim.Post(new SwitchNotApplied(Peer, sim.Now, active, "refused"));
                    break;
                default:
                    sim.PeerFollows = !sim.PeerFollows;
                    break;
            }
        }
        return sim.RunFor(3000);
    }

    private async Task<(PeerKey Peer, Simulation Sim)> StoreAsync(int seed)
    {
        var sim = Play(seed);
        var peer = PeerKey.FromBytes(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await using var store = await EventStore.OpenAsync(pg.ConnectionString, sim.Policy, CancellationToken.None);
        await store.AppendAsync(sim.Stored.Select(e => (peer.Base64, (object)(e with { Peer = peer }))).ToList(), CancellationToken.None);
        using var recorder = new ProbeRecorder(_ => Task.FromResult(pg.ConnectionString), Path.Combine(pg.DataDirectory, "spill-cli-" + seed), 0,
            TimeProvider.System, NullLogger<ProbeRecorder>.Instance);
        await recorder.StartAsync(CancellationToken.None);
        foreach (var p in sim.Inputs.OfType<ProbeResult>())
            recorder.Post(ProbeOutcome.From(p with { Peer = peer }));
        await recorder.StopAsync(CancellationToken.None);
        Assert.Equal(0, recorder.Pending);
        return (peer, sim);
    }

    /// <summary>`wg-routed replay` on another router's database: a configuration naming it by connection string.</summary>
    [Fact]
    public async Task The_replay_command_verifies_a_stored_history_and_exits_1_naming_what_differs()
    {
        var (peer, sim) = await StoreAsync(11);
        var config = Path.Combine(pg.DataDirectory, $"replay-{peer.Base64[..6].Replace('/', '_')}.json");
        File.WriteAllText(config, $$"""{ "DataDirectory": "{{pg.DataDirectory}}", "Store": { "ConnectionString": "{{pg.ConnectionString}}" } }""");
        var svg = Path.ChangeExtension(config, ".svg");
        var ok = Cli($"replay --config {config} --peer {peer.Base64} --verify --svg {svg}");
        Assert.True(ok.Exit == 0, ok.Output);
        Assert.Contains($"verify: all {sim.Outputs.Count} recorded outputs re-derived exactly", ok.Output, StringComparison.Ordinal);
        Assert.Contains("SWITCH (Initial)", ok.Output, StringComparison.Ordinal);
        System.Xml.Linq.XDocument.Load(svg);

        var whatIf = Cli($"replay --config {config} --peer {peer.Base64} --what-if Policy:HoldDownMs=600000 --json");
        Assert.True(whatIf.Exit == 0, whatIf.Output);
        Assert.Contains("\"whatIf\"", whatIf.Output, StringComparison.Ordinal);
        Assert.Equal(2, Cli($"replay --config {config} --what-if Store:ConnectionString=x").Exit);

        // A recorded decision that the policy would not have taken.
        await using (var conn = new Npgsql.NpgsqlConnection(pg.ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand(
                "UPDATE wg_routed.mt_events SET data = jsonb_set(data, '{reason}', '\"Rtt\"') WHERE stream_id = @s AND type = 'endpoint_switch_decided'", conn);
            cmd.Parameters.AddWithValue("s", peer.Base64);
            Assert.Equal(sim.Switches.Count(), await cmd.ExecuteNonQueryAsync());
        }
        var bad = Cli($"replay --config {config} --peer {peer.Base64} --verify");
        Assert.True(bad.Exit == 1, bad.Output);
        Assert.Contains($"verify: {sim.Switches.Count()} differences", bad.Output, StringComparison.Ordinal);
        Assert.Contains("differs in reason", bad.Output, StringComparison.Ordinal);
    }

    private static (int Exit, string Output) Cli(string args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet", $"{WgRouted.Tests.Shared.Repository.Cli()} {args}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(120_000), "wg-routed replay did not finish in 120 s");
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task A_stored_random_history_replays_to_every_recorded_output(int seed)
    {
        var (peer, sim) = await StoreAsync(seed);
        var policy = sim.Policy;
        await using var store = await EventStore.OpenAsync(pg.ConnectionString, policy, CancellationToken.None);
        using var recorder = new ProbeRecorder(_ => Task.FromResult(pg.ConnectionString), Path.Combine(pg.DataDirectory, "spill-read"), 0,
            TimeProvider.System, NullLogger<ProbeRecorder>.Instance);
        var history = await new HistoryReader(store, recorder).ReadAsync(peer, null, null, CancellationToken.None);
        Assert.Equal(sim.Inputs.Count, history.Inputs.Count);
        Assert.Equal(sim.Outputs.Count, history.Outputs.Count);
        var analysis = Analysis.Run(history, policy);
        var diffs = Verification.Compare(history.Outputs, analysis.Derived);
        Assert.True(diffs.Count == 0, string.Join("\n", diffs.Take(5).Select(d => $"{d.At:O} {d.Why}: {d.Recorded} / {d.Derived}")));
        Assert.True(sim.Switches.Count() >= 3, $"seed {seed}: only {sim.Switches.Count()} switches");
        // And it can fail: a recorded output changed is found and named.
        var tampered = history.Outputs.Select(o => o is EndpointSwitchDecided d ? d with { Reason = SwitchReason.Rtt } : o).ToList();
        var found = Verification.Compare(tampered, analysis.Derived);
        Assert.Equal(sim.Switches.Count(), found.Count);
        Assert.All(found, d => Assert.Equal("differs in reason", d.Why));
    }
}
