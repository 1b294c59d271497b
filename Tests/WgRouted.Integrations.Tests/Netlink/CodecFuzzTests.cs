using WgRouted.Integrations.Netlink;
using WgRouted.Integrations.Tests.WireGuard;

namespace WgRouted.Integrations.Tests.Netlink;

public class CodecFuzzTests
{
    private const int Iterations = 20_000;

    [Fact]
    public void Mutated_truncated_and_oversized_messages_never_crash_the_decoders()
    {
        var random = new Random(20261127);
        var seeds = new (string Name, byte[] Bytes, Action<byte[]> Decode)[]
        {
            ("link", Fixtures.Bytes(Fixtures.LinkD0), b => RtnetlinkCodec.DecodeLink(b)),
            ("address", Fixtures.Bytes(Fixtures.AddressV4), b => RtnetlinkCodec.DecodeAddress(b)),
            ("address6", Fixtures.Bytes(Fixtures.AddressV6), b => RtnetlinkCodec.DecodeAddress(b)),
            ("route", Fixtures.Bytes(Fixtures.RouteV4Table1000), b => RtnetlinkCodec.DecodeRoute(b)),
            ("route6", Fixtures.Bytes(Fixtures.RouteV6), b => RtnetlinkCodec.DecodeRoute(b)),
            ("rule", Fixtures.Bytes(Fixtures.RouteV4Table1000), b => RtnetlinkCodec.DecodeRule(b)),
            ("wireguard", GenlFixtures.FirstMessage()[4..], b => WireGuardGenlCodec.DecodeDevice([new byte[4].Concat(b).ToArray()])),
            ("datagram", Frame(Fixtures.Bytes(Fixtures.RouteV6)), b =>
            {
                foreach (var m in NetlinkMessage.Split(b))
                    if (m.Type == NetlinkMessage.NLMSG_ERROR)
                        m.ReadError();
            }),
            ("error", Frame(Convert.FromHexString("efffffff24000000180005050100000000000000100001004600")), b =>
            {
                foreach (var m in NetlinkMessage.Split(b))
                    new NetlinkMessage(NetlinkMessage.NLMSG_ERROR, 0x300, 0, m.Payload).ReadError();
            }),
        };
        var rejected = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var (name, seed, decode) = seeds[random.Next(seeds.Length)];
            var bytes = Mutate(seed, random);
            try
            {
                decode(bytes);
            }
            catch (NetlinkFormatException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"iteration {i} ({name}, {Convert.ToHexStringLower(bytes)}): {e}");
            }
        }
        Assert.InRange(rejected, 1, Iterations - 1);
    }

    private static byte[] Frame(byte[] payload)
    {
        var bytes = new byte[16 + payload.Length];
        BitConverter.TryWriteBytes(bytes, bytes.Length);
        BitConverter.TryWriteBytes(bytes.AsSpan(4), (ushort)NetlinkMessage.NLMSG_ERROR);
        payload.CopyTo(bytes, 16);
        return bytes;
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = (byte[])seed.Clone();
        switch (random.Next(4))
        {
            case 0:
                return bytes[..random.Next(bytes.Length + 1)];
            case 1:
                var longer = new byte[bytes.Length + random.Next(1, 64)];
                bytes.CopyTo(longer, 0);
                random.NextBytes(longer.AsSpan(bytes.Length));
                return longer;
            case 2:
                for (var n = random.Next(1, 8); n > 0; n--)
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                return bytes;
            default:
                // Length fields are the interesting ones: hit a 16-bit word at a 4-byte boundary.
                var at = random.Next(bytes.Length / 4) * 4;
                if (at + 2 <= bytes.Length)
                    BitConverter.TryWriteBytes(bytes.AsSpan(at), (ushort)random.Next(0, 0x10000));
                return bytes;
        }
    }
}
