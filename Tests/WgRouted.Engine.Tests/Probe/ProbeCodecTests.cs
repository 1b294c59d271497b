using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using WgRouted.Engine.Probe;

namespace WgRouted.Engine.Tests.Probe;

public sealed class ProbeCodecTests
{
    private static readonly DateTimeOffset T0 = ProbeVectors.AliceTime;

    [Theory]
    [InlineData("request", ProbeVectors.RequestHex)]
    [InlineData("move",
        "57475250020300008520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a6b49d2000000000818fae2769b0fccbc" +
        "0400ca6cc6336407000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "e64e85899b2043e0b8529875ffdc0fed")]
    [InlineData("reply",
        "5747525002020000de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f6ab13b800000002a18fae2769b73a480" +
        "6b49d2000000000718fae2769b0fccbc04009c40c63364070000000000000000000000000600ca6c20010db8000000000000000000000007" +
        "ce2c53d4fea1ae4d588289e2080d7f18")]
    [InlineData("reply-no-endpoint",
        "5747525002020000de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f6ab13b800000002a18fae2769b73a480" +
        "6b49d2000000000718fae2769b0fccbc06009c4120010db80001000000000000000000020000000000000000000000000000000000000000" +
        "e0f5d5d2b8f1c25d0a1b82201b1e1d59")]
    [InlineData("move-reply",
        "5747525002040000de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f6ab13b800000002b18fae2769b73a480" +
        "6b49d2000000000818fae2769b0fccbc04009c40c63364070000000000000000000000000400ca6cc6336407000000000000000000000000" +
        "65b89c76ba311c4d40f8b475ed6f2349")]
    public void Messages_encode_and_decode_to_pinned_bytes(string name, string hex)
    {
        var message = ProbeVectors.Messages[name];
        Assert.Equal(hex, Convert.ToHexStringLower(ProbeVectors.Encode(message)));

        Assert.True(ProbeCodec.TryDecode(Convert.FromHexString(hex), ProbeVectors.KeyFor, out var decoded, out var error), error.Describe());
        Assert.Equal(ProbeError.None, error);
        Assert.Equal(message, decoded);
    }

    [Theory]
    [InlineData("198.51.100.7:40000", "203.0.113.9:51820")]
    [InlineData("[2001:db8::1]:40000", "[2001:db8:ffff::9]:51820")]
    [InlineData("198.51.100.7:1", "[fe80::1]:65535")]
    [InlineData("[::1]:40000", null)]
    public void Answers_round_trip_with_IPv4_and_IPv6_addresses(string observed, string? endpoint)
    {
        var request = new ProbeRequest(ProbeVectors.Alice, 99, T0);
        var now = T0.AddTicks(123);
        ProbeAnswer[] answers =
        [
            request.Reply(ProbeVectors.Bob, 7, now, Endpoint.Parse(observed), endpoint is null ? null : Endpoint.Parse(endpoint)),
            new MoveRequest(ProbeVectors.Alice, 100, T0, Endpoint.Parse("198.51.100.7:51820")).Reply(ProbeVectors.Bob, 8, now, Endpoint.Parse(observed), endpoint is null ? null : Endpoint.Parse(endpoint)),
        ];
        foreach (var answer in answers)
        {
            Assert.True(ProbeCodec.TryDecode(ProbeVectors.Encode(answer), ProbeVectors.KeyFor, out var decoded, out var error), error.Describe());
            Assert.Equal(answer, decoded);
            Assert.Equal(answer.GetType(), decoded.GetType());
        }
    }

    [Fact]
    public void A_reply_echoes_the_request_and_the_initiator_measures_rtt_on_its_own_clock()
    {
        var request = new ProbeRequest(ProbeVectors.Alice, 5, T0);
        Assert.True(ProbeCodec.TryDecode(ProbeVectors.Encode(request), ProbeVectors.KeyFor, out var atResponder, out _));
        // The responder's clock is 3 s off: it does not matter for the RTT.
        var reply = ((ProbeRequest)atResponder).Reply(ProbeVectors.Bob, 1, T0.AddSeconds(3), Endpoint.Parse("198.51.100.7:40000"), null);
        Assert.True(ProbeCodec.TryDecode(ProbeVectors.Encode(reply), ProbeVectors.KeyFor, out var atInitiator, out _));

        var answer = Assert.IsType<ProbeReply>(atInitiator);
        Assert.Equal((5UL, T0), (answer.EchoSequence, answer.EchoTimestamp));
        Assert.Equal(TimeSpan.FromMilliseconds(12.5), answer.RoundTrip(T0.AddTicks(125_000)));
    }

    [Fact]
    public void A_move_request_carries_the_whole_endpoint_it_asks_for_under_the_MAC()
    {
        foreach (var requested in new[] { "198.51.100.7:51820", "[2001:db8::5]:51821" })
        {
            var move = new MoveRequest(ProbeVectors.Alice, 1, T0, Endpoint.Parse(requested));
            var packet = ProbeVectors.Encode(move);
            Assert.True(ProbeCodec.TryDecode(packet, ProbeVectors.KeyFor, out var decoded, out _));
            Assert.Equal(Endpoint.Parse(requested), Assert.IsType<MoveRequest>(decoded).Requested);
            // An on-path host rewriting the address (or the port) breaks the MAC.
            foreach (var offset in new[] { ProbeCodec.HeaderSize + 2, ProbeCodec.HeaderSize + 4 })
            {
                var tampered = packet.ToArray();
                tampered[offset] ^= 1;
                Assert.False(ProbeCodec.TryDecode(tampered, ProbeVectors.KeyFor, out _, out var error));
                Assert.Equal(ProbeError.BadMac, error);
            }
        }
    }

    [Fact]
    public void Threads_sharing_one_key_each_get_the_pinned_mac()
    {
        // The key lends its one keyed context to whichever thread MACs: threads that meet on it must never mix states.
        var key = ProbeKeys.Derive(ProbeVectors.AlicePrivate, ProbeVectors.AlicePublic, ProbeVectors.BobPublic);
        var expected = ProbeVectors.RequestHex;
        var request = ProbeVectors.Messages["request"];
        var wrong = 0;
        using var start = new Barrier(4);
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            var buffer = new byte[ProbeCodec.RequestSize];
            start.SignalAndWait();
            for (var i = 0; i < 20_000; i++)
            {
                ProbeCodec.Encode(request, key, buffer);
                if (Convert.ToHexStringLower(buffer) != expected
                    || !ProbeCodec.TryDecode(buffer, k => k == ProbeVectors.Alice ? key : null, out ProbeMessage? _, out ProbeError _))
                    Interlocked.Increment(ref wrong);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Equal(0, wrong);
    }

    [Fact]
    public void Timestamps_keep_tick_precision_and_the_unix_epoch_is_zero()
    {
        var request = new ProbeRequest(ProbeVectors.Alice, 1, DateTimeOffset.UnixEpoch);
        Assert.True(ProbeVectors.Encode(request).AsSpan(48, 8).SequenceEqual(new byte[8]));
        var odd = new ProbeRequest(ProbeVectors.Alice, 1, new DateTimeOffset(2030, 5, 6, 7, 8, 9, TimeSpan.FromHours(2)).AddTicks(9_999_999));
        Assert.True(ProbeCodec.TryDecode(ProbeVectors.Encode(odd), ProbeVectors.KeyFor, out var decoded, out _));
        Assert.Equal(odd.Timestamp.UtcTicks, decoded.Timestamp.UtcTicks);
    }

    [Fact]
    public void IPv6_scope_ids_are_not_carried()
    {
        var linkLocal = new IPAddress(IPAddress.Parse("fe80::1").GetAddressBytes(), 3);
        var reply = new ProbeReply(ProbeVectors.Bob, 1, T0, 1, T0, new Endpoint(linkLocal, 40000), null);
        Assert.True(ProbeCodec.TryDecode(ProbeVectors.Encode(reply), ProbeVectors.KeyFor, out var decoded, out _));
        Assert.Equal(0, ((ProbeAnswer)decoded).ObservedSource.Address.ScopeId);
    }

    [Fact]
    public void A_reply_is_never_larger_than_a_request()
    {
        Assert.True(ProbeCodec.ReplySize <= ProbeCodec.RequestSize);
        var largest = new ProbeReply(ProbeVectors.Bob, ulong.MaxValue, T0, ulong.MaxValue, T0,
            Endpoint.Parse("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"), Endpoint.Parse("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"));
        var smallestRequest = ProbeVectors.Encode(new ProbeRequest(ProbeVectors.Alice, 0, T0));
        foreach (var answer in new ProbeAnswer[] { largest, new MoveReply(largest.Sender, 0, T0, 0, T0, largest.ObservedSource, largest.WireGuardEndpoint) })
            Assert.True(ProbeVectors.Encode(answer).Length <= smallestRequest.Length);
        Assert.Equal(ProbeCodec.RequestSize, smallestRequest.Length);
        Assert.Equal(ProbeCodec.RequestSize, ProbeVectors.Encode(new MoveRequest(ProbeVectors.Alice, 0, T0, Endpoint.Parse("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"))).Length);
    }

    [Theory]
    [InlineData("request")]
    [InlineData("move")]
    public void A_request_shorter_than_the_request_size_is_not_padded(string name)
    {
        var packet = ProbeVectors.Encode(ProbeVectors.Messages[name]);
        for (var length = ProbeCodec.HeaderSize; length < ProbeCodec.RequestSize; length++)
            AssertRejected(packet[..length], ProbeError.NotPadded);
        // Even with a valid MAC over the shorter packet: the length is checked before any key is used.
        var shortOne = packet[..(ProbeCodec.RequestSize - 1)];
        HMACSHA256.HashData(ProbeVectors.Key.Bytes, shortOne.AsSpan(0, shortOne.Length - ProbeCodec.MacSize)).AsSpan(0, ProbeCodec.MacSize).CopyTo(shortOne.AsSpan(shortOne.Length - ProbeCodec.MacSize));
        AssertRejected(shortOne, ProbeError.NotPadded);
    }

    [Fact]
    public void Packets_shorter_than_a_header_are_truncated_and_answers_cut_short_too()
    {
        var reply = ProbeVectors.Encode(ProbeVectors.Messages["reply"]);
        for (var length = 0; length < ProbeCodec.HeaderSize; length++)
            AssertRejected(reply[..length], ProbeError.Truncated);
        AssertRejected(reply[..^1], ProbeError.Truncated);
    }

    [Theory]
    [InlineData("request", 1)]
    [InlineData("reply", 1)]
    [InlineData("move-reply", 1372)]
    public void Packets_longer_than_their_size_are_oversized(string name, int extra)
    {
        var packet = ProbeVectors.Encode(ProbeVectors.Messages[name]);
        AssertRejected([.. packet, .. new byte[extra]], ProbeError.Oversized);
    }

    [Theory]
    [InlineData(0, 0x58, ProbeError.BadMagic)]
    [InlineData(4, 1, ProbeError.BadVersion)] // version 1: moves not bound to their address
    [InlineData(4, 3, ProbeError.BadVersion)]
    [InlineData(4, 0, ProbeError.BadVersion)]
    [InlineData(5, 0, ProbeError.UnknownType)]
    [InlineData(5, 5, ProbeError.UnknownType)]
    [InlineData(5, 0xff, ProbeError.UnknownType)]
    [InlineData(7, 1, ProbeError.Malformed)]
    public void Header_errors_are_named(int offset, byte value, ProbeError expected)
    {
        var packet = ProbeVectors.Encode(ProbeVectors.Messages["request"]);
        packet[offset] = value;
        AssertRejected(packet, expected);
    }

    [Theory]
    [InlineData("request")]
    [InlineData("move")]
    [InlineData("reply")]
    [InlineData("reply-no-endpoint")]
    [InlineData("move-reply")]
    public void Any_single_flipped_bit_is_rejected(string name)
    {
        var packet = ProbeVectors.Encode(ProbeVectors.Messages[name]);
        for (var bit = 0; bit < packet.Length * 8; bit++)
        {
            var forged = packet.ToArray();
            forged[bit / 8] ^= (byte)(1 << (bit % 8));
            // Any sender gets the key, so a flipped bit in the sender's key is caught by the MAC too.
            Assert.False(ProbeCodec.TryDecode(forged, _ => ProbeVectors.Key, out var message, out var error), $"bit {bit}");
            Assert.Null(message);
            if (bit / 8 >= 8)
                Assert.Equal(ProbeError.BadMac, error);
            else
                Assert.Contains(error, new[] { ProbeError.BadMagic, ProbeError.BadVersion, ProbeError.UnknownType, ProbeError.Malformed, ProbeError.BadMac, ProbeError.Truncated, ProbeError.NotPadded });
        }
    }

    [Fact]
    public void A_packet_under_another_pairs_key_is_a_bad_mac()
    {
        var carol = ProbeKeys.Derive(ProbeVectors.BobPrivate, ProbeVectors.BobPublic, Convert.FromHexString("0900000000000000000000000000000000000000000000000000000000000000"));
        var packet = ProbeVectors.Encode(ProbeVectors.Messages["request"], carol);
        AssertRejected(packet, ProbeError.BadMac);
        Assert.False(ProbeCodec.TryDecode(ProbeVectors.Encode(ProbeVectors.Messages["request"]), _ => carol, out _, out var error));
        Assert.Equal(ProbeError.BadMac, error);
    }

    [Fact]
    public void A_sender_without_a_key_is_unknown()
    {
        var stranger = new ProbeRequest(PeerKey.FromBytes(new byte[32]), 1, T0);
        AssertRejected(ProbeVectors.Encode(stranger), ProbeError.UnknownSender);
    }

    [Fact]
    public void Our_own_packet_reflected_back_to_us_names_an_unknown_sender()
    {
        // Alice knows Bob only; the request she sent Bob comes back to her.
        ProbeKey? alicesKeyFor(PeerKey sender) => sender == ProbeVectors.Bob ? ProbeVectors.Key : null;
        Assert.False(ProbeCodec.TryDecode(ProbeVectors.Encode(ProbeVectors.Messages["request"]), alicesKeyFor, out _, out var error));
        Assert.Equal(ProbeError.UnknownSender, error);
    }

    [Theory]
    [InlineData("request", 60, "01")] // padding
    [InlineData("request", 111, "80")]
    [InlineData("move", 56, "00")] // requested: none
    [InlineData("move", 58, "0000")] // requested: port 0
    [InlineData("move", 64, "01")] // requested: IPv4 with a nonzero tail
    [InlineData("move", 100, "07")] // padding
    [InlineData("reply", 72, "05")] // observed source: family 5
    [InlineData("reply", 72, "00")] // observed source: none
    [InlineData("reply", 73, "01")] // reserved
    [InlineData("reply", 74, "0000")] // port 0
    [InlineData("reply", 80, "01")] // IPv4 with a nonzero tail
    [InlineData("reply", 92, "01")] // endpoint: family 1
    [InlineData("reply", 93, "01")]
    [InlineData("reply", 94, "0000")]
    [InlineData("reply-no-endpoint", 72, "00")]
    [InlineData("reply-no-endpoint", 92, "04")] // IPv4 with port 0
    [InlineData("reply-no-endpoint", 111, "01")] // none with a nonzero byte
    public void Authenticated_packets_with_bad_fields_are_malformed(string name, int offset, string hex)
    {
        var packet = ProbeVectors.Encode(ProbeVectors.Messages[name]);
        Convert.FromHexString(hex).CopyTo(packet, offset);
        Remac(packet);
        AssertRejected(packet, ProbeError.Malformed);
    }

    [Fact]
    public void An_IPv4_mapped_IPv6_address_is_malformed_because_IPv4_has_its_own_family()
    {
        var packet = ProbeVectors.Encode(ProbeVectors.Messages["reply"]);
        var block = packet.AsSpan(72, 20);
        block.Clear();
        block[0] = 6;
        BinaryPrimitives.WriteUInt16BigEndian(block[2..], 40000);
        IPAddress.Parse("::ffff:198.51.100.7").TryWriteBytes(block[4..], out _);
        Remac(packet);
        AssertRejected(packet, ProbeError.Malformed);
    }

    [Fact]
    public void Encode_refuses_what_it_cannot_write()
    {
        var buffer = new byte[ProbeCodec.MaxSize];
        Assert.Throws<ArgumentException>(() => ProbeCodec.Encode(ProbeVectors.Messages["request"], ProbeVectors.Key, buffer.AsSpan(0, ProbeCodec.RequestSize - 1)));
        Assert.Throws<ArgumentException>(() => ProbeCodec.Encode(new MoveRequest(ProbeVectors.Alice, 1, T0, default), ProbeVectors.Key, buffer));
        Assert.Throws<ArgumentOutOfRangeException>(() => ProbeCodec.Encode(new ProbeRequest(ProbeVectors.Alice, 1, DateTimeOffset.MaxValue), ProbeVectors.Key, buffer));
        Assert.Throws<ArgumentException>(() => ProbeCodec.Encode(new ProbeRequest(default, 1, T0), ProbeVectors.Key, buffer));
        Assert.Throws<ArgumentException>(() => ProbeCodec.Encode(new ProbeReply(ProbeVectors.Bob, 1, T0, 1, T0, default, null), ProbeVectors.Key, buffer));
    }

    [Fact]
    public void Every_error_has_a_description()
    {
        foreach (var error in Enum.GetValues<ProbeError>())
            Assert.NotEqual("unknown error", error.Describe());
    }

    internal static void Remac(byte[] packet) =>
        HMACSHA256.HashData(ProbeVectors.Key.Bytes, packet.AsSpan(0, packet.Length - ProbeCodec.MacSize))
            .AsSpan(0, ProbeCodec.MacSize).CopyTo(packet.AsSpan(packet.Length - ProbeCodec.MacSize));

    private static void AssertRejected(byte[] packet, ProbeError expected)
    {
        Assert.False(ProbeCodec.TryDecode(packet, ProbeVectors.KeyFor, out var message, out var error));
        Assert.Null(message);
        Assert.Equal(expected, error);
    }
}
