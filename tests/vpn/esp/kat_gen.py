#!/usr/bin/env python3
"""Known-answer ESP packets for tests/vpn/esp/test_esp.c, computed without
OpenSSL's EVP code that vpcd uses: AES in pure Python (checked against
FIPS-197 C.1), GCM in pure Python (checked against McGrew & Viega's GCM
spec test case 4), HMAC from Python's hashlib/hmac. The CBC ciphertext is
also cross-checked with the `openssl enc -aes-128-cbc -nopad` CLI when it is
on PATH.  Run: python3 tests/vpn/esp/kat_gen.py  (prints C arrays)."""
import hashlib, hmac, shutil, struct, subprocess

# ---- AES (FIPS-197), encryption only ------------------------------------
def _xt(a):
    a <<= 1
    return (a ^ 0x11b) & 0xff if a & 0x100 else a

def _sbox():
    inv = [0] * 256
    for a in range(1, 256):
        for b in range(1, 256):
            # multiply in GF(2^8)
            p, x, y = 0, a, b
            while y:
                if y & 1: p ^= x
                x = _xt(x); y >>= 1
            if p == 1: inv[a] = b; break
    s = []
    for a in range(256):
        b = inv[a]; r = b
        for i in range(1, 5):
            r ^= ((b << i) | (b >> (8 - i))) & 0xff
        s.append(r ^ 0x63)
    return s

SBOX = _sbox()

def _expand(key):
    nk = len(key) // 4; nr = nk + 6
    w = [list(key[4*i:4*i+4]) for i in range(nk)]
    rcon = 1
    for i in range(nk, 4 * (nr + 1)):
        t = list(w[i-1])
        if i % nk == 0:
            t = t[1:] + t[:1]; t = [SBOX[x] for x in t]; t[0] ^= rcon; rcon = _xt(rcon)
        elif nk > 6 and i % nk == 4:
            t = [SBOX[x] for x in t]
        w.append([a ^ b for a, b in zip(w[i-nk], t)])
    return [sum(w[4*r:4*r+4], []) for r in range(nr + 1)]

def aes_encrypt_block(key, block):
    rk = _expand(key); s = [a ^ b for a, b in zip(block, rk[0])]
    for r in range(1, len(rk)):
        s = [SBOX[x] for x in s]
        s = [s[(i + 4 * (i % 4)) % 16] for i in range(16)]  # ShiftRows (column-major)
        if r != len(rk) - 1:
            n = []
            for c in range(4):
                a = s[4*c:4*c+4]
                n += [_xt(a[0]) ^ _xt(a[1]) ^ a[1] ^ a[2] ^ a[3],
                      a[0] ^ _xt(a[1]) ^ _xt(a[2]) ^ a[2] ^ a[3],
                      a[0] ^ a[1] ^ _xt(a[2]) ^ _xt(a[3]) ^ a[3],
                      _xt(a[0]) ^ a[0] ^ a[1] ^ a[2] ^ _xt(a[3])]
            s = n
        s = [a ^ b for a, b in zip(s, rk[r])]
    return bytes(s)

assert aes_encrypt_block(bytes(range(16)), bytes.fromhex("00112233445566778899aabbccddeeff")) \
    == bytes.fromhex("69c4e0d86a7b0430d8cdb78070b4c55a"), "FIPS-197 C.1"

def cbc_encrypt(key, iv, pt):
    out, prev = b"", iv
    for i in range(0, len(pt), 16):
        prev = aes_encrypt_block(key, bytes(a ^ b for a, b in zip(pt[i:i+16], prev)))
        out += prev
    return out

# ---- GCM (NIST SP 800-38D), 96-bit IV -------------------------------------
def _gmul(x, y):
    r, R = 0, 0xe1 << 120
    for i in range(127, -1, -1):
        if (y >> i) & 1: r ^= x
        x = (x >> 1) ^ R if x & 1 else x >> 1
    return r

