using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace WgRouted.Engine;

/// <summary>A WireGuard public key in its canonical base64 form (32 bytes).</summary>
public readonly record struct PeerKey
{
    public const int KeyLength = 32;

    public string Base64 { get; }

    // Every table of the daemon is keyed by peer, several lookups a probe: hashing the 44 characters each time was a
    // twentieth of its CPU at 1,000 peers (perf). The hash is made once, from the bytes, and seeded per process
    // (System.HashCode), so keys that arrive from the network cannot be chosen to collide.
    private readonly int _hash;
    // The 32 bytes, kept beside the text so that two keys compare without reading their strings: a key decoded from a
    // datagram is a new string, and the table's is cold, so the strings' comparison read memory no cache held (perf
    // at 1,000 peers). The base64 form is canonical: equal bytes, equal text.
    private readonly ulong _k0, _k1, _k2, _k3;

    private PeerKey(string base64, ReadOnlySpan<byte> bytes)
    {
        Base64 = base64;
        _k0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        _k1 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        _k2 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]);
        _k3 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]);
        _hash = HashCode.Combine(_k0, _k1, _k2, _k3);
    }

    public bool Equals(PeerKey other) =>
        _hash == other._hash && _k0 == other._k0 && _k1 == other._k1 && _k2 == other._k2 && _k3 == other._k3
        && (Base64 is null) == (other.Base64 is null);

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
        key = new PeerKey(Convert.ToBase64String(bytes[..KeyLength]), bytes[..KeyLength]);
        error = null;
        return true;
    }

    public static PeerKey FromBytes(ReadOnlySpan<byte> bytes) =>
        bytes.Length == KeyLength
            ? new PeerKey(Convert.ToBase64String(bytes), bytes)
            : throw new ArgumentException($"a WireGuard key has {KeyLength} bytes, not {bytes.Length}", nameof(bytes));

    public byte[] ToBytes()
    {
        var bytes = new byte[KeyLength];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>The key's 32 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        if (Base64 is null)
            throw new InvalidOperationException("default PeerKey");
        if (destination.Length < KeyLength)
            throw new ArgumentException($"a WireGuard key has {KeyLength} bytes, the destination {destination.Length}", nameof(destination));
        BinaryPrimitives.WriteUInt64LittleEndian(destination, _k0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], _k1);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], _k2);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], _k3);
    }

    public override string ToString() => Base64 ?? "";
}
