"""The interop tests' plumbing (and make demo's): network namespaces and
veth pairs with per-run unique names, a real strongSwan charon in one of
them, processes stopped by their PID, waiting.

Namespaces holds the namespaces one test class (or the demo) made, named
PREFIX-ROLE-PID-RANDOM, and removes them all, also when making them failed
halfway; register its remove() as a clean-up before calling make().
Charon is charon-systemd in a namespace with its own /run, its own
STRONGSWAN_CONF and its own vici socket, as docs/testing.md says
(two charons on one machine, kernel-libipsec before kernel-netlink).

Never: touch a namespace or a process it did not make (processes are
stopped by PID, never by name); send a packet outside the namespaces the
caller made or loopback. Standard library only: the demo imports it too.
Failures raise PlumbingError, an AssertionError (a test failure)."""
import concurrent.futures
import ctypes
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time

CHARON = "/usr/sbin/charon-systemd"
SWANCTL = "/usr/sbin/swanctl"
# plugin -> Debian package, in charon's load order (shared with
# scripts/install-deps.sh, which installs and verifies them)
CHARON_PLUGINS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                   "..", "..", "scripts", "charon-plugins")


def charon_plugins():
    """[(plugin, package)] from scripts/charon-plugins."""
    with open(CHARON_PLUGINS_FILE) as f:
        return [tuple(line.split()[:2]) for line in f
                if line.strip() and not line.startswith("#")]


def charon_missing_package(log_text):
    """The message naming the package whose plugin charon failed to load
    (its log in log_text), or None."""
    m = re.search(r"plugin '([^']+)': failed to load", log_text)
    if not m:
        return None
    pkg = dict(charon_plugins()).get(m.group(1), "(unknown)")
    return ("charon could not load its '%s' plugin: install the Debian package %s "
            "(scripts/install-deps.sh installs and verifies it)" % (m.group(1), pkg))
CLONE_NEWNET = 0x40000000

# The office and vpcd's side of the link to it, as every story draws them:
#   office 10.0.0.10 -- 10.0.0.1 router 198.51.100.2 -- 198.51.100.1 vpcd
OFFICE_IP = "10.0.0.10"
OFFICE_GW = "10.0.0.1"
CGW_IP = "198.51.100.2"
VPCD_LINK_IP = "198.51.100.1"
AWS_ENDPOINTS = "203.0.113.0/24"    # where vpcd's tunnel outside addresses are

# A TCP echo server: one line back per line, many clients; prints
# "listening" once bound (argv[1]: the port).
ECHO_SERVER = r"""
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(16)
print("listening", flush=True)
def serve(c):
    while True:
        d = c.recv(4096)
        if not d: break
        c.sendall(d)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""


class PlumbingError(AssertionError):
    pass


def run(cmd, check=True, **kw):
    """cmd's output (stdout and stderr together) in .stdout; check: a
    non-zero exit raises PlumbingError with that output."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if check and p.returncode != 0:
        raise PlumbingError("%s failed (%d):\n%s" % (" ".join(cmd), p.returncode, p.stdout))
    return p


def remove_instance_netns(iid):
    """What vpcd --dataplane makes for a running instance and removes when it
    stops normally: the namespace named after it and its /etc/netns/<iid>
    (the resolv.conf `ip netns exec` binds). For a test's cleanup, after
    a vpcd that may not have."""
    if os.path.exists("/run/netns/" + iid):
        run(["ip", "netns", "delete", iid], check=False)
    shutil.rmtree("/etc/netns/" + iid, ignore_errors=True)

def wait_for(predicate, timeout, what, interval=0.1):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        time.sleep(interval)
    raise PlumbingError("timed out (%ss) waiting for %s" % (timeout, what))


def stop_process(p, timeout=10, sig=signal.SIGTERM):
    """Stops p, a process the caller started, by its PID: sig, then SIGKILL
    after timeout seconds. ("ip netns exec", nsenter and the charon shell
    exec their command, so p.pid is the daemon itself.) None is fine."""
    if p is None or p.poll() is not None:
        return
    os.kill(p.pid, sig)
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()


