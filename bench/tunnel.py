#!/usr/bin/env python3
"""bench/tunnel — TCP throughput (iperf3, one stream) across a Site-to-Site
tunnel between an office host and a VPC host, with strongSwan 5.9
(kernel-libipsec) as the customer router, and on the VPC side, in the
same namespaces and the same run, for aes128-sha1 and aes128gcm16:
  - "vpcd endpoint": vpcd's endpoint alone (build/vpn-endpoint-harness),
    plaintext through a kernel TUN into the vpcd namespace's stack, which
    forwards to the VPC host (the seed's path, vpcd without --dataplane);
    the TUN with offloads (tun_offload = yes), as vpcd's own TUN has them:
    TCP super-frames read and cut, TCP trains written as GSO frames;
  - "vpcd product": vpcd itself with --dataplane: ESP -> the endpoint ->
    the virtual router's VPN gateway port -> route table, NACLs, security
    groups -> the instance's TAP (a namespace vpcd made), and back; the
    VPC, VPN gateway and connection made through the EC2 API (boto3);
  - a second strongSwan;
  - "vpcd<->vpcd": the product path again, with the office router played
    by a second vpcd endpoint (build/vpn-endpoint-harness, its plaintext a
    TUN in the router's namespace, with offloads: the office's TCP read as
    64 KB super-frames and cut there) instead of strongSwan, whose userspace
    ESP (libipsec) bounds the other columns; ESP as IP protocol 50;
  - "vpcd<->vpcd NAT-T": the same with the office's endpoint forcing ESP
    in UDP 4500 (force_encap: a faked NAT-D, as strongSwan's encap = yes;
    AWS accepts NAT-T), where both ends send runs of datagrams with UDP GSO
    and receive them coalesced with UDP GRO, which raw ESP cannot.
Not a test: it prints a table, and per column the CPU seconds per GB
moved of the VPC side (vpcd, the endpoint harness or charon) and of the
office router (charon or the office's endpoint): figures the machine's
load changes less than the throughput. Needs root.

    office 10.0.0.10 -- router (charon) 198.51.100.2 -- 203.0.113.1 vpcd side -- 10.96.0.10 vpchost
                                                       203.0.113.2          (instance 10.96.1.4)

Usage: bench/tunnel.py [--build build] [--seconds 10] [--reverse] [--only COLUMN,...]
  COLUMN: endpoint, product, strongswan, vpcd2, vpcd2natt (default: all five)"""
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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

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
        self.cpu_per_gb = {}

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
        self.ip("vpcd", "addr", "add", "203.0.113.2/32", "dev", "wan0")
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

    @staticmethod
    def cpu_seconds(pid):
        """utime + stime of process pid (every thread), in seconds."""
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def iperf(self, host_ns=None, host="10.96.0.10"):
        srv = subprocess.Popen(["ip", "netns", "exec", host_ns or self.ns["vpchost"], "iperf3", "-s",
                                "-1", "-B", host], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        args = ["iperf3", "-c", host, "-t", str(self.seconds), "-f", "m"]
        if self.reverse:
            args.append("-R")
        out = self.nsexec("office", *args, check=False, timeout=self.seconds + 30).stdout
        self.stop(srv)
        m = re.findall(r"([\d.]+) Mbits/sec.*receiver", out)
        return float(m[-1]) / 1000 if m else None

    def wait_ping(self, host="10.96.0.10"):
        wait_for(lambda: self.nsexec("office", "ping", "-c", "1", "-W", "1", host,
                                     check=False).returncode == 0, 30, "a ping across the tunnel")

    def run_vpcd(self, suite):
        drv = os.path.join(self.build, "vpn-endpoint-harness")
        enc, integ = SUITES[suite][2:]
        conf = os.path.join(self.dir, "driver.conf")
        with open(conf, "w") as f:
            f.write("tun = vpn0\nlog_level = warn\ntun_offload = yes\n[tunnel]\nid = bench#1\nlocal = 203.0.113.1\n"
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
        cpu0, rcpu0 = self.cpu_seconds(d.pid), self.cpu_seconds(router.pid)
        gbps = self.iperf()
        self.per_gb("endpoint", suite, gbps, self.cpu_seconds(d.pid) - cpu0,
                    self.cpu_seconds(router.pid) - rcpu0)
        self.stop(router)
        self.stop(d)
        return gbps

    def per_gb(self, col, suite, gbps, cpu, office_cpu):
        """CPU seconds per GB moved of the VPC side (cpu) and the office
        router (office_cpu) during the iperf3 run."""
        if gbps:
            gb = gbps * self.seconds / 8
            self.cpu_per_gb[(col, suite)] = cpu / gb
            self.cpu_per_gb[(col + "-office", suite)] = office_cpu / gb

    def office_driver(self, suite, outside, natt=False):
        """The office router as a vpcd endpoint: tunnel 1 to outside,
        10.96.0.0/16 routed into its TUN; started, it initiates; with natt,
        ESP in UDP forced."""
        drv = os.path.join(self.build, "vpn-endpoint-harness")
        enc, integ = SUITES[suite][2:]
        conf = os.path.join(self.dir, "office-%s%s.conf" % (suite, "-natt" if natt else ""))
        with open(conf, "w") as f:
            f.write("tun = ofc0\nlog_level = warn\ntun_offload = yes\n[tunnel]\nid = office#1\n"
                    "local = 198.51.100.2\n"
                    "remote = %s\npsk = k%s\nroute = 10.96.0.0/16\nphase1_encryption = AES128\n"
                    "phase1_integrity = SHA1\nphase1_dh = 2\nphase2_encryption = %s\n"
                    "phase2_integrity = %s\nphase2_dh = 2\nstartup_action = start\n"
                    "force_encap = %s\n"
                    % (outside, self.psk, enc, integ, "yes" if natt else "no"))
        d = subprocess.Popen(["ip", "netns", "exec", self.ns["router"], drv, conf],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.procs.append(d)
        for line in d.stdout:
            if line.startswith("ready"):
                break
        else:
            raise RuntimeError("the office's driver did not start")
        self.ip("router", "route", "replace", "10.96.0.0/16", "dev", "ofc0")
        return d

    def run_product(self, suite, office="strongswan"):
        """vpcd --dataplane: the VPC, an instance, a VPN gateway and a static
        connection through the API; the office router (charon, or with
        office "vpcd" a vpcd endpoint) brings up tunnel 1 with the bench's
        own configuration (its key and algorithms given as the
        connection's tunnel options)."""
        import boto3
        import botocore.config
        import vpcdtest
        from interop import netns

        vpcd = os.path.join(self.build, "vpcd")
        tag = "%s-%s" % (office, suite)
        data = os.path.join(self.dir, "vpcd-" + tag)
        os.makedirs(data)
        log = open(os.path.join(self.dir, "vpcd-%s.log" % tag), "ab")
        port = 8790
        env = dict(os.environ, VPCD_ACCESS_KEY_ID=vpcdtest.KEY_ID,
                   VPCD_SECRET_ACCESS_KEY=vpcdtest.SECRET)
        # nsenter, not "ip netns exec": vpcd must stay in the host's mount
        # namespace (the instance namespaces it mounts under /run/netns)
        d = subprocess.Popen(["nsenter", "--net=/run/netns/" + self.ns["vpcd"], vpcd, "--listen",
                              "127.0.0.1:%d" % port, "--data-dir", data,
                              "--vpn-outside-addresses", "203.0.113.1,203.0.113.2", "--dataplane"],
                             stdout=log, stderr=log, env=env)
        self.procs.append(d)
        pool = netns.netns_executor(self.ns["vpcd"])
        iid = None
        try:
            netns.wait_listening(pool, port, d, 15, lambda: "(see %s)" % log.name)
            ec2 = pool.submit(boto3.client, "ec2", region_name=vpcdtest.REGION,
                              endpoint_url="http://127.0.0.1:%d" % port,
                              aws_access_key_id=vpcdtest.KEY_ID,
                              aws_secret_access_key=vpcdtest.SECRET,
                              config=botocore.config.Config(retries={"max_attempts": 0})).result()
            call = lambda name, **kw: pool.submit(getattr(ec2, name), **kw).result()
            vpc = call("create_vpc", CidrBlock="10.96.0.0/16")["Vpc"]["VpcId"]
            subnet = call("create_subnet", VpcId=vpc, CidrBlock="10.96.1.0/24")["Subnet"]["SubnetId"]
            cgw = call("create_customer_gateway", Type="ipsec.1", PublicIp="198.51.100.2",
                       BgpAsn=65000)["CustomerGateway"]["CustomerGatewayId"]
            vgw = call("create_vpn_gateway", Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
            call("attach_vpn_gateway", VpnGatewayId=vgw, VpcId=vpc)
            enc, integ = SUITES[suite][2:]
            topt = {"PreSharedKey": "k" + self.psk,
                    "Phase1EncryptionAlgorithms": [{"Value": "AES128"}],
                    "Phase1IntegrityAlgorithms": [{"Value": "SHA1"}],
                    "Phase1DHGroupNumbers": [{"Value": 2}],
                    "Phase2EncryptionAlgorithms": [{"Value": enc}],
                    "Phase2IntegrityAlgorithms": [{"Value": integ}],
                    "Phase2DHGroupNumbers": [{"Value": 2}],
                    "IKEVersions": [{"Value": "ikev1"}]}
            vpn = call("create_vpn_connection", Type="ipsec.1", CustomerGatewayId=cgw,
                       VpnGatewayId=vgw, Options={"StaticRoutesOnly": True,
                                                  "TunnelOptions": [topt, dict(topt)]}
                       )["VpnConnection"]
            call("create_vpn_connection_route", VpnConnectionId=vpn["VpnConnectionId"],
                 DestinationCidrBlock="10.0.0.0/24")
            rtb = call("describe_route_tables", Filters=[{"Name": "vpc-id", "Values": [vpc]}]
                       )["RouteTables"][0]["RouteTableId"]
            call("create_route", RouteTableId=rtb, DestinationCidrBlock="10.0.0.0/24",
                 GatewayId=vgw)
            sg = call("create_security_group", GroupName="office", Description="office",
                      VpcId=vpc)["GroupId"]
            call("authorize_security_group_ingress", GroupId=sg, IpPermissions=[
                {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/24"}]}])
            image = call("describe_images", Filters=[{"Name": "name", "Values": ["vpcd-linux"]}]
                         )["Images"][0]["ImageId"]
            inst = call("run_instances", ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet,
                        SecurityGroupIds=[sg])["Instances"][0]
            iid, host = inst["InstanceId"], inst["PrivateIpAddress"]
            wait_for(lambda: host in sh(["ip", "-n", iid, "-4", "addr"], check=False).stdout, 15,
                     "the instance's eth0")
            outside = vpn["Options"]["TunnelOptions"][0]["OutsideIpAddress"]
            if office in ("vpcd", "vpcd-natt"):
                router = self.office_driver(suite, outside, office == "vpcd-natt")
            else:
                conn = self.conn("198.51.100.2", outside, "10.0.0.0/24", "10.96.0.0/16", suite,
                                 "start")
                conn = conn.replace('secret = "%s"' % self.psk, 'secret = "k%s"' % self.psk)
                router, _, _ = self.charon("router", "router3-" + suite, conn)
            self.wait_ping(host)
            cpu0, rcpu0 = self.cpu_seconds(d.pid), self.cpu_seconds(router.pid)
            gbps = self.iperf(iid, host)
            cpu = self.cpu_seconds(d.pid) - cpu0
            rcpu = self.cpu_seconds(router.pid) - rcpu0
            # vpcd's CPU per GB moved: what the machine's load does not
            # change much (a loaded machine slows a stream, not its cost);
            # for a vpcd office, its endpoint's (the harness) too
            col = {"vpcd": "vpcd2", "vpcd-natt": "vpcd2natt"}.get(office, "product")
            self.per_gb(col, suite, gbps, cpu, rcpu)
            self.stop(router)
            return gbps
        finally:
            self.stop(d)    # SIGTERM: vpcd deletes the instance's namespace
            pool.shutdown()
            log.close()
            if iid and os.path.exists("/run/netns/" + iid):
                sh(["ip", "netns", "delete", iid], check=False)

    def run_strongswan(self, suite):
        resp, _, _ = self.charon("vpcd", "vpcside-" + suite,
                                 self.conn("203.0.113.1", "198.51.100.2", "10.96.0.0/16",
                                           "10.0.0.0/24", suite, "none"))
        router, _, _ = self.charon("router", "router2-" + suite,
                                   self.conn("198.51.100.2", "203.0.113.1", "10.0.0.0/24",
                                             "10.96.0.0/16", suite, "start"))
        self.wait_ping()
        cpu0, rcpu0 = self.cpu_seconds(resp.pid), self.cpu_seconds(router.pid)
        gbps = self.iperf()
        self.per_gb("strongswan", suite, gbps, self.cpu_seconds(resp.pid) - cpu0,
                    self.cpu_seconds(router.pid) - rcpu0)
        self.stop(router)
        self.stop(resp)
        return gbps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--reverse", action="store_true", help="VPC host sends (iperf3 -R)")
    cols = ("endpoint", "product", "strongswan", "vpcd2", "vpcd2natt")
    ap.add_argument("--only", default=",".join(cols),
                    help="columns to run, comma-separated: " + ", ".join(cols))
    args = ap.parse_args()
    only = set(args.only.split(","))
    if not only or only - set(cols):
        sys.exit("--only: " + ", ".join(cols))
    if os.geteuid() != 0:
        sys.exit("bench/tunnel.py needs root (network namespaces, TUN, charon)")
    b = Bench(os.path.abspath(args.build), args.seconds, args.reverse)
    try:
        b.setup()
        rows = []
        for suite in SUITES:
            rows.append((suite,
                         b.run_vpcd(suite) if "endpoint" in only else None,
                         b.run_product(suite) if "product" in only else None,
                         b.run_strongswan(suite) if "strongswan" in only else None,
                         b.run_product(suite, "vpcd") if "vpcd2" in only else None,
                         b.run_product(suite, "vpcd-natt") if "vpcd2natt" in only else None))
    finally:
        b.teardown()
    direction = "VPC host -> office" if args.reverse else "office -> VPC host"
    line = "%-14s %14s %14s %12s %14s %14s"
    print("iperf3 %d s, one TCP stream, %s (Gbit/s)" %
          (args.seconds, direction))
    print(line % ("suite", "vpcd endpoint", "vpcd product", "strongSwan", "vpcd<->vpcd",
                  "vpcd<->vpcd"))
    print(line % ("office router", "strongSwan", "strongSwan", "strongSwan", "vpcd endpoint",
                  "vpcd endpoint"))
    # strongSwan's libipsec always encapsulates (docs/testing.md): every
    # column with a charon is ESP in UDP; vpcd<->vpcd is raw ESP unless forced
    print(line % ("ESP in", "UDP 4500", "UDP 4500", "UDP 4500", "IP proto 50", "UDP 4500"))
    for suite, *vals in rows:
        fmt = lambda x, col: ("%.2f" % x if x is not None else "failed") if col in only else "-"
        print(line % ((suite,) + tuple(fmt(x, col) for x, col in zip(vals, cols))))
    if b.cpu_per_gb:
        print("CPU seconds (all threads) per GB moved during the iperf3 run: the VPC side "
              "(vpcd, its endpoint, charon) / the office router")
        for suite in SUITES:
            c = lambda col: ("%.2f" % b.cpu_per_gb[(col, suite)] if (col, suite) in b.cpu_per_gb
                             else "-")
            both = lambda col: ("%s / %s" % (c(col), c(col + "-office"))
                                if (col, suite) in b.cpu_per_gb else "-")
            print(line % ((suite,) + tuple(both(col) for col in cols)))


if __name__ == "__main__":
    main()
