using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Engine.Policy;
using WgRouted.Engine.Replay;
using WgRouted.Service.Daemon;
using WgRouted.Service.Replay;
using WgRouted.Service.Store;

namespace WgRouted.Service.Cli;

/// <summary>
/// `replay`: a peer's history from the store alone (Marten's events and the recorded probe outcomes), re-derived
/// by the engine: a timeline, --verify against what was recorded, --what-if with other settings, --svg.
/// </summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var peer = new Option<string?>("--peer") { Description = "only this peer (its public key, base64); default: every peer in the store" };
        var from = new Option<DateTimeOffset?>("--from") { Description = "from this time (ISO 8601); the state is folded from the daemon start before it" };
        var to = new Option<DateTimeOffset?>("--to") { Description = "up to this time (ISO 8601)" };
        var verify = new Option<bool>("--verify") { Description = "re-derive every recorded output; exit 1 and list the differences if any" };
        var whatIf = new Option<string[]>("--what-if")
        {
            Description = "replay with another setting from --from on (Section:Key=Value; Policy:* or Probe:LossThreshold), repeatable",
            AllowMultipleArgumentsPerToken = false,
        };
        var json = CommonOptions.Json();
        var measurements = new Option<bool>("--measurements") { Description = "also list every significant RTT or loss change (PathMeasured)" };
        var svg = new Option<FileInfo?>("--svg") { Description = "draw the incident (srtt per path, down intervals, the active path, switches) to this SVG file" };
        var command = new Command("replay", "replay peers' stored histories: timeline, --verify, --what-if, --svg")
            { config, peer, from, to, verify, whatIf, json, svg, measurements };
        command.SetAction(async (parse, ct) =>
        {
            var file = parse.GetRequiredValue(config);
            var loaded = CommonOptions.LoadOrReport(file);
            if (loaded is null)
                return CommonOptions.Failure;
            PeerKey? only = null;
            if (parse.GetValue(peer) is { } p)
            {
                if (!PeerKey.TryParse(p, out var key, out var error))
                {
                    await Console.Error.WriteLineAsync($"--peer: {error}");
                    return CommandLine.UsageError;
                }
                only = key;
            }
            var overrides = parse.GetValue(whatIf) ?? [];
            Variant? variant = null;
            if (overrides.Length > 0)
            {
                var other = WhatIf.Load(file.FullName, overrides, out var errors);
                if (errors.Count > 0)
                {
                    foreach (var e in errors)
                        await Console.Error.WriteLineAsync(e);
                    return CommandLine.UsageError;
                }
                variant = new Variant(string.Join(" ", overrides), new EndpointPolicy(PeerReplay.WhatIf(other.Policy)));
            }
            var policy = new EndpointPolicy(loaded.Policy);
            await using var connector = new StoreConnector(loaded, policy, NullLogger<StoreConnector>.Instance);
            EventStore store;
            try
            {
                store = await connector.GetAsync(ct);
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or IOException)
            {
                await Console.Error.WriteLineAsync($"cannot open the store: {e.Message}");
                return CommonOptions.Failure;
            }
            using var recorder = new ProbeRecorder(_ => Task.FromResult(store.ConnectionString), Path.GetTempPath(), 0, TimeProvider.System, NullLogger<ProbeRecorder>.Instance);
            var reader = new HistoryReader(store, recorder);
            var peers = only is { } k ? [k] : await reader.PeersAsync(ct);
            var differing = 0;
            var results = new List<ReplayReport>();
            var svgFile = parse.GetValue(svg);
            var index = 0;
            foreach (var key in peers)
            {
                var history = await reader.ReadAsync(key, parse.GetValue(from), parse.GetValue(to), ct);
                if (history.Inputs.Count == 0)
                    continue;
                var baseline = Analysis.Run(history, policy);
                var timeline = new Timeline(history);
                var diffs = parse.GetValue(verify) ? Verification.Compare(history.Outputs, baseline.Derived) : null;
                differing += diffs?.Count ?? 0;
                // A variant is compared with the recorded settings under the same what-if rule (PeerReplay.WhatIf); it takes
                // over at --from (the start of the window): what came before stays as it was.
                var relaxed = variant is null ? null : new EndpointPolicy(PeerReplay.WhatIf(loaded.Policy));
                var reference = relaxed is null ? null : Analysis.Run(history, relaxed);
                var alternative = variant is { } v ? Analysis.Run(history, relaxed!, variant: v.Policy) : null;
                string? picture = null;
                if (svgFile is not null)
                {
                    picture = peers.Count == 1 ? svgFile.FullName : Path.ChangeExtension(svgFile.FullName, null) + $"-{++index}.svg";
                    await File.WriteAllTextAsync(picture, IncidentPictures.Render(baseline, timeline), ct);
                }
                if (parse.GetValue(json))
                {
                    results.Add(Json(history, baseline, diffs, reference, alternative, variant?.Label, picture));
                    continue;
                }
                Console.Write(timeline.Render(diffs, parse.GetValue(measurements)));
                Console.WriteLine(Exposure("recorded settings", baseline));
                if (diffs is not null)
                    Console.Write(Describe(diffs, history));
                if (alternative is not null)
                    Console.Write(Compare(reference!, alternative, variant!.Value.Label, timeline));
                if (picture is not null)
                    Console.WriteLine($"picture: {picture}");
                Console.WriteLine();
            }
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(results, CliJson.Create(indented: true).GetTypeInfo(typeof(List<ReplayReport>))));
            return differing == 0 ? 0 : CommonOptions.Failure;
        });
        return command;
    }

    private readonly record struct Variant(string Label, EndpointPolicy Policy);

    private static string Exposure(string label, Analysis a) => string.Create(CultureInfo.InvariantCulture,
        $"  {label}: {a.Exposure.Dark.TotalMilliseconds:0} ms dark (no answer on the active path), {a.Exposure.OnBackup.TotalMilliseconds:0} ms on a path routing does not prefer");

    private static string Describe(List<OutputDiff> diffs, History history)
    {
        var sb = new StringBuilder();
        var recorded = history.Outputs.Count;
        if (diffs.Count == 0)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  verify: all {recorded} recorded outputs re-derived exactly");
            return sb.ToString();
        }
        sb.AppendLine(CultureInfo.InvariantCulture, $"  verify: {diffs.Count} differences over {recorded} recorded outputs");
        foreach (var d in diffs)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"    {d.At.UtcDateTime:HH:mm:ss.fffffff}  {d.Why}");
            if (d.Recorded is not null)
                sb.AppendLine(CultureInfo.InvariantCulture, $"      recorded:   {Verification.Canonical(d.Recorded)}");
            if (d.Derived is not null)
                sb.AppendLine(CultureInfo.InvariantCulture, $"      re-derived: {Verification.Canonical(d.Derived)}");
        }
        return sb.ToString();
    }

    private static string Key(PeerEvent d) => d switch
    {
        EndpointSwitchDecided s => $"{s.At:O} switch {s.Reason} -> {s.To}",
        PeerUnreachable u => $"{u.At:O} unreachable",
        _ => d.ToString(),
    };

    private static string Short(PeerEvent d, Timeline t) => d switch
    {
        EndpointSwitchDecided s => $"switch ({s.Reason}) {(s.From is { } f ? t.Name(f) : "none")} -> {t.Name(s.To)}",
        PeerUnreachable => "unreachable",
        _ => d.GetType().Name,
    };

    /// <summary>The decisions that differ, side by side, and what each variant cost.</summary>
    private static string Compare(Analysis baseline, Analysis variant, string label, Timeline t)
    {
        var sb = new StringBuilder();
        var a = baseline.Decisions.ToList();
        var b = variant.Decisions.ToList();
        var onlyA = a.Where(x => !b.Any(y => Key(y) == Key(x))).ToList();
        var onlyB = b.Where(y => !a.Any(x => Key(x) == Key(y))).ToList();
        var n = onlyA.Count + onlyB.Count;
        sb.AppendLine(CultureInfo.InvariantCulture, $"  what if {label}: {n} decision{(n == 1 ? " differs" : "s differ")}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"    (both replayed with every path's freshness at the standby interval: the recording probed only its own active path fast)");
        sb.AppendLine(CultureInfo.InvariantCulture, $"    {"time",-12}  {"recorded settings",-40}  {label}");
        foreach (var (at, left, right) in onlyA.Select(x => (x.At, Short(x, t), "-"))
                     .Concat(onlyB.Select(y => (y.At, "-", Short(y, t)))).OrderBy(r => r.At))
            sb.AppendLine(CultureInfo.InvariantCulture, $"    {at.UtcDateTime:HH:mm:ss.fff}  {left,-40}  {right}");
        sb.AppendLine(Exposure("recorded settings, what-if rule", baseline));
        sb.AppendLine(Exposure(label, variant));
        return sb.ToString();
    }

    private static ReplayReport Json(History h, Analysis baseline, List<OutputDiff>? diffs, Analysis? reference, Analysis? variant, string? label, string? picture) => new(
        h.Peer.Base64,
        h.From,
        h.To,
        h.Inputs.Where(e => e is not ProbeResult).Concat(h.Outputs).Where(e => h.InWindow(e.At)).OrderBy(e => e.At)
            .Select(e => new ReplayReportEvent(e.At, EventKinds.Of(e.GetType()).ToString().ToLowerInvariant(), e.GetType().Name, e.TraceId, e)).ToList(),
        h.Inputs.OfType<ProbeResult>().Count(p => h.InWindow(p.At)),
        ExposureOf(baseline),
        diffs is null ? null : new ReplayVerify(h.Outputs.Count, diffs.Select(d => new ReplayDifference(d.At, d.Why, d.Recorded, d.Derived)).ToList()),
        variant is null ? null : new ReplayWhatIf(
            label,
            variant.Decisions.Select(d => (object)d).ToList(),
            reference!.Decisions.Select(d => (object)d).ToList(),
            ExposureOf(reference),
            ExposureOf(variant)),
        picture);

    private static ReplayExposure ExposureOf(Analysis a) => new(a.Exposure.Dark.TotalMilliseconds, a.Exposure.OnBackup.TotalMilliseconds);
}
