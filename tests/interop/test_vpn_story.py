"""The user's story, end to end, against vpcd itself (not the driver): the
aws CLI creates a VPC, a customer gateway, a VPN gateway and a static VPN
connection; the strongSwan configuration that vpcd generates goes into a
real charon (kernel-libipsec, IKEv1, NAT-T); vpcd's engine runs both
tunnels and reports them in DescribeVpnConnections' VgwTelemetry.

Topology, four network namespaces with per-run unique names, always
deleted (also on failure):

    office 10.0.0.10 -- 10.0.0.1 router 198.51.100.2 -- 198.51.100.1 vpcd
                                 (charon)              203.0.113.1, .2 (outside)
                                                       API on 127.0.0.1:8775
                                                       TUN vpcd0
                                                       10.96.1.1 -- 10.96.1.10 vpchost

vpcd runs inside its namespace; the test reaches its API from there: the
aws CLI through `ip netns exec`, boto3 from a thread that has entered the
namespace (setns). Until the VPC data plane exists, packets from the
tunnels leave vpcd's TUN into that namespace's stack, which forwards them
to the "VPC host"; vpcd routes the static route (10.0.0.0/24) into the TUN.

The router's swanctl.conf is the download (GetVpnConnectionDeviceSample-
Configuration, device type 51cb26fd, IKEv1), changed only where the test
must (router_conf says each change and why):
  - an "inside<N>" CHILD SA per tunnel (router inside address <-> vpcd's):
    the download's selectors cover the office LAN and the VPC only, and the
    router must ping vpcd's inside address the way a route-based router's
    `ip sla` would;
  - close_action = start on every CHILD SA: when vpcd stops (restart) or
    renegotiates a tunnel whose options changed, it deletes the SAs, and
    the router must come back by itself (AWS endpoints never stop, so the
    download does not say this).
DPD is AWS's minimum, 30 s (the tunnel options' default), so "DOWN within
the DPD timeout" is measured with the real value.

Steps: both tunnels UP (telemetry and strongSwan), pings; 4 MB of TCP each
way between the office and the VPC host, vpcd's log showing its TUN with
offloads and a TCP super-frame read from it (cut by vpcd); `vpcctl vpn
status`, run from the router's namespace against vpcd's API, shows each tunnel's ISAKMP SA (QM_IDLE) and IPsec SAs,
their SPIs the ones strongSwan lists (in and out swapped), counters that
grow with a ping; charon killed ->
both DOWN "DPD timeout" within 30 s; charon back -> UP; a wrong PSK for
tunnel 1 in the router -> DOWN "authentication failed..." while tunnel 2
is UP; ModifyVpnTunnelOptions on tunnel 2 renegotiates tunnel 2 only;
vpcd restarted (SIGTERM + start) -> no earlier SA in its first tunnel
detail, UP from the store, traffic; the
connection deleted -> tunnels and route gone, traffic stops.

Needs root (namespaces, TUN, charon); skipped otherwise."""
import json
import os
import re
import secrets
import shutil
import signal
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
from interop.netns import Charon, Namespaces, netns_executor, run, stop_process, wait_for

VPCD = os.path.join(vpcdtest.BUILD, "vpcd")
VPCCTL = os.path.join(vpcdtest.BUILD, "vpcctl")
API_PORT = 8775
API = "http://127.0.0.1:%d" % API_PORT
CGW_IP = "198.51.100.2"
VPCD_LINK_IP = "198.51.100.1"
OUTSIDE = ("203.0.113.1", "203.0.113.2")
OFFICE_IP = "10.0.0.10"
VPC_CIDR = "10.96.0.0/16"
VPC_HOST_IP = "10.96.1.10"
DPD_TIMEOUT = 30          # AWS's minimum and default DPDTimeoutSeconds
BULK_PORT = 5201
# A TCP sink: one connection, everything read, the byte count sent back
# (argv[1]: the port; prints "listening" once bound).
SINK = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1)
print("listening", flush=True)
c, _ = s.accept(); n = 0
while True:
    d = c.recv(65536)
    if not d: break
    n += len(d)
c.sendall(str(n).encode()); c.close()
"""
# Sends argv[3] bytes to argv[1]:argv[2], then prints the sink's count.
SEND = r"""
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
left = int(sys.argv[3]); buf = b"v" * 65536
while left:
    left -= c.send(buf[:min(left, len(buf))])