def in_netns(name, *cmd):
    """The argv that runs cmd in namespace name (ip netns exec)."""
    return ["ip", "netns", "exec", name] + list(cmd)


# The echo requests of ping() below: count of them, interval seconds apart,
# each answered or not by `wait` seconds after the last was sent. iputils'
# ping does not do that: once a reply came, it stops waiting max(2 x the
# largest round trip, the interval) after its last request, whatever -W
# says, so on a loaded machine a last reply 0.3 s late through a userspace
# tunnel counted as lost (and -w sends more requests until count replies
# came, hiding a real loss). argv: dst count interval wait size source
# (an address to send from, a device to bind to, or "").
PINGER = r"""
import os, select, socket, struct, sys, time
dst, count, interval, wait, size, source = (sys.argv[1], int(sys.argv[2]), float(sys.argv[3]),
                                            float(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
def csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
try:
    socket.inet_aton(source)
    s.bind((source, 0))
except OSError:
    if source:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, source.encode())
ident, payload = os.getpid() & 0xffff, bytes(i & 0xff for i in range(size))
sent_at, rtts, lines = {}, {}, []
start = time.monotonic()
while len(rtts) < count:
    now = time.monotonic()
    if len(sent_at) < count and now >= start + len(sent_at) * interval:
        seq = len(sent_at) + 1
        head = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        sent_at[seq] = time.monotonic()
        try:
            s.sendto(head[:2] + struct.pack("!H", csum(head + payload)) + head[4:] + payload, (dst, 0))
        except OSError as e:
            lines.append("icmp_seq=%d: %s" % (seq, e.strerror))
        continue
    if len(sent_at) == count:
        left = max(sent_at.values()) + wait - now
        if left <= 0:
            break
    else:
        left = start + len(sent_at) * interval - now
    if not select.select([s], [], [], max(left, 0))[0]:
        continue
    pkt, (src, _) = s.recvfrom(65535)
    icmp = pkt[(pkt[0] & 15) * 4:]
    if len(icmp) < 8 or src != dst:
        continue
    kind, _, _, rid, seq = struct.unpack("!BBHHH", icmp[:8])
    if kind == 0 and rid == ident and seq in sent_at and seq not in rtts:
        rtts[seq] = (time.monotonic() - sent_at[seq]) * 1000
        lines.append("%d bytes from %s: icmp_seq=%d time=%.3f ms" % (len(icmp), src, seq, rtts[seq]))
print("\n".join(lines))
print("--- %s ping statistics ---" % dst)
print("%d packets transmitted, %d received, %d%% packet loss" %
      (len(sent_at), len(rtts), 100 * (len(sent_at) - len(rtts)) // max(len(sent_at), 1)))
if rtts:
    v = list(rtts.values()); avg = sum(v) / len(v)
    print("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms" %
          (min(v), avg, max(v), (sum((x - avg) ** 2 for x in v) / len(v)) ** 0.5))
"""


def ping(name, dst, count=3, interval="0.2", wait=1, size=None, iface=None):
    """count ICMP echo requests from namespace name to dst, interval seconds
    apart, each answered or not by wait seconds after the last one was sent
    (PINGER; size: payload bytes, 56 as ping's; iface: an address to send
    from, or a device, as ping -I): (sent, received, the output, with
    ping's summary lines)."""
    p = run(in_netns(name, sys.executable, "-c", PINGER, dst, str(count), str(interval), str(wait),
                     str(56 if size is None else size), iface or ""),
            check=False, timeout=count * float(interval) + float(wait) + 30)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", p.stdout)
    sent, got = (int(m.group(1)), int(m.group(2))) if m else (count, 0)
    return sent, got, p.stdout


