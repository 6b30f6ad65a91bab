"""The VPN endpoint's BGP side against vpcd itself and a real strongSwan
router: what BIRD's TCP sessions travel through, without BIRD or a BGP
daemon in the way. A dynamic VPN connection (StaticRoutesOnly false) makes
vpcd open the TUN bgp0 in its BGP namespace vpcd-bgp-<vpcd's pid> (through
its privileged helper) with both tunnels' inside addresses 169.254.x.1/30
on it; a plain TCP server started in that namespace stands in for BIRD and
a TCP client in the router's namespace, bound to the router's inside
address 169.254.x.2 (as FRR's update-source), for the customer's BGP.

Topology, namespaces with per-run unique names, always deleted (vpcd's BGP
namespace by vpcd's helper when vpcd stops, and by the test in any case):

    office 10.0.0.10 -- 10.0.0.1 router 198.51.100.2 -- 198.51.100.1 vpcd
                                 (charon)              203.0.113.1, .2 (outside)
                                 169.254.x.2/32 on lo  bgp0 in vpcd-bgp-<pid>:
                                                       169.254.x.1/30 per tunnel

The router's swanctl.conf is the download for the dynamic connection
(51cb26fd, IKEv1: per tunnel tunnel<N> and inside<N>, the inside pair),
changed in one place: tunnel 1 gets a third CHILD SA, cross1, from its
inside address to tunnel 2's inside address of vpcd, so that the router
can push a packet for tunnel 2's BGP side into tunnel 1 — which vpcd must
drop and count ("to another tunnel's inside address").

Checks: both tunnels UP; bgp0 up in vpcd-bgp-<pid> with exactly the two
inside .1/30s; per tunnel a TCP connection from the router's .2 to vpcd's
.1 reaches the server in the namespace (which sees the router's .2 as its
peer), 100 KB each way; a datagram through tunnel 1 to tunnel 2's inside
address is not delivered and tunnel 1 counts it; vpcd stopped: the BGP
namespace is gone.

Port: BGP's 179 when nothing in the namespace holds it; when the engine
runs BIRD there (it listens on 179), another port — the endpoint never
looks at ports, and BIRD's own sessions are tests/interop/test_bgp.py's.

Needs root (namespaces, TUN, charon) and the aws CLI; skipped otherwise."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

import vpcdtest
from interop import netns
from interop.netns import Charon, Namespaces, netns_executor, run, stop_process, wait_for

VPCD = os.path.join(vpcdtest.BUILD, "vpcd")
VPCCTL = os.path.join(vpcdtest.BUILD, "vpcctl")
API_PORT = 8775
API = "http://127.0.0.1:%d" % API_PORT
CGW_IP = netns.CGW_IP
VPCD_LINK_IP = netns.VPCD_LINK_IP
OUTSIDE = ("203.0.113.1", "203.0.113.2")
VPC_CIDR = "10.96.0.0/16"
CGW_ASN = 65000
ALT_PORT = 1790          # when BIRD holds 179 in the namespace
PAYLOAD = 100000

# In the BGP namespace: TCP on every address of the namespace (port argv[1]):
# per connection, the peer's address and the bytes read (until the client
# shuts its side) go to stdout, and the bytes go back reversed; a UDP socket
# on the same port prints what it receives. "listening" once bound.
SERVER = r"""
import socket, sys, threading
port = int(sys.argv[1])
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("0.0.0.0", port)); t.listen(8)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", port))
print("listening", flush=True)
def udp():
    while True:
        d, a = u.recvfrom(2048)
        print("udp %s %s %d" % (a[0], u.getsockname()[0], len(d)), flush=True)
threading.Thread(target=udp, daemon=True).start()
while True:
    c, a = t.accept()
    got = b""
    while True:
        b = c.recv(65536)
        if not b: break
        got += b
    print("tcp %s %s %d" % (a[0], c.getsockname()[0], len(got)), flush=True)
    c.sendall(got[::-1]); c.close()
