using WgRouted.Engine.Policy;

namespace WgRouted.Service.Cli;

/// <summary>A peer as `show --json` prints it.</summary>
internal sealed record ShowRow(
    string Interface, string Peer, string? Active, DateTimeOffset? ActiveSince, bool Unreachable, DateTimeOffset? LatestHandshake, string? Endpoint,
    List<ShowPathRow> Paths, ShowBabelRow? Babel);

internal sealed record ShowPathRow(
    string Src, string Dst, bool Active, string State, bool PreferredSource, double? SrttMs, double RttVarMs, double Loss, DateTimeOffset? LastAnswer);

internal sealed record ShowBabelRow(string Tunnel, int? NeighbourCost, double? RttMs, int? RttCost, List<BabelPrefix> Routes);
