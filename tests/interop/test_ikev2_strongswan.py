"""vpcd's VPN endpoint (build/vpn-endpoint-harness) speaking IKEv2 with a real
strongSwan 5.9 charon (kernel-libipsec, so NAT-T: IKE floats to 4500 and
ESP travels in UDP) as the customer router.

Topology as tests/interop/test_ipsec_strongswan.py (four namespaces with
per-run unique names, always deleted, also on failure):

    office 10.0.0.10 -- 10.0.0.1 router 198.51.100.2 -- 198.51.100.1 vpcd
                                 (charon)                203.0.113.1, .2
                                                         (driver, TUN vpn0)
                                                         10.96.0.1 -- 10.96.0.10 vpchost

The router's swanctl.conf is what cgwconf renders for the strongSwan device
type (51cb26fd) with IKEv2 (its "inside" CHILD SAs let the router ping our
inside addresses), with test changes made in plain sight in router_conf:
short DPD, short lifetimes, a wrong PSK, other proposals, or a router that
only answers. The driver's tunnels allow ikev1 and ikev2, as AWS's do by
default, unless a test says otherwise. Ikev2NatTest puts the router behind
a real, port-changing NAT (tests/interop/udp_nat.py, as this kernel has no
iptables or nft) in a topology of its own.

Needs root (namespaces, TUN, charon); skipped otherwise. Only
documentation addresses (198.51.100.0/24, 203.0.113.0/24) and private
ranges inside the namespaces are used; nothing leaves them."""
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest

from interop import test_ipsec_strongswan as v1   # Driver, find_driver (a module: not collected)
from interop.netns import CHARON, SWANCTL, Charon, Namespaces, ping, run, wait_for

BUILD = v1.BUILD
RENDER = v1.RENDER
CGW_IP = v1.CGW_IP
VPCD_LINK_IP = v1.VPCD_LINK_IP
VGW_IPS = v1.VGW_IPS
INSIDE = v1.INSIDE
INSIDE_OURS = v1.INSIDE_OURS
INSIDE_ROUTER = v1.INSIDE_ROUTER
OFFICE_IP = v1.OFFICE_IP
VPC_HOST_IP = v1.VPC_HOST_IP
TUNNEL_IDS = v1.TUNNEL_IDS
DPD_TIMEOUT = 6          # the driver's, seconds


