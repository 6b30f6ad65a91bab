#!/usr/bin/env python3
"""bench/tunnel — TCP throughput (iperf3, one stream) across a Site-to-Site
tunnel between an office host and a VPC host, with strongSwan 5.9
(kernel-libipsec) as the customer router, and on the VPC side either
vpcd's endpoint (build/vpn-endpoint-driver) or a second strongSwan, in the
same namespaces and the same run, for aes128-sha1 and aes128gcm16.
Not a test: it prints a table. Needs root.

    office 10.0.0.10 -- router (charon) 198.51.100.2 -- 203.0.113.1 vpcd side -- 10.96.0.10 vpchost

Usage: bench/tunnel.py [--build build] [--seconds 10] [--reverse]"""
import argparse
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

CHARON = "/usr/sbin/charon-systemd"
SWANCTL = "/usr/sbin/swanctl"
SUITES = {   # name: (strongSwan IKE proposal, ESP proposal, driver phase 2 encryption, integrity)
    "aes128-sha1": ("aes128-sha1-modp1024", "aes128-sha1-modp1024", "AES128", "SHA1"),
    "aes128gcm16": ("aes128-sha1-modp1024", "aes128gcm16-modp1024", "AES128-GCM-16", "SHA1"),
}


def sh(cmd, check=True, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if check and p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), p.stdout))
    return p


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.1)
    raise RuntimeError("timed out waiting for " + what)


