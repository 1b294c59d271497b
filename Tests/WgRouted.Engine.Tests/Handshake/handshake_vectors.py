#!/usr/bin/env python3
"""Computes the pinned vectors of HandshakeVectors.cs independently of WgRouted's C# code: WireGuard's handshake
(the WireGuard paper, section 5.4) written from the paper with Python's hashlib/hmac and the `cryptography` package
(X25519, ChaCha20-Poly1305); XChaCha20-Poly1305 by HChaCha20 (draft-irtf-cfrg-xchacha, section 2.2) written here.
Plays both sides: our initiation, the peer's response to it, a cookie reply, and the initiation that carries mac2."""
import hashlib, hmac, struct
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw
def pub(priv): return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(*RAW)
def dh(priv, pub_): return X25519PrivateKey.from_private_bytes(priv).exchange(X25519PublicKey.from_public_bytes(pub_))
def H(*parts): return hashlib.blake2s(b"".join(parts)).digest()
def MAC(key, data): return hashlib.blake2s(data, key=key, digest_size=16).digest()
def HMAC(key, data): return hmac.new(key, data, hashlib.blake2s).digest()
def KDF(key, data, n):
    t0 = HMAC(key, data); out = [HMAC(t0, b"\x01")]
    for i in range(2, n + 1): out.append(HMAC(t0, out[-1] + bytes([i])))
    return out
def AEAD(key, counter, plain, ad): return ChaCha20Poly1305(key).encrypt(b"\0" * 4 + struct.pack("<Q", counter), plain, ad)
def UNAEAD(key, counter, sealed, ad): return ChaCha20Poly1305(key).decrypt(b"\0" * 4 + struct.pack("<Q", counter), sealed, ad)

def rotl(v, c): return ((v << c) & 0xffffffff) | (v >> (32 - c))
def qr(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & 0xffffffff; s[d] = rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xffffffff; s[b] = rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xffffffff; s[d] = rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xffffffff; s[b] = rotl(s[b] ^ s[c], 7)
def hchacha20(key, nonce16):
    s = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574] + list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))
    for _ in range(10):
        qr(s, 0, 4, 8, 12); qr(s, 1, 5, 9, 13); qr(s, 2, 6, 10, 14); qr(s, 3, 7, 11, 15)
        qr(s, 0, 5, 10, 15); qr(s, 1, 6, 11, 12); qr(s, 2, 7, 8, 13); qr(s, 3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))
def XAEAD(key, nonce24, plain, ad):
    return ChaCha20Poly1305(hchacha20(key, nonce24[:16])).encrypt(b"\0" * 4 + nonce24[16:], plain, ad)

# draft-irtf-cfrg-xchacha-03, section 2.2.1: the HChaCha20 test vector.
assert hchacha20(bytes(range(32)), bytes.fromhex("000000090000004a0000000031415927")).hex() == \
    "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc"

CONSTRUCTION = b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"; IDENTIFIER = b"WireGuard v1 zx2c4 Jason@zx2c4.com"
# RFC 7748, 6.1: we are Alice, the peer is Bob. Ephemerals, indices, psk, timestamp, nonce and cookie are fixed bytes.
s_i = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"); S_i = pub(s_i)
s_r = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"); S_r = pub(s_r)
e_i = bytes(range(1, 33)); e_r = bytes(range(33, 65))
psk = bytes(range(100, 132))
sender, responder_index = 0x11223344, 0x55667788
# 2027-01-15T08:00:00.1234567Z: seconds since 1970, nanoseconds rounded down to a multiple of 2^24.
unix, nanos = 1800000000 + 0, (1234567 * 100) & ~((1 << 24) - 1)
tai = struct.pack(">QI", 0x400000000000000a + unix, nanos)

def initiation(cookie=None):
    C = H(CONSTRUCTION); Hh = H(H(C, IDENTIFIER), S_r)
    E_i = pub(e_i); msg = bytearray(b"\x01\0\0\0" + struct.pack("<I", sender) + E_i)
    Hh = H(Hh, E_i); C = KDF(C, E_i, 1)[0]
    C, k = KDF(C, dh(e_i, S_r), 2); enc_static = AEAD(k, 0, S_i, Hh); Hh = H(Hh, enc_static); msg += enc_static
    C, k = KDF(C, dh(s_i, S_r), 2); enc_time = AEAD(k, 0, tai, Hh); Hh = H(Hh, enc_time); msg += enc_time
    mac1 = MAC(H(b"mac1----", S_r), bytes(msg)); msg += mac1
    msg += MAC(cookie, bytes(msg)) if cookie else b"\0" * 16
    return bytes(msg), C, Hh, mac1

msg1, C, Hh, mac1 = initiation()
assert len(msg1) == 148
# The peer's side: read the initiation as a responder would (proves the message), then answer it.
Cr = H(CONSTRUCTION); Hr = H(H(Cr, IDENTIFIER), S_r)
E = msg1[8:40]; Hr = H(Hr, E); Cr = KDF(Cr, E, 1)[0]
Cr, k = KDF(Cr, dh(s_r, E), 2); assert UNAEAD(k, 0, msg1[40:88], Hr) == S_i; Hr = H(Hr, msg1[40:88])
Cr, k = KDF(Cr, dh(s_r, S_i), 2); assert UNAEAD(k, 0, msg1[88:116], Hr) == tai; Hr = H(Hr, msg1[88:116])
assert (Cr, Hr) == (C, Hh)
E_r = pub(e_r)
resp = bytearray(b"\x02\0\0\0" + struct.pack("<II", responder_index, sender) + E_r)
Hr = H(Hr, E_r); Cr = KDF(Cr, E_r, 1)[0]
Cr = KDF(Cr, dh(e_r, E), 1)[0]
Cr = KDF(Cr, dh(e_r, S_i), 1)[0]
Cr, tau, k = KDF(Cr, psk, 3); Hr = H(Hr, tau)
resp += AEAD(k, 0, b"", Hr)
resp += MAC(H(b"mac1----", S_i), bytes(resp)); resp += b"\0" * 16
assert len(resp) == 92

nonce = bytes(range(200, 224)); cookie = bytes(range(0xa0, 0xb0))
reply = b"\x03\0\0\0" + struct.pack("<I", sender) + nonce + XAEAD(H(b"cookie--", S_r), nonce, cookie, mac1)
assert len(reply) == 64
msg2 = initiation(cookie)[0]

for name, value in [("Initiation", msg1), ("Response", bytes(resp)), ("CookieReply", reply), ("InitiationWithCookie", msg2)]:
    print(f'    public const string {name}Hex = "{value.hex()}";')
