using System.Diagnostics.CodeAnalysis;

namespace WgRouted.Engine;

/// <summary>A WireGuard public key in its canonical base64 form (32 bytes).</summary>
public readonly record struct PeerKey
{
    public const int KeyLength = 32;

    public string Base64 { get; }

    // Every table of the daemon is keyed by peer, several lookups a probe: hashing the 44 characters each time was a
    // twentieth of its CPU at 1,000 peers (perf). The string's own hash, randomized per process, keeps keys that
    // arrive from the network from colliding on purpose.
    private readonly int _hash;

    private PeerKey(string base64)
    {
        Base64 = base64;
        _hash = base64.GetHashCode(StringComparison.Ordinal);
    }

    public bool Equals(PeerKey other) => _hash == other._hash && string.Equals(Base64, other.Base64, StringComparison.Ordinal);

    public override int GetHashCode() => _hash;

    public static PeerKey Parse(string text) =>
        TryParse(text, out var key, out var error) ? key : throw new FormatException(error);

    public static bool TryParse([NotNullWhen(true)] string? text, out PeerKey key, [NotNullWhen(false)] out string? error)
    {
        key = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "a WireGuard key is empty";
            return false;
        }
        // Large enough for whatever the text decodes to, so a key of the wrong length says so (not "not base64").
        const int MaxText = 256;
        if (text.Length > MaxText)
        {
            error = $"'{text[..16]}...' is {text.Length} characters; a WireGuard key is 44";
            return false;
        }
        Span<byte> bytes = stackalloc byte[MaxText];
        if (!Convert.TryFromBase64String(text, bytes, out var written))
        {
            error = $"'{text}' is not base64";
            return false;
        }
        if (written != KeyLength)
        {
            error = $"'{text}' decodes to {written} bytes; a WireGuard key has {KeyLength}";
            return false;
        }
        key = new PeerKey(Convert.ToBase64String(bytes[..KeyLength]));
        error = null;
        return true;
    }

    public static PeerKey FromBytes(ReadOnlySpan<byte> bytes) =>
        bytes.Length == KeyLength
            ? new PeerKey(Convert.ToBase64String(bytes))
            : throw new ArgumentException($"a WireGuard key has {KeyLength} bytes, not {bytes.Length}", nameof(bytes));

    public byte[] ToBytes() => Convert.FromBase64String(Base64 ?? throw new InvalidOperationException("default PeerKey"));

    public override string ToString() => Base64 ?? "";
}
