using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using WgRouted.Engine.Policy;
using WgRouted.Service.Daemon;
using WgRouted.Service.Store;

namespace WgRouted.Service.Cli;

/// <summary>`show [IFACE]`: every managed peer's candidate paths as the store's projection last recorded them.</summary>
internal static class ShowCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var iface = new Argument<string?>("IFACE") { Description = "only this interface", Arity = ArgumentArity.ZeroOrOne };
        var json = CommonOptions.Json();
        var command = new Command("show", "per peer: candidate paths with state, srtt and loss, the active one and since when, the latest handshake")
            { config, iface, json };
        command.SetAction(async (parse, ct) =>
        {
            var loaded = CommonOptions.LoadOrReport(parse.GetRequiredValue(config));
            if (loaded is null)
                return CommonOptions.Failure;
            var only = parse.GetValue(iface);
            if (only is not null && loaded.Interfaces.All(i => i.Name != only))
            {
                await Console.Error.WriteLineAsync($"{only}: not a managed interface (configured: {string.Join(", ", loaded.Interfaces.Select(i => i.Name))})");
                return CommonOptions.Failure;
            }
            var policy = new EndpointPolicy(loaded.Policy);
            await using var connector = new StoreConnector(loaded, policy, NullLogger<StoreConnector>.Instance);
            var store = await connector.GetAsync(ct);
            var now = DateTimeOffset.UtcNow;
            var rows = new List<ShowRow>();
            foreach (var (itf, peer) in loaded.Peers.Where(p => only is null || p.Interface.Name == only))
            {
                var state = await store.LoadPeerAsync(peer.PublicKey.Base64, ct);
                var paths = (state?.Paths ?? []).Select(p => new ShowPathRow(
                    p.Path.Src.ToString(),
                    p.Path.Dst.ToString(),
                    state!.Active == p.Path,
                    p.Down ? "down" : policy.IsUsable(state, p, p.Quality.LastProbeAt ?? now) ? "up" : "unproven",
                    policy.IsPreferredSource(state, p, now),
                    p.Quality.SrttMs,
                    p.Quality.RttVarMs,
                    p.Quality.Loss,
                    p.Quality.LastSuccessAt)).ToList();
                rows.Add(new ShowRow(
                    itf.Name,
                    peer.PublicKey.Base64,
                    state?.Active?.ToString(),
                    state?.ActiveSince,
                    state?.Unreachable ?? false,
                    state?.LatestHandshake,
                    state?.ObservedEndpoint?.ToString(),
                    paths,
                    state?.BabelInterface is null ? null : new ShowBabelRow(
                        state.TunnelDown ? "down (no path)" : "up",
                        state.BabelCost,
                        state.BabelRttMs,
                        state.BabelRttCost,
                        state.BabelRoutes)));
                if (parse.GetValue(json))
                    continue;
                Console.WriteLine($"{itf.Name} peer {peer.PublicKey}");
                Console.WriteLine($"  active: {state?.Active?.ToString() ?? "none"}{(state?.ActiveSince is { } s ? string.Create(CultureInfo.InvariantCulture, $" since {s.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}") : "")}" +
                    $"{(state?.Unreachable == true ? " (UNREACHABLE)" : "")}");
                Console.WriteLine($"  latest handshake: {state?.LatestHandshake?.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) ?? "never"}; endpoint {state?.ObservedEndpoint?.ToString() ?? "(none)"}");
                foreach (var p in paths)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {(p.Active ? "*" : " ")} {p.Src,-28} -> {p.Dst,-32} {p.State,-9} srtt {(p.SrttMs is { } r ? $"{r:0.00} ms" : "-"),-10} loss {p.Loss:P0}{(p.PreferredSource ? "  (kernel's preferred source)" : "")}"));
                if (state?.BabelInterface is not null)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  babeld: tunnel {(state.TunnelDown ? "down (no path)" : "up")}; neighbour cost {state.BabelCost?.ToString(CultureInfo.InvariantCulture) ?? "- (none)"}, rtt {(state.BabelRttMs is { } b ? $"{b:0.00} ms" : "-")}, rttcost {state.BabelRttCost?.ToString(CultureInfo.InvariantCulture) ?? "-"}"));
                    foreach (var route in state.BabelRoutes)
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    route {route.Prefix} metric {route.Metric}{(route.Installed ? " installed" : "")}"));
                }
            }
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(rows, CliJson.Create(indented: true).GetTypeInfo(typeof(List<ShowRow>))));
            return 0;
        });
        return command;
    }
}
