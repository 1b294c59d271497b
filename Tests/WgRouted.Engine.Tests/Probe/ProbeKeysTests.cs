using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using WgRouted.Engine.Probe;

namespace WgRouted.Engine.Tests.Probe;

public sealed class ProbeKeysTests
{
    [Fact]
    public void The_key_is_HKDF_SHA256_of_the_X25519_secret_with_the_label_and_both_public_keys_sorted()
    {
        Assert.Equal(ProbeVectors.KeyHex, Convert.ToHexStringLower(ProbeVectors.Key.Bytes));
        Assert.Equal(ProbeVectors.KeyHex, Convert.ToHexStringLower(ProbeKeys.Derive(ProbeVectors.BobPrivate, ProbeVectors.BobPublic, ProbeVectors.AlicePublic).Bytes));
    }

    [Fact]
    public void Both_ends_of_fresh_key_pairs_derive_the_same_key_and_a_third_peer_another()
    {
        var (aPriv, aPub) = NewKeyPair();
        var (bPriv, bPub) = NewKeyPair();
        var (cPriv, cPub) = NewKeyPair();

        var ab = ProbeKeys.Derive(aPriv, aPub, bPub);
        var ba = ProbeKeys.Derive(bPriv, bPub, aPub);
        var ac = ProbeKeys.Derive(aPriv, aPub, cPub);
        var ca = ProbeKeys.Derive(cPriv, cPub, aPub);

        Assert.True(ab.SameAs(ba));
        Assert.True(ac.SameAs(ca));
        Assert.False(ab.SameAs(ac));
        Assert.False(ba.SameAs(ca));
    }

    [Fact]
    public void A_public_key_that_is_not_ours_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => ProbeKeys.Derive(ProbeVectors.AlicePrivate, ProbeVectors.BobPublic, ProbeVectors.BobPublic));
        Assert.Equal("ourPublic", e.ParamName);
    }

    [Fact]
    public void A_low_order_peer_key_is_rejected()
    {
        // u = 0 and u = 1 are small-order points: every scalar gives the all-zero secret.
        var e = Assert.Throws<ArgumentException>(() => ProbeKeys.Derive(ProbeVectors.AlicePrivate, ProbeVectors.AlicePublic, new byte[32]));
        Assert.Equal("theirPublic", e.ParamName);
        var one = new byte[32];
        one[0] = 1;
        Assert.Throws<ArgumentException>(() => ProbeKeys.Derive(ProbeVectors.AlicePrivate, ProbeVectors.AlicePublic, one));
    }

    [Theory]
    [InlineData(31, 32, 32, "ourPrivate")]
    [InlineData(32, 33, 32, "ourPublic")]
    [InlineData(32, 32, 0, "theirPublic")]
    public void Keys_of_the_wrong_length_are_rejected(int priv, int pub, int theirs, string parameter) =>
        Assert.Equal(parameter, Assert.Throws<ArgumentException>(() => ProbeKeys.Derive(new byte[priv], new byte[pub], new byte[theirs])).ParamName);

    [Fact]
    public void ToString_never_prints_the_key()
    {
        var text = ProbeVectors.Key.ToString();
        Assert.DoesNotContain(ProbeVectors.KeyHex, text.ToLowerInvariant(), StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(ProbeVectors.Key.Bytes), text, StringComparison.Ordinal);
        Assert.DoesNotContain(ProbeVectors.KeyHex[..8], text.ToLowerInvariant(), StringComparison.Ordinal);
        Assert.Equal("ProbeKey(redacted)", text);
    }

    private static (byte[] Private, byte[] Public) NewKeyPair()
    {
        var generator = new X25519KeyPairGenerator();
        generator.Init(new X25519KeyGenerationParameters(new SecureRandom()));
        var pair = generator.GenerateKeyPair();
        return (((X25519PrivateKeyParameters)pair.Private).GetEncoded(), ((X25519PublicKeyParameters)pair.Public).GetEncoded());
    }
}
