using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;
using WgRouted.Engine;
using WgRouted.Service.Probing;
using XChaCha20Poly1305 = Org.BouncyCastle.Crypto.Modes.XChaCha20Poly1305;

namespace WgRouted.Service.Tests.Probing;

/// <summary>
/// A stock WireGuard peer on the in-memory network, for the handshake prober's tests: takes initiations as a
/// responder does (mac1, the Noise message, a timestamp newer than the last), moves its endpoint
/// for us to where they come from, and answers with a response; under load, without a valid mac2, with a cookie reply.
/// Written from the WireGuard paper (section 5.4) with BouncyCastle, apart from WgRouted's own handshake code.
/// </summary>
internal sealed class FakeStockPeer : IDisposable
{
    private static readonly byte[] Construction = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"u8.ToArray();
    private static readonly byte[] Identifier = "WireGuard v1 zx2c4 Jason@zx2c4.com"u8.ToArray();

    private readonly IDatagramSocket _socket;
    private readonly X25519PrivateKeyParameters _private;
    private readonly byte[] _public;
    private readonly byte[] _initiator;
    private readonly byte[] _psk;
    private readonly byte[] _cookieSecret = RandomNumberGenerator.GetBytes(32);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private readonly Lock _lock = new();
    private byte[] _lastTimestamp = new byte[12];

    public FakeStockPeer(DatagramNetwork network, IPEndPoint at, byte[] privateKey, PeerKey initiator, byte[]? presharedKey)
    {
        _socket = network.Bind(at, null);
        _private = new X25519PrivateKeyParameters(privateKey);
        _public = _private.GeneratePublicKey().GetEncoded();
        _initiator = initiator.ToBytes();
        _psk = presharedKey ?? new byte[32];
        _serving = ServeAsync();
    }

    /// <summary>Whether to answer an initiation from this source (false: lost on the way, or the peer is down).</summary>
    public Func<IPEndPoint, bool> Answers { get; set; } = _ => true;

    /// <summary>Under load: initiations without a valid mac2 get a cookie reply instead of a response.</summary>
    public bool UnderLoad { get; set; }

    /// <summary>The peer's endpoint for us: the source of the last initiation it took.</summary>
    public IPEndPoint? Endpoint { get; private set; }

    public int Taken { get; private set; }
    public int Cookies { get; private set; }
    public List<string> Refused { get; } = [];

    private async Task ServeAsync()
    {
        var buffer = new byte[2048];
        while (true)
        {
            (int Length, IPEndPoint From) received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            if (received.Length != 148 || buffer[0] != 1 || !Answers(received.From))
                continue;
            var reply = Take(buffer.AsSpan(0, 148).ToArray(), received.From);
            if (reply is not null)
                _socket.SendTo(reply, received.From);
        }
    }

    private byte[]? Take(byte[] msg, IPEndPoint from)
    {
        lock (_lock)
        {
            if (!Mac(Hash("mac1----"u8.ToArray(), _public), msg.AsSpan(0, 116)).AsSpan().SequenceEqual(msg.AsSpan(116, 16)))
                return Refuse("mac1");
            if (UnderLoad && !Mac(Cookie(from), msg.AsSpan(0, 132)).AsSpan().SequenceEqual(msg.AsSpan(132, 16)))
                return CookieReply(msg, from);
            var c = Hash(Construction);
            var h = Hash(Hash(c, Identifier), _public);
            var ephemeral = msg.AsSpan(8, 32).ToArray();
            h = Hash(h, ephemeral);
            c = Kdf(c, ephemeral, 1)[0];
            var k = Kdf(c, Dh(_private, ephemeral), 2);
            c = k[0];
            var initiator = Open(k[1], msg.AsSpan(40, 48), h);
            if (initiator is null || !initiator.AsSpan().SequenceEqual(_initiator))
                return Refuse("static");
            h = Hash(h, msg.AsSpan(40, 48));
            k = Kdf(c, Dh(_private, initiator), 2);
            c = k[0];
            var timestamp = Open(k[1], msg.AsSpan(88, 28), h);
            if (timestamp is null)
                return Refuse("timestamp seal");
            h = Hash(h, msg.AsSpan(88, 28));
            if (timestamp.AsSpan().SequenceCompareTo(_lastTimestamp) <= 0)
                return Refuse("timestamp not newer");
            _lastTimestamp = timestamp;
            Endpoint = from;
            Taken++;

            var response = new byte[92];
            response[0] = 2;
            RandomNumberGenerator.Fill(response.AsSpan(4, 4));
            msg.AsSpan(4, 4).CopyTo(response.AsSpan(8));
            var ours = new X25519PrivateKeyParameters(new Org.BouncyCastle.Security.SecureRandom());
            var ourEphemeral = ours.GeneratePublicKey().GetEncoded();
            ourEphemeral.CopyTo(response, 12);
            h = Hash(h, ourEphemeral);
            c = Kdf(c, ourEphemeral, 1)[0];
            c = Kdf(c, Dh(ours, ephemeral), 1)[0];
            c = Kdf(c, Dh(ours, initiator), 1)[0];
            k = Kdf(c, _psk, 3);
            h = Hash(h, k[1]);
            using (var aead = new ChaCha20Poly1305(k[2]))
                aead.Encrypt(new byte[12], [], [], response.AsSpan(44, 16), h);
            Mac(Hash("mac1----"u8.ToArray(), _initiator), response.AsSpan(0, 60)).CopyTo(response, 60);
            return response;
        }
    }

