"""vpcd runs BIRD for its dynamic VPN connections (issue 13, BGP-CONTRACT.md),
with a real BIRD and no router: what this test checks is BIRD's side —
no BGP session comes up here (that needs the customer's router: see
test_bgp.py).

vpcd runs in a namespace of its own (per-run name, always deleted) with
two outside addresses, started as root so that it separates privileges
(its helper starts BIRD). boto3 makes a VPC, a VPN gateway (ASN 64512)
attached to it, a customer gateway (ASN 65000) and a dynamic VPN
connection (StaticRoutesOnly false). Then:

  - BIRD runs in namespace vpcd-bgp-<vpcd's pid>, not as root, and
    `birdc -s DATA/bgp/bird.ctl show protocols` lists the connection's two
    BGP sessions; bird.conf advertises the VPC's CIDR block, and a
    secondary block associated later;
  - the connection's _Bgp (in the store) names both tunnels with their
    outside addresses, ASNs and a state that is not Established, no Error;
  - `kill -9` of BIRD's pid (bird.pid): vpcd logs it, starts it again (a
    new pid, the same sessions) and says so in _Bgp meanwhile or after;
  - a second dynamic connection: the same BIRD (reconfigured, not
    restarted) shows four sessions; deleted: two again;
  - the last dynamic connection deleted: BIRD stops;
  - vpcd stopped (SIGTERM): the namespace vpcd-bgp-<pid> is gone;
  - vpcd killed (SIGKILL) while BIRD runs: BIRD dies with it, and no
    namespace of it is left once vpcd runs again;
  - bird2 missing (a file without execute permission bind-mounted over
    /usr/sbin/bird in vpcd's own mount namespace): the dynamic
    connection's _Bgp.Error names it, both tunnels Down;
  - bgp0 cannot be made (its name taken in vpcd-bgp-<pid> by a veth the
    test put there before the first dynamic connection): _Bgp.Error says
    why and vpcd tries again with backoff; once the name is free, bgp0
    (a TUN) comes with both inside .1s and the error goes, vpcd still
    running.

Needs root and bird2; skipped without root."""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

import boto3
import botocore.config

import vpcdtest
from interop import netns
from interop.netns import Namespaces, netns_executor, run, stop_process, wait_for

VPCD = os.path.join(vpcdtest.BUILD, "vpcd")
BIRD = "/usr/sbin/bird"
BIRDC = "/usr/sbin/birdc"
API_PORT = 8775
API = "http://127.0.0.1:%d" % API_PORT
OUTSIDE = tuple("203.0.113.%d" % i for i in range(1, 11))   # two per connection
VPC_CIDR = "10.50.0.0/16"
VPC_CIDR2 = "10.51.0.0/16"


def netns_inode(path):
    st = os.stat(path)
    return st.st_dev, st.st_ino


