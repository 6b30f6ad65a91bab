"""The strongSwan configuration that cgwconf renders, loaded into a real
charon (strongSwan 5.9, kernel-libipsec) in a network namespace.

For each case: cgwconf-render writes swanctl.conf; charon-systemd starts in
its own network namespace (and its own /run, see docs/testing.md);
`swanctl --load-all` must load both connections and both secrets;
`swanctl --list-conns` must show them with the right addresses, IKE
version and traffic selectors; charon's own log of the parsed
configuration must show the proposals the tunnel options call for; and the
first IKE packet charon sends to each AWS endpoint (captured in a second
namespace playing AWS) must offer exactly those algorithms.

Addresses: 198.51.100.0/24 between the namespaces, 203.0.113.0/24 for the
AWS endpoints. Nothing leaves the two namespaces, which are always
deleted. Needs root (skipped otherwise)."""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import textwrap
import unittest

from interop.netns import CHARON, SWANCTL, Charon, Namespaces, stop_process, wait_for

BUILD = os.environ.get("VPCD_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
RENDER = os.path.join(BUILD, "tests", "cgwconf", "cgwconf-render")
CGW_IP = "198.51.100.2"     # fixture.h: the customer gateway
AWS_LINK_IP = "198.51.100.1"
VGW_IPS = ("203.0.113.1", "203.0.113.2")  # fixture.h: tunnel 1 and 2

# Binds UDP 500 on each AWS endpoint address, writes the first datagram
# each receives to OUTDIR/<address>.bin, exits when it has both (or after
# 20 s).  Runs inside the AWS namespace.
LISTENER = textwrap.dedent("""
    import os, select, socket, sys, time
    outdir, addrs = sys.argv[1], sys.argv[2:]
    socks = {}
    for a in addrs:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a, 500))
        socks[s] = a
    open(os.path.join(outdir, "listening"), "w").close()
    end = time.time() + 20
    while socks and time.time() < end:
        r, _, _ = select.select(list(socks), [], [], 0.5)
        for s in r:
            data, _ = s.recvfrom(65535)
            with open(os.path.join(outdir, socks[s] + ".bin"), "wb") as f:
                f.write(data)
            del socks[s]
""")


def ike_offer(packet):
    """The algorithms of the first proposal of an IKE_SA_INIT (IKEv2) or
    Main Mode (IKEv1) first message, as a dict."""
    if len(packet) < 28:
        raise AssertionError("IKE packet of %d bytes" % len(packet))
    next_payload, version, exchange = packet[16], packet[17], packet[18]
    length = struct.unpack("!I", packet[24:28])[0]
    if length != len(packet):
        raise AssertionError("IKE length %d, datagram %d" % (length, len(packet)))
    if next_payload not in (1, 33):
        raise AssertionError("first payload %d is not SA" % next_payload)
    sa_len = struct.unpack("!H", packet[30:32])[0]
    sa = packet[32:28 + sa_len]
    offer = {"version": version >> 4, "exchange": exchange}
    if version >> 4 == 1:
        # SA: DOI, situation; proposal: #, protocol, spi size, #transforms
        prop = sa[8:]
        ntrans, spisize = prop[7], prop[6]
        offer["transforms"] = ntrans
        t = prop[8 + spisize:]
        tlen = struct.unpack("!H", t[2:4])[0]
        attrs = t[8:tlen]
        i = 0
        while i + 4 <= len(attrs):
            atype, aval = struct.unpack("!HH", attrs[i:i + 4])
            if atype & 0x8000:  # TV
                offer[atype & 0x7fff] = aval
                i += 4
            else:  # TLV
                offer[atype] = int.from_bytes(attrs[i + 4:i + 4 + aval], "big")
                i += 4 + aval
        return offer
    prop = sa
    ntrans, spisize = prop[7], prop[6]
    t = prop[8 + spisize:]
    offer["transforms"] = []
    for _ in range(ntrans):
        tlen = struct.unpack("!H", t[2:4])[0]
        ttype, tid = t[4], struct.unpack("!H", t[6:8])[0]
        keylen = struct.unpack("!H", t[10:12])[0] if tlen >= 12 else None
        offer["transforms"].append((ttype, tid, keylen))
        t = t[tlen:]
    return offer


# IKEv1 attribute types (RFC 2409 appendix A)
ENC, HASH, AUTH, GROUP, KEYLEN = 1, 2, 3, 4, 14
# IKEv2 transform types and ids (RFC 7296, IANA)
ENCR, PRF, INTEG, DH = 1, 2, 3, 4


@unittest.skipUnless(os.geteuid() == 0,
                     "needs root: creates network namespaces and runs charon")
class CgwconfStrongSwanTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        for path in (RENDER, CHARON, SWANCTL):
            if not os.path.exists(path):
                raise unittest.SkipTest("%s is missing (build, or install strongswan-swanctl "
                                        "charon-systemd libcharon-extra-plugins)" % path)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cgwconf-ss-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        os.mkdir(os.path.join(self.dir, "capture"))
        self.ns = Namespaces("cgwconf", ("cgw", "aws"))
        self.addCleanup(self.ns.remove)
        self.ns.make()
        self.ns.veth("cgw", "cgw0", "aws", "aws0")
        self.ns.ip("cgw", "addr", "add", CGW_IP + "/24", "dev", "cgw0")
        self.ns.ip("aws", "addr", "add", AWS_LINK_IP + "/24", "dev", "aws0")
        for ip in VGW_IPS:
            self.ns.ip("aws", "addr", "add", ip + "/32", "dev", "aws0")
        self.ns.ip("cgw", "route", "add", "203.0.113.0/24", "via", AWS_LINK_IP)
        self.charon = Charon(self.ns["cgw"], self.dir, log_levels={"cfg": 2})
        self.addCleanup(self.charon.stop)

    def start_process(self, ns, argv, log):
        out = open(os.path.join(self.dir, log), "w")
        self.addCleanup(out.close)
        # "ip netns exec" execs the command: p.pid is the process itself
        p = subprocess.Popen(["ip", "netns", "exec", ns] + argv, stdout=out,
                             stderr=subprocess.STDOUT)
        self.addCleanup(stop_process, p)
        return p

    def load(self, render_args):
        swanctl_conf = os.path.join(self.dir, "swanctl.conf")
        with open(swanctl_conf, "w") as f:
            r = subprocess.run([RENDER] + render_args + ["51cb26fd"], stdout=f,
                               stderr=subprocess.PIPE, text=True)
        self.assertEqual(r.returncode, 0, "cgwconf-render: " + r.stderr)
        capture = os.path.join(self.dir, "capture")
        self.start_process(self.ns["aws"], [sys.executable, "-c", LISTENER, capture] + list(VGW_IPS),
                           "listener.log")
        wait_for(lambda: os.path.exists(os.path.join(capture, "listening")), 10, "the AWS listener")
        out = self.charon.start(swanctl_conf)
        self.assertIn("loaded ike secret 'ike-tunnel1'", out)
        self.assertIn("loaded ike secret 'ike-tunnel2'", out)
        self.assertIn("successfully loaded 2 connections, 0 unloaded", out)
        return self.charon.swanctl("--list-conns").stdout

    def check_conns(self, conns, version, local_ts, remote_ts, inside=None):
        """local_ts, remote_ts: one string per tunnel as --list-conns shows;
        inside: per tunnel (router's, gateway's) inside address when the
        tunnel must have an inside<N> CHILD SA for them, else None: it
        must have none."""
        for n, vgw in enumerate(VGW_IPS, 1):
            block = conns.split("tunnel%d: IKEv%d" % (n, version), 1)
            self.assertEqual(len(block), 2, "tunnel%d (IKEv%d) not loaded:\n%s" % (n, version, conns))
            lines = [l.strip() for l in block[1].split("\n")]
            self.assertIn("local:  " + CGW_IP, lines)
            self.assertIn("remote: " + vgw, lines)
            self.assertIn("id: " + vgw, lines)
            self.assertTrue(any(l.startswith("tunnel%d: TUNNEL, rekeying every 3060s" % n)
                                for l in lines), lines)
            self.assertIn("local:  " + local_ts[n - 1], lines)
            self.assertIn("remote: " + remote_ts[n - 1], lines)
            child = [i for i, l in enumerate(lines) if l.startswith("inside%d: TUNNEL" % n)]
            if inside is None:
                self.assertEqual(child, [], lines)
                continue
            self.assertEqual(len(child), 1, lines)
            self.assertTrue(lines[child[0]].startswith("inside%d: TUNNEL, rekeying every 3060s" % n))
            self.assertEqual(lines[child[0] + 1:child[0] + 3],
                             ["local:  %s/32" % inside[n - 1][0], "remote: %s/32" % inside[n - 1][1]])

    def logged_proposals(self):
        with open(os.path.join(self.dir, "charon.log")) as f:
            log = f.read()
        ike = [l.split("proposals = ", 1)[1] for l in log.split("\n") if "  proposals = IKE:" in l]
        esp = [l.split("proposals = ", 1)[1] for l in log.split("\n") if "  proposals = ESP:" in l]
        return ike, esp, log

    def check_logged_proposals(self, ike, esp, children=1):
        """charon logs (cfg level 2) each connection it parsed from vici,
        with each of its `children` CHILD SAs; the second may be logged a
        little after swanctl returns."""
        try:
            wait_for(lambda: (len(self.logged_proposals()[0]) >= 2 and
                              len(self.logged_proposals()[1]) >= 2 * children), 10,
                     "charon's log of both connections")
        finally:
            got_ike, got_esp, log = self.logged_proposals()
        self.assertEqual(got_ike, [ike, ike], log)
        self.assertEqual(got_esp, [esp] * (2 * children), log)

    def captured_offers(self):
        capture = os.path.join(self.dir, "capture")
        paths = [os.path.join(capture, ip + ".bin") for ip in VGW_IPS]
        wait_for(lambda: all(os.path.exists(p) for p in paths), 20,
                 "charon's first IKE packets to both AWS endpoints")
        offers = []
        for p in paths:
            with open(p, "rb") as f:
                offers.append(ike_offer(f.read()))
        return offers

    def test_ikev1_seed_suite_static(self):
        """The seed's suite: IKEv1 main mode, AES-128, SHA-1, group 2, PFS."""
        conns = self.load(["--ike", "ikev1"])
        # static: an inside CHILD SA per tunnel (the router's ping of the
        # gateway's inside address)
        self.check_conns(conns, 1, ["10.0.0.0/24 192.168.10.0/24"] * 2, ["10.96.0.0/16"] * 2,
                         inside=[("169.254.252.2", "169.254.252.1"),
                                 ("169.254.253.6", "169.254.253.5")])
        self.check_logged_proposals("IKE:AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024",
                                    "ESP:AES_CBC_128/HMAC_SHA1_96/MODP_1024/NO_EXT_SEQ", children=2)
        for offer in self.captured_offers():
            self.assertEqual(offer["version"], 1)
            self.assertEqual(offer["exchange"], 2, "not Main Mode")
            self.assertEqual(offer["transforms"], 1)
            self.assertEqual(offer[ENC], 7, "not AES-CBC")
            self.assertEqual(offer[KEYLEN], 128)
            self.assertEqual(offer[HASH], 2, "not SHA-1")
            self.assertEqual(offer[AUTH], 1, "not pre-shared key")
            self.assertEqual(offer[GROUP], 2)

    def test_ikev2_gcm_group14_bgp(self):
        """Tunnel options narrowed to AES-GCM and group 14, BGP routing."""
        conns = self.load(["--ike", "ikev2", "--bgp",
                           "--phase1-enc", "AES256-GCM-16,AES128-GCM-16",
                           "--phase1-integ", "SHA2-384,SHA2-256", "--phase1-dh", "20,14",
                           "--phase2-enc", "AES256-GCM-16", "--phase2-dh", "14",
                           "--local-cidr", "10.0.0.0/24", "--remote-cidr", "10.96.0.0/16"])
        # BGP: the inside addresses in a CHILD SA of their own, as for
        # static routing (IKEv1 negotiates one pair of selectors per CHILD
        # SA; the template is the same for both versions)
        self.check_conns(conns, 2, ["10.0.0.0/24"] * 2, ["10.96.0.0/16"] * 2,
                         inside=[("169.254.252.2", "169.254.252.1"),
                                 ("169.254.253.6", "169.254.253.5")])
        self.check_logged_proposals("IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/MODP_2048",
                                    "ESP:AES_GCM_16_256/MODP_2048/NO_EXT_SEQ", children=2)
        for offer in self.captured_offers():
            self.assertEqual(offer["version"], 2)
            self.assertEqual(offer["exchange"], 34, "not IKE_SA_INIT")
            self.assertEqual(sorted(offer["transforms"]),
                             [(ENCR, 20, 128), (PRF, 5, None), (DH, 14, None)])

    def test_ikev1_vpc_blocks(self):
        """A VPC with a secondary block, RemoteIpv4NetworkCidr 0.0.0.0/0:
        charon loads per tunnel a CHILD SA per block (tunnel<N> for the
        primary, tunnel<N>-2) with the customer side's selectors, and the
        inside<N> CHILD SA as before."""
        conns = self.load(["--ike", "ikev1", "--vpc-cidr", "10.96.0.0/16", "--vpc-cidr", "10.97.0.0/24"])
        self.check_conns(conns, 1, ["10.0.0.0/24 192.168.10.0/24"] * 2, ["10.96.0.0/16"] * 2,
                         inside=[("169.254.252.2", "169.254.252.1"),
                                 ("169.254.253.6", "169.254.253.5")])
        for n in (1, 2):
            lines = [l.strip() for l in conns.split("tunnel%d: IKEv1" % n, 1)[1].split("\n")]
            child = [i for i, l in enumerate(lines) if l.startswith("tunnel%d-2: TUNNEL" % n)]
            self.assertEqual(len(child), 1, lines)
            self.assertEqual(lines[child[0] + 1:child[0] + 3],
                             ["local:  10.0.0.0/24 192.168.10.0/24", "remote: 10.97.0.0/24"])
            self.assertFalse(any(l.startswith("tunnel%d-3" % n) for l in lines), lines)
        self.check_logged_proposals("IKE:AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024",
                                    "ESP:AES_CBC_128/HMAC_SHA1_96/MODP_1024/NO_EXT_SEQ", children=3)


if __name__ == "__main__":
    unittest.main()
