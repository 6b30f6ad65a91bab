#!/usr/bin/env python3
"""Independent derivation of the IKEv2 vectors in test_ikev2_crypto.c.

Written from RFC 7296 (sections 2.13, 2.14, 2.15, 2.17, 2.18, 2.23, 3.14)
and RFC 5282 with Python's hashlib/hmac and the `cryptography` package
only, not from vpcd's C; run it to print the C constants that the test
compares against:  python3 ikev2_vectors.py
"""
import hashlib, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

def prf(h, key, *parts):
    return hmac.new(key, b"".join(parts), h).digest()

def prf_plus(h, key, seed, n):
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = prf(h, key, t, seed, bytes([i])); out += t; i += 1
    return out[:n]

def c(name, b):
    body = ", ".join(f"0x{x:02x}" for x in b)
    print(f"static const uint8_t {name}[{len(b)}] = {{ {body} }};")

sha1, sha256, sha384 = hashlib.sha1, hashlib.sha256, hashlib.sha384
ni = bytes(range(0, 32)); nr = bytes(range(32, 64))
gir = bytes((i * 7 + 3) & 0xff for i in range(256))
spi_i = bytes.fromhex("0102030405060708"); spi_r = bytes.fromhex("1112131415161718")
psk = b"xyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxy"

# prf+ alone: SHA-256, 100 bytes
v_prf_plus = prf_plus(sha256, b"key", b"seed", 100)

# initial keys, PRF SHA-1, AES-128-CBC, HMAC-SHA1-96: 20 + 2*20 + 2*16 + 2*20
seed = prf(sha1, ni + nr, gir)
km = prf_plus(sha1, seed, ni + nr + spi_i + spi_r, 20 + 40 + 32 + 40)
v1 = dict(skeyseed=seed, sk_d=km[0:20], sk_ai=km[20:40], sk_ar=km[40:60],
          sk_ei=km[60:76], sk_er=km[76:92], sk_pi=km[92:112], sk_pr=km[112:132])

# PRF SHA-256, AES-256-GCM-16 (key + 4-byte salt, no integrity)
seed2 = prf(sha256, ni + nr, gir)
km2 = prf_plus(sha256, seed2, ni + nr + spi_i + spi_r, 32 + 36 * 2 + 64)
v2 = dict(skeyseed=seed2, sk_d=km2[0:32], sk_ei=km2[32:68], sk_er=km2[68:104],
          sk_pi=km2[104:136], sk_pr=km2[136:168])

# IKE SA rekey: SKEYSEED with the old PRF (SHA-1) and old SK_d, keys with
# the new PRF (SHA-384) and the new SPIs; AES-128-CBC + SHA-384-192
nspi_i = bytes.fromhex("2122232425262728"); nspi_r = bytes.fromhex("3132333435363738")
seed3 = prf(sha1, v1["sk_d"], gir, ni, nr)
km3 = prf_plus(sha384, seed3, ni + nr + nspi_i + nspi_r, 48 + 96 + 32 + 96)
v3 = dict(skeyseed=seed3, sk_d=km3[0:48], sk_ai=km3[48:96], sk_er=km3[160:176],
          sk_pr=km3[224:272])

# CHILD SA KEYMAT: AES-128-CBC + SHA1 = 2 * (16 + 20); with PFS, g^ir first
v_keymat = prf_plus(sha1, v1["sk_d"], ni + nr, 72)
v_keymat_pfs = prf_plus(sha1, v1["sk_d"], gir + ni + nr, 72)

# PSK AUTH: the initiator's signed octets = IKE_SA_INIT request | Nr | prf(SK_pi, IDi body)
msg1 = bytes((i * 13 + 5) & 0xff for i in range(300))
idi = bytes([1, 0, 0, 0, 198, 51, 100, 2])
v_auth_i = prf(sha1, prf(sha1, psk, b"Key Pad for IKEv2"), msg1, nr, prf(sha1, v1["sk_pi"], idi))

# NAT detection: SHA-1(SPIi | SPIr | IP | port)
v_natd = hashlib.sha1(spi_i + spi_r + bytes([203, 0, 113, 1]) + (500).to_bytes(2, "big")).digest()

# SK payload, AES-128-CBC + HMAC-SHA1-96, IV 16 x 0xa5: header (28) +
# SK header (4) as AAD, inner = 10 bytes -> padded to 16 (5 padding + 1)
inner = bytes(range(0x30, 0x3a))
iv = bytes([0xa5] * 16)
pt = inner + bytes(5) + bytes([5])
ct = Cipher(algorithms.AES(v1["sk_ei"]), modes.CBC(iv)).encryptor().update(pt)
body_len = 16 + 16 + 12
hdr = spi_i + spi_r + bytes([46, 0x20, 37, 0x08]) + (7).to_bytes(4, "big") + (28 + 4 + body_len).to_bytes(4, "big")
skh = bytes([41, 0]) + (4 + body_len).to_bytes(2, "big")
icv = prf(sha1, v1["sk_ai"], hdr, skh, iv, ct)[:12]
v_sk_cbc = hdr + skh + iv + ct + icv

# SK payload, AES-256-GCM-16, IV 8 x 0x5a: nonce = salt | IV, AAD = header + SK header
iv8 = bytes([0x5a] * 8)
pt = inner + bytes([0])
body_len = 8 + len(pt) + 16
hdr = spi_i + spi_r + bytes([46, 0x20, 37, 0x20]) + (7).to_bytes(4, "big") + (28 + 4 + body_len).to_bytes(4, "big")
skh = bytes([41, 0]) + (4 + body_len).to_bytes(2, "big")
key, salt = v2["sk_er"][:32], v2["sk_er"][32:]
ctag = AESGCM(key).encrypt(salt + iv8, pt, hdr + skh)
v_sk_gcm = hdr + skh + iv8 + ctag

c("v_prf_plus", v_prf_plus)
for k, v in v1.items(): c("v1_" + k, v)
for k, v in v2.items(): c("v2_" + k, v)
for k, v in v3.items(): c("v3_" + k, v)
c("v_keymat", v_keymat); c("v_keymat_pfs", v_keymat_pfs)
c("v_auth_i", v_auth_i); c("v_natd", v_natd)
c("v_sk_cbc", v_sk_cbc); c("v_sk_gcm", v_sk_gcm)
