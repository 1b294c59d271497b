using WgRouted.Integrations.Netlink;

namespace WgRouted.Integrations.Tests.WireGuard;

public sealed class WireGuardKeysTests
{
    [Theory]
    // RFC 7748, 6.1: Alice's and Bob's key pairs.
    [InlineData("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")]
    [InlineData("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")]
    public void The_public_key_is_X25519_of_the_base_point(string privateHex, string publicHex) =>
        Assert.Equal(publicHex, Convert.ToHexStringLower(WireGuardKeys.PublicKey(Convert.FromHexString(privateHex))));

    [Fact]
    public void A_private_key_of_the_wrong_length_is_rejected() =>
        Assert.Contains("32 bytes, not 31", Assert.Throws<ArgumentException>(() => WireGuardKeys.PublicKey(new byte[31])).Message, StringComparison.Ordinal);
}
