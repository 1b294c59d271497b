using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace WgRouted.Tests.Shared;

/// <summary>
/// A real OTLP receiver: the standalone Aspire Dashboard (NuGet Aspire.Dashboard.Sdk.linux-x64, restored by the
/// PackageDownload in WgRouted.Service.Tests.csproj) as a child process on 127.0.0.1. Takes OTLP over gRPC and
/// HTTP/protobuf; spans are read back from its telemetry API, GET /api/telemetry/traces. Dispose kills that process.
/// </summary>
internal sealed partial class OtlpReceiver : IAsyncDisposable
{
    private const string PackageId = "Aspire.Dashboard.Sdk.linux-x64";
    // Port 0: the kernel picks a free port at bind time, and the dashboard logs which (no probe-then-bind race).
    private const string AnyLoopbackPort = "http://127.0.0.1:0";
    // The dashboard alone is ready in under a second; this is for two cores busy with a parallel build.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan SpanTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private readonly Process _process;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly StringBuilder _log = new();
    private Uri? _frontend;
    private Uri? _grpc;
    private Uri? _otlpHttp;

    private OtlpReceiver(string executable)
    {
        var start = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_URLS"] = AnyLoopbackPort;
        start.Environment["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = AnyLoopbackPort;
        start.Environment["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = AnyLoopbackPort;
        start.Environment["DASHBOARD__FRONTEND__AUTHMODE"] = "Unsecured";
        start.Environment["DASHBOARD__OTLP__AUTHMODE"] = "Unsecured";
        // Without it the telemetry API answers 401 (it wants an x-api-key header) even with the frontend unsecured.
        start.Environment["DASHBOARD__API__AUTHMODE"] = "Unsecured";
        _process = Process.Start(start) ?? throw new InvalidOperationException($"{executable} did not start");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The dashboard's web page (and its telemetry API), e.g. http://127.0.0.1:41234/.</summary>
    public Uri FrontendUrl => _frontend ?? throw new InvalidOperationException("not started");

    /// <summary>OTLP/gRPC, for OtlpExportProtocol.Grpc as it is.</summary>
    public Uri GrpcEndpoint => _grpc ?? throw new InvalidOperationException("not started");

    /// <summary>OTLP/HTTP base address: an exporter given an explicit endpoint needs v1/traces appended.</summary>
    public Uri HttpEndpoint => _otlpHttp ?? throw new InvalidOperationException("not started");

    public int ProcessId => _process.Id;

    /// <summary>Everything the dashboard wrote to stdout and stderr so far.</summary>
    public string Log
    {
        get
        {
            lock (_log)
                return _log.ToString();
        }
    }

    /// <summary>Starts the dashboard and returns once its three endpoints are bound and its API answers.</summary>
    public static async Task<OtlpReceiver> StartAsync(CancellationToken cancellationToken = default)
    {
        var receiver = new OtlpReceiver(FindDashboard());
        try
        {
            await receiver.WaitUntilReadyAsync(cancellationToken);
            return receiver;
        }
        catch
        {
            await receiver.DisposeAsync();
            throw;
        }
    }

    /// <summary>Every span the dashboard holds, or those of one service (its resource's service.name).</summary>
    public async Task<IReadOnlyList<ReceivedSpan>> GetSpansAsync(string? serviceName = null, CancellationToken cancellationToken = default)
    {
        // limit defaults to 100 traces; int.MaxValue is accepted, one more is a 400.
        var json = await _http.GetStringAsync(new Uri(FrontendUrl, $"api/telemetry/traces?limit={int.MaxValue}"), cancellationToken);
        var spans = ParseTraces(json);
        return serviceName is null ? spans : [.. spans.Where(s => s.ServiceName == serviceName)];
    }

    /// <summary>Polls until the service has at least <paramref name="count"/> spans and returns all it has then.</summary>
    public async Task<IReadOnlyList<ReceivedSpan>> WaitForSpansAsync(string serviceName, int count, CancellationToken cancellationToken = default)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var spans = await GetSpansAsync(serviceName, cancellationToken);
            if (spans.Count >= count)
                return spans;
            if (waited.Elapsed > SpanTimeout)
                throw new TimeoutException(
                    $"{spans.Count} of {count} spans of {serviceName} arrived in {SpanTimeout.TotalSeconds} s " +
                    $"({string.Join(", ", spans.Select(s => s.Name))}); dashboard log:\n{Log}");
            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    /// <summary>
    /// The API's answer: {"data":{"resourceSpans":[{"resource":{"attributes":[…]},"scopeSpans":[{"scope":{…},
    /// "spans":[{"traceId","spanId","parentSpanId"?,"name","kind","startTimeUnixNano","endTimeUnixNano",
    /// "attributes"?,"status"?:{"code","message"}}]}]}]},"totalCount":N,"returnedCount":N}.
    /// </summary>
    public static IReadOnlyList<ReceivedSpan> ParseTraces(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var (total, returned) = (root.GetProperty("totalCount").GetInt32(), root.GetProperty("returnedCount").GetInt32());
        if (returned != total)
            throw new InvalidDataException($"the dashboard returned {returned} of {total} traces");
        var spans = new List<ReceivedSpan>();
        foreach (var resource in root.GetProperty("data").GetProperty("resourceSpans").EnumerateArray())
        {
            var service = resource.TryGetProperty("resource", out var r) && Attributes(r).TryGetValue("service.name", out var name) ? name : "";
            foreach (var scope in resource.GetProperty("scopeSpans").EnumerateArray())
                foreach (var span in scope.GetProperty("spans").EnumerateArray())
                    spans.Add(new ReceivedSpan(
                        span.GetProperty("traceId").GetString()!,
                        span.GetProperty("spanId").GetString()!,
                        span.TryGetProperty("parentSpanId", out var parent) && parent.GetString() is { Length: > 0 } p ? p : null,
                        span.GetProperty("name").GetString()!,
                        service,
                        UnixNanos(span.GetProperty("startTimeUnixNano")),
                        UnixNanos(span.GetProperty("endTimeUnixNano")),
                        Attributes(span),
                        span.TryGetProperty("status", out var status) && status.TryGetProperty("code", out var code)
                            ? (ActivityStatusCode)code.GetInt32()
                            : ActivityStatusCode.Unset));
        }
        return spans;
    }

    /// <summary>tools/Aspire.Dashboard in the NuGet global packages folder (NUGET_PACKAGES, else ~/.nuget/packages).</summary>
    public static string FindDashboard()
    {
        var version = DashboardVersion();
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var executable = Path.Combine(packages, PackageId.ToLowerInvariant(), version, "tools", "Aspire.Dashboard");
        if (!File.Exists(executable))
            throw new FileNotFoundException($"{executable} is missing: `dotnet restore Tests/WgRouted.Service.Tests` downloads {PackageId} {version}", executable);
        // The package asks for 755 (data/UnixFilePermissions.xml), but unzipping does not promise the bit.
        var mode = File.GetUnixFileMode(executable);
        if (!mode.HasFlag(UnixFileMode.UserExecute))
            File.SetUnixFileMode(executable, mode | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        return executable;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            // This process only: the dashboard starts no children of its own.
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    /// <summary>The version restored by the PackageDownload in WgRouted.Service.Tests.csproj, the one place it is set.</summary>
    private static string DashboardVersion()
    {
        var project = Path.Combine(Repository.Root(), "Tests", "WgRouted.Service.Tests", "WgRouted.Service.Tests.csproj");
        var download = XDocument.Load(project).Descendants("PackageDownload").Single(e => (string?)e.Attribute("Include") == PackageId);
        return ((string?)download.Attribute("Version") ?? "").Trim('[', ']');
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"the dashboard exited with {_process.ExitCode} before it was ready:\n{Log}");
            if (_frontend is null)
                ReadEndpoints();
            if (_frontend is not null && await ApiAnswersAsync(cancellationToken))
                return;
            if (waited.Elapsed > StartTimeout)
                throw new TimeoutException($"the dashboard was not ready in {StartTimeout.TotalSeconds} s:\n{Log}");
            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    /// <summary>The ports the kernel gave, from the dashboard's own startup lines ("OTLP/gRPC listening on: URL").</summary>
    private void ReadEndpoints()
    {
        var bound = new Dictionary<string, Uri>(StringComparer.Ordinal);
        foreach (Match m in ListeningLine().Matches(Log))
            bound[m.Groups[1].Value] = new Uri(m.Groups[2].Value);
        if (bound.TryGetValue("Now", out var frontend) && bound.TryGetValue("OTLP/gRPC", out var grpc) && bound.TryGetValue("OTLP/HTTP", out var http))
            (_frontend, _grpc, _otlpHttp) = (frontend, grpc, http);
    }

    private async Task<bool> ApiAnswersAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri(FrontendUrl, "api/telemetry/traces?limit=0"), cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_log)
            _log.AppendLine(line);
    }

    private static Dictionary<string, string> Attributes(JsonElement owner)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (owner.TryGetProperty("attributes", out var list))
            foreach (var attribute in list.EnumerateArray())
                attributes[attribute.GetProperty("key").GetString()!] = AttributeValue(attribute.GetProperty("value"));
        return attributes;
    }

    // The dashboard stores every attribute as text and sends it back as stringValue ("42", "true", "[\"a\"]");
    // an intValue, boolValue or arrayValue from another receiver is kept as its JSON text.
    private static string AttributeValue(JsonElement value)
    {
        foreach (var typed in value.EnumerateObject())
            return typed.Value.ValueKind == JsonValueKind.String ? typed.Value.GetString()! : typed.Value.GetRawText();
        return "";
    }

    // OTLP/JSON writes 64-bit integers as strings.
    private static DateTimeOffset UnixNanos(JsonElement value) =>
        DateTimeOffset.UnixEpoch.AddTicks(
            (value.ValueKind == JsonValueKind.String ? long.Parse(value.GetString()!, CultureInfo.InvariantCulture) : value.GetInt64())
            / TimeSpan.NanosecondsPerTick);

    [GeneratedRegex(@"^\s*(Now|OTLP/gRPC|OTLP/HTTP) listening on: (http://\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex ListeningLine();
}
