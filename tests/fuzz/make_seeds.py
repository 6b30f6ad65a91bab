#!/usr/bin/env python3
"""Writes the seed inputs of tests/fuzz/corpus/<target>/seed-* (run from
the repository's root; the files it writes are committed). Each seed is a
well-formed input in its target's layout (see the target's header
comment), so that a campaign starts from messages that reach deep:

  ike    Main Mode 1 (fresh responder, port 500 and 4500), the parsers on
         an SA payload, the established responder, and sealed Quick Mode
         1 + 3 and a sealed DPD R-U-THERE (target 3)
  wire   form bodies of several actions, hostile bytes and deep names
  sigv4  a valid Authorization, one the harness signs, SignedHeaders
         without host, an UNSIGNED-PAYLOAD hash, a presigned query
  frame  TCP SYN and its reply, ARP, ICMP to the internet gateway, a
         fragment train, a GSO TCP frame with its virtio header

Crash regressions live beside them under other names (crash-*): this
script never touches those. Standard library only."""
import os
import re
import socket
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
sys.path.insert(0, os.path.join(ROOT, "tests", "hostile"))
import ike_flooder  # noqa: E402  (Main Mode 1 as strongSwan offers it)


def write(target, name, data):
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    with open(os.path.join(CORPUS, target, name), "wb") as f:
        f.write(data)


def ike():
    mm1 = bytearray(ike_flooder.main_mode_1())
    mm1[0:8] = b"\x11" * 8
    write("ike", "seed-mm1", b"\x00" + struct.pack("!H", len(mm1)) + mm1)
    write("ike", "seed-mm1-natt", b"\x00" + struct.pack("!H", 0x8000 | len(mm1)) + mm1)
    write("ike", "seed-parsers-sa", b"\x02" + bytes([1]) + bytes(mm1[28:]))
    write("ike", "seed-established", b"\x01" + struct.pack("!H", len(mm1)) + mm1)
    # target 3: [kind][next payload][length][bytes]
    n_body = struct.pack("!IBBH", 1, 1, 16, 36136) + b"\x11" * 16 + struct.pack("!I", 1)
    n_pl = struct.pack("!BBH", 0, 0, 4 + len(n_body)) + n_body
    rec = bytes([1, 11]) + struct.pack("!H", 4 + len(n_pl)) + struct.pack("!I", 0x01020304) + n_pl
    write("ike", "seed-sealed-dpd", b"\x03" + rec)
    attrs = b"".join(struct.pack("!HH", 0x8000 | t, v) for t, v in
                     ((1, 1), (2, 3600), (3, 2), (4, 1), (5, 2), (6, 128)))
    tf = struct.pack("!BBHBBH", 0, 0, 8 + len(attrs), 1, 12, 0) + attrs
    prop = struct.pack("!BBHBBBB", 0, 0, 8 + 4 + len(tf), 1, 3, 4, 1) + b"\xaa\xbb\xcc\xdd" + tf
    sa_body = struct.pack("!II", 1, 1) + prop
    sa = struct.pack("!BBH", 10, 0, 4 + len(sa_body)) + sa_body
    nonce = struct.pack("!BBH", 4, 0, 4 + 32) + b"\x22" * 32
    ke = struct.pack("!BBH", 5, 0, 4 + 128) + b"\x33" * 128
    idci = struct.pack("!BBH", 5, 0, 4 + 12) + struct.pack("!BBH", 4, 0, 0) + bytes([10, 0, 0, 0, 255, 255, 255, 0])
    idcr = struct.pack("!BBH", 0, 0, 4 + 12) + struct.pack("!BBH", 4, 0, 0) + bytes([10, 96, 0, 0, 255, 255, 0, 0])
    chain = sa + nonce + ke + idci + idcr
    rec = bytes([0, 1]) + struct.pack("!H", 4 + len(chain)) + struct.pack("!I", 0x0a0b0c0d) + chain
    write("ike", "seed-sealed-qm", b"\x03" + rec + bytes([2, 0]) + struct.pack("!H", 0))


def wire():
    bodies = [
        b"Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-1&Filter.1.Name=tag:Name&Filter.1.Value.1=a%20b",
        b"Action=CreateVpnConnection&Version=2016-11-15&Type=ipsec.1&CustomerGatewayId=cgw-1&VpnGatewayId=vgw-1"
        b"&Options.StaticRoutesOnly=true&Options.TunnelOptions.1.PreSharedKey=abcdefgh12345678"
        b"&Options.TunnelOptions.1.Phase1EncryptionAlgorithm.1.Value=AES128&Options.TunnelOptions.2.TunnelInsideCidr=169.254.10.0%2F30",
        b"Action=CreateTags&Version=2016-11-15&ResourceId.1=vpc-1&Tag.1.Key=Name&Tag.1.Value=%FF%FE%01",
        b"Action=AuthorizeSecurityGroupIngress&GroupId=sg-1&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22"
        b"&IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0%2F0",
        b"Action=CreateVpc&CidrBlock=10.0.0.0/16&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=k",
        b"a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a=1&MaxResults=5&DryRun=true&NextToken=%00",
    ]
    for i, b in enumerate(bodies):
        write("wire", "seed-%d" % i, bytes([0, i]) + b)