"""

# In the router's namespace: from argv[1] (bound) to argv[2]:argv[3], send
# PAYLOAD random bytes, shut the sending side, expect them back reversed.
CLIENT = r"""
import os, socket, sys
src, dst, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
data = os.urandom(n)
c = socket.socket(); c.settimeout(20); c.bind((src, 0)); c.connect((dst, port))
c.sendall(data); c.shutdown(socket.SHUT_WR)
got = b""
while True:
    b = c.recv(65536)
    if not b: break
    got += b
print("ok" if got == data[::-1] else "mismatch %d" % len(got), flush=True)
"""

# From argv[1] (bound) to argv[2]:argv[3], count datagrams of 64 bytes.
DATAGRAMS = r"""
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((sys.argv[1], 0))
for _ in range(int(sys.argv[4])):
    u.sendto(b"x" * 64, (sys.argv[2], int(sys.argv[3])))
"""


def inside_pair(cidr):
    """(vpcd's .1, the router's .2) of a /30."""
    a, b, c, d = (int(x) for x in cidr.split("/")[0].split("."))
    return "%d.%d.%d.%d" % (a, b, c, d + 1), "%d.%d.%d.%d" % (a, b, c, d + 2)


@unittest.skipUnless(os.geteuid() == 0,
                     "needs root: creates network namespaces, runs vpcd's TUNs and charon")
class BgpSideTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        for path in (VPCD, VPCCTL, netns.CHARON, netns.SWANCTL):
            if not os.path.exists(path):
                raise unittest.SkipTest("%s is missing (make all, or install strongswan-swanctl "
                                        "charon-systemd libcharon-extra-plugins)" % path)
        if not shutil.which("aws"):
            raise unittest.SkipTest("the aws CLI is missing")
        cls.dir = tempfile.mkdtemp(prefix="bgp-side-")
        if os.environ.get("VPCD_TEST_KEEP"):
            print("\nkeeping " + cls.dir, file=sys.stderr)
        else:
            cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.t0 = time.time()
        cls.vpcd = None
        cls.bgp_ns = None
        cls.server = None
        cls.ns = Namespaces("bgps", ("office", "router", "vpcd"))
        cls.addClassCleanup(cls.ns.remove)
        cls.ns.make(rp_filter=0)
        cls.ns.office_router_vpcd(cgw_ip=CGW_IP, vpcd_link_ip=VPCD_LINK_IP)
        for a in OUTSIDE:
            cls.ns.ip("vpcd", "addr", "add", a + "/32", "dev", "wan0")
        cls.pool = netns_executor(cls.ns["vpcd"])
        cls.addClassCleanup(cls.pool.shutdown)
        # last in, first out: the server, charon, vpcd, its BGP namespace
        cls.addClassCleanup(cls.remove_bgp_netns)
        cls.addClassCleanup(cls.stop_vpcd)
        cls.charon = Charon(cls.ns["router"], cls.dir, log_levels={"ike": 1, "knl": 1})
        cls.addClassCleanup(cls.charon.stop)
        cls.addClassCleanup(lambda: stop_process(cls.server))
        cls.build_world()

    @classmethod
    def build_world(cls):
        cls.start_vpcd()
        aws = cls.aws
        vpc = aws("create-vpc", "--cidr-block", VPC_CIDR)["Vpc"]["VpcId"]
        cgw = aws("create-customer-gateway", "--type", "ipsec.1", "--public-ip", CGW_IP,
                  "--bgp-asn", str(CGW_ASN))["CustomerGateway"]["CustomerGatewayId"]
        vgw = aws("create-vpn-gateway", "--type", "ipsec.1")["VpnGateway"]["VpnGatewayId"]
        aws("attach-vpn-gateway", "--vpn-gateway-id", vgw, "--vpc-id", vpc)
        vpn = aws("create-vpn-connection", "--type", "ipsec.1", "--customer-gateway-id", cgw,
                  "--vpn-gateway-id", vgw)["VpnConnection"]
        cls.vid = vpn["VpnConnectionId"]
        assert vpn["Options"]["StaticRoutesOnly"] is False, vpn["Options"]
        desc = aws("describe-vpn-connections", "--vpn-connection-ids", cls.vid)["VpnConnections"][0]
        cls.inside = [t["TunnelInsideCidr"] for t in desc["Options"]["TunnelOptions"]]
        cls.ours = [inside_pair(c)[0] for c in cls.inside]
        cls.theirs = [inside_pair(c)[1] for c in cls.inside]
        cls.step("dynamic VPN %s, inside %s" % (cls.vid, ", ".join(cls.inside)))
        download = aws("get-vpn-connection-device-sample-configuration",
                       "--vpn-connection-id", cls.vid, "--vpn-connection-device-type-id", "51cb26fd",
                       "--internet-key-exchange-version", "ikev1"
                       )["VpnConnectionDeviceSampleConfiguration"]
        # the router's inside addresses where the download says: /32s on lo
        # (a /30 on lo would make the whole /30 local to the router, vpcd's
        # .1 included: a loopback device's prefix route is a local one)
        m = re.search(r"ip address add (\S+)/32 dev lo", download)
        assert m and m.group(1) == inside_pair(cls.inside[0])[1], \
            "the download does not say to put %s/32 on lo:\n%s" % (inside_pair(cls.inside[0])[1], download)
        for c in cls.inside:
            cls.ns.ip("router", "addr", "add", "%s/32" % inside_pair(c)[1], "dev", "lo")
        conf = os.path.join(cls.dir, "swanctl.conf")
        with open(conf, "w") as f:
            f.write(cls.router_conf(download))
        out = cls.charon.start(conf)
        assert "successfully loaded 2 connections" in out, out

    @classmethod
    def router_conf(cls, download):
        """The download, with cross1 added to tunnel 1 (see the module's doc)."""
        blocks = download.split("\n    tunnel2 {")
        assert len(blocks) == 2, "the download has no tunnel2 block:\n" + download
        m = re.search(r"(?m)^ +esp_proposals = (\S+)$", blocks[0])
        assert m, "the download's tunnel 1 has no esp_proposals:\n" + download
        child = textwrap.indent(textwrap.dedent("""\
            cross1 {
                mode = tunnel
                local_ts = %s/32
                remote_ts = %s/32
                esp_proposals = %s
                start_action = start
            }
            """) % (cls.theirs[0], cls.ours[1], m.group(1)), " " * 12)
        head, n = re.subn(r"\n        children \{\n", "\n        children {\n" + child, blocks[0], 1)
        assert n == 1, "the download's tunnel 1 has no children block:\n" + download
        return head + "\n    tunnel2 {" + blocks[1]

    @classmethod
    def start_vpcd(cls):
        cls.data_dir = os.path.join(cls.dir, "vpcd-data")
        os.makedirs(cls.data_dir, exist_ok=True)
        cls.vpcd_log = os.path.join(cls.dir, "vpcd.log")
        env = dict(os.environ, VPCD_ACCESS_KEY_ID=vpcdtest.KEY_ID,
                   VPCD_SECRET_ACCESS_KEY=vpcdtest.SECRET)
        # nsenter, not "ip netns exec": vpcd's BGP namespace must be made in
        # the host's mount namespace (/run/netns); nsenter execs vpcd, so
        # the pid is vpcd's, and the namespace is named after it
        argv = ["nsenter", "--net=/run/netns/" + cls.ns["vpcd"], VPCD, "--listen",
                "0.0.0.0:%d" % API_PORT, "--data-dir", cls.data_dir,
                "--vpn-outside-addresses", ",".join(OUTSIDE)]
        with open(cls.vpcd_log, "ab") as log:
            cls.vpcd = subprocess.Popen(argv, stdout=log, stderr=log, env=env)
        cls.bgp_ns = "vpcd-bgp-%d" % cls.vpcd.pid
        netns.wait_listening(cls.pool, API_PORT, cls.vpcd, 10, lambda: cls.vpcd_log_text()[-3000:])

    @classmethod
    def stop_vpcd(cls):
        p, cls.vpcd = cls.vpcd, None
        stop_process(p, 20)

    @classmethod
    def remove_bgp_netns(cls):
        """vpcd's helper deletes it when vpcd stops; this is for a vpcd
        that did not stop cleanly (only the namespace of the vpcd the test
        started)."""
        if cls.bgp_ns and os.path.exists("/run/netns/" + cls.bgp_ns):
            run(["ip", "netns", "delete", cls.bgp_ns], check=False)

    @classmethod
    def vpcd_log_text(cls):
        with open(cls.vpcd_log, errors="replace") as f:
            return f.read()

    @classmethod
    def aws(cls, *args):
        """`aws ec2 ARGS` inside vpcd's namespace; decoded JSON."""
        env = dict(os.environ, AWS_ACCESS_KEY_ID=vpcdtest.KEY_ID,
                   AWS_SECRET_ACCESS_KEY=vpcdtest.SECRET, AWS_DEFAULT_REGION=vpcdtest.REGION,
                   AWS_MAX_ATTEMPTS="1", AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        p = subprocess.run(["ip", "netns", "exec", cls.ns["vpcd"], "aws", "--endpoint-url", API,
                            "--output", "json", "ec2"] + list(args),
                           capture_output=True, text=True, env=env, timeout=60)
        if p.returncode != 0:
            raise AssertionError("aws ec2 %s failed (%d): %s" % (" ".join(args), p.returncode,
                                                                 p.stderr))
        return json.loads(p.stdout) if p.stdout.strip() else {}

    @classmethod
    def step(cls, what):
        print("  %6.1f s  %s" % (time.time() - cls.t0, what), file=sys.stderr, flush=True)

    def vpn_status(self):
        """`vpcctl vpn status` (JSON) of the connection."""
        env = dict(os.environ, AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                   AWS_ACCESS_KEY_ID=vpcdtest.KEY_ID, AWS_SECRET_ACCESS_KEY=vpcdtest.SECRET)
        env.pop("AWS_PROFILE", None)
        p = subprocess.run(netns.in_netns(self.ns["vpcd"], VPCCTL, "--endpoint-url", API,
                                          "--region", vpcdtest.REGION, "--output", "json",
                                          "vpn", "status", self.vid),
                           capture_output=True, text=True, env=env, timeout=30)
        self.assertEqual(p.returncode, 0, "vpcctl vpn status: %s%s" % (p.stdout, p.stderr))
        [v] = json.loads(p.stdout)["VpnConnections"]
        return v

    def wait_children(self, names, timeout=40):
        """Until every CHILD SA in names is INSTALLED at the router, and
        vpcd shows both tunnels UP."""
        last = {}

        def ok():
            last["ss"] = self.charon.swanctl("--list-sas").stdout
            if not all(re.search(r"(?m)^  %s: #\d+, reqid \d+, INSTALLED" % n, last["ss"])
                       for n in names):
                return False
            last["v"] = self.vpn_status()
            return all(t.get("Status") == "UP" for t in last["v"].get("TunnelDetail", []))
        try:
            wait_for(ok, timeout, "CHILD SAs %s installed, both tunnels UP" % (names,), interval=0.5)
        except AssertionError as e:
            raise AssertionError("%s\nswanctl: %s\nvpcctl: %s\nvpcd log tail:\n%s" % (
                e, last.get("ss"), json.dumps(last.get("v"), indent=1)[:3000],
                self.vpcd_log_text()[-3000:]))

    def in_router(self, script, *args, timeout=60):
        return run(netns.in_netns(self.ns["router"], sys.executable, "-c", script, *map(str, args)),
                   timeout=timeout)

    def drops(self, n):
        """Tunnel n's own drops by cause, as vpcctl vpn status shows them."""
        return self.vpn_status()["TunnelDetail"][n - 1].get("Drops", {})

    def start_server(self):
        """The TCP/UDP server in vpcd's BGP namespace: its port."""
        listening = run(["ip", "netns", "exec", self.bgp_ns, "ss", "-Hltn", "sport", "= :179"]).stdout
        port = ALT_PORT if listening.strip() else 179
        self.__class__.server = subprocess.Popen(
            netns.in_netns(self.bgp_ns, sys.executable, "-c", SERVER, str(port)),
            stdout=subprocess.PIPE, text=True)
        self.assertEqual(self.server.stdout.readline().strip(), "listening")
        self.step("server on port %d in %s" % (port, self.bgp_ns))
        return port

    def server_line(self, timeout=10):
        """The server's next line, or None within timeout."""
        import select
        r, _, _ = select.select([self.server.stdout], [], [], timeout)
        return self.server.stdout.readline().strip() if r else None

    # ---- the test --------------------------------------------------------------

    def test_bgp_side(self):
        self.wait_children(("tunnel1", "inside1", "cross1", "tunnel2", "inside2"))
        self.step("both tunnels UP, cross1 installed")

        # bgp0 in vpcd-bgp-<pid>: up, exactly the two inside .1/30s
        def bgp0_ready():
            p = run(["ip", "-n", self.bgp_ns, "-o", "-4", "addr", "show", "dev", "bgp0"], check=False)
            return sorted(re.findall(r"inet (\S+)", p.stdout)) == sorted(o + "/30" for o in self.ours)
        wait_for(bgp0_ready, 15, "bgp0 in %s with %s" % (self.bgp_ns, self.ours))
        link = run(["ip", "-n", self.bgp_ns, "-o", "link", "show", "dev", "bgp0"]).stdout
        self.assertRegex(link, r"<[^>]*\bUP\b[^>]*>")
        self.assertIn("mtu 1400", link)
        port = self.start_server()

        # per tunnel: TCP from the router's .2 to vpcd's .1, both ways
        before = self.vpn_status()
        for n in (1, 2):
            out = self.in_router(CLIENT, self.theirs[n - 1], self.ours[n - 1], port, PAYLOAD).stdout
            self.assertEqual(out.strip(), "ok", "tunnel %d: %s" % (n, out))
            self.assertEqual(self.server_line(), "tcp %s %s %d" % (self.theirs[n - 1], self.ours[n - 1],
                                                                   PAYLOAD))
            self.step("tunnel %d: TCP %s -> %s:%d, %d bytes each way" % (
                n, self.theirs[n - 1], self.ours[n - 1], port, PAYLOAD))
        # ... through vpcd's tunnels: each one's ESP counters grew by at
        # least the segments (the detail is refreshed every 5 s)
        def packets(v, n):
            sas = v["TunnelDetail"][n - 1].get("IpsecSas", [])
            return sum(sa["PacketsIn"] for sa in sas), sum(sa["PacketsOut"] for sa in sas)
        last = {}

        def grown():
            last["v"] = self.vpn_status()
            return all(all(b - a >= PAYLOAD // 1400 for a, b in zip(packets(before, n),
                                                                      packets(last["v"], n)))
                       for n in (1, 2))
        try:
            wait_for(grown, 15, "each tunnel's ESP packets in and out grown by %d" % (PAYLOAD // 1400),
                     interval=0.5)
        except AssertionError as e:
            raise AssertionError("%s: before %s, now %s" % (
                e, [packets(before, n) for n in (1, 2)], [packets(last["v"], n) for n in (1, 2)]))

        # through tunnel 1 (cross1) to tunnel 2's inside address: dropped
        # by vpcd and counted on tunnel 1, never delivered
        cause = "to another tunnel's inside address"
        dropped = self.drops(1).get(cause, 0)
        self.in_router(DATAGRAMS, self.theirs[0], self.ours[1], port, 5)
        self.assertIsNone(self.server_line(timeout=3))

        def counted():
            return self.drops(1).get(cause, 0) >= dropped + 5
        wait_for(counted, 10, "tunnel 1's drops[%s] + 5" % cause, interval=0.5)
        self.step("5 datagrams through tunnel 1 to %s: dropped (%s)" % (self.ours[1], cause))
        # ... while tunnel 2's own inside pair still carries them
        self.in_router(DATAGRAMS, self.theirs[1], self.ours[1], port, 1)
        self.assertEqual(self.server_line(), "udp %s %s 64" % (self.theirs[1], "0.0.0.0"))

        # vpcd stops: its helper deletes the BGP namespace
        stop_process(self.server)
        p = self.vpcd
        self.stop_vpcd()
        self.assertEqual(p.returncode, 0, "vpcd did not stop cleanly")
        self.assertFalse(os.path.exists("/run/netns/" + self.bgp_ns),
                         "%s is still there after vpcd stopped" % self.bgp_ns)


if __name__ == "__main__":
    unittest.main()
