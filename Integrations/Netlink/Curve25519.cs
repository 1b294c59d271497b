using System.Numerics;

namespace WgRouted.Integrations.Netlink;

/// <summary>X25519 base-point multiplication (RFC 7748), only to show a UAPI device's public key: UAPI returns the private key alone.</summary>
internal static class Curve25519
{
    private static readonly BigInteger P = BigInteger.Pow(2, 255) - 19;
    private static readonly BigInteger A24 = 121665;

    public static byte[] PublicKey(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != 32)
            throw new ArgumentException("a Curve25519 private key is 32 bytes", nameof(privateKey));
        Span<byte> k = stackalloc byte[32];
        privateKey.CopyTo(k);
        k[0] &= 248;
        k[31] &= 127;
        k[31] |= 64;
        var scalar = new BigInteger(k, isUnsigned: true, isBigEndian: false);
        BigInteger x1 = 9, x2 = 1, z2 = 0, x3 = 9, z3 = 1;
        var swap = 0;
        for (var t = 254; t >= 0; t--)
        {
            var bit = (int)((scalar >> t) & 1);
            swap ^= bit;
            if (swap == 1)
            {
                (x2, x3) = (x3, x2);
                (z2, z3) = (z3, z2);
            }
            swap = bit;
            var a = Mod(x2 + z2);
            var aa = Mod(a * a);
            var b = Mod(x2 - z2);
            var bb = Mod(b * b);
            var e = Mod(aa - bb);
            var c = Mod(x3 + z3);
            var d = Mod(x3 - z3);
            var da = Mod(d * a);
            var cb = Mod(c * b);
            x3 = Mod((da + cb) * (da + cb));
            z3 = Mod(x1 * Mod((da - cb) * (da - cb)));
            x2 = Mod(aa * bb);
            z2 = Mod(e * (aa + A24 * e));
        }
        if (swap == 1)
        {
            (x2, x3) = (x3, x2);
            (z2, z3) = (z3, z2);
        }
        var result = Mod(x2 * BigInteger.ModPow(z2, P - 2, P));
        var bytes = new byte[32];
        result.TryWriteBytes(bytes, out _, isUnsigned: true, isBigEndian: false);
        return bytes;
    }

    private static BigInteger Mod(BigInteger value)
    {
        var r = value % P;
        return r.Sign < 0 ? r + P : r;
    }
}
