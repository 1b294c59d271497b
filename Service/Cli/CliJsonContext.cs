using System.Text.Json.Serialization;

namespace WgRouted.Service.Cli;

/// <summary>
/// Contracts of what the commands print, generated at build time (Native AOT has no reflection-based serialization).
/// The netlink and wg listings use it alone; show, events and replay chain it after the events' (<see cref="CliJson"/>).
/// </summary>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(Dictionary<string, object?>))]
[JsonSerializable(typeof(List<Dictionary<string, object?>>))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(byte))]
[JsonSerializable(typeof(ushort))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(uint))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(ulong))]
[JsonSerializable(typeof(ProbeSummary))]
[JsonSerializable(typeof(List<ShowRow>))]
[JsonSerializable(typeof(EventRow))]
[JsonSerializable(typeof(List<EventRow>))]
[JsonSerializable(typeof(List<ReplayReport>))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