class Ikev2Base(unittest.TestCase):
    """The topology and helpers; tests are in the subclasses (this class
    has none, so unittest runs nothing of it)."""

    @classmethod
    def setUpClass(cls):
        if not v1.find_driver():
            raise unittest.SkipTest("vpn-endpoint-harness is not built (make all)")
        for path in (RENDER, CHARON, SWANCTL):
            if not os.path.exists(path):
                raise unittest.SkipTest("%s is missing (make all, or install strongswan-swanctl "
                                        "charon-systemd libcharon-extra-plugins)" % path)
        cls.dir = tempfile.mkdtemp(prefix="ikev2-ss-")
        if os.environ.get("VPCD_TEST_KEEP"):   # keep logs and configs to read
            print("\nkeeping " + cls.dir, file=sys.stderr)
        else:
            cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.ns = Namespaces("vpn2", ("office", "router", "vpcd", "vpchost"))
        cls.addClassCleanup(cls.ns.remove)
        cls.ns.make(rp_filter=0)
        ns = cls.ns
        ns.office_router_vpcd(office_ip=OFFICE_IP, cgw_ip=CGW_IP, vpcd_link_ip=VPCD_LINK_IP)
        for a in INSIDE_ROUTER:   # the router's inside addresses
            ns.ip("router", "addr", "add", a + "/32", "dev", "lo")
        for a in VGW_IPS:
            ns.ip("vpcd", "addr", "add", a + "/32", "dev", "wan0")
        ns.veth("vpcd", "vpc0", "vpchost", "eth0")
        ns.ip("vpcd", "addr", "add", "10.96.0.1/16", "dev", "vpc0")
        ns.sysctl("vpcd", "net.ipv4.ip_forward", 1)
        ns.ip("vpchost", "addr", "add", VPC_HOST_IP + "/16", "dev", "eth0")
        ns.ip("vpchost", "route", "add", "default", "via", "10.96.0.1")

    # ---- per test ----------------------------------------------------------

    def setUp(self):
        self.tdir = tempfile.mkdtemp(prefix=self._testMethodName + "-", dir=self.dir)
        self.psk = ["t1" + secrets.token_hex(12), "t2" + secrets.token_hex(12)]
        self.charon = Charon(self.ns["router"], self.tdir, log_levels={"ike": 2, "knl": 2, "esp": 2})
        self.addCleanup(self.charon.stop)

    def driver_conf(self, psk=None, extra=None):
        """AWS's default tunnel options (both IKE versions) with test-only
        short DPD, both tunnels waiting for the router (add)."""
        psk = psk or self.psk
        extra = dict({"ike_versions": "ikev1,ikev2"}, **(extra or {}))
        out = ["tun = vpn0", "log_level = info"]
        for n in range(2):
            out += ["", "[tunnel]", "id = " + TUNNEL_IDS[n], "local = " + VGW_IPS[n],
                    "remote = " + CGW_IP, "psk = " + psk[n], "inside = " + INSIDE[n],
                    "route = 10.0.0.0/24", "test_short_timers = yes",
                    "dpd_delay = 1", "dpd_timeout = %d" % DPD_TIMEOUT, "dpd_action = clear",
                    "startup_action = add"]
            out += ["%s = %s" % kv for kv in extra.items()]
        path = os.path.join(self.tdir, "driver.conf")
        with open(path, "w") as f:
            f.write("\n".join(out) + "\n")
        return path

    def router_conf(self, ike="ikev2", ike_rekey=None, child_life=None, proposals2=None,
                    passive=False):
        """cgwconf's strongSwan configuration for this connection, changed
        for the test: DPD every 2 s; optionally the IKE SA rekeyed every
        ike_rekey s, CHILD SAs with (life, rekey) s, other proposals on
        tunnel 2, or a passive router that never initiates (vpcd must)."""
        r = subprocess.run([RENDER, "--ike", ike, "--route", "10.0.0.0/24",
                            "--cgw-ip", CGW_IP, "--vgw1-ip", VGW_IPS[0], "--vgw2-ip", VGW_IPS[1],
                            "--psk1", self.psk[0], "--psk2", self.psk[1],
                            "--inside1", INSIDE[0], "--inside2", INSIDE[1], "51cb26fd"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(r.returncode, 0, "cgwconf-render: " + r.stderr)
        conf = r.stdout

        def sub(pattern, repl, text, count=0):
            new, n = re.subn(pattern, repl, text, count=count)
            self.assertGreater(n, 0, "cgwconf's strongSwan template changed: no /%s/" % pattern)
            return new

        conf = sub(r"dpd_delay = 10s", "dpd_delay = 2s", conf)
        if ike == "ikev1":
            path = os.path.join(self.tdir, "swanctl.conf")
            with open(path, "w") as f:
                f.write(conf)
            return path
        self.assertIn("version = 2", conf)
        if ike_rekey:
            conf = sub(r"rekey_time = 28260s", "rekey_time = %ds\n        rand_time = 2s" % ike_rekey,
                       conf)
        if child_life:
            life, rekey = child_life
            conf = sub(r"life_time = 3600s", "life_time = %ds" % life, conf)
            conf = sub(r"rekey_time = 3060s", "rekey_time = %ds\n"
                       "                rand_time = 2s" % rekey, conf)
        if passive:
            conf = sub(r"start_action = start", "start_action = none", conf)
            conf = sub(r"close_action = start", "close_action = none", conf)
            conf = sub(r"dpd_action = restart", "dpd_action = clear", conf)
        if proposals2:
            ike_p, esp = proposals2
            head, tail = conf.split("\n    tunnel2 {")
            tail = sub(r"proposals = aes128-sha1-modp1024", "proposals = " + ike_p, tail, 1)
            tail = sub(r"esp_proposals = aes128-sha1-modp1024", "esp_proposals = " + esp, tail)
            conf = head + "\n    tunnel2 {" + tail
        path = os.path.join(self.tdir, "swanctl.conf")
        with open(path, "w") as f:
            f.write(conf)
        return path

    def start_charon(self, swanctl_conf):
        out = self.charon.start(swanctl_conf)
        self.assertIn("successfully loaded 2 connections", out)

    def start_driver(self, conf, name="driver"):
        d = v1.Driver(self.ns["vpcd"], conf, os.path.join(self.tdir, name + ".log"))
        self.addCleanup(d.stop)
        d.wait_line(r"^ready vpn0$", 10)
        # the caller routes the customer's prefixes into the TUN
        self.ns.ip("vpcd", "route", "replace", "10.0.0.0/24", "dev", "vpn0")
        return d

    def in_ns(self, ns, *cmd, check=True, timeout=60):
        return run(["ip", "netns", "exec", self.ns[ns]] + list(cmd), check=check, timeout=timeout)

    def ping(self, ns, dst, count=3, interval="0.2", size=56, check=True):
        sent, got, out = ping(self.ns[ns], dst, count, interval, wait=2, size=size)
        if check:
            self.assertEqual((sent, got), (count, count), "ping %s from %s:\n%s" % (dst, ns, out))
        return sent, got

    def wait_up(self, driver, since=0, timeout=25, ids=TUNNEL_IDS):
        for tid in ids:
            driver.wait_line(r"^tunnel %s UP$" % re.escape(tid), timeout, since)

    def list_sas(self):
        return self.charon.swanctl("--list-sas").stdout

    def assert_strongswan_sas(self, tunnels=("tunnel1", "tunnel2"), timeout=15):
        def ok():
            out = self.list_sas()
            return all(re.search(r"^%s: #\d+, ESTABLISHED, IKEv2" % t, out, re.M) and
                       re.search(r"^  %s: #\d+, reqid \d+, INSTALLED, TUNNEL-in-UDP" % t, out, re.M)
                       and re.search(r"^  inside%s: #\d+, reqid \d+, INSTALLED" % t[-1], out, re.M)
                       for t in tunnels)
        try:
            wait_for(ok, timeout, "ESTABLISHED/INSTALLED IKEv2 SAs in swanctl --list-sas")
        except AssertionError:
            raise AssertionError(self.list_sas())

    def assert_spis_match(self, driver, tunnels=(1, 2)):
        """vpcd's inbound SPIs of each tunnel are strongSwan's outbound ones
        of that tunnel's CHILD SAs (tunnel<N> and inside<N>), and only those."""
        out = self.list_sas()
        for n in tunnels:
            ours = set(self.child_spis(driver, TUNNEL_IDS[n - 1]))
            theirs = set(re.findall(r"(?ms)^  (?:tunnel%d|inside%d): #\d+, reqid \d+, INSTALLED.*?"
                                    r"\n    out\s+([0-9a-f]{8})" % (n, n), out))
            self.assertEqual(len(theirs), 2, out)
            self.assertEqual(ours, theirs, out)

    def status_line(self, driver, tid):
        return next(l for l in driver.status() if l.startswith("status %s " % tid))

    def child_spis(self, driver, tid):
        spis, cur = [], None
        for line in driver.status():
            if line.startswith("status "):
                cur = line.split()[1]
            elif cur == tid and line.startswith("  child") and "lingering" not in line:
                spis.append(re.search(r"spi_in=(\w+)", line).group(1))
        return spis


@unittest.skipUnless(os.geteuid() == 0,
                     "needs root: creates network namespaces and a TUN device, runs charon")
class Ikev2StrongSwanTest(Ikev2Base):

    def test_tunnels_traffic_restart_dpd(self):
        """Both tunnels UP over IKEv2 (tunnel and inside CHILD SAs, NAT-T);
        office <-> VPC host ping, fragments and TCP; the router pings our
        inside addresses; vpcd restarted -> the router reconnects (SAs on
        both sides, office traffic at once, see below); charon killed -> DOWN
        "DPD" within the DPD timeout; charon back -> UP and traffic."""
        conf_d = self.driver_conf()
        driver = self.start_driver(conf_d)
        conf = self.router_conf()
        self.start_charon(conf)
        self.wait_up(driver)
        self.assert_strongswan_sas()
        for tid in TUNNEL_IDS:
            st = self.status_line(driver, tid)
            self.assertIn(" ike=2 ", st)
            self.assertIn("ikev2_sa=ESTABLISHED", st)
            self.assertIn("ikev2_nat=1", st)   # libipsec's NAT-T: IKE on 4500
            self.assertIn(":4500 ", st)
        self.assertRegex(driver.stderr(), r"CHILD SA \w+/\w+ NONE -> INSTALLED: .*UDP-encapsulated")
        for ours in INSIDE_OURS:
            self.ping("router", ours)
        self.ping("office", VPC_HOST_IP)
        self.ping("vpchost", OFFICE_IP)
        self.ping("office", VPC_HOST_IP, count=2, size=3000)   # fragments both ways
        v1.IpsecStrongSwanTest.tcp_roundtrip(self, "vpchost", VPC_HOST_IP, "office")

        # vpcd restarts: its Deletes go out, the router (close_action =
        # start) comes back to the new one
        driver.stop()
        driver = self.start_driver(conf_d, "driver2")
        self.wait_up(driver, timeout=40)
        self.assert_strongswan_sas()
        self.assert_spis_match(driver)
        # After it restarts the CHILD SAs of IKE SAs its peer deleted,
        # strongSwan 5.9.8 gives CHILD SAs of different selectors the same
        # reqid (it passes each old CHILD SA's reqid to the new one and reuses
        # a released reqid whatever its selectors: issue #1855, fixed in
        # 5.9.12); charon's log (esp level 2) then shows e.g. tunnel1,
        # tunnel2 and inside1 all with "reqid {2}". libipsec sends a packet
        # with the newest outbound SA of its policy's reqid, whatever the
        # peer: the office's packets may travel in an inside SA, and the
        # router's packets to our tunnel-1 inside address in tunnel 2's SA,
        # to tunnel 2's outside address (0/3 before 5c1b76f). vpcd takes a
        # packet that arrives on the wrong CHILD SA when another CHILD SA of
        # that tunnel covers it (ep_datapath.c, tunnel_selectors_cover), and
        # a tunnel's inside pair from the other tunnel of its connection
        # (inside_sibling), answered from its own tunnel (libipsec accepts it
        # there: the SA has its policy's reqid; test_reqid_shared_across_-
        # tunnels below makes that state on purpose). Office traffic and the
        # router's pings to both inside addresses must work at once.
        self.ping("office", VPC_HOST_IP)
        v1.IpsecStrongSwanTest.tcp_roundtrip(self, "vpchost", VPC_HOST_IP, "office")
        for ours in INSIDE_OURS:
            self.ping("router", ours)
        crossed = [l for l in driver.status() if " for_other_tunnel=" in l]
        if crossed:   # the router's choice this run: said and counted
            print("\nafter the vpcd restart, taken for the other tunnel: " +
                  "; ".join(re.search(r"^status (\S+).*( for_other_tunnel=\d+)", l).expand(r"\1\2")
                            for l in crossed), file=sys.stderr)
            self.assertRegex(driver.stderr(), r"CHILD SA \w+ carries tunnel vpn-test#\d's inside pair")

        # the router dies without a word: DPD must notice
        mark = driver.mark()
        t0 = time.time()
        self.charon.stop(signal.SIGKILL)
        for tid in TUNNEL_IDS:
            line = driver.wait_line(r"^tunnel %s DOWN" % re.escape(tid), DPD_TIMEOUT + 3, mark)
            self.assertIn("DPD", line)
            print("\n%s DOWN %.1f s after the kill" % (tid, time.time() - t0), file=sys.stderr)
        mark = driver.mark()
        self.start_charon(conf)
        self.wait_up(driver, mark)
        self.assert_strongswan_sas()
        self.assert_spis_match(driver)
        self.ping("office", VPC_HOST_IP)
        for ours in INSIDE_OURS:
            self.ping("router", ours)
        for secret in self.psk:
            self.assertNotIn(secret, driver.stderr())
            self.assertNotIn(secret, "\n".join(driver.lines))

    def test_reqid_shared_across_tunnels(self):
        """As reqid_shared_across_tunnels says, over IKEv2."""
        self.reqid_shared_across_tunnels("ikev2")

    def test_reqid_shared_across_tunnels_ikev1(self):
        """As reqid_shared_across_tunnels says, over IKEv1 (Quick Mode)."""
        self.reqid_shared_across_tunnels("ikev1")

    def reqid_shared_across_tunnels(self, ike):
        """The router state strongSwan 5.9.8 leaves after a vpcd restart
        (with either IKE version), made on purpose: tunnel 2's office CHILD SA and tunnel 1's inside
        CHILD SA with one reqid (here a static one, as charon's re-creation
        gives them; docs/testing.md), tunnel 2's installed last. libipsec
        then sends the router's pings to our tunnel-1 inside address in
        tunnel 2's SA, to 203.0.113.2. vpcd takes them as tunnel 1's (they
        are inside the selectors the same router negotiated there), counts
        them on tunnel 2 and answers from tunnel 1's inside CHILD SA, where
        libipsec accepts them: 3/3. Tunnel 2's own inside pair and the
        office are unaffected."""
        driver = self.start_driver(self.driver_conf())
        with open(self.router_conf(ike)) as f:
            conf = f.read()
        head, tail = conf.split("\n    tunnel2 {")

        def child_block(text, name):
            m = re.search(r"(?ms)^( +)%s \{\n.*?^\1\}\n" % name, text)
            self.assertIsNotNone(m, "no CHILD SA %s in the download" % name)
            return m

        m = child_block(head, "inside1")
        head = head[:m.end() - len(m.group(1)) - 2] + m.group(1) + "    reqid = 7\n" + \
            head[m.end() - len(m.group(1)) - 2:]
        m = child_block(tail, "tunnel2")
        block = re.sub(r"start_action = start", "start_action = none", m.group(0))
        block = block[:-len(m.group(1)) - 2] + m.group(1) + "    reqid = 7\n" + block[-len(m.group(1)) - 2:]
        tail = tail[:m.start()] + block + tail[m.end():]
        conf = head + "\n    tunnel2 {" + tail
        self.assertEqual(len(re.findall(r"(?m)^ +reqid = 7$", conf)), 2, conf)
        path = os.path.join(self.tdir, "swanctl.conf")
        with open(path, "w") as f:
            f.write(conf)
        self.start_charon(path)
        self.wait_up(driver)

        def installed(name):
            return re.search(r"(?m)^  %s: #\d+, reqid \d+, INSTALLED" % name, self.list_sas())

        wait_for(lambda: all(installed(c) for c in ("tunnel1", "inside1", "inside2")), 15,
                 "tunnel1, inside1, inside2 INSTALLED")
        self.assertIsNone(installed("tunnel2"))
        self.charon.swanctl("--initiate", "--child", "tunnel2", "--timeout", "10")
        out = self.list_sas()
        self.assertRegex(out, r"(?m)^  tunnel2: #\d+, reqid 7, INSTALLED")
        self.assertRegex(out, r"(?m)^  inside1: #\d+, reqid 7, INSTALLED")

        def sa_packets(name):
            """(in, out) packets of the router's CHILD SA name."""
            m = re.search(r"(?ms)^  %s: #\d+, reqid \d+, INSTALLED.*?\n    in  \w+,\s+\d+ bytes,"
                          r"\s+(\d+) packets.*?\n    out \w+,\s+\d+ bytes,\s+(\d+) packets"
                          % name, self.list_sas())
            return int(m.group(1)), int(m.group(2))

        before = {c: sa_packets(c) for c in ("tunnel2", "inside1")}
        self.ping("router", INSIDE_OURS[0])
        after = {c: sa_packets(c) for c in ("tunnel2", "inside1")}
        # out in tunnel 2's SA (the shared reqid's newest), back in inside1's
        self.assertGreaterEqual(after["tunnel2"][1] - before["tunnel2"][1], 3, (before, after))
        self.assertEqual(after["inside1"][1], before["inside1"][1], (before, after))
        self.assertGreaterEqual(after["inside1"][0] - before["inside1"][0], 3, (before, after))
        def tunnel2_status():   # the status is a snapshot the endpoint refreshes
            return self.status_line(driver, TUNNEL_IDS[1])

        def crossed():
            m = re.search(r" for_other_tunnel=(\d+)", tunnel2_status())
            return m and int(m.group(1)) >= 3

        wait_for(crossed, 5, "tunnel 2's for_other_tunnel >= 3")
        self.assertNotIn("outside the SA's selectors", tunnel2_status())
        self.assertRegex(driver.stderr(), r"tunnel %s: CHILD SA \w+ carries tunnel %s's inside pair" % (
            re.escape(TUNNEL_IDS[1]), re.escape(TUNNEL_IDS[0])))
        self.ping("router", INSIDE_OURS[1])
        self.ping("office", VPC_HOST_IP)
        self.ping("vpchost", OFFICE_IP)

    def test_rekeys_and_collisions_without_loss(self):
        """CHILD SAs rekeyed every 10-15 s by each side and the IKE SA every
        ~15 s by the router (vpcd's own IKE SA rekeys at 20-25 s), for two
        minutes of pings every 0.1 s; meanwhile vpcd and the router are
        told to rekey the same CHILD SA at the same moment until a
        collision happens, then the same IKE SA until that collides too.
        No ping may be lost, and every SA both sides hold at the end must
        match."""
        driver = self.start_driver(self.driver_conf(extra={
            "phase1_lifetime": 30, "phase2_lifetime": 20, "rekey_margin": 5}))
        self.start_charon(self.router_conf(ike_rekey=15, child_life=(20, 14)))
        self.wait_up(driver)
        self.assert_strongswan_sas()
        first = self.child_spis(driver, TUNNEL_IDS[0])
        mark = driver.mark()

        stop = threading.Event()
        collisions = set()

        def collide():
            # SIGUSR2: the driver rekeys its CHILD SAs now (SIGRTMIN: its
            # IKE SA); swanctl asks the router for the same; both requests
            # cross on the wire. First a CHILD SA collision, then an IKE SA one.
            # charon is stopped (SIGSTOP) while the driver's request and
            # swanctl's command wait for it, then let go: both reach it
            # together (the pings wait 0.25 s in the queues, none is lost)
            while not stop.is_set() and len(collisions) < 2:
                time.sleep(4)
                ike = "CHILD" in collisions
                env = dict(os.environ, STRONGSWAN_CONF=self.charon.conf)
                cmd = [SWANCTL, "--rekey", "--ike" if ike else "--child", "tunnel1",
                       "--uri", self.charon.vici]
                os.kill(self.charon.proc.pid, signal.SIGSTOP)
                try:
                    os.kill(driver.p.pid, signal.SIGRTMIN if ike else signal.SIGUSR2)
                    time.sleep(0.05)
                    sw = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL)
                    time.sleep(0.2)
                finally:
                    os.kill(self.charon.proc.pid, signal.SIGCONT)
                sw.wait(timeout=10)
                time.sleep(1)
                for kind in ("CHILD", "IKE"):
                    if "%s SA rekey collision" % kind in driver.stderr():
                        collisions.add(kind)

        th = threading.Thread(target=collide, daemon=True)
        th.start()
        for attempt in (1, 2):
            sent, got = self.ping("office", VPC_HOST_IP, count=1200, interval="0.1", check=False)
            if got == sent:
                break
            sys.stderr.write("\nrekey run %d lost %d of %d pings; running once more\n" %
                             (attempt, sent - got, sent))
        # the forcing goes on after the pings (bounded) until both kinds have
        # collided: on a loaded machine the first tries may not cross
        th.join(timeout=90)
        stop.set()
        th.join(timeout=20)
        self.assertEqual(got, sent, "pings lost across rekeys in two runs")
        log = driver.stderr()
        self.assertEqual(collisions, {"CHILD", "IKE"},
                         "not both kinds of rekey collision in two minutes of pings and 90 s more")
        child_rekeys = len(re.findall(r"vpn-test#1: CHILD SA \w+/\w+ NONE -> INSTALLED", log))
        ike_rekeys = len(re.findall(r"vpn-test#1: #\d+ rekeyed (by the peer )?into #\d+", log))
        print("\ntunnel 1: %d CHILD SAs installed, %d IKE SA rekeys, collisions: %s" % (
            child_rekeys, ike_rekeys, re.findall(r"vpn-test#1: (\w+ SA rekey collision.*)", log)),
            file=sys.stderr)
        self.assertGreaterEqual(child_rekeys, 8)
        self.assertGreaterEqual(ike_rekeys, 4)
        self.assertNotIn("tunnel %s DOWN" % TUNNEL_IDS[0], driver.lines[mark:])
        self.ping("router", INSIDE_OURS[0])
        later = self.child_spis(driver, TUNNEL_IDS[0])
        self.assertFalse(set(first) & set(later), (first, later))
        # what vpcd holds is what the router holds: rekeys go on every
        # 10-15 s, so a snapshot of both may straddle one; one of the tries
        # in 20 s must find them equal
        time.sleep(6)    # lingering SAs gone
        last = []

        def same():
            try:
                self.assert_spis_match(driver)
                return True
            except AssertionError as e:
                last[:] = [e]
                return False
        try:
            wait_for(same, 20, "vpcd's SPIs = strongSwan's")
        except AssertionError:
            raise last[0] if last else AssertionError("no snapshot")

    def test_vpcd_initiates(self):
        """StartupAction=start: vpcd initiates IKE_SA_INIT to a router that
        only answers; both tunnels UP, traffic flows."""
        driver = self.start_driver(self.driver_conf(extra={"startup_action": "start"}))
        self.start_charon(self.router_conf(passive=True))
        self.wait_up(driver, timeout=60)
        self.assertRegex(driver.stderr(), r"vpn-test#1: #\d+ initiating IKE_SA_INIT")
        out = self.list_sas()
        # charon is the responder: its own SPI is the _r one (marked *)
        self.assertRegex(out, r"(?m)^tunnel1: #\d+, ESTABLISHED, IKEv2, [0-9a-f]+_i [0-9a-f]+_r\*")
        self.assertRegex(out, r"(?m)^  tunnel1: #\d+, reqid \d+, INSTALLED, TUNNEL-in-UDP")
        self.ping("office", VPC_HOST_IP)
        self.ping("vpchost", OFFICE_IP)

    def test_wrong_psk(self):
        """A PSK that differs from the router's: tunnel 1 DOWN with an
        authentication cause; tunnel 2 still comes UP."""
        wrong = ["wrong" + secrets.token_hex(8), self.psk[1]]
        driver = self.start_driver(self.driver_conf(psk=wrong))
        self.start_charon(self.router_conf())
        line = driver.wait_line(r"^tunnel %s DOWN IKEv2 authentication failed" %
                                re.escape(TUNNEL_IDS[0]), 20)
        self.assertIn("pre-shared key", line)
        self.wait_up(driver, ids=TUNNEL_IDS[1:])
        self.assertNotIn("tunnel %s UP" % TUNNEL_IDS[0], driver.lines)
        for secret in wrong + self.psk:
            self.assertNotIn(secret, driver.stderr())

    def test_proposal_mismatch(self):
        """The router offers AES-256/SHA-256/group 14 on tunnel 2, which the
        tunnel options do not allow: DOWN with "proposal mismatch" naming
        the offer; tunnel 1 still comes UP."""
        driver = self.start_driver(self.driver_conf())
        self.start_charon(self.router_conf(proposals2=("aes256-sha256-modp2048",
                                                       "aes256-sha256-modp2048")))
        line = driver.wait_line(r"^tunnel %s DOWN IKEv2 proposal mismatch" %
                                re.escape(TUNNEL_IDS[1]), 20)
        self.assertIn("peer offered aes256-sha256-prfsha256-modp2048", line)
        self.wait_up(driver, ids=TUNNEL_IDS[:1])

    def test_ikev2_only_refuses_ikev1(self):
        """A tunnel allowing only ikev2, and a router configured for IKEv1:
        DOWN with "peer offered IKEv1; tunnel allows ikev2 only"."""
        driver = self.start_driver(self.driver_conf(extra={"ike_versions": "ikev2"}))
        self.start_charon(self.router_conf(ike="ikev1"))
        for tid in TUNNEL_IDS:
            driver.wait_line(r"^tunnel %s DOWN peer offered IKEv1; tunnel allows ikev2 only$" %
                             re.escape(tid), 20)


NAT_PUBLIC_IP = "192.0.2.7"   # the NAT's public address: the customer gateway's IP for vpcd
UDP_NAT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "udp_nat.py")


