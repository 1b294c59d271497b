using System.Security.Cryptography;
using WgRouted.Engine.Probe;

namespace WgRouted.Engine.Tests.Probe;

public sealed class HmacSha256Tests
{
    [Fact]
    public void Libcrypto_has_the_SHA256_calls_on_the_hosts_we_build_for() =>
        Assert.True(HmacSha256.Available);

    [Fact]
    public void RFC_4231_test_case_2() =>
        Assert.Equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            Convert.ToHexStringLower(Mac("Jefe"u8, "what do ya want for nothing?"u8)));

    [Fact]
    public void Equals_HMACSHA256_for_keys_and_messages_of_every_length_around_the_blocks()
    {
        var random = new Random(20261203);
        foreach (var keyLength in new[] { 0, 1, 16, 32, 63, 64 })
            for (var length = 0; length <= 200; length++)
            {
                var key = new byte[keyLength];
                var message = new byte[length];
                random.NextBytes(key);
                random.NextBytes(message);
                Assert.Equal(HMACSHA256.HashData(key, message), Mac(key, message));
            }
    }

    [Fact]
    public void One_key_MACs_from_many_threads_at_once()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var hmac = HmacSha256.Create(key)!;
        var messages = Enumerable.Range(0, 64).Select(_ => RandomNumberGenerator.GetBytes(112)).ToArray();
        var expected = messages.Select(m => HMACSHA256.HashData(key, m)).ToArray();
        Parallel.For(0, 20_000, i =>
        {
            var mac = new byte[32];
            hmac.Compute(messages[i % 64], mac);
            Assert.Equal(expected[i % 64], mac);
        });
    }

    [Fact]
    public void A_key_longer_than_a_block_is_refused() =>
        Assert.Throws<ArgumentException>(() => HmacSha256.Create(new byte[65]));

    [Fact]
    public void A_probe_key_MACs_as_HMACSHA256_with_the_native_states_and_without()
    {
        var bytes = RandomNumberGenerator.GetBytes(ProbeKey.Length);
        var message = RandomNumberGenerator.GetBytes(ProbeCodec.HeaderSize + ProbeCodec.BodySize);
        var expected = HMACSHA256.HashData(bytes, message);
        foreach (var native in new[] { true, false })
        {
            var key = ProbeKey.FromBytes(bytes, native);
            var mac = new byte[32];
            key.Mac(message, mac);
            Assert.Equal(expected, mac);
            key.Mac(message, mac);
            Assert.Equal(expected, mac);
        }
    }

    private static byte[] Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> message)
    {
        var mac = new byte[32];
        HmacSha256.Create(key)!.Compute(message, mac);
        return mac;
    }
}