class Namespaces(dict):
    """role -> namespace name, PREFIX-ROLE-PID-RANDOM; make() adds them,
    remove() deletes those it added (any number of times)."""

    def __init__(self, prefix, roles):
        tag = "%d-%s" % (os.getpid(), secrets.token_hex(3))
        super().__init__((role, "%s-%s-%s" % (prefix, role, tag)) for role in roles)
        self.made = []

    def make(self, loopback=True, rp_filter=None):
        """Adds every namespace, lo up in each when loopback; rp_filter:
        a value for net.ipv4.conf.{all,default}.rp_filter in each. What
        was added is deleted again when a step fails."""
        try:
            for name in self.values():
                run(["ip", "netns", "add", name])
                self.made.append(name)
            for role in self:
                if loopback:
                    self.ip(role, "link", "set", "lo", "up")
                if rp_filter is not None:
                    self.sysctl(role, "net.ipv4.conf.all.rp_filter", rp_filter)
                    self.sysctl(role, "net.ipv4.conf.default.rp_filter", rp_filter)
        except BaseException:
            self.remove()
            raise

    def remove(self):
        while self.made:
            run(["ip", "netns", "delete", self.made.pop()], check=False)

    def ip(self, role, *args):
        return run(["ip", "-n", self[role]] + list(args))

    def sysctl(self, role, key, value):
        run(in_netns(self[role], "sysctl", "-qw", "%s=%s" % (key, value)))

    def veth(self, a, a_dev, b, b_dev):
        """A veth pair a_dev (in a) -- b_dev (in b), both up."""
        self.ip(a, "link", "add", a_dev, "type", "veth", "peer", "name", b_dev, "netns", self[b])
        self.ip(a, "link", "set", a_dev, "up")
        self.ip(b, "link", "set", b_dev, "up")

    def office_router_vpcd(self, office="office", router="router", vpcd="vpcd", vpcd_dev="wan0",
                           office_ip=OFFICE_IP, office_gw=OFFICE_GW, cgw_ip=CGW_IP,
                           vpcd_link_ip=VPCD_LINK_IP):
        """office eth0 -- lan0 router wan0 -- vpcd_dev vpcd: the office's
        /24 with its default route to the router, which forwards and
        routes the AWS endpoints (203.0.113.0/24) to vpcd's link address
        (a /24 with cgw_ip). vpcd's outside addresses are the caller's."""
        self.veth(office, "eth0", router, "lan0")
        self.veth(router, "wan0", vpcd, vpcd_dev)
        self.ip(office, "addr", "add", office_ip + "/24", "dev", "eth0")
        self.ip(office, "route", "add", "default", "via", office_gw)
        self.ip(router, "addr", "add", office_gw + "/24", "dev", "lan0")
        self.ip(router, "addr", "add", cgw_ip + "/24", "dev", "wan0")
        self.ip(router, "route", "add", AWS_ENDPOINTS, "via", vpcd_link_ip)
        self.sysctl(router, "net.ipv4.ip_forward", 1)
        self.ip(vpcd, "addr", "add", vpcd_link_ip + "/24", "dev", vpcd_dev)


