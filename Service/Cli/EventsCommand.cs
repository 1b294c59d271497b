using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using WgRouted.Engine;
using WgRouted.Engine.Policy;
using WgRouted.Service.Daemon;
using WgRouted.Service.Store;

namespace WgRouted.Service.Cli;

internal static class EventsCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var peer = new Option<string?>("--peer") { Description = "only this peer's stream (its public key, base64)" };
        var since = new Option<DateTimeOffset?>("--since") { Description = "only events at or after this time (ISO 8601)" };
        var limit = new Option<int>("--limit") { Description = "at most this many events", DefaultValueFactory = _ => 10000 };
        var json = CommonOptions.Json();
        var follow = new Option<bool>("--follow", "-f") { Description = "keep printing events as they are stored (one JSON object a line with --json)" };
        var command = new Command("events", "print the stored events, oldest first") { config, peer, since, limit, json, follow };
        command.SetAction(async (parse, ct) =>
        {
            var loaded = CommonOptions.LoadOrReport(parse.GetRequiredValue(config));
            if (loaded is null)
                return CommonOptions.Failure;
            string? stream = null;
            if (parse.GetValue(peer) is { } p)
            {
                if (!PeerKey.TryParse(p, out var key, out var error))
                {
                    await Console.Error.WriteLineAsync($"--peer: {error}");
                    return CommandLine.UsageError;
                }
                stream = key.Base64;
            }
            await using var connector = new StoreConnector(loaded, new EndpointPolicy(loaded.Policy), NullLogger<StoreConnector>.Instance);
            var store = await connector.GetAsync(ct);
            var events = await store.ReadAsync(stream, parse.GetValue(since), parse.GetValue(limit), ct);
            var options = CliJson.Create();
            if (parse.GetValue(follow))
            {
                var last = events.Count > 0 ? events[^1].Sequence : 0;
                try
                {
                    while (true)
                    {
                        foreach (var e in events)
                            Print(e, options, parse.GetValue(json));
                        if (events.Count > 0)
                            last = events[^1].Sequence;
                        await Task.Delay(FollowInterval, ct);
                        events = await store.ReadAfterAsync(stream, last, 10_000, ct);
                    }
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return 0;
                }
            }
            if (parse.GetValue(json))
            {
                var rows = events.Select(Row).ToList();
                Console.WriteLine(JsonSerializer.Serialize(rows, options.GetTypeInfo(typeof(List<EventRow>))));
            }
            else
                foreach (var e in events)
                    Print(e, options, json: false);
            return 0;
        });
        return command;
    }

    /// <summary>The appender writes batches as they come: polling this often shows an event within a moment of it.</summary>
    private static readonly TimeSpan FollowInterval = TimeSpan.FromMilliseconds(500);

    private static void Print(JasperFx.Events.IEvent e, JsonSerializerOptions options, bool json) =>
        Console.WriteLine(json
            ? JsonSerializer.Serialize(Row(e), options.GetTypeInfo(typeof(EventRow)))
            : string.Create(CultureInfo.InvariantCulture,
                $"{At(e).UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ} {Short(e.StreamKey)} {e.Data.GetType().Name,-22} {JsonSerializer.Serialize(e.Data, options.GetTypeInfo(e.Data.GetType()))}"));

    private static EventRow Row(JasperFx.Events.IEvent e) =>
        new(e.Id, e.Sequence, e.StreamKey, e.Version, At(e), e.Timestamp, e.Data.GetType().Name, e.Data);

    /// <summary>When it happened (engine time), not when it was stored.</summary>
    private static DateTimeOffset At(JasperFx.Events.IEvent e) => e.Data switch
    {
        Engine.Events.PeerEvent p => p.At,
        Engine.Events.HostEvent h => h.At,
        _ => e.Timestamp,
    };

    private static string Short(string? stream) =>
        stream is null ? "-" : stream.StartsWith(EventStore.HostStreamPrefix, StringComparison.Ordinal) ? stream : stream[..Math.Min(8, stream.Length)] + "…";
}
