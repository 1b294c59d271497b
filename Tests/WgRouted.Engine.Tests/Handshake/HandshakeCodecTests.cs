using WgRouted.Engine.Handshake;
using static WgRouted.Engine.Tests.Handshake.HandshakeVectors;

namespace WgRouted.Engine.Tests.Handshake;

public class HandshakeCodecTests
{
    private static readonly HandshakeKeys Keys = new(OurPrivate, Peer, PresharedKey);

    private static (HandshakeInitiation State, byte[] Message) Initiate(byte[]? cookie = null)
    {
        var message = new byte[HandshakeCodec.InitiationSize];
        var state = HandshakeCodec.WriteInitiation(Keys, Ephemeral, SenderIndex, Time, cookie ?? [], message);
        return (state, message);
    }

    [Fact]
    public void Initiation_matches_the_independent_vector()
    {
        Assert.Equal(InitiationHex, Convert.ToHexStringLower(Initiate().Message));
    }

    [Fact]
    public void Initiation_with_a_cookie_carries_the_vectors_mac2()
    {
        Assert.Equal(InitiationWithCookieHex, Convert.ToHexStringLower(Initiate(Cookie).Message));
    }

    [Fact]
    public void The_peers_response_is_accepted()
    {
        Assert.Equal(HandshakeError.None, HandshakeCodec.ReadResponse(Keys, Initiate().State, Convert.FromHexString(ResponseHex)));
    }

    [Theory]
    [InlineData(0, 0x01, HandshakeError.WrongType)]
    [InlineData(1, 0x01, HandshakeError.WrongType)]
    [InlineData(8, 0x01, HandshakeError.NotOurs)]
    [InlineData(60, 0x01, HandshakeError.BadMac1)]
    [InlineData(4, 0x01, HandshakeError.BadMac1)]
    [InlineData(44, 0x01, HandshakeError.BadMac1)]
    [InlineData(80, 0x01, HandshakeError.None)]
    public void A_changed_response_is_refused_by_the_first_check_it_fails(int offset, byte flip, HandshakeError expected)
    {
        var response = Convert.FromHexString(ResponseHex);
        response[offset] ^= flip;
        Assert.Equal(expected, HandshakeCodec.ReadResponse(Keys, Initiate().State, response));
    }

    [Fact]
    public void A_response_with_a_valid_mac1_but_forged_payload_is_refused()
    {
        // Anyone who saw our public key can make mac1; only the peer can make the payload.
        var response = Convert.FromHexString(ResponseHex);
        response[50] ^= 1;
        var mac1Key = Hash("mac1----"u8, Keys.Us.ToBytes());
        var mac = new byte[16];
        var digest = new Org.BouncyCastle.Crypto.Digests.Blake2sDigest(mac1Key, 16, null, null);
        digest.BlockUpdate(response, 0, 60);
        digest.DoFinal(mac, 0);
        mac.CopyTo(response, 60);
        Assert.Equal(HandshakeError.BadPayload, HandshakeCodec.ReadResponse(Keys, Initiate().State, response));
    }

    [Fact]
    public void Another_preshared_key_does_not_authenticate()
    {
        var other = new HandshakeKeys(OurPrivate, Peer, new byte[32]);
        var message = new byte[HandshakeCodec.InitiationSize];
        var state = HandshakeCodec.WriteInitiation(other, Ephemeral, SenderIndex, Time, [], message);
        Assert.Equal(HandshakeError.BadPayload, HandshakeCodec.ReadResponse(other, state, Convert.FromHexString(ResponseHex)));
    }

    [Theory]
    [InlineData(91)]
    [InlineData(93)]
    [InlineData(0)]
    public void A_response_of_another_size_is_refused(int size)
    {
        var response = new byte[size];
        Convert.FromHexString(ResponseHex).AsSpan(0, Math.Min(size, 92)).CopyTo(response);
        Assert.Equal(HandshakeError.WrongSize, HandshakeCodec.ReadResponse(Keys, Initiate().State, response));
    }

    [Fact]
    public void A_low_order_ephemeral_is_refused()
    {
        var response = Convert.FromHexString(ResponseHex);
        response.AsSpan(12, 32).Clear();
        var mac1Key = Hash("mac1----"u8, Keys.Us.ToBytes());
        var digest = new Org.BouncyCastle.Crypto.Digests.Blake2sDigest(mac1Key, 16, null, null);
        digest.BlockUpdate(response, 0, 60);
        digest.DoFinal(response, 60);
        Assert.Equal(HandshakeError.BadEphemeral, HandshakeCodec.ReadResponse(Keys, Initiate().State, response));
    }

    [Fact]
    public void The_cookie_reply_gives_the_vectors_cookie()
    {
        var cookie = new byte[HandshakeCodec.CookieSize];
        Assert.Equal(HandshakeError.None, HandshakeCodec.ReadCookieReply(Keys, Initiate().State, Convert.FromHexString(CookieReplyHex), cookie));
        Assert.Equal(Cookie, cookie);
    }

    [Fact]
    public void A_cookie_reply_sealed_against_another_mac1_is_refused()
    {
        // Our second initiation (with mac2) has the same mac1, so vary the index instead: another initiation's reply.
        var message = new byte[HandshakeCodec.InitiationSize];
        var other = HandshakeCodec.WriteInitiation(Keys, Ephemeral, SenderIndex, Time.AddSeconds(1), [], message);
        Assert.Equal(HandshakeError.BadCookie, HandshakeCodec.ReadCookieReply(Keys, other, Convert.FromHexString(CookieReplyHex), new byte[16]));
    }

    [Fact]
    public void Receiver_is_read_from_responses_and_cookie_replies_only()
    {
        Assert.True(HandshakeCodec.TryReadReceiver(Convert.FromHexString(ResponseHex), out var type, out var index));
        Assert.Equal((HandshakeCodec.ResponseType, SenderIndex), (type, index));
        Assert.True(HandshakeCodec.TryReadReceiver(Convert.FromHexString(CookieReplyHex), out type, out index));
        Assert.Equal((HandshakeCodec.CookieReplyType, SenderIndex), (type, index));
        Assert.False(HandshakeCodec.TryReadReceiver(Convert.FromHexString(InitiationHex), out _, out _));
        Assert.False(HandshakeCodec.TryReadReceiver(new byte[92], out _, out _));
    }

    [Fact]
    public void Keys_say_nothing_of_their_secrets()
    {
        Assert.DoesNotContain(Convert.ToBase64String(OurPrivate), Keys.ToString());
        Assert.DoesNotContain(Convert.ToBase64String(PresharedKey), Keys.ToString());
    }

    private static byte[] Hash(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        var digest = new Org.BouncyCastle.Crypto.Digests.Blake2sDigest(256);
        digest.BlockUpdate(a);
        digest.BlockUpdate(b);
        var result = new byte[32];
        digest.DoFinal(result);
        return result;
    }
}