def gcm_encrypt(key, iv, aad, pt):
    h = int.from_bytes(aes_encrypt_block(key, bytes(16)), "big")
    j0 = iv + b"\0\0\0\1"
    ct = b""
    for i in range(0, len(pt), 16):
        ctr = iv + struct.pack(">I", 2 + i // 16)
        ks = aes_encrypt_block(key, ctr)
        ct += bytes(a ^ b for a, b in zip(pt[i:i+16], ks))
    def blocks(b):
        b += bytes(-len(b) % 16)
        return [int.from_bytes(b[i:i+16], "big") for i in range(0, len(b), 16)]
    y = 0
    for blk in blocks(aad) + blocks(ct) + [(len(aad) * 8) << 64 | len(ct) * 8]:
        y = _gmul(y ^ blk, h)
    tag = int.from_bytes(aes_encrypt_block(key, j0), "big") ^ y
    return ct, tag.to_bytes(16, "big")

_c, _t = gcm_encrypt(bytes.fromhex("feffe9928665731c6d6a8f9467308308"),
    bytes.fromhex("cafebabefacedbaddecaf888"),
    bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2"),
    bytes.fromhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"))
assert _t == bytes.fromhex("5bc94fbc3221a5db94fae95ae7121a47"), "GCM spec test case 4"

# ---- the inner packet: an 84-byte ICMP echo request, as `ping` sends ---------
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def inner_packet():
    icmp = struct.pack(">BBHHH", 8, 0, 0, 0x1234, 1) + bytes(range(0x10, 0x10 + 56))
    icmp = icmp[:2] + struct.pack(">H", csum(icmp)) + icmp[4:]
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0xbeef, 0x4000, 63, 1, 0,
                     bytes([10, 96, 0, 10]), bytes([10, 0, 0, 5]))
    ip = ip[:10] + struct.pack(">H", csum(ip)) + ip[12:]
    return ip + icmp

def esp_plaintext(inner, align):
    pad = -(len(inner) + 2) % align
    return inner + bytes(range(1, pad + 1)) + bytes([pad, 4])

def c_array(name, b):
    lines = ["static const uint8_t %s[%d] = {" % (name, len(b))]
    for i in range(0, len(b), 12):
        lines.append("\t" + ", ".join("0x%02x" % x for x in b[i:i+12]) + ",")
    lines.append("};")
    return "\n".join(lines)

inner = inner_packet()
print(c_array("kat_inner", inner))

# AES-128-GCM-16: key 00..0f, salt a0a1a2a3, SPI 0x0000c001, seq 1,
# explicit IV = the sequence number as 64 bits.
gcm_key, salt, spi, seq = bytes(range(16)), bytes.fromhex("a0a1a2a3"), 0xc001, 1
hdr = struct.pack(">II", spi, seq)
eiv = struct.pack(">Q", seq)
ct, tag = gcm_encrypt(gcm_key, salt + eiv, hdr, esp_plaintext(inner, 4))
print(c_array("kat_gcm_esp", hdr + eiv + ct + tag))

# AES-128-CBC + HMAC-SHA1-96: AES key 10..1f, HMAC key 20..33, IV 40..4f,
# SPI 0x0000c002, seq 1.
cbc_key, mac_key, iv, spi = bytes(range(0x10, 0x20)), bytes(range(0x20, 0x34)), \
    bytes(range(0x40, 0x50)), 0xc002
hdr = struct.pack(">II", spi, 1)
pt = esp_plaintext(inner, 16)
ct = cbc_encrypt(cbc_key, iv, pt)
if shutil.which("openssl"):
    ref = subprocess.run(["openssl", "enc", "-aes-128-cbc", "-nopad", "-K", cbc_key.hex(),
                          "-iv", iv.hex()], input=pt, capture_output=True, check=True).stdout
    assert ref == ct, "openssl enc disagrees with the Python AES-CBC"
icv = hmac.new(mac_key, hdr + iv + ct, hashlib.sha1).digest()[:12]
print(c_array("kat_cbc_sha1_esp", hdr + iv + ct + icv))
