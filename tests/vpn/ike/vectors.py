#!/usr/bin/env python3
"""Independent derivation of the IKEv1 vectors in test_ike_crypto.c.

Written from RFC 2409 (sections 5, 5.5, appendix B) and RFC 3947 with
Python's hashlib/hmac and the `cryptography` package only; run it to print
the C constants that the test compares against:  python3 vectors.py
"""
import hashlib, hmac

def prf(h, key, *parts):
    return hmac.new(key, b"".join(parts), h).digest()

def H(h, *parts):
    return h(b"".join(parts)).digest()

def c(name, b):
    body = ", ".join(f"0x{x:02x}" for x in b)
    print(f"static const uint8_t {name}[{len(b)}] = {{ {body} }};")

sha1 = hashlib.sha1
psk = b"xyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxy"
ni = bytes(range(0, 32))
nr = bytes(range(32, 64))
gxy = bytes((i * 7 + 3) & 0xff for i in range(128))
gxi = bytes((i * 5 + 1) & 0xff for i in range(128))
gxr = bytes((i * 11 + 2) & 0xff for i in range(128))
cki = bytes.fromhex("0102030405060708")
ckr = bytes.fromhex("1112131415161718")
sai_b = bytes.fromhex("00000001000000010000002c0101000100000024010100008001000780020002800300018004000280")
idii = bytes.fromhex("01000000c6336402")   # ID_IPV4_ADDR 198.51.100.2
idir = bytes.fromhex("01000000cb007101")   # ID_IPV4_ADDR 203.0.113.1

skeyid = prf(sha1, psk, ni, nr)
sk_d = prf(sha1, skeyid, gxy, cki, ckr, b"\x00")
sk_a = prf(sha1, skeyid, sk_d, gxy, cki, ckr, b"\x01")
sk_e = prf(sha1, skeyid, sk_a, gxy, cki, ckr, b"\x02")
# AES-256 needs 32 bytes, SHA-1 gives 20: Ka = K1 | K2, K1 = prf(SKEYID_e, 0)
k1 = prf(sha1, sk_e, b"\x00"); k2 = prf(sha1, sk_e, k1)
ka = (k1 + k2)[:32]
hash_i = prf(sha1, skeyid, gxi, gxr, cki, ckr, sai_b, idii)
hash_r = prf(sha1, skeyid, gxr, gxi, ckr, cki, sai_b, idir)
iv1 = H(sha1, gxi, gxr)[:16]
last = bytes(range(0xa0, 0xb0))
msgid = bytes.fromhex("6d1f2a3b")
iv2 = H(sha1, last, msgid)[:16]
rest1 = bytes(range(0x40, 0x40 + 60))
h1 = prf(sha1, sk_a, msgid, rest1)
h2 = prf(sha1, sk_a, msgid, ni, rest1)
h3 = prf(sha1, sk_a, b"\x00", msgid, ni, nr)
# KEYMAT, ESP (3), SPI 0x2f74367a, with PFS g(qm)^xy = gxy, 36 bytes
spi = bytes.fromhex("2f74367a")
seed = gxy + b"\x03" + spi + ni + nr
km, k = b"", b""
while len(km) < 36:
    k = prf(sha1, sk_d, k + seed if k else seed); km += k
keymat_pfs = km[:36]
# without PFS, SHA-256 PRF, 68 bytes (AES-256 key + GCM salt + 32)
sk_d256 = prf(hashlib.sha256, skeyid, b"d")
seed = b"\x03" + spi + ni + nr
km, k = b"", b""
while len(km) < 68:
    k = prf(hashlib.sha256, sk_d256, k + seed if k else seed); km += k
keymat_nopfs = km[:68]
natd = H(sha1, cki, ckr, bytes([198, 51, 100, 2]), (4500).to_bytes(2, "big"))

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
aes_key = bytes(range(16)); aes_iv = bytes(range(16, 32)); aes_pt = bytes(range(32))
enc = Cipher(algorithms.AES(aes_key), modes.CBC(aes_iv)).encryptor()
aes_ct = enc.update(aes_pt) + enc.finalize()

for n, v in [("v_skeyid", skeyid), ("v_skeyid_d", sk_d), ("v_skeyid_a", sk_a),
             ("v_skeyid_e", sk_e), ("v_ka_aes256", ka), ("v_hash_i", hash_i),
             ("v_hash_r", hash_r), ("v_iv1", iv1), ("v_iv2", iv2), ("v_qm_hash1", h1),
             ("v_qm_hash2", h2), ("v_qm_hash3", h3), ("v_keymat_pfs", keymat_pfs),
             ("v_sk_d256", sk_d256), ("v_keymat_nopfs", keymat_nopfs), ("v_natd", natd),
             ("v_aes_ct", aes_ct)]:
    c(n, v)
