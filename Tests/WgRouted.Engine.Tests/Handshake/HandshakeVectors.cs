namespace WgRouted.Engine.Tests.Handshake;

/// <summary>
/// Fixed keys and messages of a WireGuard handshake, computed independently of this code by handshake_vectors.py
/// (beside this file: the paper's section 5.4 in Python with hashlib, hmac and the cryptography package, HChaCha20
/// checked against draft-irtf-cfrg-xchacha's vector). We are RFC 7748's Alice, the peer is Bob.
/// </summary>
internal static class HandshakeVectors
{
    public static readonly byte[] OurPrivate = Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    public static readonly byte[] PeerPrivate = Convert.FromHexString("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    public static readonly PeerKey Peer = PeerKey.FromBytes(Convert.FromHexString("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"));
    public static readonly byte[] Ephemeral = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];
    public static readonly byte[] PresharedKey = [.. Enumerable.Range(100, 32).Select(i => (byte)i)];
    public static readonly byte[] Cookie = [.. Enumerable.Range(0xa0, 16).Select(i => (byte)i)];
    public const uint SenderIndex = 0x11223344;
    public static readonly DateTimeOffset Time = new DateTimeOffset(2027, 1, 15, 8, 0, 0, TimeSpan.Zero).AddTicks(1_234_567);

    public const string InitiationHex = "010000004433221107a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c939cfd3a084554ccec0cb676a45bf663ff5507db4c5cc4a34b5ad0b5f1d02ca444e94eba9150f85a541bca9e485c8068a2c190e6fa74103daac9d561d4f190accc1208bffd3d26c4ef1506c449b95b91aaf08d8fbd86ffb0d69637e000000000000000000000000000000000";
    public const string ResponseHex = "0200000088776655443322115869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67ba308c3b1de4203bfcef9dd22fe7c2a90a5ff8721cd9074c93bfa5087db2f3c9100000000000000000000000000000000";
    public const string CookieReplyHex = "0300000044332211c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf7f7364dde46cc3c72879014a5e044128a244c2397e70ab089355ea3705203579";
    public const string InitiationWithCookieHex = "010000004433221107a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c939cfd3a084554ccec0cb676a45bf663ff5507db4c5cc4a34b5ad0b5f1d02ca444e94eba9150f85a541bca9e485c8068a2c190e6fa74103daac9d561d4f190accc1208bffd3d26c4ef1506c449b95b91aaf08d8fbd86ffb0d69637e036a48c87ce7c6dbd1b73e1a0d60d00a0";
}
