"""IKE under attack: a real strongSwan router establishes both tunnels of a
VPN connection made through vpcd's API (vpcd itself, --vpn-outside-
addresses, in its namespace) while forged Main Mode first messages (or, with an IKEv2 router, forged
IKE_SA_INIT requests) arrive from the router's own address with random
source ports (ike_flooder.py), and vpcd's log stays small.

  far:  router 198.51.100.2 -- relayr | udp_relay.py, 50 ms each way | relayv -- vpcd
        (charon)               owns 203.0.113.1,.2      owns 198.51.100.2       203.0.113.1,.2
                                                        + flood 2,000/s
  near: router 198.51.100.2 --------------------------------------------- vpcd
        (charon, + flood 20,000/s from its namespace)

This kernel has no netem: the relay is a process holding UDP 500/4500
sockets in two namespaces (relayr faces the router, relayv faces vpcd),
forwarding each datagram after 50 ms with its ports kept. The flood runs
FLOOD_SECONDS (25 s); the router is started FLOOD_WARMUP s into it and
must have both tunnels UP (in vpcd's telemetry and in swanctl) within 20 s;
vpcd's log must grow by less than 1 MB over the flood; a ping through
the tunnel shows the round trip (>= 100 ms far); DescribeVpnConnections'
telemetry says UP for both and stays so.

Needs root (namespaces, TUN, raw sockets, charon); skipped otherwise.
Namespaces have per-run names and are removed, also on failure; floods
are bounded in rate and time and never leave the namespaces."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

import boto3
import botocore.config

import vpcdtest
from interop import netns
from interop.netns import (CHARON, SWANCTL, Charon, Namespaces, netns_executor, ping,
                           stop_process, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
CGW_IP = "198.51.100.2"
VPCD_LINK_IP = "198.51.100.1"
VGW_IPS = ("203.0.113.1", "203.0.113.2")
API_PORT = 8775
OFFICE_NET, OFFICE_IP = "10.0.0.0/24", "10.0.0.1"
VPC_NET, VPC_IP = "10.96.0.0/16", "10.96.0.1"
FLOOD_SECONDS = 25
FLOOD_WARMUP = 3            # the flood runs this long before the router starts
ESTABLISH_WITHIN = 20       # seconds, from the router's start
LOG_GROWTH_MAX = 1 << 20    # bytes of vpcd's log over the flood
DELAY_MS = 50
# forged messages per second; IKE_FLOOD_FAR_RATE / IKE_FLOOD_NEAR_RATE=N
# measure other rates (the flooder reaches ~100,000/s from one core here)
FAR_RATE = int(os.environ.get("IKE_FLOOD_FAR_RATE", "2000"))
NEAR_RATE = int(os.environ.get("IKE_FLOOD_NEAR_RATE", "20000"))


@unittest.skipUnless(os.geteuid() == 0, "needs root: namespaces, TUN, raw sockets, charon")
class IkeFloodTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(vpcdtest.VPCD):
            raise unittest.SkipTest("vpcd is not built (make all)")
        for path in (CHARON, SWANCTL):
            if not os.path.exists(path):
                raise unittest.SkipTest("%s is missing (scripts/install-deps.sh)" % path)
        cls.dir = tempfile.mkdtemp(prefix="ike-flood-")
        if os.environ.get("VPCD_TEST_KEEP"):
            print("\nkeeping " + cls.dir, file=sys.stderr)
        else:
            cls.addClassCleanup(shutil.rmtree, cls.dir, True)

    def setUp(self):
        self.tdir = tempfile.mkdtemp(prefix=self._testMethodName + "-", dir=self.dir)

    # ---- plumbing ----------------------------------------------------------

    def namespaces(self, far):
        roles = ("router", "relayr", "relayv", "vpcd") if far else ("router", "vpcd")
        ns = Namespaces("ikefl", roles)
        self.addCleanup(ns.remove)
        ns.make(rp_filter=0)
        self.ns = ns
        # the router: its address, the office network on lo, 203.0.113.0/24
        # through the next hop (the relay, or vpcd)
        next_hop = "relayr" if far else "vpcd"
        ns.veth("router", "wan0", next_hop, "rtr0")
        ns.ip("router", "addr", "add", CGW_IP + "/24", "dev", "wan0")
        ns.ip("router", "addr", "add", OFFICE_IP + "/24", "dev", "lo")
        ns.ip("router", "route", "add", "203.0.113.0/24", "via", VPCD_LINK_IP)
        ns.ip(next_hop, "addr", "add", VPCD_LINK_IP + "/24", "dev", "rtr0")
        vpcd_dev = "rtr0"
        if far:
            for a in VGW_IPS:           # the relay stands for vpcd here
                ns.ip("relayr", "addr", "add", a + "/32", "dev", "rtr0")
            ns.veth("relayv", "vpc0", "vpcd", "wan0")
            ns.ip("relayv", "addr", "add", CGW_IP + "/24", "dev", "vpc0")
            ns.ip("relayv", "route", "add", "203.0.113.0/24", "via", VPCD_LINK_IP)
            ns.ip("vpcd", "addr", "add", VPCD_LINK_IP + "/24", "dev", "wan0")
            vpcd_dev = "wan0"
        for a in VGW_IPS:
            ns.ip("vpcd", "addr", "add", a + "/32", "dev", vpcd_dev)
        ns.ip("vpcd", "addr", "add", VPC_IP + "/16", "dev", "lo")
        return "relayv" if far else "router"    # where the flood comes from

    def start_relay(self):
        p = subprocess.Popen(
            ["ip", "netns", "exec", self.ns["relayr"], sys.executable,
             os.path.join(HERE, "udp_relay.py"), "--far-netns", self.ns["relayv"],
             "--router-ip", CGW_IP, "--vpcd-ips", ",".join(VGW_IPS),
             "--delay-ms", str(DELAY_MS)],
            stdout=subprocess.PIPE, stderr=open(os.path.join(self.tdir, "relay.log"), "w"),
            text=True)
        self.addCleanup(stop_process, p)
        self.assertEqual(p.stdout.readline().strip(), "ready")

    def start_vpcd(self):
        """vpcd in its namespace with both outside addresses, and a static
        VPN connection (AWS's default tunnel options: IKEv1 and IKEv2,
        the router initiates) to the router: (boto3 client, executor,
        connection id, the tunnels' pre-shared keys, vpcd's log path)."""
        data = os.path.join(self.tdir, "vpcd-data")
        log_path = os.path.join(self.tdir, "vpcd.log")
        env = dict(os.environ, VPCD_ACCESS_KEY_ID=vpcdtest.KEY_ID,
                   VPCD_SECRET_ACCESS_KEY=vpcdtest.SECRET)
        with open(log_path, "ab") as log:
            p = subprocess.Popen(netns.in_netns(self.ns["vpcd"], vpcdtest.VPCD, "--listen",
                                                "127.0.0.1:%d" % API_PORT, "--data-dir", data,
                                                "--vpn-outside-addresses", ",".join(VGW_IPS)),
                                 stdout=log, stderr=log, env=env)
        self.addCleanup(stop_process, p, 20)
        pool = netns_executor(self.ns["vpcd"])
        self.addCleanup(pool.shutdown)

        def log_tail():
            with open(log_path, errors="replace") as f:
                return f.read()[-3000:]
        netns.wait_listening(pool, API_PORT, p, 15, log_tail)
        ec2 = pool.submit(boto3.client, "ec2", region_name=vpcdtest.REGION,
                          endpoint_url="http://127.0.0.1:%d" % API_PORT,
                          aws_access_key_id=vpcdtest.KEY_ID,
                          aws_secret_access_key=vpcdtest.SECRET,
                          # the API must answer during the flood: a stall
                          # fails the test instead of waiting a minute
                          config=botocore.config.Config(retries={"max_attempts": 0},
                                                        connect_timeout=5,
                                                        read_timeout=5)).result()

        def call(name, **kw):
            return pool.submit(getattr(ec2, name), **kw).result()
        vpc = call("create_vpc", CidrBlock=VPC_NET)["Vpc"]["VpcId"]
        cgw = call("create_customer_gateway", Type="ipsec.1", PublicIp=CGW_IP,
                   BgpAsn=65000)["CustomerGateway"]["CustomerGatewayId"]
        vgw = call("create_vpn_gateway", Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
        call("attach_vpn_gateway", VpnGatewayId=vgw, VpcId=vpc)
        vid = call("create_vpn_connection", Type="ipsec.1", CustomerGatewayId=cgw,
                   VpnGatewayId=vgw, Options={"StaticRoutesOnly": True}
                   )["VpnConnection"]["VpnConnectionId"]
        call("create_vpn_connection_route", VpnConnectionId=vid, DestinationCidrBlock=OFFICE_NET)
        desc = call("describe_vpn_connections", VpnConnectionIds=[vid])["VpnConnections"][0]
        tunnels = desc["Options"]["TunnelOptions"]
        self.assertEqual([t["OutsideIpAddress"] for t in tunnels], list(VGW_IPS))
        self.psk = [t["PreSharedKey"] for t in tunnels]
        self.call, self.vid, self.vpcd_log = call, vid, log_path

    def telemetry_up(self):
        tel = self.call("describe_vpn_connections",
                        VpnConnectionIds=[self.vid])["VpnConnections"][0]["VgwTelemetry"]
        return len(tel) == 2 and all(t["Status"] == "UP" for t in tel)

    def router_conf(self, version=1):
        """Both tunnels as docs/testing.md's AWS-style settings (IKEv1, or
        IKEv2 with the same algorithms), started at once (start_action =
        start)."""
        conns, secrets_ = [], []
        for n in range(2):
            conns.append(textwrap.dedent("""\
                tunnel%(n)d {
                    version = %(version)d
                    local_addrs = %(cgw)s
                    remote_addrs = %(vgw)s
                    proposals = aes128-sha1-modp1024
                    dpd_delay = 10s
                    dpd_timeout = 30s
                    local {
                        auth = psk
                        id = %(cgw)s
                    }
                    remote {
                        auth = psk
                        id = %(vgw)s
                    }
                    children {
                        net%(n)d {
                            mode = tunnel
                            local_ts = %(office)s
                            remote_ts = %(vpc)s
                            esp_proposals = aes128-sha1-modp1024
                            dpd_action = restart
                            start_action = start
                        }
                    }
                }
                """) % {"n": n + 1, "cgw": CGW_IP, "vgw": VGW_IPS[n], "office": OFFICE_NET,
                        "vpc": VPC_NET, "version": version})
            secrets_.append(textwrap.dedent("""\
                ike-tunnel%(n)d {
                    id-a = %(cgw)s
                    id-b = %(vgw)s
                    secret = "%(psk)s"
                }
                """) % {"n": n + 1, "cgw": CGW_IP, "vgw": VGW_IPS[n], "psk": self.psk[n]})
        path = os.path.join(self.tdir, "swanctl.conf")
        with open(path, "w") as f:
            f.write("connections {\n%s}\nsecrets {\n%s}\n" % (
                textwrap.indent("".join(conns), "    "), textwrap.indent("".join(secrets_), "    ")))
        return path

    def start_flood(self, where, rate, ikev2=False):
        p = subprocess.Popen(
            ["ip", "netns", "exec", self.ns[where], sys.executable,
             os.path.join(HERE, "ike_flooder.py"), "--src", CGW_IP, "--dst", ",".join(VGW_IPS),
             "--rate", str(rate), "--seconds", str(FLOOD_SECONDS)] + (["--ikev2"] if ikev2 else []),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.addCleanup(stop_process, p)
        return p

    def both_established(self, charon, version=1):
        out = charon.swanctl("--list-sas").stdout
        return all(re.search(r"(?m)^tunnel%d: #\d+, ESTABLISHED, IKEv%d" % (n, version), out) and
                   re.search(r"(?m)^  net%d: #\d+, reqid \d+, INSTALLED" % n, out)
                   for n in (1, 2))

    # ---- the attack --------------------------------------------------------

    def flood_and_establish(self, far, rate, version=1):
        """version: the router's IKE version and the flood's."""
        flood_from = self.namespaces(far)
        if far:
            self.start_relay()
        self.start_vpcd()
        log_before = os.path.getsize(self.vpcd_log)
        charon = Charon(self.ns["router"], self.tdir)
        self.addCleanup(charon.stop)
        conf = self.router_conf(version)

        flood = self.start_flood(flood_from, rate, ikev2=version == 2)
        t_flood = time.time()
        time.sleep(FLOOD_WARMUP)
        self.assertIsNone(flood.poll(), "the flooder stopped early:\n" +
                          (flood.stdout.read() if flood.poll() is not None else ""))
        t_router = time.time()         # charon's start-up counts too
        self.assertIn("successfully loaded 2 connections", charon.start(conf))
        wait_for(self.telemetry_up, ESTABLISH_WITHIN, "both tunnels UP in vpcd's telemetry",
                 interval=0.2)
        wait_for(lambda: self.both_established(charon, version),
                 max(ESTABLISH_WITHIN - (time.time() - t_router), 0.1),
                 "both tunnels ESTABLISHED/INSTALLED in swanctl --list-sas")
        took = time.time() - t_router
        up_at = os.path.getsize(self.vpcd_log)
        print("\n  %s IKEv%d router, %d forged/s: both tunnels up %.1f s after the router "
              "started" % ("far" if far else "near", version, rate, took), file=sys.stderr)
        self.assertLessEqual(took, ESTABLISH_WITHIN)
        self.assertIsNone(flood.poll(), "the flood ended before both tunnels were up")

        # traffic through a tunnel, and the relay's delay in its round trip
        sent, got, out = ping(self.ns["router"], VPC_IP, count=3, interval="0.3", wait=2,
                              iface=OFFICE_IP)
        self.assertGreater(got, 0, "no ping through the tunnel:\n" + out)
        m = re.search(r"= ([\d.]+)/([\d.]+)/", out)
        print("  ping through the tunnel: %s ms round trip (min)" % m.group(1), file=sys.stderr)
        if far:
            self.assertGreaterEqual(float(m.group(1)), 2 * DELAY_MS * 0.95, out)

        # the flood ran its course at the rate asked, and vpcd saw it
        report = flood.communicate(timeout=FLOOD_SECONDS + 30)[0]
        flood_took = time.time() - t_flood
        m = re.search(r"sent (\d+) in ([\d.]+) s \((\d+)/s\), (\d+) failed", report)
        self.assertTrue(m, report)
        achieved = int(m.group(3))
        print("  flooder: %s" % report.strip(), file=sys.stderr)
        self.assertGreaterEqual(achieved, rate * 0.9, report)
        log_growth = os.path.getsize(self.vpcd_log) - log_before
        print("  vpcd's log grew %d bytes over %.1f s" % (log_growth, flood_took), file=sys.stderr)
        self.assertLess(log_growth, LOG_GROWTH_MAX)
        with open(self.vpcd_log, errors="replace") as f:
            log = f.read()
        if version == 1:
            self.assertRegex(log, r"peer initiated Main Mode from port (?!500\b|4500\b)\d+",
                             "vpcd did not answer the forged messages: not a flood of valid ones")
        else:
            self.assertIn("asking for a cookie", log,
                          "vpcd did not take the forged IKE_SA_INIT for valid ones")
        self.assertIn("similar messages suppressed", log)
        # still up after the flood
        self.assertTrue(self.both_established(charon, version))
        self.assertTrue(self.telemetry_up(), "a tunnel went DOWN during the flood")
        self.assertNotIn("tunnel DOWN", log[up_at:], "a tunnel went DOWN during the flood")
        for secret in self.psk:
            self.assertNotIn(secret, log)

    def test_far_router_during_2000_per_s(self):
        """Router 50 ms away (100 ms round trip) during 2,000 forged/s
        (IKE_FLOOD_FAR_RATE)."""
        self.flood_and_establish(far=True, rate=FAR_RATE)

    def test_near_router_during_20000_per_s(self):
        """Router next door during 20,000 forged/s (IKE_FLOOD_NEAR_RATE)."""
        self.flood_and_establish(far=False, rate=NEAR_RATE)


    def test_near_ikev2_router_during_20000_per_s(self):
        """An IKEv2 router next door during 20,000 forged IKE_SA_INIT/s
        (IKE_FLOOD_NEAR_RATE): cookies keep the forged ones stateless."""
        self.flood_and_establish(far=False, rate=NEAR_RATE, version=2)


if __name__ == "__main__":
    unittest.main()
