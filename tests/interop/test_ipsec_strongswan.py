"""vpcd's VPN endpoint (build/vpn-endpoint-harness) against a real strongSwan
5.9 charon (kernel-libipsec, IKEv1, NAT-T) as the customer router.

Topology, four network namespaces with per-run unique names, always
deleted (also on failure):

    office 10.0.0.10 -- 10.0.0.1 router 198.51.100.2 -- 198.51.100.1 vpcd
                                 (charon)                203.0.113.1, .2
                                                         (driver, TUN vpn0)
                                                         10.96.0.1 -- 10.96.0.10 vpchost

The router's swanctl.conf is what cgwconf renders for the strongSwan device
type (51cb26fd) for this connection (static route 10.0.0.0/24, the VPC
10.96.0.0/16), with test changes made in plain sight (see router_conf):
short DPD, a second CHILD SA per tunnel for the inside addresses so that
the router can ping vpcd's inside address, and per test short lifetimes,
a wrong PSK or other proposals.

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

from interop.netns import (CHARON, PINGER, SWANCTL, Charon, Namespaces, ping, run, stop_process,
                           wait_for)

BUILD = os.environ.get("VPCD_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
DRIVER_PATHS = [os.path.join(BUILD, "vpn-endpoint-harness"),
                os.path.join(BUILD, "src", "vpn", "endpoint", "vpn-endpoint-harness")]
RENDER = os.path.join(BUILD, "tests", "cgwconf", "cgwconf-render")

CGW_IP = "198.51.100.2"
VPCD_LINK_IP = "198.51.100.1"
VGW_IPS = ("203.0.113.1", "203.0.113.2")
INSIDE = ("169.254.252.0/30", "169.254.253.4/30")
INSIDE_OURS = ("169.254.252.1", "169.254.253.5")
INSIDE_ROUTER = ("169.254.252.2", "169.254.253.6")
OFFICE_IP = "10.0.0.10"
VPC_HOST_IP = "10.96.0.10"
TUNNEL_IDS = ("vpn-test#1", "vpn-test#2")
DPD_TIMEOUT = 6          # the driver's, seconds


def find_driver():
    for p in DRIVER_PATHS:
        if os.path.exists(p):
            return p
    return None


class Driver:
    """vpn-endpoint-harness in the vpcd namespace; stdout lines collected."""

    def __init__(self, ns, conf, log_path):
        self.lines = []
        self.cond = threading.Condition()
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.p = subprocess.Popen(["ip", "netns", "exec", ns, find_driver(), conf],
                                  stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.lines)

    def wait_line(self, regex, timeout, since=0):
        """The first stdout line at index >= since matching regex."""
        rx = re.compile(regex)
        end = time.time() + timeout
        with self.cond:
            while True:
                for line in self.lines[since:]:
                    if rx.search(line):
                        return line
                left = end - time.time()
                if left <= 0 or self.p.poll() is not None:
                    raise AssertionError("driver: no line /%s/ in %ss; stdout:\n%s\nstderr "
                                         "tail:\n%s" % (regex, timeout, "\n".join(self.lines),
                                                        self.stderr()[-3000:]))
                self.cond.wait(min(left, 0.2))

    def status(self):
        """SIGUSR1 -> the status block, as lines."""
        since = self.mark()
        os.kill(self.p.pid, signal.SIGUSR1)
        self.wait_line(r"^end$", 5, since)
        with self.cond:
            block = self.lines[since:]
        return block[:block.index("end")]

    def stderr(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        stop_process(self.p)    # "ip netns exec" execs the driver: p.pid is the driver's
        self.reader.join(timeout=5)
        self.log.close()


@unittest.skipUnless(os.geteuid() == 0,
                     "needs root: creates network namespaces and a TUN device, runs charon")
class IpsecStrongSwanTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not find_driver():
            raise unittest.SkipTest("vpn-endpoint-harness is not built (make all)")
        for path in (RENDER, CHARON, SWANCTL):
            if not os.path.exists(path):
                raise unittest.SkipTest("%s is missing (make all, or install strongswan-swanctl "
                                        "charon-systemd libcharon-extra-plugins)" % path)
        cls.dir = tempfile.mkdtemp(prefix="ipsec-ss-")
        if os.environ.get("VPCD_TEST_KEEP"):   # keep logs and configs to read
            print("\nkeeping " + cls.dir, file=sys.stderr)
        else:
            cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.ns = Namespaces("vpni", ("office", "router", "vpcd", "vpchost"))
        cls.addClassCleanup(cls.ns.remove)
        cls.ns.make(rp_filter=0)
        cls.build_topology()

    @classmethod
    def build_topology(cls):
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
        self.charon = Charon(self.ns["router"], self.tdir, log_levels={"ike": 2, "knl": 1})
        self.addCleanup(self.charon.stop)

    def driver_conf(self, psk=None, extra=None):
        """The driver's configuration: AWS's default tunnel options with
        test-only short DPD, both tunnels waiting for the router (add)."""
        psk = psk or self.psk
        extra = extra or {}
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

    def router_conf(self, child_life=None, proposals2=None):
        """cgwconf's strongSwan configuration for this connection, changed
        for the test: DPD every 2 s, an "inside" CHILD SA per tunnel
        (router inside address <-> ours, for the router's ping), and
        optionally short CHILD lifetimes or other proposals on tunnel 2."""
        r = subprocess.run([RENDER, "--ike", "ikev1", "--route", "10.0.0.0/24",
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
        if child_life:
            life, rekey = child_life
            conf = sub(r"life_time = 3600s", "life_time = %ds" % life, conf)
            conf = sub(r"rekey_time = 3060s", "rekey_time = %ds\n"
                       "                    rand_time = 2s" % rekey, conf)
        blocks = conf.split("\n    tunnel2 {")
        self.assertEqual(len(blocks), 2, "cgwconf's template: no tunnel2 block")
        for n in range(2):
            child = textwrap.indent(textwrap.dedent("""\
                inside%(n)d {
                    mode = tunnel
                    local_ts = %(router)s/32
                    remote_ts = %(ours)s/32
                    esp_proposals = aes128-sha1-modp1024
                    dpd_action = restart
                    start_action = start
                }
                """) % {"n": n + 1, "router": INSIDE_ROUTER[n], "ours": INSIDE_OURS[n]},
                " " * 12)
            blocks[n] = sub(r"\n        children {\n", "\n        children {\n" + child,
                            blocks[n], 1)
        conf = "\n    tunnel2 {".join(blocks)
        if proposals2:
            ike, esp = proposals2
            head, tail = conf.split("\n    tunnel2 {")
            tail = sub(r"proposals = aes128-sha1-modp1024", "proposals = " + ike, tail, 1)
            tail = sub(r"esp_proposals = aes128-sha1-modp1024", "esp_proposals = " + esp, tail)
            conf = head + "\n    tunnel2 {" + tail
        path = os.path.join(self.tdir, "swanctl.conf")
        with open(path, "w") as f:
            f.write(conf)
        return path

    def start_charon(self, swanctl_conf):
        out = self.charon.start(swanctl_conf)
        self.assertIn("successfully loaded 2 connections", out)

    def start_driver(self, conf):
        d = Driver(self.ns["vpcd"], conf, os.path.join(self.tdir, "driver.log"))
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

    def assert_strongswan_sas(self, driver, tunnels=("tunnel1", "tunnel2"), timeout=10):
        """Both sides have each tunnel's SAs: charon lists them ESTABLISHED
        and INSTALLED, and the driver has each tunnel's inside CHILD SA
        (the router's pings to our inside addresses travel in it). charon
        initiates that CHILD SA and installs it on Quick Mode's second
        message; the driver installs it on the third, which it may read
        later on a loaded machine, so charon's word alone is not enough."""
        def ok():
            out = self.charon.swanctl("--list-sas").stdout
            return all(re.search(r"^%s: #\d+, ESTABLISHED, IKEv1" % t, out, re.M) and
                       re.search(r"^  %s: #\d+, reqid \d+, INSTALLED, TUNNEL-in-UDP" % t, out, re.M)
                       and re.search(r"^  inside%s: #\d+, reqid \d+, INSTALLED" % t[-1], out, re.M)
                       for t in tunnels)
        try:
            wait_for(ok, timeout, "ESTABLISHED/INSTALLED SAs in swanctl --list-sas")
        except AssertionError:
            raise AssertionError(self.charon.swanctl("--list-sas").stdout)
        wanted = {TUNNEL_IDS[int(t[-1]) - 1] for t in tunnels}

        def inside_installed():
            tid, have = None, set()
            for line in driver.status():
                if line.startswith("status "):
                    tid = line.split()[1]
                elif tid in wanted and line.startswith("  child") and "lingering" not in line:
                    ours = INSIDE_OURS[TUNNEL_IDS.index(tid)]
                    if "local_ts=%s-%s " % (ours, ours) in line:
                        have.add(tid)
            return have == wanted
        try:
            wait_for(inside_installed, timeout, "the driver's inside CHILD SAs")
        except AssertionError:
            raise AssertionError("\n".join(driver.status()))

    def tcp_roundtrip(self, server_ns, server_ip, client_ns):
        """A TCP connection from client_ns to server_ns:5201; 200 KB each way."""
        server = subprocess.Popen(
            ["ip", "netns", "exec", self.ns[server_ns], sys.executable, "-c", textwrap.dedent("""
                import socket
                s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("%s", 5201)); s.listen(1); s.settimeout(20)
                print("listening", flush=True)
                c, _ = s.accept(); c.settimeout(20)
                got = b""
                while len(got) < 200000:
                    b = c.recv(65536)
                    if not b: break
                    got += b
                c.sendall(got[::-1]); c.close()
                """) % server_ip], stdout=subprocess.PIPE, text=True)
        self.addCleanup(lambda: server.poll() is None and server.kill())
        self.assertEqual(server.stdout.readline().strip(), "listening")
        client = self.in_ns(client_ns, sys.executable, "-c", textwrap.dedent("""
            import hashlib, os, socket
            data = os.urandom(200000)
            c = socket.create_connection(("%s", 5201), timeout=20)
            c.sendall(data)
            got = b""
            while len(got) < len(data):
                b = c.recv(65536)
                if not b: break
                got += b
            print("ok" if got == data[::-1] else "mismatch %%d" %% len(got))
            """) % server_ip)
        self.assertEqual(client.stdout.strip(), "ok")
        server.wait(timeout=10)

    def child_spis(self, driver, tid):
        """inbound SPIs of the live CHILD SAs of tunnel tid."""
        spis, cur = [], None
        for line in driver.status():
            if line.startswith("status "):
                cur = line.split()[1]
            elif cur == tid and line.startswith("  child") and "lingering" not in line:
                spis.append(re.search(r"spi_in=(\w+)", line).group(1))
        return spis

    # ---- tests -----------------------------------------------------------------

    def test_tunnels_traffic_dpd_restart(self):
        """Both tunnels up; router pings our inside addresses; office <->
        VPC host ping, TCP and fragmented ping; charon killed -> DOWN with
        "DPD timeout" within the DPD timeout; restarted -> UP and traffic."""
        driver = self.start_driver(self.driver_conf())
        conf = self.router_conf()
        self.start_charon(conf)
        self.wait_up(driver)
        self.assert_strongswan_sas(driver)
        for ours in INSIDE_OURS:
            self.ping("router", ours)
        self.ping("office", VPC_HOST_IP)
        self.ping("vpchost", OFFICE_IP)
        self.ping("office", VPC_HOST_IP, count=2, size=3000)   # fragments both ways
        self.tcp_roundtrip("vpchost", VPC_HOST_IP, "office")
        self.tcp_roundtrip("office", OFFICE_IP, "vpchost")
        status = driver.status()
        self.assertTrue(any(l.startswith("status %s UP" % TUNNEL_IDS[0]) for l in status), status)
        self.assertTrue(any("pkts_in=" in l and "pkts_in=0 " not in l for l in status), status)

        # the router drops tunnel 1: DOWN with the cause, traffic fails
        # over to tunnel 2 (same routes) in both directions
        mark = driver.mark()
        self.charon.swanctl("--terminate", "--ike", "tunnel1")
        line = driver.wait_line(r"^tunnel %s DOWN" % re.escape(TUNNEL_IDS[0]), 10, mark)
        self.assertIn("deleted by peer", line)
        self.ping("office", VPC_HOST_IP)
        self.ping("vpchost", OFFICE_IP)
        self.assertNotIn("tunnel %s DOWN" % TUNNEL_IDS[1], driver.lines[mark:])
        # and brings it back
        mark = driver.mark()
        self.charon.swanctl("--initiate", "--child", "tunnel1")
        self.charon.swanctl("--initiate", "--child", "inside1")
        self.wait_up(driver, mark, ids=TUNNEL_IDS[:1])
        self.assert_strongswan_sas(driver)
        self.ping("router", INSIDE_OURS[0])

        # the router dies without a word: DPD must notice
        mark = driver.mark()
        t0 = time.time()
        self.charon.stop(signal.SIGKILL)
        for tid in TUNNEL_IDS:
            # silence for the DPD timeout, counted from the last packet
            # heard (before the kill); slack for the 1 s housekeeping tick
            # that reports ESP signs of life to ike/ and for scheduling
            line = driver.wait_line(r"^tunnel %s DOWN" % re.escape(tid), DPD_TIMEOUT + 2, mark)
            self.assertIn("DPD timeout", line)
            print("\n%s DOWN %.1f s after the kill" % (tid, time.time() - t0), file=sys.stderr)

        mark = driver.mark()
        self.start_charon(conf)
        self.wait_up(driver, mark)
        self.assert_strongswan_sas(driver)
        self.ping("office", VPC_HOST_IP)
        for ours in INSIDE_OURS:
            self.ping("router", ours)
        for secret in self.psk:
            self.assertNotIn(secret, driver.stderr())
            self.assertNotIn(secret, "\n".join(driver.lines))

    def test_rekey_without_loss(self):
        """CHILD SA lifetimes of 20 s on both sides (the driver's test-only
        minimum is 10 s): pings every 0.1 s for 45 s through several rekeys
        lose nothing."""
        driver = self.start_driver(self.driver_conf(extra={"phase2_lifetime": 20,
                                                           "rekey_margin": 8}))
        self.start_charon(self.router_conf(child_life=(20, 12)))
        self.wait_up(driver)
        self.assert_strongswan_sas(driver)
        first = self.child_spis(driver, TUNNEL_IDS[0])
        # A loaded 2-core machine drops a ping now and then; a make-before-break
        # bug loses pings at every rekey. So a run with a loss gets one more
        # 45 s run (through more rekeys), which must lose nothing.
        lost = ""
        for attempt in (1, 2):
            started = time.strftime("%H:%M:%S")
            sent, got, out = ping(self.ns["office"], VPC_HOST_IP, 450, "0.1", wait=2)
            if got == sent:
                break
            # which requests (0.1 s apart from the start) and where the
            # driver counted drops: to set beside the rekeys in its log
            answered = {int(n) for n in re.findall(r"icmp_seq=(\d+) time=", out)}
            drops = [l.strip() for l in driver.status() if "drop" in l]
            lost += ("\nrun %d from %s lost %d of %d: icmp_seq %s; driver drops: %s" %
                     (attempt, started, sent - got, sent,
                      sorted(set(range(1, sent + 1)) - answered), drops or "none"))
            sys.stderr.write("\nrekey run %d lost %d of %d pings; running once more%s\n" %
                             (attempt, sent - got, sent, lost))
        self.assertEqual(got, sent, "pings lost across rekeys in two runs" + lost)
        self.ping("router", INSIDE_OURS[0])
        installs = len(re.findall(r"tunnel %s: ESP SA in" % re.escape(TUNNEL_IDS[0]),
                                  driver.stderr()))
        self.assertGreaterEqual(installs, 2 + 3, "fewer than 3 rekeys of tunnel 1's SAs:\n" +
                                driver.stderr()[-4000:])
        later = self.child_spis(driver, TUNNEL_IDS[0])
        self.assertFalse(set(first) & set(later), (first, later))

    def test_reconcile_one_tunnel(self):
        """SIGHUP with tunnel 2 removed: tunnel 2 DOWN "removed" while
        tunnel 1 keeps its SAs and a running ping loses nothing; tunnel 2
        added back with startup action "start" and selector bounds (the
        driver initiates Main Mode and Quick Mode) comes UP."""
        conf = self.driver_conf()
        driver = self.start_driver(conf)
        self.start_charon(self.router_conf())
        self.wait_up(driver)
        self.assert_strongswan_sas(driver)
        before = self.child_spis(driver, TUNNEL_IDS[0])
        with open(conf) as f:
            full = f.read()
        head, t2 = full.split("\n[tunnel]\nid = " + TUNNEL_IDS[1])
        t2_start = t2.replace("startup_action = add", "startup_action = start")
        t2_start += "local_cidr = 10.96.0.0/16\nremote_cidr = 10.0.0.0/24\n"

        def remove_tunnel2_while_pinging():
            # netns.ping's echo requests, in the background (each reply
            # waited for up to 2 s after the last request)
            pinger = subprocess.Popen(["ip", "netns", "exec", self.ns["office"], sys.executable, "-c",
                                       PINGER, VPC_HOST_IP, "40", "0.1", "2", "56", ""],
                                      stdout=subprocess.PIPE, text=True)
            self.addCleanup(lambda: pinger.poll() is None and pinger.kill())
            with open(conf, "w") as f:
                f.write(head + "\n")
            mark = driver.mark()
            os.kill(driver.p.pid, signal.SIGHUP)
            line = driver.wait_line(r"^tunnel %s DOWN" % re.escape(TUNNEL_IDS[1]), 10, mark)
            self.assertIn("removed", line)
            return pinger.communicate(timeout=30)[0], mark

        def add_tunnel2_back():
            with open(conf, "w") as f:
                f.write(head + "\n[tunnel]\nid = " + TUNNEL_IDS[1] + t2_start)
            mark = driver.mark()
            os.kill(driver.p.pid, signal.SIGHUP)
            self.wait_up(driver, mark, ids=TUNNEL_IDS[1:])

        out, mark = remove_tunnel2_while_pinging()
        if "40 packets transmitted, 40 received" not in out:
            # one more run: a machine busy with other work can lose a ping
            # on its own; the second run must lose nothing
            stats = next((l for l in out.splitlines() if "transmitted" in l), out.strip())
            print("\n  reconcile: first run lost pings (%s); once more" % stats, file=sys.stderr)
            add_tunnel2_back()
            out, mark = remove_tunnel2_while_pinging()
        self.assertIn("40 packets transmitted, 40 received", out)
        self.assertEqual(self.child_spis(driver, TUNNEL_IDS[0]), before)
        self.assertNotIn("tunnel %s DOWN" % TUNNEL_IDS[0], driver.lines[mark:])

        add_tunnel2_back()
        self.assertRegex(driver.stderr(), r"vpn-test#2: initiating Main Mode")
        out = self.charon.swanctl("--list-sas").stdout
        self.assertRegex(out, r"(?m)^tunnel2: #\d+, ESTABLISHED, IKEv1")
        self.assertRegex(out, r"(?m)^  tunnel2: #\d+, reqid \d+, INSTALLED, TUNNEL-in-UDP")
        self.assertEqual(self.child_spis(driver, TUNNEL_IDS[0]), before)

    def start_office_driver(self, conf_name, extra_global, extra_tunnel):
        """vpcd's driver, and a second driver as the office router (no
        strongSwan) initiating tunnel 1 to it: both UP, the office's route
        to the VPC through its TUN. extra_global/extra_tunnel: more lines of
        the office driver's configuration, before and in [tunnel]."""
        driver = self.start_driver(self.driver_conf())
        conf = os.path.join(self.tdir, conf_name)
        with open(conf, "w") as f:
            f.write("tun = vpn0\n%s[tunnel]\nid = office#1\nlocal = %s\nremote = %s\npsk = %s\n"
                    "route = 10.96.0.0/16\nstartup_action = start\n%s" %
                    (extra_global, CGW_IP, VGW_IPS[0], self.psk[0], extra_tunnel))
        office = Driver(self.ns["router"], conf, os.path.join(self.tdir, "office-driver.log"))
        self.addCleanup(office.stop)
        office.wait_line(r"^ready vpn0$", 10)
        self.ns.ip("router", "route", "replace", "10.96.0.0/16", "dev", "vpn0")
        self.addCleanup(self.ns.ip, "router", "route", "del", "10.96.0.0/16")
        office.wait_line(r"^tunnel office#1 UP$", 20)
        self.wait_up(driver, ids=TUNNEL_IDS[:1])
        return driver, office

    def office_traffic(self):
        """office <-> VPC host: ping both ways, 3000-byte pings, TCP."""
        self.ping("office", VPC_HOST_IP)
        self.ping("vpchost", OFFICE_IP)
        self.ping("office", VPC_HOST_IP, count=2, size=3000)
        self.tcp_roundtrip("vpchost", VPC_HOST_IP, "office")

    def test_vpcd_to_vpcd_raw_esp(self):
        """Without NAT (no strongSwan: a second driver plays the router and
        initiates), the tunnel uses raw ESP (IP protocol 50) both ways:
        office <-> VPC host ping and TCP."""
        driver, _ = self.start_office_driver("office-driver.conf", "", "")
        self.assertIn("raw ESP", driver.stderr())
        self.assertNotIn("UDP-encapsulated", driver.stderr())
        self.office_traffic()

    def test_vpcd_to_vpcd_natt_gso_gro(self):
        """The office's driver forces ESP in UDP (force_encap = yes: a faked
        NAT-D, as strongSwan's encap = yes; no NAT on the path) and takes
        its TUN with offloads (tun_offload = yes: the office's TCP arrives
        as 64 KB super-frames, which it cuts into segments and checksums
        itself; what it decrypts for the office, runs of one TCP flow's
        segments, it writes as one GSO frame each, the checksum left to the
        kernel): the tunnel is UDP-encapsulated both ways, and the office's
        runs of datagrams leave with UDP GSO and reach vpcd's driver
        coalesced by UDP GRO (a GSO send between namespaces arrives as one
        message), which it cuts back into the same datagrams: ping,
        3000-byte pings and 200 KB of TCP each way arrive whole (the VPC
        host's kernel checks every checksum); gso_sends > 0, super-frames
        cut into several segments and trains of several segments written at
        the office, gro_receives > 0 at vpcd,
        each with several datagrams (with udp_gro = no on vpcd's driver,
        gro_receives stays 0, with tun_offload = no tun_tso_reads: this
        fails)."""
        driver, office = self.start_office_driver("office-driver-natt.conf",
                                                  "log_level = info\ntun_offload = yes\n",
                                                  "force_encap = yes\n")
        self.assertIn("UDP-encapsulated", driver.stderr())
        self.assertIn("UDP-encapsulated", office.stderr())
        self.office_traffic()
        counters = lambda d: {k: int(v) for k, v in re.findall(
            r"(\w+)=(\d+)", next(l for l in d.status() if l.startswith("counters ")))}
        ours, theirs = counters(driver), counters(office)
        self.assertGreater(theirs["gso_sends"], 0, theirs)
        self.assertIn("TCP segmentation offloads", office.stderr())
        self.assertGreater(theirs["tun_tso_reads"], 0, theirs)
        self.assertGreater(theirs["tun_tso_segments"], theirs["tun_tso_reads"], theirs)
        self.assertGreater(theirs["tun_gro_writes"], 0, theirs)
        self.assertGreater(theirs["tun_gro_segments"], theirs["tun_gro_writes"], theirs)
        self.assertGreater(ours["gro_receives"], 0, ours)
        self.assertGreater(ours["gro_datagrams"], ours["gro_receives"], ours)
        self.assertNotIn("GRO refused", driver.stderr())

    def test_wrong_psk(self):
        """A PSK that differs from the router's: tunnel 1 DOWN with an
        authentication cause and a log line; tunnel 2 still comes UP."""
        wrong = ["wrong" + secrets.token_hex(8), self.psk[1]]
        driver = self.start_driver(self.driver_conf(psk=wrong))
        self.start_charon(self.router_conf())
        line = driver.wait_line(r"^tunnel %s DOWN authentication failed" %
                                re.escape(TUNNEL_IDS[0]), 20)
        self.assertIn("pre-shared key", line)
        self.wait_up(driver, ids=TUNNEL_IDS[1:])
        self.assertRegex(driver.stderr(), r"vpn-test#1: .*authentication failed")
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
        line = driver.wait_line(r"^tunnel %s DOWN proposal mismatch" %
                                re.escape(TUNNEL_IDS[1]), 20)
        self.assertRegex(line, r"(?i)aes.?256")
        self.wait_up(driver, ids=TUNNEL_IDS[:1])
        self.assertIn("proposal mismatch", driver.stderr())


if __name__ == "__main__":
    unittest.main()
