namespace WgRouted.Service.Probing;

/// <summary>
/// Datagrams refused, by cause: counted (the first of each cause is for the caller to log), and what changed since the
/// last summary, for a log line every <see cref="SummaryInterval"/>. Shared by the socket threads that refuse.
/// </summary>
public sealed class Refusals
{
    /// <summary>How often the counts are logged, when they changed.</summary>
    public static readonly TimeSpan SummaryInterval = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, long> _causes = [];
    private readonly Dictionary<string, long> _reported = [];

    /// <summary>The counts so far.</summary>
    public IReadOnlyDictionary<string, long> Snapshot()
    {
        lock (_causes)
            return new Dictionary<string, long>(_causes);
    }

    /// <summary>Counts one for <paramref name="cause"/>; true the first time.</summary>
    public bool Count(string cause)
    {
        lock (_causes)
        {
            var first = !_causes.TryGetValue(cause, out var n);
            _causes[cause] = n + 1;
            return first;
        }
    }

    /// <summary>"cause: total; ..." for the causes counted since the last call, or null when none was.</summary>
    public string? Changes()
    {
        List<string> changed = [];
        lock (_causes)
            foreach (var (cause, n) in _causes)
                if (_reported.GetValueOrDefault(cause) != n)
                {
                    changed.Add($"{cause}: {n}");
                    _reported[cause] = n;
                }
        return changed.Count > 0 ? string.Join("; ", changed) : null;
    }
}
