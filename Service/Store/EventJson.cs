using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using WgRouted.Engine;

namespace WgRouted.Service.Store;

/// <summary>JSON forms of the engine's value types: addresses, endpoints and keys as their usual text, enums by name (<see cref="EventJsonContext"/>).</summary>
public static class EventJson
{
    public static void Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Converters.Add(new IPAddressConverter());
        options.Converters.Add(new EndpointConverter());
        options.Converters.Add(new PeerKeyConverter());
        options.Converters.Add(new CandidatePathConverter());
        options.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
        // Ahead of any resolver Marten sets: the generated contracts are the only ones under Native AOT, and JIT
        // builds use them too, so that a type missing from the context fails in the tests, not in production.
        options.TypeInfoResolverChain.Insert(0, EventJsonContext.Default);
    }

    public static JsonSerializerOptions Create(bool indented = false)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = indented };
        Configure(options);
        return options;
    }

    private sealed class IPAddressConverter : JsonConverter<IPAddress>
    {
        public override IPAddress Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            IPAddress.TryParse(reader.GetString(), out var a) ? a : throw new JsonException($"'{reader.GetString()}' is not an IP address");

        public override void Write(Utf8JsonWriter writer, IPAddress value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.ToString());
    }

    private sealed class EndpointConverter : JsonConverter<Endpoint>
    {
        public override Endpoint Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Endpoint.TryParse(reader.GetString(), out var e, out var error) ? e : throw new JsonException(error);

        public override void Write(Utf8JsonWriter writer, Endpoint value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.ToString());
    }

    private sealed class PeerKeyConverter : JsonConverter<PeerKey>
    {
        public override PeerKey Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            PeerKey.TryParse(reader.GetString(), out var k, out var error) ? k : throw new JsonException(error);

        public override void Write(Utf8JsonWriter writer, PeerKey value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.Base64);
    }

    private sealed class CandidatePathConverter : JsonConverter<CandidatePath>
    {
        public override CandidatePath Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
                throw new JsonException("a path is an object {\"src\", \"dst\"}");
            IPAddress? src = null;
            Endpoint? dst = null;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var name = reader.GetString();
                reader.Read();
                var value = reader.GetString();
                if (string.Equals(name, "src", StringComparison.OrdinalIgnoreCase))
                    src = IPAddress.TryParse(value, out var a) ? a : throw new JsonException($"'{value}' is not an IP address");
                else if (string.Equals(name, "dst", StringComparison.OrdinalIgnoreCase))
                    dst = Endpoint.TryParse(value, out var e, out var error) ? e : throw new JsonException(error);
            }
            if (src is null || dst is null)
                throw new JsonException("a path needs both src and dst");
            try
            {
                return new CandidatePath(src, dst.Value);
            }
            catch (ArgumentException e)
            {
                throw new JsonException(e.Message);
            }
        }

        public override void Write(Utf8JsonWriter writer, CandidatePath value, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            writer.WriteString("src", value.Src.ToString());
            writer.WriteString("dst", value.Dst.ToString());
            writer.WriteEndObject();
        }
    }
}