class Bench:
    def __init__(self, build, seconds, reverse):
        self.build, self.seconds, self.reverse = build, seconds, reverse
        self.dir = tempfile.mkdtemp(prefix="bench-tunnel-")
        tag = "%d-%s" % (os.getpid(), secrets.token_hex(2))
        self.ns = {k: "vpnb-%s-%s" % (k, tag) for k in ("office", "router", "vpcd", "vpchost")}
        self.procs = []
        self.psk = secrets.token_hex(16)

    def ip(self, ns, *a):
        sh(["ip", "-n", self.ns[ns]] + list(a))

    def nsexec(self, ns, *a, **kw):
        return sh(["ip", "netns", "exec", self.ns[ns]] + list(a), **kw)

    def setup(self):
        for ns in self.ns.values():
            sh(["ip", "netns", "add", ns])
        for k in self.ns:
            self.ip(k, "link", "set", "lo", "up")
            for key in ("all", "default"):
                self.nsexec(k, "sysctl", "-qw", "net.ipv4.conf.%s.rp_filter=0" % key)
        for a, ad, b, bd in (("office", "eth0", "router", "lan0"), ("router", "wan0", "vpcd", "wan0"),
                             ("vpcd", "vpc0", "vpchost", "eth0")):
            self.ip(a, "link", "add", ad, "type", "veth", "peer", "name", bd, "netns", self.ns[b])
            self.ip(a, "link", "set", ad, "up")
            self.ip(b, "link", "set", bd, "up")
        self.ip("office", "addr", "add", "10.0.0.10/24", "dev", "eth0")
        self.ip("office", "route", "add", "default", "via", "10.0.0.1")
        self.ip("router", "addr", "add", "10.0.0.1/24", "dev", "lan0")
        self.ip("router", "addr", "add", "198.51.100.2/24", "dev", "wan0")
        self.ip("router", "route", "add", "203.0.113.0/24", "via", "198.51.100.1")
        self.ip("vpcd", "addr", "add", "198.51.100.1/24", "dev", "wan0")
        self.ip("vpcd", "addr", "add", "203.0.113.1/32", "dev", "wan0")
        self.ip("vpcd", "addr", "add", "10.96.0.1/16", "dev", "vpc0")
        self.ip("vpchost", "addr", "add", "10.96.0.10/16", "dev", "eth0")
        self.ip("vpchost", "route", "add", "default", "via", "10.96.0.1")
        for ns in ("router", "vpcd"):
            self.nsexec(ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")

    def teardown(self):
        for p in reversed(self.procs):
            self.stop(p)
        for ns in self.ns.values():
            sh(["ip", "netns", "delete", ns], check=False)
        shutil.rmtree(self.dir, True)

    @staticmethod
    def stop(p):
        if p.poll() is None:
            os.kill(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()

    def charon(self, ns, name, conn):
        d = os.path.join(self.dir, name)
        os.makedirs(os.path.join(d, "run"), exist_ok=True)
        vici = "unix://%s/run/charon.vici" % d
        conf = os.path.join(d, "strongswan.conf")
        with open(conf, "w") as f:
            f.write(textwrap.dedent("""\
                charon-systemd {
                    load_modular = no
                    load = random nonce openssl kdf kernel-libipsec kernel-netlink socket-default vici
                    plugins { vici { socket = %s } }
                    journal { default = -1 }
                }
                swanctl { load = random nonce openssl pem pkcs1 x509 }
                """) % vici)
        swanctl = os.path.join(d, "swanctl.conf")
        with open(swanctl, "w") as f:
            f.write(conn)
        sock = os.path.join(d, "run", "charon.vici")
        p = subprocess.Popen(["ip", "netns", "exec", self.ns[ns], "sh", "-c",
                              'mount --make-rprivate / && mount --bind "$1" /run && '
                              'exec env STRONGSWAN_CONF="$2" "$3"', "charon",
                              os.path.join(d, "run"), conf, CHARON],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        wait_for(lambda: os.path.exists(sock), 15, "charon vici")
        env = dict(os.environ, STRONGSWAN_CONF=conf)
        sh([SWANCTL, "--load-all", "--file", swanctl, "--uri", vici], env=env)
        return p, vici, conf

    def conn(self, local, remote, lts, rts, suite, start):
        ike, esp = SUITES[suite][:2]
        return textwrap.dedent("""\
            connections {
                tunnel1 {
                    version = 1
                    local_addrs = %(local)s
                    remote_addrs = %(remote)s
                    proposals = %(ike)s
                    local { auth = psk
                            id = %(local)s }
                    remote { auth = psk
                             id = %(remote)s }
                    children {
                        net {
                            local_ts = %(lts)s
                            remote_ts = %(rts)s
                            esp_proposals = %(esp)s
                            start_action = %(start)s
                        }
                    }
                }
            }
            secrets {
                ike-1 {
                    id-a = %(local)s
                    id-b = %(remote)s
                    secret = "%(psk)s"
                }
            }
            """) % dict(local=local, remote=remote, ike=ike, esp=esp, lts=lts, rts=rts,
                        start=start, psk=self.psk)

    def iperf(self):
        srv = subprocess.Popen(["ip", "netns", "exec", self.ns["vpchost"], "iperf3", "-s", "-1",
                                "-B", "10.96.0.10"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        args = ["iperf3", "-c", "10.96.0.10", "-t", str(self.seconds), "-f", "m"]
        if self.reverse:
            args.append("-R")
        out = self.nsexec("office", *args, check=False, timeout=self.seconds + 30).stdout
        self.stop(srv)
        m = re.findall(r"([\d.]+) Mbits/sec.*receiver", out)
        return float(m[-1]) / 1000 if m else None

    def wait_ping(self):
        wait_for(lambda: self.nsexec("office", "ping", "-c", "1", "-W", "1", "10.96.0.10",
                                     check=False).returncode == 0, 30, "a ping across the tunnel")

    def run_vpcd(self, suite):
        drv = os.path.join(self.build, "vpn-endpoint-driver")
        enc, integ = SUITES[suite][2:]
        conf = os.path.join(self.dir, "driver.conf")
        with open(conf, "w") as f:
            f.write("tun = vpn0\nlog_level = warn\n[tunnel]\nid = bench#1\nlocal = 203.0.113.1\n"
                    "remote = 198.51.100.2\npsk = %s\nroute = 10.0.0.0/24\n"
                    "phase2_encryption = %s\nphase2_integrity = %s\n" % (self.psk, enc, integ))
        d = subprocess.Popen(["ip", "netns", "exec", self.ns["vpcd"], drv, conf],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.procs.append(d)
        for line in d.stdout:   # status lines come first, then "ready"
            if line.startswith("ready"):
                break
        else:
            raise RuntimeError("driver did not start")
        self.ip("vpcd", "route", "replace", "10.0.0.0/24", "dev", "vpn0")
        router, _, _ = self.charon("router", "router-" + suite,
                                   self.conn("198.51.100.2", "203.0.113.1", "10.0.0.0/24",
                                             "10.96.0.0/16", suite, "start"))
        self.wait_ping()
        gbps = self.iperf()
        self.stop(router)
        self.stop(d)
        return gbps

    def run_strongswan(self, suite):
        resp, _, _ = self.charon("vpcd", "vpcside-" + suite,
                                 self.conn("203.0.113.1", "198.51.100.2", "10.96.0.0/16",
                                           "10.0.0.0/24", suite, "none"))
        router, _, _ = self.charon("router", "router2-" + suite,
                                   self.conn("198.51.100.2", "203.0.113.1", "10.0.0.0/24",
                                             "10.96.0.0/16", suite, "start"))
        self.wait_ping()
        gbps = self.iperf()
        self.stop(router)
        self.stop(resp)
        return gbps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--reverse", action="store_true", help="VPC host sends (iperf3 -R)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/tunnel.py needs root (network namespaces, TUN, charon)")
    b = Bench(os.path.abspath(args.build), args.seconds, args.reverse)
    try:
        b.setup()
        rows = []
        for suite in SUITES:
            rows.append((suite, b.run_vpcd(suite), b.run_strongswan(suite)))
    finally:
        b.teardown()
    direction = "VPC host -> office" if args.reverse else "office -> VPC host"
    print("iperf3 %d s, one TCP stream, %s (Gbit/s)" % (args.seconds, direction))
    print("%-14s %18s %22s" % ("suite", "vpcd <-> strongSwan", "strongSwan <-> strongSwan"))
    for suite, v, s in rows:
        fmt = lambda x: "%.2f" % x if x is not None else "failed"
        print("%-14s %18s %22s" % (suite, fmt(v), fmt(s)))


if __name__ == "__main__":
    main()