c.shutdown(socket.SHUT_WR); print(c.recv(64).decode())
"""


@unittest.skipUnless(os.geteuid() == 0,
                     "needs root: creates network namespaces, runs vpcd's TUN and charon")
class VpnStoryTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        for path in (VPCD, netns.CHARON, netns.SWANCTL):
            if not os.path.exists(path):
                raise unittest.SkipTest("%s is missing (make all, or install strongswan-swanctl "
                                        "charon-systemd libcharon-extra-plugins)" % path)
        if not shutil.which("aws"):
            raise unittest.SkipTest("the aws CLI is missing")
        cls.dir = tempfile.mkdtemp(prefix="vpn-story-")
        if os.environ.get("VPCD_TEST_KEEP"):
            print("\nkeeping " + cls.dir, file=sys.stderr)
        else:
            cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.ns = Namespaces("vpns", ("office", "router", "vpcd", "vpchost"))
        cls.addClassCleanup(cls.ns.remove)
        cls.ns.make(rp_filter=0)
        cls.build_topology()
        cls.pool = netns_executor(cls.ns["vpcd"])
        cls.addClassCleanup(cls.pool.shutdown)

    @classmethod
    def build_topology(cls):
        """office -- router -- vpcd (outside addresses) -- vpchost."""
        ns = cls.ns
        ns.office_router_vpcd(office_ip=OFFICE_IP, cgw_ip=CGW_IP, vpcd_link_ip=VPCD_LINK_IP)
        for a in OUTSIDE:
            ns.ip("vpcd", "addr", "add", a + "/32", "dev", "wan0")
        ns.veth("vpcd", "vpc0", "vpchost", "eth0")
        ns.ip("vpcd", "addr", "add", "10.96.1.1/24", "dev", "vpc0")
        ns.sysctl("vpcd", "net.ipv4.ip_forward", 1)
        ns.ip("vpchost", "addr", "add", VPC_HOST_IP + "/24", "dev", "eth0")
        ns.ip("vpchost", "route", "add", "default", "via", "10.96.1.1")

    # ---- vpcd in its namespace --------------------------------------------------

    def setUp(self):
        self.data_dir = os.path.join(self.dir, "vpcd-data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.vpcd_log = os.path.join(self.dir, "vpcd.log")
        self.vpcd = None
        self.charon = self.make_charon()
        if self.charon:
            self.addCleanup(self.charon.stop)
        self.addCleanup(self.stop_vpcd, False)
        self.t0 = time.time()

    def make_charon(self):
        """The router's charon (not started); None where there is no "router"."""
        return Charon(self.ns["router"], self.dir, log_levels={"ike": 2})

    def vpcd_command(self):
        # "ip netns exec" execs vpcd: self.vpcd.pid is vpcd's
        # every address of its namespace: vpcctl asks it from the router's
        return netns.in_netns(self.ns["vpcd"], VPCD, "--listen", "0.0.0.0:%d" % API_PORT,
                              "--data-dir", self.data_dir, "--vpn-outside-addresses", ",".join(OUTSIDE))

    def start_vpcd(self):
        env = dict(os.environ, VPCD_ACCESS_KEY_ID=vpcdtest.KEY_ID,
                   VPCD_SECRET_ACCESS_KEY=vpcdtest.SECRET)
        with open(self.vpcd_log, "ab") as log:
            self.vpcd = subprocess.Popen(self.vpcd_command(), stdout=log, stderr=log, env=env)
        netns.wait_listening(self.pool, API_PORT, self.vpcd, 10, lambda: self.vpcd_log_text()[-3000:])
        self.ec2 = self.pool.submit(
            boto3.client, "ec2", region_name=vpcdtest.REGION, endpoint_url=API,
            aws_access_key_id=vpcdtest.KEY_ID, aws_secret_access_key=vpcdtest.SECRET,
            config=botocore.config.Config(retries={"max_attempts": 0})).result()

    def stop_vpcd(self, check=True):
        p, self.vpcd = self.vpcd, None
        if not p:
            return
        stop_process(p, 20)
        if check:
            self.assertEqual(p.returncode, 0, "vpcd did not stop cleanly; log tail:\n" +
                             self.vpcd_log_text()[-3000:])

    def vpcd_log_text(self):
        with open(self.vpcd_log, errors="replace") as f:
            return f.read()

    def aws(self, *args):
        """`aws ec2 ARGS` inside vpcd's namespace; decoded JSON."""
        env = dict(os.environ, AWS_ACCESS_KEY_ID=vpcdtest.KEY_ID,
                   AWS_SECRET_ACCESS_KEY=vpcdtest.SECRET, AWS_DEFAULT_REGION=vpcdtest.REGION,
                   AWS_MAX_ATTEMPTS="1", AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        p = subprocess.run(["ip", "netns", "exec", self.ns["vpcd"], "aws", "--endpoint-url", API,
                            "--output", "json", "ec2"] + list(args),
                           capture_output=True, text=True, env=env, timeout=60)
        if p.returncode != 0:
            raise AssertionError("aws ec2 %s failed (%d): %s" % (" ".join(args), p.returncode,
                                                                 p.stderr))
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def telemetry(self, vid):
        r = self.pool.submit(self.ec2.describe_vpn_connections, VpnConnectionIds=[vid]).result()
        return r["VpnConnections"][0].get("VgwTelemetry", [])

    def wait_telemetry(self, vid, want, timeout, what, since=None):
        """want: per tunnel None (any) or (status, regex on StatusMessage);
        since: and a LastStatusChange at or after this unix second."""
        end = time.time() + timeout
        while True:
            tel = self.telemetry(vid)
            if all(w is None or (t["Status"] == w[0] and re.search(w[1], t.get("StatusMessage", ""))
                                 and (since is None or
                                      t["LastStatusChange"].timestamp() >= since))
                   for t, w in zip(tel, want)):
                return tel
            if time.time() > end:
                raise AssertionError("timed out (%ss) waiting for %s; telemetry: %s\nvpcd log "
                                     "tail:\n%s" % (timeout, what, json.dumps(tel, default=str,
                                                                               indent=1),
                                                    self.vpcd_log_text()[-3000:]))
            time.sleep(0.25)

    @staticmethod
    def next_second():
        """Sleeps to the next whole second and returns it: LastStatusChange
        has a resolution of one second."""
        now = time.time()
        time.sleep(int(now) + 1 - now)
        return int(now) + 1

    def step(self, what):
        print("  %6.1f s  %s" % (time.time() - self.t0, what), file=sys.stderr, flush=True)

    # ---- vpcctl vpn status --------------------------------------------------------

    # vpcctl runs on another host, as far as vpcd can tell: in the router's
    # namespace, against vpcd's API on its link address (vpcd listens on
    # every address of its namespace), keys from the environment — no
    # --data-dir, nothing of vpcd's files
    vpcctl_ns = "router"
    vpcctl_endpoint = "http://%s:%d" % (VPCD_LINK_IP, API_PORT)

    def vpcctl_run(self, *args):
        """vpcctl ARGS from another namespace (vpcctl_ns): the CompletedProcess."""
        env = dict(os.environ, AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                   AWS_ACCESS_KEY_ID=vpcdtest.KEY_ID, AWS_SECRET_ACCESS_KEY=vpcdtest.SECRET)
        env.pop("AWS_PROFILE", None)
        return subprocess.run(["ip", "netns", "exec", self.ns[self.vpcctl_ns], VPCCTL,
                               "--endpoint-url", self.vpcctl_endpoint, "--region", vpcdtest.REGION] + list(args),
                              capture_output=True, text=True, env=env, timeout=30)

    def vpcctl(self, *args):
        """vpcctl ARGS from another namespace, which must succeed: its stdout."""
        p = self.vpcctl_run(*args)
        self.assertEqual(p.returncode, 0, "vpcctl %s: %s%s" % (" ".join(args), p.stdout, p.stderr))
        return p.stdout

    def swanctl_child_spis(self):
        """{IKE SA name: {(in, out)}} of the INSTALLED CHILD SAs in
        `swanctl --list-sas`, SPIs as lower-case hex."""
        out = self.charon.swanctl("--list-sas").stdout
        sas, ike, child = {}, None, None
        for line in out.splitlines():
            m = re.match(r"^(\S+): #\d+, ", line)
            if m:
                ike = m.group(1)
                sas.setdefault(ike, set())
                continue
            if re.match(r"^  \S+: #\d+, reqid \d+, INSTALLED", line):
                child = [None, None]
                continue
            m = re.match(r"^    (in|out) +([0-9a-f]{8})", line)
            if m and child is not None and ike:
                child[0 if m.group(1) == "in" else 1] = m.group(2)
                if None not in child:
                    sas[ike].add(tuple(child))
                    child = None
        return sas

    def vpn_status_json(self, vid):
        j = json.loads(self.vpcctl("vpn", "status", vid, "--output", "json"))
        [v] = j["VpnConnections"]
        self.assertNotIn("TunnelDetailUnavailable", v)
        self.assertEqual(len(v["TunnelDetail"]), 2)
        return v

    @staticmethod
    def detail_packets(v):
        """(packets in, packets out) over every IPsec SA of both tunnels."""
        sas = [sa for t in v["TunnelDetail"] for sa in t.get("IpsecSas", [])]
        return sum(sa["PacketsIn"] for sa in sas), sum(sa["PacketsOut"] for sa in sas)

    def check_vpn_status(self, vid):
        """`vpcctl vpn status` (from the router's namespace): per tunnel what `show crypto isakmp
        sa` and `show crypto ipsec sa` show, matching strongSwan's view."""
        last = {}

        def matches():
            ss_sas = self.swanctl_child_spis()
            v = self.vpn_status_json(vid)
            last["v"], last["ss"] = v, ss_sas
            for n, t in enumerate(v["TunnelDetail"], 1):
                ours = {(sa["SpiOut"][2:].lower(), sa["SpiIn"][2:].lower())
                        for sa in t["IpsecSas"] if not sa["Lingering"]}
                if not ss_sas.get("tunnel%d" % n) or ours != ss_sas["tunnel%d" % n]:
                    return False
            return True
        try:
            wait_for(matches, 15, "vpcctl vpn status's SPIs = strongSwan's (in/out swapped)")
        except AssertionError:
            raise AssertionError("vpcctl: %s\nstrongSwan: %s" % (
                json.dumps(last.get("v"), indent=1), last.get("ss")))
        v = last["v"]
        for n, t in enumerate(v["TunnelDetail"]):
            self.assertTrue(t["Running"])
            self.assertEqual(t["Status"], "UP")
            self.assertEqual(t["OutsideIpAddress"], OUTSIDE[n])
            self.assertEqual(t["PeerIpAddress"], CGW_IP)
            isakmp = t["Isakmp"]
            self.assertEqual(isakmp["State"], "QM_IDLE")
            self.assertEqual(isakmp["Status"], "ACTIVE")
            self.assertTrue(isakmp["LocalAddress"].startswith(OUTSIDE[n] + ":"))
            self.assertTrue(isakmp["PeerAddress"].startswith(CGW_IP + ":"))
            self.assertGreater(isakmp["RemainingSeconds"], 0)
            self.assertLessEqual(isakmp["RemainingSeconds"], isakmp["LifetimeSeconds"])
            self.assertRegex(isakmp["CookieI"], r"^[0-9a-f]{16}$")
            self.assertGreaterEqual(len(t["IpsecSas"]), 2)   # tunnel<N> and inside<N>
            for sa in t["IpsecSas"]:
                self.assertRegex(sa["SpiIn"], r"^0x[0-9A-F]{8}$")
                self.assertRegex(sa["Transform"], r"^esp-(aes|gcm)")
                self.assertIn("hmac", sa["Transform"])
                self.assertGreater(sa["RemainingSeconds"], 0)
                self.assertGreaterEqual(sa["ReplayWindow"], 64)
                self.assertTrue(sa["UdpEncap"])   # strongSwan's userspace ESP
        # the counters grow with a ping across the tunnels
        before = self.detail_packets(v)
        self.ping("office", VPC_HOST_IP)
        grown = {}

        def counted():
            grown["now"] = self.detail_packets(self.vpn_status_json(vid))
            return (grown["now"][0] >= before[0] + 3 and grown["now"][1] >= before[1] + 3)
        try:
            wait_for(counted, 15, "the packet counters grown by the ping")
        except AssertionError:
            raise AssertionError("packets (in, out) before %s, now %s" % (before, grown.get("now")))
        # the table form: the telemetry table, then Cisco's blocks per tunnel
        table = self.vpcctl("vpn", "status", vid)
        self.assertIn("OUTSIDE ADDRESS", table)
        for n in (1, 2):
            self.assertIn("%s tunnel %d (detail as of" % (vid, n), table)
        self.assertEqual(len(re.findall(r"(?m)^  %s +%s +QM_IDLE +\d+ ACTIVE$" % (
            re.escape(CGW_IP), "(%s)" % "|".join(map(re.escape, OUTSIDE))), table)), 2, table)
        for t in v["TunnelDetail"]:
            for sa in t["IpsecSas"]:
                self.assertIn("spi: %s(%d)" % (sa["SpiIn"], int(sa["SpiIn"], 16)), table)
                self.assertIn("spi: %s(%d)" % (sa["SpiOut"], int(sa["SpiOut"], 16)), table)
        self.assertIn("transform: esp-aes", table)
        self.assertRegex(table, r"remaining key lifetime \(sec\): \([1-9]\d*\)")
        self.assertRegex(table, r"replay window size: \d+")
        self.assertRegex(table, r"#pkts encaps: [1-9]\d*")
        self.assertRegex(table, r"#pkts decaps: [1-9]\d*")

    # ---- the router --------------------------------------------------------------

    def router_conf(self, download, inside_cidrs, esp, wrong_psk=None):
        """The downloaded swanctl.conf with the test's changes, each checked
        to apply (the template changing under the test fails it)."""
        conf = download

        def sub(pattern, repl, text, count=0):
            new, n = re.subn(pattern, repl, text, count=count)
            self.assertGreater(n, 0, "the downloaded configuration changed: no /%s/" % pattern)
            return new

        # 1. close_action = start on every CHILD SA (see the module's doc)
        conf = sub(r"(\n( +)start_action = start\n)", r"\1\2close_action = start\n", conf)
        # 2. an inside CHILD SA per tunnel, for the router's ping of vpcd's
        #    inside address
        blocks = conf.split("\n    tunnel2 {")
        self.assertEqual(len(blocks), 2, "the download has no tunnel2 block")
        for n in range(2):
            router, ours = self.inside_addrs(inside_cidrs[n])
            child = textwrap.indent(textwrap.dedent("""\
                inside%(n)d {
                    mode = tunnel
                    local_ts = %(router)s/32
                    remote_ts = %(ours)s/32
                    esp_proposals = %(esp)s
                    dpd_action = restart
                    start_action = start
                    close_action = start
                }
                """) % {"n": n + 1, "router": router, "ours": ours, "esp": esp}, " " * 12)
            blocks[n] = sub(r"\n        children {\n", "\n        children {\n" + child,
                            blocks[n], 1)
        conf = "\n    tunnel2 {".join(blocks)
        # 3. (one step only) tunnel 1's key replaced by a wrong one
        if wrong_psk:
            conf = sub(r'(ike-tunnel1 \{[^}]*secret = )"[^"]*"', r'\1"%s"' % wrong_psk, conf, 1)
        path = os.path.join(self.dir, "swanctl-%s.conf" % ("wrong" if wrong_psk else "ok"))
        with open(path, "w") as f:
            f.write(conf)
        return path

    @staticmethod
    def inside_addrs(cidr):
        """(router's, vpcd's) inside addresses of a /30: .2 and .1."""
        base = cidr.split("/")[0].split(".")
        last = int(base[3])
        return (".".join(base[:3] + [str(last + 2)]), ".".join(base[:3] + [str(last + 1)]))

    def start_charon(self, conf):
        self.assertIn("successfully loaded 2 connections", self.charon.start(conf))

    def assert_strongswan_up(self, tunnels=(1, 2), timeout=15):
        def ok():
            out = self.charon.swanctl("--list-sas").stdout
            return all(re.search(r"(?m)^tunnel%d: #\d+, ESTABLISHED, IKEv1" % n, out) and
                       re.search(r"(?m)^  tunnel%d: #\d+, reqid \d+, INSTALLED, TUNNEL" % n, out)
                       for n in tunnels)
        try:
            wait_for(ok, timeout, "ESTABLISHED/INSTALLED SAs in swanctl --list-sas")
        except AssertionError:
            raise AssertionError(self.charon.swanctl("--list-sas").stdout)

    def propagated(self, rtb):
        """The routes DescribeRouteTables shows as propagated into rtb (the
        route.origin filter sees them too)."""
        tables = self.aws("describe-route-tables", "--route-table-ids", rtb, "--filters",
                          "Name=route.origin,Values=EnableVgwRoutePropagation")["RouteTables"]
        return [r for t in tables for r in t["Routes"] if r.get("Origin") == "EnableVgwRoutePropagation"]

    def ping_answered(self, ns, dst):
        return netns.ping(self.ns[ns], dst, count=1)[1] == 1

    def tcp_bulk(self, src, dst, dst_ip, nbytes=4 << 20):
        """nbytes of one TCP connection from namespace src to dst_ip (a sink
        in namespace dst), all of them counted there."""
        srv = subprocess.Popen(netns.in_netns(self.ns[dst], sys.executable, "-c", SINK, str(BULK_PORT)),
                               stdout=subprocess.PIPE, text=True)
        self.addCleanup(stop_process, srv)
        self.assertEqual(srv.stdout.readline().strip(), "listening")
        out = run(netns.in_netns(self.ns[src], sys.executable, "-c", SEND, dst_ip, str(BULK_PORT),
                                 str(nbytes)), timeout=60).stdout
        self.assertEqual(out.strip(), str(nbytes), "TCP %s -> %s" % (src, dst_ip))
        srv.wait(10)

    def ping(self, ns, dst, count=3, expect=True):
        _, got, out = netns.ping(self.ns[ns], dst, count, wait=2)
        if expect:
            self.assertEqual(got, count, "ping %s from %s:\n%s" % (dst, ns, out))
        else:
            self.assertEqual(got, 0, "ping %s from %s still answered:\n%s" % (dst, ns, out))

    # ---- the story ------------------------------------------------------------------

    def test_story(self):
        self.start_vpcd()
        self.step("vpcd up in its namespace")

        # the console wizard's "VPC with a private subnet and hardware VPN"
        vpc = self.aws("create-vpc", "--cidr-block", VPC_CIDR)["Vpc"]["VpcId"]
        self.aws("create-subnet", "--vpc-id", vpc, "--cidr-block", "10.96.1.0/24")
        cgw = self.aws("create-customer-gateway", "--type", "ipsec.1", "--public-ip", CGW_IP,
                       "--bgp-asn", "65000")["CustomerGateway"]["CustomerGatewayId"]
        vgw = self.aws("create-vpn-gateway", "--type", "ipsec.1")["VpnGateway"]["VpnGatewayId"]
        self.aws("attach-vpn-gateway", "--vpn-gateway-id", vgw, "--vpc-id", vpc)
        vpn = self.aws("create-vpn-connection", "--type", "ipsec.1", "--customer-gateway-id", cgw,
                       "--vpn-gateway-id", vgw, "--options", "StaticRoutesOnly=true")
        vid = vpn["VpnConnection"]["VpnConnectionId"]
        self.aws("create-vpn-connection-route", "--vpn-connection-id", vid,
                 "--destination-cidr-block", "10.0.0.0/24")
        desc = self.aws("describe-vpn-connections", "--vpn-connection-ids", vid)["VpnConnections"][0]
        self.assertEqual(desc["State"], "available")
        tunnels = desc["Options"]["TunnelOptions"]
        self.assertEqual([t["OutsideIpAddress"] for t in tunnels], list(OUTSIDE))
        inside = [t["TunnelInsideCidr"] for t in tunnels]
        psks = [t["PreSharedKey"] for t in tunnels]
        for cidr in inside:   # the router's inside addresses
            self.ns.ip("router", "addr", "add", self.inside_addrs(cidr)[0] + "/32", "dev", "lo")
        # before the router is there: DOWN, waiting for it
        self.wait_telemetry(vid, [("DOWN", "waiting for the peer")] * 2, 10, "DOWN, waiting")
        # route propagation into the main table: nothing while no tunnel is UP
        rtb = self.aws("describe-route-tables", "--filters", "Name=vpc-id,Values=" + vpc,
                       "Name=association.main,Values=true")["RouteTables"][0]["RouteTableId"]
        self.aws("enable-vgw-route-propagation", "--route-table-id", rtb, "--gateway-id", vgw)
        self.assertEqual(self.propagated(rtb), [])
        self.step("VPC, gateways and VPN connection %s created" % vid)

        # Download Configuration for strongSwan
        download = self.aws("get-vpn-connection-device-sample-configuration",
                            "--vpn-connection-id", vid, "--vpn-connection-device-type-id",
                            "51cb26fd", "--internet-key-exchange-version", "ikev1"
                            )["VpnConnectionDeviceSampleConfiguration"]
        self.assertIn("remote_addrs = %s" % OUTSIDE[0], download)
        self.assertIn("remote_ts = %s" % VPC_CIDR, download)
        esp = re.search(r"esp_proposals = (\S+)", download).group(1)
        conf = self.router_conf(download, inside, esp)
        self.start_charon(conf)
        tel = self.wait_telemetry(vid, [("UP", "^IPSEC IS UP$")] * 2, 30, "both tunnels UP")
        self.assertEqual(self.propagated(rtb), [{"DestinationCidrBlock": "10.0.0.0/24", "GatewayId": vgw,
                                                 "Origin": "EnableVgwRoutePropagation", "State": "active"}])
        self.step("both tunnels UP; 10.0.0.0/24 propagated into the main route table")
        for t in tel:
            self.assertEqual(t["AcceptedRouteCount"], 1)
            self.assertIsNotNone(t["LastStatusChange"])
        self.assert_strongswan_up()
        for cidr in inside:
            self.ping("router", self.inside_addrs(cidr)[1])
        self.ping("office", VPC_HOST_IP)
        self.ping("vpchost", OFFICE_IP)
        route = run(["ip", "-n", self.ns["vpcd"], "route", "show", "10.0.0.0/24"]).stdout
        self.assertIn("dev vpcd0", route)
        self.step("strongSwan ESTABLISHED/INSTALLED; router -> inside addresses, office <-> VPC host")
        # vpcd's TUN has offloads (its helper opened it with IFF_VNET_HDR):
        # the VPC host's TCP (TSO on its veth, forwarded whole by vpcd's
        # namespace) reaches it as super-frames, which vpcd cuts
        self.tcp_bulk("vpchost", "office", OFFICE_IP)
        self.tcp_bulk("office", "vpchost", VPC_HOST_IP)
        log = self.vpcd_log_text()
        self.assertIn("TUN vpcd0 ready (MTU", log)
        self.assertRegex(log, r"TUN vpcd0 ready \(MTU \d+, checksum and TCP segmentation offloads\)")
        self.assertIn("TUN vpcd0: first TCP super-frame read", log)
        self.step("4 MB of TCP each way; vpcd's TUN read TCP super-frames (%s)" % (
            "and wrote TCP trains" if "TUN vpcd0: first TCP train written" in log else "no TCP train written"))
        self.check_vpn_status(vid)
        self.step("vpcctl vpn status: ISAKMP QM_IDLE, SPIs = strongSwan's, counters grow with a ping")

        # the router dies without a word: DPD (30 s) must notice
        t_kill = time.time()
        self.charon.stop(signal.SIGKILL)
        self.wait_telemetry(vid, [("DOWN", "DPD timeout")] * 2, DPD_TIMEOUT + 3,
                            "both DOWN with the DPD cause")
        dpd_s = time.time() - t_kill
        self.step("both DOWN 'DPD timeout' %.1f s after charon was killed" % dpd_s)
        self.assertLessEqual(dpd_s, DPD_TIMEOUT + 3)
        self.start_charon(conf)
        self.wait_telemetry(vid, [("UP", "^IPSEC IS UP$")] * 2, 30, "both UP after charon restarted")
        self.ping("office", VPC_HOST_IP)
        self.step("charon restarted: both UP")

        # a wrong pre-shared key for tunnel 1 in the router
        self.charon.stop()
        self.start_charon(self.router_conf(download, inside, esp,
                                           wrong_psk="wrong" + secrets.token_hex(8)))
        tel = self.wait_telemetry(vid, [("DOWN", "authentication failed"), ("UP", "^IPSEC IS UP$")],
                                  30, "tunnel 1 DOWN with an authentication cause, tunnel 2 UP")
        self.step("wrong PSK on the router: tunnel 1 DOWN '%s'" % tel[0]["StatusMessage"])
        self.charon.stop()
        self.start_charon(conf)
        tel = self.wait_telemetry(vid, [("UP", "^IPSEC IS UP$")] * 2, 30, "both UP, key fixed")
        self.step("router's key fixed: both UP")

        # one tunnel's options changed: that tunnel renegotiates, the other
        # is not touched
        before = tel[0]["LastStatusChange"]
        since = self.next_second()
        self.aws("modify-vpn-tunnel-options", "--vpn-connection-id", vid,
                 "--vpn-tunnel-outside-ip-address", OUTSIDE[1],
                 "--tunnel-options", "DPDTimeoutSeconds=40")
        tel = self.wait_telemetry(vid, [("UP", "^IPSEC IS UP$"), None], 1, "tunnel 1 UP")
        tel = self.wait_telemetry(vid, [None, ("UP", "^IPSEC IS UP$")], 30,
                                  "tunnel 2 UP again with its new options", since=since)
        self.assertEqual(tel[0]["LastStatusChange"], before, "tunnel 1 was touched")
        self.step("ModifyVpnTunnelOptions: tunnel 2 renegotiated, tunnel 1 untouched")

        # vpcd restarted: every tunnel comes back from the store
        old_spis = {sa["SpiIn"] for t in self.vpn_status_json(vid)["TunnelDetail"] for sa in t.get("IpsecSas", [])}
        self.assertTrue(old_spis, "no IPsec SA in the tunnel detail before the restart")
        self.stop_vpcd()
        since = self.next_second()
        self.start_vpcd()
        # the first answer already holds none of the earlier process's SAs
        # (engine_attach drops its _TunnelDetail before the API serves)
        first = json.loads(self.vpcctl("vpn", "status", vid, "--output", "json"))["VpnConnections"][0]
        served = {sa["SpiIn"] for t in first.get("TunnelDetail") or [] for sa in t.get("IpsecSas", [])}
        self.assertFalse(served & old_spis, "the restarted vpcd served the earlier process's SAs: %s" % first)
        self.wait_telemetry(vid, [("UP", "^IPSEC IS UP$")] * 2, 30, "both UP after vpcd restarted",
                            since=since)
        self.assert_strongswan_up()
        # UP is reported when IKE is done; the router may still be swapping in
        # its new SAs and vpcd re-adding its routes for a moment: traffic must
        # flow within seconds, then every ping of a run must come back
        # Seen in 2 of 5 clean CI runs this session: traffic back only after
        # more than 30 s, i.e. once the router's DPD (30 s) dropped its stale
        # SAs. Bounded here by that DPD timeout plus a renegotiation; why the
        # router sometimes keeps the stale SAs is an open question (notes).
        wait_for(lambda: self.ping_answered("office", VPC_HOST_IP), 60, "traffic after vpcd restarted")
        self.ping("office", VPC_HOST_IP)
        self.ping("vpchost", OFFICE_IP)
        # the router's re-made CHILD SAs may share reqids across tunnels
        # (strongSwan 5.9.8, see docs/testing.md): its pings to tunnel 1's
        # inside address may arrive in tunnel 2's SA, which vpcd takes as
        # tunnel 1's (PacketsForOtherTunnel) and answers from tunnel 1
        for cidr in inside:
            self.ping("router", self.inside_addrs(cidr)[1])
        crossed = {t["OutsideIpAddress"]: t["PacketsForOtherTunnel"]
                   for t in self.vpn_status_json(vid)["TunnelDetail"]
                   if t.get("PacketsForOtherTunnel")}
        self.step("vpcd restarted (SIGTERM + start): both UP, traffic flows, router -> inside "
                  "addresses%s" % (" (taken for the other tunnel: %s)" % crossed if crossed else ""))

        # the connection deleted: its tunnels and its route go
        self.aws("delete-vpn-connection", "--vpn-connection-id", vid)
        wait_for(lambda: "10.0.0.0/24" not in run(
            ["ip", "-n", self.ns["vpcd"], "route", "show"]).stdout, 10, "the route removed")
        log = self.vpcd_log_text()
        for n in (1, 2):
            self.assertIn("tunnel %s#%d removed" % (vid, n), log)
        self.ping("office", VPC_HOST_IP, count=2, expect=False)
        tel = self.wait_telemetry(vid, [("DOWN", "^removed$")] * 2, 5, "both DOWN 'removed'")
        wait_for(lambda: "TunnelDetailUnavailable" in json.loads(self.vpcctl(
            "vpn", "status", vid, "--output", "json"))["VpnConnections"][0], 10,
            "vpcctl vpn status: no tunnel detail for the deleted connection")
        out = self.charon.swanctl("--list-sas").stdout
        self.assertNotRegex(out, r"(?m)^  tunnel\d: #\d+, reqid \d+, INSTALLED", out)
        self.assertEqual(self.propagated(rtb), [])
        self.step("VPN connection deleted: tunnels removed, route gone (and no longer propagated), no traffic")

        self.stop_vpcd()
        log = self.vpcd_log_text()
        for secret in psks:
            self.assertNotIn(secret, log)