@unittest.skipUnless(os.geteuid() == 0, "needs root: network namespaces, vpcd's privileged helper")
class BirdRunByVpcdTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(VPCD):
            raise unittest.SkipTest("%s is missing (make all)" % VPCD)
        if not os.path.exists(BIRD) or not os.path.exists(BIRDC):
            raise AssertionError("bird2 is not installed (scripts/install-deps.sh)")
        cls.dir = tempfile.mkdtemp(prefix="bgp-bird-")
        os.chmod(cls.dir, 0o755)
        if os.environ.get("VPCD_TEST_KEEP"):
            print("\nkeeping " + cls.dir, file=sys.stderr)
        else:
            cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.ns = Namespaces("bgpb", ("vpcd", "peer"))
        cls.addClassCleanup(cls.ns.remove)
        cls.ns.make()
        cls.ns.veth("vpcd", "wan0", "peer", "eth0")
        cls.ns.ip("vpcd", "addr", "add", "198.51.100.1/24", "dev", "wan0")
        for a in OUTSIDE:
            cls.ns.ip("vpcd", "addr", "add", a + "/32", "dev", "wan0")
        cls.pool = netns_executor(cls.ns["vpcd"])
        cls.addClassCleanup(cls.pool.shutdown)

    def setUp(self):
        self.data_dir = os.path.join(self.dir, "data-%s" % self._testMethodName)
        os.makedirs(self.data_dir)
        self.log_path = os.path.join(self.dir, "vpcd-%s.log" % self._testMethodName)
        self.vpcd = None
        self.addCleanup(self.cleanup_vpcd)

    # ---- vpcd ------------------------------------------------------------------------

    def start_vpcd(self, no_bird=None):
        """no_bird: a file bind-mounted over BIRD's binary in a mount
        namespace of vpcd's own (bird2 as if it were not installed)."""
        env = dict(os.environ, VPCD_ACCESS_KEY_ID=vpcdtest.KEY_ID, VPCD_SECRET_ACCESS_KEY=vpcdtest.SECRET)
        # nsenter, not "ip netns exec": vpcd stays in the host's mount
        # namespace, so the BGP namespace its helper mounts under /run/netns
        # is visible here (nsenter execs vpcd: the pid is vpcd's)
        cmd = ["nsenter", "--net=/run/netns/" + self.ns["vpcd"], VPCD, "--listen", "127.0.0.1:%d" % API_PORT,
               "--data-dir", self.data_dir, "--vpn-outside-addresses", ",".join(OUTSIDE)]
        if no_bird:
            # unshare and sh exec: the pid is still vpcd's
            cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                   'mount --bind "$0" %s && exec "$@"' % BIRD, no_bird] + cmd
        with open(self.log_path, "ab") as log:
            self.vpcd = subprocess.Popen(cmd, stdout=log, stderr=log, env=env)
        self.bgp_netns = "vpcd-bgp-%d" % self.vpcd.pid
        netns.wait_listening(self.pool, API_PORT, self.vpcd, 15, lambda: self.log()[-3000:])
        self.ec2 = self.pool.submit(
            boto3.client, "ec2", region_name=vpcdtest.REGION, endpoint_url=API,
            aws_access_key_id=vpcdtest.KEY_ID, aws_secret_access_key=vpcdtest.SECRET,
            config=botocore.config.Config(retries={"max_attempts": 0})).result()

    def cleanup_vpcd(self):
        p, self.vpcd = self.vpcd, None
        if p and p.poll() is None:
            stop_process(p, 20)
        # what a killed vpcd could leave: its BIRD (ours: started by the
        # vpcd we started) and its namespace
        pid = self.bird_pid()
        if pid and self.bird_alive(pid):
            os.kill(pid, signal.SIGKILL)
        if hasattr(self, "bgp_netns"):
            run(["ip", "netns", "delete", self.bgp_netns], check=False)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def call(self, fn, **kw):
        return self.pool.submit(getattr(self.ec2, fn), **kw).result()

    # ---- BIRD, as seen from outside vpcd -------------------------------------------

    def bgp_dir(self):
        return os.path.join(self.data_dir, "bgp")

    def bird_pid(self):
        try:
            with open(os.path.join(self.bgp_dir(), "bird.pid")) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    @staticmethod
    def bird_alive(pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open("/proc/%d/comm" % pid) as f:
                comm = f.read().strip()
        except OSError:
            return False
        return state != "Z" and comm == "bird"

    def birdc(self, *args):
        p = subprocess.run([BIRDC, "-s", os.path.join(self.bgp_dir(), "bird.ctl")] + list(args),
                           capture_output=True, text=True, timeout=10)
        return p.returncode, p.stdout + p.stderr

    def bgp_protocols(self):
        """The BGP protocols `birdc show protocols` lists (names), or None
        when BIRD does not answer."""
        rc, out = self.birdc("show", "protocols")
        if rc != 0 or "BIRD" not in out:
            return None
        return sorted(l.split()[0] for l in out.splitlines() if len(l.split()) > 1 and l.split()[1] == "BGP")

    def wait_protocols(self, want, timeout=20, what="BIRD's sessions"):
        got = [None]

        def ok():
            got[0] = self.bgp_protocols()
            return got[0] == sorted(want)
        try:
            wait_for(ok, timeout, what, 0.2)
        except AssertionError:
            raise AssertionError("%s: want %s, BIRD shows %s; vpcd log tail:\n%s\nbird.log:\n%s" %
                                 (what, sorted(want), got[0], self.log()[-3000:], self.bird_log()))

    def bird_log(self):
        try:
            with open(os.path.join(self.bgp_dir(), "bird.log"), errors="replace") as f:
                return f.read()[-2000:]
        except OSError as e:
            return str(e)

    def stored_doc(self, vid):
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.data_dir, "vpcd.db"), uri=True)
        try:
            row = db.execute("SELECT body FROM resources WHERE id = ?", (vid,)).fetchone()
        finally:
            db.close()
        return json.loads(row[0]) if row else None

    def wait_bgp_doc(self, vid, pred, timeout, what):
        last = [None]

        def ok():
            d = self.stored_doc(vid)
            last[0] = d and d.get("_Bgp")
            return last[0] is not None and pred(last[0])
        try:
            wait_for(ok, timeout, what, 0.25)
        except AssertionError:
            raise AssertionError("%s: _Bgp is %s; vpcd log tail:\n%s" %
                                 (what, json.dumps(last[0], indent=1), self.log()[-3000:]))
        return last[0]

    # ---- resources -----------------------------------------------------------------------

    def make_gateway(self):
        vpc = self.call("create_vpc", CidrBlock=VPC_CIDR)["Vpc"]["VpcId"]
        vgw = self.call("create_vpn_gateway", Type="ipsec.1", AmazonSideAsn=64512)["VpnGateway"]["VpnGatewayId"]
        self.call("attach_vpn_gateway", VpcId=vpc, VpnGatewayId=vgw)
        return vpc, vgw

    def make_connection(self, vgw, asn, cgw_ip, inside):
        cgw = self.call("create_customer_gateway", Type="ipsec.1", PublicIp=cgw_ip,
                        BgpAsn=asn)["CustomerGateway"]["CustomerGatewayId"]
        vpn = self.call("create_vpn_connection", Type="ipsec.1", CustomerGatewayId=cgw, VpnGatewayId=vgw,
                        Options={"StaticRoutesOnly": False,
                                 "TunnelOptions": [{"TunnelInsideCidr": c} for c in inside]})
        return vpn["VpnConnection"]["VpnConnectionId"]

    @staticmethod
    def protocols_of(vid):
        sym = vid.replace("-", "_")
        return [sym + "_t1", sym + "_t2"]

    # ---- the story ---------------------------------------------------------------------

    def test_bird_driven_by_vpcd(self):
        self.start_vpcd()
        vpc, vgw = self.make_gateway()
        # a static connection alone: no BIRD
        cgw0 = self.call("create_customer_gateway", Type="ipsec.1", PublicIp="198.51.100.9",
                         BgpAsn=65009)["CustomerGateway"]["CustomerGatewayId"]
        static = self.call("create_vpn_connection", Type="ipsec.1", CustomerGatewayId=cgw0, VpnGatewayId=vgw,
                           Options={"StaticRoutesOnly": True})["VpnConnection"]["VpnConnectionId"]
        time.sleep(2)
        self.assertFalse(os.path.exists(os.path.join(self.bgp_dir(), "bird.pid")), "BIRD for a static connection")

        v1 = self.make_connection(vgw, 65000, "198.51.100.2", ("169.254.10.0/30", "169.254.20.0/30"))
        self.wait_protocols(self.protocols_of(v1), what="BIRD with the first dynamic connection's sessions")
        pid = self.bird_pid()
        self.assertTrue(self.bird_alive(pid))
        # in vpcd's BGP namespace, not as root
        self.assertEqual(netns_inode("/proc/%d/ns/net" % pid), netns_inode("/run/netns/" + self.bgp_netns))
        with open("/proc/%d/status" % pid) as f:
            uid = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
        self.assertNotIn("0", uid, "BIRD runs as root")
        self.assertEqual(os.stat(os.path.join(self.bgp_dir(), "bird.ctl")).st_uid, int(uid[0]))
        conf = open(os.path.join(self.bgp_dir(), "bird.conf")).read()
        self.assertIn("route %s unreachable;" % VPC_CIDR, conf)
        self.assertIn("neighbor 169.254.10.2 as 65000;", conf)
        self.assertIn("local 169.254.20.1 as 64512;", conf)
        self.assertNotIn(static.replace("-", "_"), conf)

        # _Bgp, as the contract has it
        bgp = self.wait_bgp_doc(v1, lambda b: len(b.get("Tunnels", [])) == 2 and
                                all(t.get("NeighborAsn") == 65000 for t in b["Tunnels"]),
                                15, "the first connection's _Bgp")
        self.assertNotIn("Error", bgp)
        tun = self.call("describe_vpn_connections", VpnConnectionIds=[v1])["VpnConnections"][0]
        outside = [t["OutsideIpAddress"] for t in tun["Options"]["TunnelOptions"]]
        for i, t in enumerate(bgp["Tunnels"]):
            self.assertEqual(t["OutsideIpAddress"], outside[i])
            self.assertEqual(t["LocalAsn"], 64512)
            self.assertNotEqual(t["State"], "Established")   # no router here
            self.assertEqual(t["Received"], 0)
        self.assertEqual(bgp["Routes"], [])
        self.assertIsNone(self.stored_doc(static).get("_Bgp"))

        # a secondary CIDR block: advertised too (BIRD reconfigured)
        self.call("associate_vpc_cidr_block", VpcId=vpc, CidrBlock=VPC_CIDR2)
        wait_for(lambda: "route %s unreachable;" % VPC_CIDR2 in
                 open(os.path.join(self.bgp_dir(), "bird.conf")).read(), 10, "the secondary block in bird.conf")
        table = vgw.replace("-", "_")
        wait_for(lambda: VPC_CIDR2 in self.birdc("show", "route", "table", table)[1], 10,
                 "the secondary block in BIRD's table")
        self.assertEqual(self.bird_pid(), pid, "BIRD restarted instead of reconfigured")

        # BIRD killed: vpcd starts it again
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: self.bird_pid() not in (0, pid) and self.bird_alive(self.bird_pid()), 15,
                 "BIRD started again after kill -9")
        self.wait_protocols(self.protocols_of(v1), what="the restarted BIRD's sessions")
        wait_for(lambda: "BIRD (pid %d) exited" % pid in self.log(), 5, "vpcd logging BIRD's exit")
        pid = self.bird_pid()
        self.assertEqual(netns_inode("/proc/%d/ns/net" % pid), netns_inode("/run/netns/" + self.bgp_netns))

        # a second dynamic connection: the same BIRD, reconfigured
        v2 = self.make_connection(vgw, 65001, "198.51.100.3", ("169.254.30.0/30", "169.254.40.0/30"))
        self.wait_protocols(self.protocols_of(v1) + self.protocols_of(v2),
                            what="BIRD with both connections' sessions")
        self.assertEqual(self.bird_pid(), pid, "BIRD restarted instead of reconfigured")
        self.wait_bgp_doc(v2, lambda b: [t.get("NeighborAsn") for t in b.get("Tunnels", [])] == [65001, 65001],
                          15, "the second connection's _Bgp")
        self.call("delete_vpn_connection", VpnConnectionId=v2)
        self.wait_protocols(self.protocols_of(v1), what="BIRD without the deleted connection's sessions")
        self.assertEqual(self.bird_pid(), pid)

        # the last dynamic connection gone: BIRD stops (the static one stays)
        self.call("delete_vpn_connection", VpnConnectionId=v1)
        wait_for(lambda: not self.bird_alive(pid), 15, "BIRD stopped with no dynamic connection left")
        self.assertIsNone(self.bgp_protocols())

        # a dynamic connection again, then vpcd stops: BIRD and its namespace go
        v3 = self.make_connection(vgw, 65000, "198.51.100.4", ("169.254.50.0/30", "169.254.60.0/30"))
        self.wait_protocols(self.protocols_of(v3), what="BIRD for a new dynamic connection")
        pid = self.bird_pid()
        self.assertTrue(os.path.exists("/run/netns/" + self.bgp_netns))
        p, self.vpcd = self.vpcd, None
        stop_process(p, 20)
        self.assertEqual(p.returncode, 0, "vpcd did not stop cleanly:\n" + self.log()[-3000:])
        self.assertFalse(self.bird_alive(pid), "BIRD outlived vpcd")
        self.assertFalse(os.path.exists("/run/netns/" + self.bgp_netns), "vpcd left its BGP namespace")

        # restarted from the store: BIRD back for the dynamic connection
        self.start_vpcd()
        self.wait_protocols(self.protocols_of(v3), what="BIRD after vpcd's restart")
        pid = self.bird_pid()
        self.assertEqual(netns_inode("/proc/%d/ns/net" % pid), netns_inode("/run/netns/" + self.bgp_netns))

        # vpcd killed: BIRD goes with it (its helper dies, and BIRD with the helper)
        self.vpcd.kill()
        self.vpcd.wait()
        wait_for(lambda: not self.bird_alive(pid), 5, "BIRD dying with a killed vpcd")
        # and the next vpcd leaves no namespace of the killed one behind
        # (its helper deletes it if it saw the channel close, else the next
        # helper's sweep does)
        old_ns = self.bgp_netns
        self.start_vpcd()
        self.assertFalse(os.path.exists("/run/netns/" + old_ns), "the killed vpcd's namespace is left")
        self.wait_protocols(self.protocols_of(v3), what="BIRD after vpcd was killed and started again")

    def test_bird2_missing(self):
        fake = os.path.join(self.dir, "not-bird")
        with open(fake, "w") as f:
            f.write("not BIRD\n")
        os.chmod(fake, 0o644)
        self.start_vpcd(no_bird=fake)
        vpc, vgw = self.make_gateway()
        v1 = self.make_connection(vgw, 65000, "198.51.100.2", ("169.254.10.0/30", "169.254.20.0/30"))
        bgp = self.wait_bgp_doc(v1, lambda b: "Error" in b, 15, "_Bgp.Error without bird2")
        self.assertEqual(bgp["Error"], "bird2 is not installed (%s not found)" % BIRD)
        self.assertEqual([t["State"] for t in bgp["Tunnels"]], ["Down", "Down"])
        self.assertEqual([t["NeighborAsn"] for t in bgp["Tunnels"]], [65000, 65000])
        self.assertEqual(bgp["Routes"], [])
        wait_for(lambda: "cannot start BIRD: bird2 is not installed" in self.log(), 5, "the log naming it")
        # bird.conf is written all the same: BIRD starts once it is installed
        self.assertIn("neighbor 169.254.10.2 as 65000;", open(os.path.join(self.bgp_dir(), "bird.conf")).read())

    def test_bgp0_retried(self):
        self.start_vpcd()
        # the helper makes bgp0 in this namespace at the first dynamic
        # connection: a veth of that name there makes TUNSETIFF fail
        run(["ip", "netns", "add", self.bgp_netns])
        run(["ip", "-n", self.bgp_netns, "link", "add", "bgp0", "type", "veth", "peer", "name", "bgp0-peer"])
        vpc, vgw = self.make_gateway()
        v1 = self.make_connection(vgw, 65000, "198.51.100.2", ("169.254.10.0/30", "169.254.20.0/30"))
        bgp = self.wait_bgp_doc(v1, lambda b: "Error" in b, 15, "_Bgp.Error while bgp0 cannot be made")
        self.assertRegex(bgp["Error"], r"^BGP unavailable: .*bgp0")
        wait_for(lambda: self.log().count("trying again in") >= 2, 15, "a second try, logged")
        self.assertIn("Error", self.stored_doc(v1)["_Bgp"], "the reason is kept while it fails")
        run(["ip", "-n", self.bgp_netns, "link", "del", "bgp0"])
        t0 = time.time()
        self.wait_bgp_doc(v1, lambda b: "Error" not in b, 40, "_Bgp.Error gone once bgp0 could be made")
        out = run(["ip", "-n", self.bgp_netns, "-d", "-o", "addr", "show", "dev", "bgp0"]).stdout
        self.assertIn("inet 169.254.10.1/30", out)
        self.assertIn("inet 169.254.20.1/30", out)
        link = run(["ip", "-n", self.bgp_netns, "-d", "link", "show", "dev", "bgp0"]).stdout
        self.assertIn("tun", link)
        self.assertIn("BGP side: bgp0 in namespace %s" % self.bgp_netns, self.log())
        self.assertIsNone(self.vpcd.poll())
        print("\n    bgp0 made %.1f s after its name was freed" % (time.time() - t0), file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
