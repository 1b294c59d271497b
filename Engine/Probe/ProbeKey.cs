using System.Security.Cryptography;

namespace WgRouted.Engine.Probe;

/// <summary>The MAC key one pair of peers shares for probes (see <see cref="ProbeKeys.Derive"/>). Never printed.</summary>
public sealed class ProbeKey
{
    public const int Length = 32;

    private readonly byte[] _bytes;

    private ProbeKey(byte[] bytes, bool native)
    {
        _bytes = bytes;
        _states = native ? HmacSha256.Create(bytes) : null;
    }

    /// <summary>The key; <paramref name="native"/> false takes the IncrementalHash path even where libcrypto has SHA256_* (tests).</summary>
    internal static ProbeKey FromBytes(ReadOnlySpan<byte> bytes, bool native = true) =>
        bytes.Length == Length
            ? new ProbeKey(bytes.ToArray(), native)
            : throw new ArgumentException($"a probe key has {Length} bytes, not {bytes.Length}", nameof(bytes));

    internal ReadOnlySpan<byte> Bytes => _bytes;

    // Where libcrypto has no SHA256_* calls: HMACSHA256.HashData keys a new OpenSSL context for every packet (1.3 µs a
    // probe here, against 0.55 µs with a context kept keyed), so the key keeps one, taken by whichever thread MACs with
    // it (a context is not thread-safe): a thread that finds it taken keys one of its own, and of two given back the
    // second is freed.
    private readonly HmacSha256? _states;
    private IncrementalHash? _mac;

    /// <summary>HMAC-SHA256 of <paramref name="covered"/> under this key into <paramref name="full"/> (32 bytes).</summary>
    internal void Mac(ReadOnlySpan<byte> covered, Span<byte> full)
    {
        if (_states is { } states)
        {
            states.Compute(covered, full);
            return;
        }
        var hmac = Interlocked.Exchange(ref _mac, null) ?? IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _bytes);
        hmac.AppendData(covered);
        hmac.GetHashAndReset(full);
        if (Interlocked.CompareExchange(ref _mac, hmac, null) is not null)
            hmac.Dispose();
    }

    /// <summary>True when both hold the same key (constant time).</summary>
    public bool SameAs(ProbeKey other) => CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);

    public override string ToString() => "ProbeKey(redacted)";
}