def netns_executor(name):
    """One thread in network namespace name (setns is per thread): what is
    submitted to it (boto3 calls, socket probes) opens its sockets there."""
    def enter():
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open("/run/netns/" + name, os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns " + name)
        finally:
            os.close(fd)
    return concurrent.futures.ThreadPoolExecutor(1, initializer=enter)


def wait_listening(executor, port, proc, timeout, log_tail, what="vpcd"):
    """Until 127.0.0.1:port accepts a connection in the executor's
    namespace; PlumbingError with log_tail() when proc (what) exits first
    or the time runs out."""
    def listening():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False
    end = time.time() + timeout
    while not executor.submit(listening).result():
        if proc.poll() is not None or time.time() > end:
            raise PlumbingError("%s did not start; log:\n%s" % (what, log_tail()))
        time.sleep(0.05)


class Charon:
    """charon-systemd in namespace netns_name, its files in directory with
    the name suffix (run<S>/ as its /run with charon.vici, strongswan<S>.conf,
    charon<S>.log, charon<S>.out); log_levels: filelog levels beyond
    default = 1, e.g. {"ike": 2}. Plugins as docs/testing.md says:
    kernel-libipsec before kernel-netlink, kdf. new_session: charon in its
    own session (the demo: a terminal's Ctrl-C must not reach it before
    the clean-up)."""

    def __init__(self, netns_name, directory, suffix="", log_levels=None, new_session=False):
        self.netns = netns_name
        self.dir = directory
        self.new_session = new_session
        self.run_dir = os.path.join(directory, "run" + suffix)
        os.makedirs(self.run_dir, exist_ok=True)
        self.vici_path = os.path.join(self.run_dir, "charon.vici")
        self.vici = "unix://" + self.vici_path
        self.conf = os.path.join(directory, "strongswan%s.conf" % suffix)
        self.log_path = os.path.join(directory, "charon%s.log" % suffix)
        self.out_path = os.path.join(directory, "charon%s.out" % suffix)
        self.proc = None
        levels = "".join("\n                    %s = %s" % kv for kv in (log_levels or {}).items())
        with open(self.conf, "w") as f:
            f.write(textwrap.dedent("""\
                charon-systemd {
                    load_modular = no
                    load = %(load)s
                    plugins {
                        vici {
                            socket = %(vici)s
                        }
                    }
                    journal {
                        default = -1
                    }
                    filelog {
                        test {
                            path = %(log)s
                            flush_line = yes
                            time_format = %%H:%%M:%%S
                            default = 1%(levels)s
                        }
                    }
                }
                swanctl {
                    load = random nonce openssl pem pkcs1 x509
                }
                """) % {"vici": self.vici, "log": self.log_path, "levels": levels,
                        "load": " ".join(p for p, _ in charon_plugins())})

    def start(self, swanctl_conf=None, timeout=15):
        """Starts charon and waits for its vici socket; with swanctl_conf,
        `swanctl --load-all` of it, whose output it returns."""
        if os.path.exists(self.vici_path):      # left by a charon killed before
            os.unlink(self.vici_path)
        with open(self.out_path, "a") as out:
            self.proc = subprocess.Popen(
                in_netns(self.netns, "sh", "-c",
                         'mount --make-rprivate / && mount --bind "$1" /run && '
                         'exec env STRONGSWAN_CONF="$2" "$3"', "charon", self.run_dir, self.conf,
                         CHARON),
                stdout=out, stderr=subprocess.STDOUT, start_new_session=self.new_session)
        self.wait_ready(timeout)
        if swanctl_conf:
            return self.swanctl("--load-all", "--file", swanctl_conf).stdout
        return None

    def wait_ready(self, timeout):
        """Until charon answers on its vici socket. charon opens the socket
        before it gives up on a plugin that failed to load, so a charon that
        exits, or never answers, fails with its log and, when a plugin is
        missing, the package that brings it."""
        env = dict(os.environ, STRONGSWAN_CONF=self.conf)
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                break
            if os.path.exists(self.vici_path) and subprocess.run(
                    [SWANCTL, "--stats", "--uri", self.vici], env=env,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
                return
            time.sleep(0.1)
        text = ""
        for path in (self.out_path, self.log_path):
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    text += f.read()
        raise PlumbingError("%s\ncharon did not start (exit %s); its log:\n%s" % (
            charon_missing_package(text) or "timed out (%ss) waiting for charon's vici socket" % timeout,
            self.proc.poll(), text[-3000:]))

    def swanctl(self, *args):
        """swanctl ARGS against this charon (its vici socket)."""
        env = dict(os.environ, STRONGSWAN_CONF=self.conf)
        return run([SWANCTL] + list(args) + ["--uri", self.vici], env=env)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        p, self.proc = self.proc, None
        stop_process(p, timeout, sig)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()
