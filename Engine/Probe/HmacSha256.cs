using System.Runtime.InteropServices;

namespace WgRouted.Engine.Probe;

/// <summary>
/// HMAC-SHA256 (RFC 2104) under one key with the key's two padded blocks hashed once: a MAC then costs the message's
/// compressions and the outer hash's one, on libcrypto's SHA256 (SHA-NI where the CPU has it). .NET's keyed
/// IncrementalHash goes through EVP, which copies its inner context into a fresh allocation for every MAC (perf at
/// 1,000 peers: EVP_MD_CTX_copy_ex, CRYPTO_free and ERR_clear_error about a third of the MAC's samples).
/// </summary>
internal sealed unsafe class HmacSha256
{
    public const int BlockSize = 64;
    public const int HashSize = 32;

    // OpenSSL's SHA256_CTX (openssl/sha.h, the same since 0.9.8): h[8], Nl, Nh, data[16], num, md_len, 32-bit each,
    // 112 bytes. Held in 128: a larger layout would still fit.
    [StructLayout(LayoutKind.Sequential, Size = 128)]
    private struct Sha256Ctx
    {
        private ulong _first;
    }

    private static readonly delegate* unmanaged<Sha256Ctx*, int> Init;
    private static readonly delegate* unmanaged<Sha256Ctx*, byte*, nuint, int> Update;
    private static readonly delegate* unmanaged<byte*, Sha256Ctx*, int> Final;

    static HmacSha256()
    {
        // libcrypto built without the deprecated SHA256_* calls (no-deprecated), or not there: Create returns null.
        if (!NativeLibrary.TryLoad("libcrypto.so.3", out var lib)
            || !NativeLibrary.TryGetExport(lib, "SHA256_Init", out var init)
            || !NativeLibrary.TryGetExport(lib, "SHA256_Update", out var update)
            || !NativeLibrary.TryGetExport(lib, "SHA256_Final", out var final))
            return;
        Init = (delegate* unmanaged<Sha256Ctx*, int>)init;
        Update = (delegate* unmanaged<Sha256Ctx*, byte*, nuint, int>)update;
        Final = (delegate* unmanaged<byte*, Sha256Ctx*, int>)final;
    }

    public static bool Available => Init != null;

    private readonly Sha256Ctx _inner;
    private readonly Sha256Ctx _outer;

    private HmacSha256(Sha256Ctx inner, Sha256Ctx outer)
    {
        _inner = inner;
        _outer = outer;
    }

    /// <summary>The key's inner and outer states; null where libcrypto has no SHA256_* calls. Keys up to a block.</summary>
    public static HmacSha256? Create(ReadOnlySpan<byte> key)
    {
        if (!Available)
            return null;
        if (key.Length > BlockSize)
            throw new ArgumentException($"an HMAC key of at most {BlockSize} bytes, not {key.Length}", nameof(key));
        Span<byte> pad = stackalloc byte[BlockSize];
        Sha256Ctx inner, outer;
        try
        {
            Keyed(&inner, pad, key, 0x36);
            Keyed(&outer, pad, key, 0x5c);
            return new HmacSha256(inner, outer);
        }
        finally
        {
            pad.Clear();
        }
    }

    /// <summary>The state after the key's block padded with <paramref name="fill"/> (ipad or opad).</summary>
    private static void Keyed(Sha256Ctx* ctx, Span<byte> pad, ReadOnlySpan<byte> key, byte fill)
    {
        pad.Fill(fill);
        for (var i = 0; i < key.Length; i++)
            pad[i] ^= key[i];
        fixed (byte* p = pad)
            if (Init(ctx) != 1 || Update(ctx, p, (nuint)pad.Length) != 1)
                throw new InvalidOperationException("libcrypto's SHA256 failed");
    }

    /// <summary>HMAC-SHA256 of <paramref name="message"/> into <paramref name="mac"/> (32 bytes). Thread-safe: the states are copied.</summary>
    public void Compute(ReadOnlySpan<byte> message, Span<byte> mac)
    {
        if (mac.Length < HashSize)
            throw new ArgumentException($"an HMAC-SHA256 takes {HashSize} bytes", nameof(mac));
        var ctx = _inner;
        byte* inner = stackalloc byte[HashSize];
        fixed (byte* m = message)
        fixed (byte* d = mac)
        {
            if (Update(&ctx, m, (nuint)message.Length) != 1 || Final(inner, &ctx) != 1)
                throw new InvalidOperationException("libcrypto's SHA256 failed");
            ctx = _outer;
            if (Update(&ctx, inner, HashSize) != 1 || Final(d, &ctx) != 1)
                throw new InvalidOperationException("libcrypto's SHA256 failed");
        }
        new Span<byte>(inner, HashSize).Clear();
        new Span<byte>(&ctx, sizeof(Sha256Ctx)).Clear();
    }
}