def sigv4():
    def sv(flags, auth=b"", date=b"20261128T031713Z", host=b"127.0.0.1:8775", sha=b"",
           method=b"POST", path=b"/", query=b"", body=b"Action=DescribeVpcs&Version=2016-11-15"):
        return bytes([flags]) + b"\n".join([auth, date, host, sha, method, path, query]) + b"\n" + body
    short = (b"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/ec2/aws4_request, "
             b"SignedHeaders=host;x-amz-date, Signature=8109c9d17e36caa146b98e0a7d6dc48752d39db00cdc14e19e60f92f75ade5fb")
    write("sigv4", "seed-valid", sv(0, auth=short))
    write("sigv4", "seed-harness-signed", sv(1))
    write("sigv4", "seed-ghost", sv(0, auth=short.replace(b"host;x-amz-date", b"x-ghost;x-amz-date")))
    write("sigv4", "seed-sha", sv(1, sha=b"UNSIGNED-PAYLOAD"))
    write("sigv4", "seed-presigned", sv(0, auth=b"", date=b"", method=b"GET", body=b"", query=
          b"Action=DescribeVpcs&Version=2016-11-15&X-Amz-Algorithm=AWS4-HMAC-SHA256"
          b"&X-Amz-Credential=AKIDEXAMPLE%2F20261128%2Fus-east-1%2Fec2%2Faws4_request&X-Amz-Date=20261128T031713Z"
          b"&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=" + b"0" * 64))


def frame():
    with open(os.path.join(ROOT, "tests", "net", "frames.c")) as f:
        m = re.search(r"test_router_mac\[6\]\s*=\s*\{([^}]*)\}", f.read())
    rmac = bytes(int(x, 0) for x in m.group(1).split(","))
    mac_a, mac_b = bytes([2, 0, 10, 96, 0, 10]), bytes([2, 0, 10, 96, 1, 20])

    def csum(b):
        if len(b) % 2:
            b += b"\0"
        s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        s = (s & 0xffff) + (s >> 16)
        s = (s & 0xffff) + (s >> 16)
        return (~s) & 0xffff

    def ipv4(src, dst, proto, payload, ident=1, frag=0):
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0,
                        socket.inet_aton(src), socket.inet_aton(dst))
        return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

    def tcp(sp, dp, flags=2, data=b""):
        return struct.pack("!HHIIBBHHH", sp, dp, 1000, 0, 5 << 4, flags, 65535, 0, 0) + data

    def eth(dst, src, etype, payload):
        return dst + src + struct.pack("!H", etype) + payload

    def rec(flags, f):
        return bytes([flags]) + struct.pack("!H", len(f)) + f

    syn = eth(rmac, mac_a, 0x0800, ipv4("10.96.0.10", "10.96.1.20", 6, tcp(40000, 80)))
    write("frame", "seed-syn-a-to-b", rec(0, syn))
    arp = eth(b"\xff" * 6, mac_a, 0x0806, struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac_a,
              socket.inet_aton("10.96.0.10"), b"\0" * 6, socket.inet_aton("10.96.0.1")))
    write("frame", "seed-arp", rec(0, arp))
    icmp = eth(rmac, mac_a, 0x0800, ipv4("10.96.0.10", "198.51.100.7", 1,
               struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"x" * 32))
    write("frame", "seed-icmp-igw", rec(0, icmp))
    frag1 = eth(rmac, mac_a, 0x0800, ipv4("10.96.0.10", "10.96.1.20", 1,
                struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"y" * 24, ident=7, frag=0x2000))
    frag2 = eth(rmac, mac_a, 0x0800, ipv4("10.96.0.10", "10.96.1.20", 1, b"z" * 16, ident=7, frag=4))
    write("frame", "seed-fragments", rec(0, frag1) + rec(0, frag2))
    gso = eth(rmac, mac_a, 0x0800, ipv4("10.96.0.10", "10.96.1.20", 6, tcp(40000, 443, 0x18, b"g" * 4000)))
    # NEEDS_CSUM, GSO TCPv4, hdr_len, gso_size, csum_start, csum_offset
    vh = struct.pack("<BBHHHH", 1, 1, 54, 1448, 34, 16)
    write("frame", "seed-gso", rec(4, vh + gso))
    reply = eth(rmac, mac_b, 0x0800, ipv4("10.96.1.20", "10.96.0.10", 6, tcp(80, 40000, 0x12)))
    write("frame", "seed-syn-reply", rec(0, syn) + rec(1, reply))


if __name__ == "__main__":
    ike()
    wire()
    sigv4()
    frame()