    /// <summary>The response to an initiation, as the peer would send it (for a test to deliver it elsewhere).</summary>
    public byte[] Respond(byte[] initiation) => Take(initiation, new IPEndPoint(IPAddress.Loopback, 0)) ?? throw new InvalidOperationException(string.Join(", ", Refused));

    private byte[]? Refuse(string why)
    {
        Refused.Add(why);
        return null;
    }

    private byte[] Cookie(IPEndPoint from) => Mac(_cookieSecret, [.. from.Address.GetAddressBytes(), (byte)(from.Port >> 8), (byte)from.Port]);

    private byte[] CookieReply(byte[] msg, IPEndPoint from)
    {
        Cookies++;
        var reply = new byte[64];
        reply[0] = 3;
        msg.AsSpan(4, 4).CopyTo(reply.AsSpan(4));
        var nonce = RandomNumberGenerator.GetBytes(24);
        nonce.CopyTo(reply, 8);
        var aead = new XChaCha20Poly1305();
        aead.Init(true, new AeadParameters(new KeyParameter(Hash("cookie--"u8.ToArray(), _public)), 128, nonce, msg.AsSpan(116, 16).ToArray()));
        var n = aead.ProcessBytes(Cookie(from), 0, 16, reply, 32);
        aead.DoFinal(reply, 32 + n);
        return reply;
    }

    /// <summary>BLAKE2s-256 of a then b (WireGuard's HASH).</summary>
    public static byte[] Hash(byte[] a, ReadOnlySpan<byte> b = default)
    {
        var digest = new Blake2sDigest(256);
        digest.BlockUpdate(a);
        digest.BlockUpdate(b);
        var result = new byte[32];
        digest.DoFinal(result);
        return result;
    }

    private static byte[] Mac(byte[] key, ReadOnlySpan<byte> data)
    {
        var digest = new Blake2sDigest(key, 16, null, null);
        digest.BlockUpdate(data);
        var result = new byte[16];
        digest.DoFinal(result);
        return result;
    }

    private static byte[] Hmac(byte[] key, byte[] data)
    {
        var hmac = new HMac(new Blake2sDigest(256));
        hmac.Init(new KeyParameter(key));
        hmac.BlockUpdate(data);
        var result = new byte[32];
        hmac.DoFinal(result);
        return result;
    }

    private static byte[][] Kdf(byte[] key, byte[] input, int n)
    {
        var t0 = Hmac(key, input);
        var t = new byte[n][];
        t[0] = Hmac(t0, [1]);
        for (var i = 1; i < n; i++)
            t[i] = Hmac(t0, [.. t[i - 1], (byte)(i + 1)]);
        return t;
    }

    private static byte[] Dh(X25519PrivateKeyParameters ours, byte[] theirs)
    {
        var shared = new byte[32];
        ours.GenerateSecret(new X25519PublicKeyParameters(theirs), shared, 0);
        return shared;
    }

    private static byte[]? Open(byte[] key, ReadOnlySpan<byte> sealedText, byte[] associated)
    {
        using var aead = new ChaCha20Poly1305(key);
        var plain = new byte[sealedText.Length - 16];
        try
        {
            aead.Decrypt(new byte[12], sealedText[..^16], sealedText[^16..], plain, associated);
            return plain;
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        try
        {
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }
}
