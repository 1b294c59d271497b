using System.Net;
using WgRouted.Engine.Probe;

namespace WgRouted.Engine.Tests.Probe;

/// <summary>
/// Fixed keys and messages for the pinned encodings. The expected bytes were computed independently of this
/// code (Python's hmac/hashlib, HKDF by hand from RFC 5869, the X25519 secret from RFC 7748 section 6.1).
/// </summary>
internal static class ProbeVectors
{
    // RFC 7748, 6.1: Alice's and Bob's key pairs; their shared secret is 4a5d9d5b...1e161742.
    public static readonly byte[] AlicePrivate = Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    public static readonly byte[] AlicePublic = Convert.FromHexString("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    public static readonly byte[] BobPrivate = Convert.FromHexString("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    public static readonly byte[] BobPublic = Convert.FromHexString("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");

    /// <summary>HKDF-SHA256(ikm: the RFC 7748 secret, salt: none, info: "WgRouted probe v1" || Alice's || Bob's public key).</summary>
    public const string KeyHex = "5b8075395dd5d24489d174ba63644bc39549438a1d1fbf926034a81abc7b5302";

    public static readonly PeerKey Alice = PeerKey.FromBytes(AlicePublic);
    public static readonly PeerKey Bob = PeerKey.FromBytes(BobPublic);
    public static readonly ProbeKey Key = ProbeKeys.Derive(AlicePrivate, AlicePublic, BobPublic);

    public const ulong AliceSequence = (1_800_000_000UL << 32) | 7;
    public const ulong BobSequence = (1_790_000_000UL << 32) | 42;
    public static readonly DateTimeOffset AliceTime = new DateTimeOffset(2027, 1, 15, 8, 0, 0, TimeSpan.Zero).AddTicks(1_234_567);
    public static readonly DateTimeOffset BobTime = new DateTimeOffset(2027, 1, 15, 8, 0, 0, TimeSpan.Zero).AddTicks(1_300_000);

    public static readonly Dictionary<string, ProbeMessage> Messages = new()
    {
        ["request"] = new ProbeRequest(Alice, AliceSequence, AliceTime),
        ["move"] = new MoveRequest(Alice, AliceSequence + 1, AliceTime, Endpoint.Parse("198.51.100.7:51820")),
        ["reply"] = new ProbeReply(Bob, BobSequence, BobTime, AliceSequence, AliceTime,
            Endpoint.Parse("198.51.100.7:40000"), Endpoint.Parse("[2001:db8::7]:51820")),
        ["reply-no-endpoint"] = new ProbeReply(Bob, BobSequence, BobTime, AliceSequence, AliceTime,
            Endpoint.Parse("[2001:db8:1::2]:40001"), null),
        ["move-reply"] = new MoveReply(Bob, BobSequence + 1, BobTime, AliceSequence + 1, AliceTime,
            Endpoint.Parse("198.51.100.7:40000"), Endpoint.Parse("198.51.100.7:51820")),
    };

    public const string RequestHex =
        "57475250020100008520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a6b49d2000000000718fae2769b0fccbc" +
        "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "7c9d5ac11e26c692098e393255822021";

    public static ProbeKey? KeyFor(PeerKey sender) => sender == Alice || sender == Bob ? Key : null;

    public static byte[] Encode(ProbeMessage message, ProbeKey? key = null)
    {
        var buffer = new byte[ProbeCodec.MaxSize];
        var n = ProbeCodec.Encode(message, key ?? Key, buffer);
        return buffer[..n];
    }

    public static IPAddress Ip(string text) => IPAddress.Parse(text);
}
