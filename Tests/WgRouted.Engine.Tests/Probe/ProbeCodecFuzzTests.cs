using WgRouted.Engine.Probe;

namespace WgRouted.Engine.Tests.Probe;

public sealed class ProbeCodecFuzzTests
{
    private const int Iterations = 50_000;

    [Fact]
    public void Random_and_mutated_packets_are_rejected_with_an_error_and_never_throw()
    {
        var random = new Random(20261127);
        var valid = ProbeVectors.Messages.Values.Select(m => ProbeVectors.Encode(m)).ToArray();
        var accepted = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var original = valid[random.Next(valid.Length)];
            byte[] packet;
            var remac = false;
            switch (random.Next(5))
            {
                case 0:
                    // Pure noise, any length up to a jumbo datagram, sometimes with our magic and version.
                    packet = new byte[random.Next(0, 300)];
                    random.NextBytes(packet);
                    if (packet.Length >= 5 && random.Next(2) == 0)
                        "WGRP\u0001"u8.CopyTo(packet);
                    break;
                case 1:
                    packet = Mutate(original, random);
                    break;
                case 2:
                    // Cut or extended.
                    packet = new byte[random.Next(0, original.Length * 2)];
                    original.AsSpan(0, Math.Min(original.Length, packet.Length)).CopyTo(packet);
                    break;
                default:
                    // Mutated behind the MAC, then MAC'd again with the right key: the body parser sees it.
                    packet = Mutate(original, random, keepHeader: random.Next(2) == 0);
                    if (packet.Length == original.Length)
                    {
                        ProbeCodecTests.Remac(packet);
                        remac = true;
                    }
                    break;
            }

            var ok = ProbeCodec.TryDecode(packet, ProbeVectors.KeyFor, out var message, out var error);
            if (!ok)
            {
                Assert.NotEqual(ProbeError.None, error);
                Assert.Null(message);
                continue;
            }
            Assert.Equal(ProbeError.None, error);
            Assert.NotNull(message);
            // Only an unchanged packet or one MAC'd with the key can pass, and it re-encodes to itself, but for
            // the timestamps' nanoseconds below the 100 ns tick (and so the MAC).
            Assert.True(remac || packet.AsSpan().SequenceEqual(original), $"iteration {i}: a forged packet was accepted");
            var again = ProbeVectors.Encode(message);
            Assert.True(ProbeCodec.TryDecode(again, ProbeVectors.KeyFor, out var decodedAgain, out _));
            Assert.Equal(message, decodedAgain);
            foreach (var timestamp in message is ProbeAnswer ? new[] { 48, 64 } : [48])
            {
                packet.AsSpan(timestamp, 8).Clear();
                again.AsSpan(timestamp, 8).Clear();
            }
            Assert.Equal(Convert.ToHexString(packet.AsSpan(0, ProbeCodec.HeaderSize + ProbeCodec.BodySize)),
                Convert.ToHexString(again.AsSpan(0, ProbeCodec.HeaderSize + ProbeCodec.BodySize)));
            accepted++;
        }
        // The re-MAC'd mutations do reach the message constructors.
        Assert.InRange(accepted, 1, Iterations);
    }

    private static byte[] Mutate(byte[] original, Random random, bool keepHeader = false)
    {
        var packet = original.ToArray();
        var from = keepHeader ? ProbeCodec.HeaderSize : 0;
        var to = packet.Length - (keepHeader ? ProbeCodec.MacSize : 0);
        var edits = random.Next(1, 4);
        for (var e = 0; e < edits; e++)
        {
            var at = random.Next(from, to);
            switch (random.Next(4))
            {
                case 0:
                    packet[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    packet[at] = (byte)random.Next(256);
                    break;
                case 2:
                    packet[at] = random.Next(2) == 0 ? (byte)0 : (byte)0xff;
                    break;
                default:
                    // Plausible field values where the parser branches.
                    packet[at] = (byte)(new[] { 0, 1, 2, 3, 4, 5, 6 })[random.Next(7)];
                    break;
            }
        }
        return packet;
    }
}