@unittest.skipUnless(os.geteuid() == 0,
                     "needs root: creates network namespaces and a TUN device, runs charon")
class Ikev2NatTest(Ikev2Base):
    """The router behind a real NAT (tests/interop/udp_nat.py: its address
    becomes 192.0.2.7 and its ports 40000 and up, different for 500 and
    4500), as a customer gateway behind a home or carrier NAT; vpcd knows
    the gateway by the NAT's address, the router says it is that address
    (its IKE identity), as AWS asks of routers behind NAT:

        office -- router 198.51.100.2 -- nat (udp_nat.py) ==> vpcd sees 192.0.2.7:400xx

    The router's and vpcd's namespaces are not linked: the NAT process owns
    vpcd's outside addresses in the router's direction and 192.0.2.7 in
    vpcd's namespace."""

    @classmethod
    def setUpClass(cls):
        if not v1.find_driver():
            raise unittest.SkipTest("vpn-endpoint-harness is not built (make all)")
        for path in (RENDER, CHARON, SWANCTL):
            if not os.path.exists(path):
                raise unittest.SkipTest("%s is missing" % path)
        cls.dir = tempfile.mkdtemp(prefix="ikev2-nat-")
        if os.environ.get("VPCD_TEST_KEEP"):
            print("\nkeeping " + cls.dir, file=sys.stderr)
        else:
            cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.ns = Namespaces("vpn2n", ("office", "router", "nat", "vpcd", "vpchost"))
        cls.addClassCleanup(cls.ns.remove)
        cls.ns.make(rp_filter=0)
        ns = cls.ns
        ns.veth("office", "eth0", "router", "lan0")
        ns.ip("office", "addr", "add", OFFICE_IP + "/24", "dev", "eth0")
        ns.ip("office", "route", "add", "default", "via", "10.0.0.1")
        ns.ip("router", "addr", "add", "10.0.0.1/24", "dev", "lan0")
        ns.sysctl("router", "net.ipv4.ip_forward", 1)
        ns.veth("router", "wan0", "nat", "eth0")
        ns.ip("router", "addr", "add", CGW_IP + "/24", "dev", "wan0")
        ns.ip("router", "route", "add", "203.0.113.0/24", "via", VPCD_LINK_IP)
        for a in INSIDE_ROUTER:
            ns.ip("router", "addr", "add", a + "/32", "dev", "lo")
        ns.ip("nat", "addr", "add", VPCD_LINK_IP + "/24", "dev", "eth0")
        for a in VGW_IPS:
            ns.ip("nat", "addr", "add", a + "/32", "dev", "eth0")
            ns.ip("vpcd", "addr", "add", a + "/32", "dev", "lo")
        ns.ip("vpcd", "addr", "add", NAT_PUBLIC_IP + "/32", "dev", "lo")
        ns.veth("vpcd", "vpc0", "vpchost", "eth0")
        ns.ip("vpcd", "addr", "add", "10.96.0.1/16", "dev", "vpc0")
        ns.sysctl("vpcd", "net.ipv4.ip_forward", 1)
        ns.ip("vpchost", "addr", "add", VPC_HOST_IP + "/16", "dev", "eth0")
        ns.ip("vpchost", "route", "add", "default", "via", "10.96.0.1")
        cls.nat_log = open(os.path.join(cls.dir, "udp_nat.log"), "w")
        cls.nat = subprocess.Popen(["ip", "netns", "exec", ns["nat"], sys.executable, UDP_NAT,
                                    "--far-netns", ns["vpcd"], "--public-ip", NAT_PUBLIC_IP,
                                    "--vpcd-ips", ",".join(VGW_IPS)],
                                   stdout=subprocess.PIPE, stderr=cls.nat_log, text=True)
        cls.addClassCleanup(cls.nat_log.close)
        cls.addClassCleanup(v1.stop_process, cls.nat)
        if cls.nat.stdout.readline().strip() != "ready":
            raise AssertionError("udp_nat.py did not start")

    def driver_conf(self, psk=None, extra=None):
        path = super().driver_conf(psk, extra)
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:   # vpcd knows the gateway by the NAT's address
            f.write(text.replace("remote = " + CGW_IP, "remote = " + NAT_PUBLIC_IP))
        return path

    def router_conf(self, **kw):
        path = super().router_conf(**kw)
        with open(path) as f:
            text = f.read()
        # the router's IKE identity is the NAT's address (its local_addrs stay its own)
        text, n = re.subn(r"(\n\s+id = |id-local = )%s\n" % re.escape(CGW_IP),
                          r"\g<1>%s\n" % NAT_PUBLIC_IP, text)
        self.assertEqual(n, 4, "cgwconf's template changed: identities")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_behind_nat(self):
        """Both tunnels UP through the NAT: vpcd sees the gateway at
        192.0.2.7 on a NAT port (not 4500), detects the NAT in front of the
        peer, sends its ESP in UDP to that port; office <-> VPC traffic,
        TCP, and a CHILD SA rekey through the NAT."""
        driver = self.start_driver(self.driver_conf(extra={"phase2_lifetime": 20,
                                                           "rekey_margin": 5}))
        self.start_charon(self.router_conf())
        self.wait_up(driver)
        self.assert_strongswan_sas()
        for tid in TUNNEL_IDS:
            st = self.status_line(driver, tid)
            self.assertIn("ikev2_nat=1", st)
            port = int(re.search(r"remote=%s:(\d+) " % re.escape(NAT_PUBLIC_IP), st).group(1))
            self.assertGreaterEqual(port, 40000)   # the NAT's port, not 500 or 4500
        children = [l for l in driver.status() if l.startswith("  child")]
        self.assertTrue(children)
        for l in children:
            port = int(re.search(r"encap=udp:(\d+)", l).group(1))
            self.assertGreaterEqual(port, 40000)
        self.ping("office", VPC_HOST_IP)
        self.ping("vpchost", OFFICE_IP)
        for ours in INSIDE_OURS:
            self.ping("router", ours)
        v1.IpsecStrongSwanTest.tcp_roundtrip(self, "vpchost", VPC_HOST_IP, "office")
        # the VPC host's 200 KB went out as runs of same-size ESP-in-UDP
        # datagrams: UDP GSO sends, cut by the kernel, through the NAT whole
        counters = [l for l in driver.status() if l.startswith("counters ")]
        self.assertTrue(counters)
        self.assertGreater(int(re.search(r"gso_sends=(\d+)", counters[0]).group(1)), 0, counters)
        first = self.child_spis(driver, TUNNEL_IDS[0])
        sent, got = self.ping("office", VPC_HOST_IP, count=250, interval="0.1", check=False)
        self.assertFalse(set(first) & set(self.child_spis(driver, TUNNEL_IDS[0])),
                         "no CHILD SA rekey through the NAT in 25 s")
        self.assertEqual(got, sent)
        with open(self.nat_log.name) as f:
            self.assertRegex(f.read(), r"mapped %s:4500 -> %s:4\d{4}" % (
                re.escape(CGW_IP), re.escape(NAT_PUBLIC_IP)))


if __name__ == "__main__":
    unittest.main()
