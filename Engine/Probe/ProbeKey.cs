using System.Security.Cryptography;

namespace WgRouted.Engine.Probe;

/// <summary>The MAC key one pair of peers shares for probes (see <see cref="ProbeKeys.Derive"/>). Never printed.</summary>
public sealed class ProbeKey
{
    public const int Length = 32;

    private readonly byte[] _bytes;

    private ProbeKey(byte[] bytes) => _bytes = bytes;

    internal static ProbeKey FromBytes(ReadOnlySpan<byte> bytes) =>
        bytes.Length == Length
            ? new ProbeKey(bytes.ToArray())
            : throw new ArgumentException($"a probe key has {Length} bytes, not {bytes.Length}", nameof(bytes));

    internal ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>True when both hold the same key (constant time).</summary>
    public bool SameAs(ProbeKey other) => CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);

    public override string ToString() => "ProbeKey(redacted)";
}
