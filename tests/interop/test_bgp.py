"""Dynamic routing (issue 13) against vpcd itself, with a real office
router: strongSwan (charon, kernel-libipsec) configured with the swanctl.conf
vpcd downloads for a dynamic VPN connection (StaticRoutesOnly false), loaded
UNCHANGED, and FRR's bgpd as the router's BGP speaker, configured from the
values of vpcd's customerGatewayConfiguration XML (per tunnel the `bgp`
elements: the ASNs and the hold time; the inside addresses). vpcd runs its
data plane (--dataplane): an instance in the private subnet is a network
namespace, and it reaches the office only through a route vpcd learned by
BGP and propagated into the VPC's main route table (no static route
anywhere: the connection has none, the route table has none).

Topology, namespaces with per-run unique names, always deleted (the
instance's namespace is vpcd's, deleted by vpcd when it stops and by the
test in any case):

    office 10.0.0.10 -- 10.0.0.1 router 198.51.100.2 -- 198.51.100.1 vpcd
           10.1.0.10            (charon, bgpd)         203.0.113.1, .2 (outside)
                                169.254.x.2 on lo      instance i-… 10.96.1.4
                                                       BIRD in vpcd-bgp-<pid>

How the router routes into its tunnels: libipsec has one TUN (ipsec0);
charon installs a route for each remote traffic selector through it in
table 220 (install_routes), the VPC's CIDR and, per tunnel, vpcd's inside
address 169.254.x.1, with the router's inside address as source. bgpd runs
without zebra (docs/testing.md): it installs no route of its own; the
sessions reach 169.254.x.1 through table 220 (update-source the router's
inside address, disable-connected-check), and the VPC CIDR it learns is
what charon already routes. Which tunnel a packet takes from the office is
libipsec's choice among the CHILD SAs whose selectors cover it; which
tunnel a packet takes from the VPC is vpcd's (BIRD's best path).

Scenarios (issue 13's "Shown by"), in order, each leaving the baseline
(both sessions Established, both tunnels UP) as it found it:
  0. the router's configuration from the download: both tunnels UP, the
     inside addresses reachable, bgpd running with the XML's neighbours;
  1. both sessions Established (FRR and vpcd), the office prefix learned
     and propagated (Origin EnableVgwRoutePropagation), VgwTelemetry
     AcceptedRouteCount 1 and "1 BGP ROUTES", the VPC CIDR learned by FRR,
     the instance <-> office by ping and TCP;
  2. tunnel 1 killed (its packets dropped both ways in the router's
     namespace): its session drops within the hold time (30 s) and the
     traffic continues over tunnel 2; tunnel 1 back: its session
     Established again within 20 s of its IPsec (AWS retries promptly);
  3. the office withdraws its prefix: the propagated route disappears;
  4. a second office prefix announced on tunnel 1 with a longer AS path
     (route-map prepend): vpcd prefers tunnel 2 for it;
  5. 101 prefixes on tunnel 2: the session is refused, its StatusMessage
     names the cause; fewer again: the session comes back;
  6. the router speaks from another ASN on tunnel 2: vpcd refuses the
     session and the StatusMessage names the cause; the right one: back;
  7. vpcd restarted: the sessions come back, traffic flows;
  8. a secondary CIDR block with an instance in a subnet of it: the new
     download (per tunnel a CHILD SA per block), loaded unchanged, brings
     up tunnel<N>-2 for it, FRR learns the block, and the office and that
     instance reach each other.

Needs root (namespaces, TUN, charon, bgpd), the aws CLI, strongSwan, FRR
and bird2; skipped otherwise."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
import xml.etree.ElementTree as ET

import boto3
import botocore.config

import vpcdtest
from interop import netns
from interop.netns import Charon, Namespaces, netns_executor, run, stop_process, wait_for

VPCD = os.path.join(vpcdtest.BUILD, "vpcd")
VPCCTL = os.path.join(vpcdtest.BUILD, "vpcctl")
BGPD = "/usr/lib/frr/bgpd"
VTYSH = "/usr/bin/vtysh"
BIRD = "/usr/sbin/bird"
API_PORT = 8775
API = "http://127.0.0.1:%d" % API_PORT
CGW_IP = netns.CGW_IP
VPCD_LINK_IP = netns.VPCD_LINK_IP
OUTSIDE = ("203.0.113.1", "203.0.113.2")
OFFICE_IP = netns.OFFICE_IP
OFFICE_NET = "10.0.0.0/24"
SECOND_IP = "10.1.0.10"          # the office's second prefix (scenario 4)
SECOND_NET = "10.1.0.0/24"
MANY_NET = "10.200.%d.0/24"      # scenario 5: 101 of them
VPC_CIDR = "10.96.0.0/16"
PRIVATE_NET = "10.96.1.0/24"
VPC_CIDR2 = "10.97.0.0/16"       # scenario 8: a secondary block
SECONDARY_NET = "10.97.1.0/24"
CGW_ASN = 65000
WRONG_ASN = 65099                # scenario 6: not the customer gateway's
HOLD_TIME = 30                   # AWS's, in the XML
REESTABLISH_S = 20               # at most, session Established after its tunnel's IPsec
BIRD_ERROR_WAIT_MAX_S = 30       # vpcd's bird.conf: error wait time 1, 30 (bgp.h)
PORT = 8000
PINGS = 100                      # counted per tunnel by their ESP packets

# Connects, sends a line, expects it back: prints "ok" or "fail ...".
CLIENT = r"""
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
    c.settimeout(float(sys.argv[3]))
    c.sendall(b"bgp\n")
    print("ok" if c.recv(64) == b"bgp\n" else "fail echo", flush=True)
except OSError as e:
    print("fail", e, flush=True)
"""


def bgp_values(xml_text):
    """Per tunnel, from the customerGatewayConfiguration XML: the router's
    inside address and prefix length, its ASN, vpcd's inside address and
    ASN, the hold time (AWS: the vpn_gateway's bgp element)."""
    root = ET.fromstring(xml_text)
    tunnels = []
    for t in root.findall("ipsec_tunnel"):
        cg, vg = t.find("customer_gateway"), t.find("vpn_gateway")
        for e in (cg, vg):
            if e is None or e.find("bgp") is None:
                raise AssertionError("the XML has no bgp element in a tunnel:\n" + xml_text)
        tunnels.append({
            "local": cg.findtext("tunnel_inside_address/ip_address"),
            "prefix": int(cg.findtext("tunnel_inside_address/network_cidr")),
            "asn": int(cg.findtext("bgp/asn")),
            "peer": vg.findtext("tunnel_inside_address/ip_address"),
            "peer_asn": int(vg.findtext("bgp/asn")),
            "hold": int(vg.findtext("bgp/hold_time")),
        })
    return tunnels


class Bgpd:
    """FRR's bgpd in namespace netns_name without zebra (docs/testing.md,
    FRR: -Z, -S, its own vty socket folder), started from bgpd.conf
    written by the caller; vtysh against it."""

    def __init__(self, netns_name, directory):
        self.netns = netns_name
        self.dir = os.path.join(directory, "frr")
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "bgpd.conf")
        self.log_path = os.path.join(self.dir, "bgpd.log")
        self.out_path = os.path.join(self.dir, "bgpd.out")
        self.proc = None

    def start(self, conf_text, timeout=15):
        with open(self.conf, "w") as f:
            f.write(conf_text)
        with open(self.out_path, "a") as out:
            # "ip netns exec" execs bgpd: proc.pid is bgpd's
            self.proc = subprocess.Popen(
                netns.in_netns(self.netns, BGPD, "-Z", "-S", "-f", self.conf,
                               "-i", os.path.join(self.dir, "bgpd.pid"),
                               "--vty_socket", self.dir, "-p", "179"),
                stdout=out, stderr=subprocess.STDOUT)
        end = time.time() + timeout
        while True:
            if self.proc.poll() is not None or time.time() > end:
                raise AssertionError("bgpd did not start (exit %s):\n%s" % (
                    self.proc.poll(), self.output()[-3000:]))
            if self.vtysh("show bgp summary json", check=False).returncode == 0:
                return
            time.sleep(0.2)

    def output(self):
        text = ""
        for p in (self.out_path, self.log_path):
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    text += f.read()
        return text

    def vtysh(self, *commands, check=True):
        """vtysh -c C for each command, in one vtysh run (so `configure`
        and what follows it go together)."""
        argv = [VTYSH, "--vty_socket", self.dir, "-d", "bgpd"]
        for c in commands:
            argv += ["-c", c]
        return run(netns.in_netns(self.netns, *argv), check=check, timeout=30)

    def configure(self, asn, *lines):
        """Configuration lines under `router bgp ASN` (address family lines
        included as given)."""
        self.vtysh("configure terminal", "router bgp %d" % asn, *lines)

    def summary(self):
        """{neighbour address: its entry of `show bgp summary json`}."""
        j = json.loads(self.vtysh("show bgp summary json").stdout)
        return j.get("ipv4Unicast", {}).get("peers", {})

    def stop(self):
        p, self.proc = self.proc, None
        stop_process(p)


@unittest.skipUnless(os.geteuid() == 0,
                     "needs root: creates network namespaces, runs vpcd's data plane, charon and bgpd")
class BgpTest(unittest.TestCase):
    """The world is built once for the class (vpcd, the VPC, the instance,
    the connection, the router); each test starts from both sessions
    Established and restores that when it changes something."""

    # ---- the world ------------------------------------------------------------

    @classmethod
    def setUpClass(cls):
        for path, what in ((VPCD, "make all"), (netns.CHARON, "apt-get install charon-systemd"),
                           (netns.SWANCTL, "apt-get install strongswan-swanctl"),
                           (BGPD, "apt-get install frr"), (VTYSH, "apt-get install frr"),
                           (BIRD, "apt-get install bird2")):
            if not os.path.exists(path):
                raise unittest.SkipTest("%s is missing (%s; scripts/install-deps.sh)" % (path, what))
        if not shutil.which("aws"):
            raise unittest.SkipTest("the aws CLI is missing")
        cls.dir = tempfile.mkdtemp(prefix="bgp-")
        if os.environ.get("VPCD_TEST_KEEP"):
            print("\nkeeping " + cls.dir, file=sys.stderr)
        else:
            cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.t0 = time.time()
        cls.vpcd = None
        cls.instances = []
        cls.servers = []
        cls.ns = Namespaces("bgp", ("office", "router", "vpcd"))
        cls.addClassCleanup(cls.ns.remove)
        cls.ns.make(rp_filter=0)
        cls.ns.office_router_vpcd(office_ip=OFFICE_IP, cgw_ip=CGW_IP, vpcd_link_ip=VPCD_LINK_IP)
        for a in OUTSIDE:
            cls.ns.ip("vpcd", "addr", "add", a + "/32", "dev", "wan0")
        # the office's second prefix (scenario 4), on the office host
        cls.ns.ip("office", "addr", "add", SECOND_IP + "/24", "dev", "eth0")
        cls.ns.ip("router", "route", "add", SECOND_NET, "via", OFFICE_IP)
        cls.pool = netns_executor(cls.ns["vpcd"])
        cls.addClassCleanup(cls.pool.shutdown)
        # last in, first out: servers, bgpd, charon, vpcd (deletes its
        # namespaces), then whatever namespace is still there
        cls.addClassCleanup(cls.cleanup_instances)
        cls.addClassCleanup(cls.stop_vpcd, False)
        cls.charon = Charon(cls.ns["router"], cls.dir, log_levels={"ike": 1, "knl": 1})
        cls.addClassCleanup(cls.charon.stop)
        cls.bgpd = Bgpd(cls.ns["router"], cls.dir)
        cls.addClassCleanup(cls.bgpd.stop)
        cls.addClassCleanup(cls.stop_servers)
        cls.build_world()

    @classmethod
    def build_world(cls):
        cls.start_vpcd()
        cls.step("vpcd --dataplane up in its namespace")
        aws = cls.aws
        cls.vpc = vpc = aws("create-vpc", "--cidr-block", VPC_CIDR)["Vpc"]["VpcId"]
        private = aws("create-subnet", "--vpc-id", vpc, "--cidr-block", PRIVATE_NET)["Subnet"]["SubnetId"]
        cgw = aws("create-customer-gateway", "--type", "ipsec.1", "--public-ip", CGW_IP,
                  "--bgp-asn", str(CGW_ASN))["CustomerGateway"]["CustomerGatewayId"]
        cls.vgw = aws("create-vpn-gateway", "--type", "ipsec.1")["VpnGateway"]["VpnGatewayId"]
        aws("attach-vpn-gateway", "--vpn-gateway-id", cls.vgw, "--vpc-id", vpc)
        cls.rtb = aws("describe-route-tables", "--filters", "Name=vpc-id,Values=" + vpc,
                      "Name=association.main,Values=true")["RouteTables"][0]["RouteTableId"]
        aws("enable-vgw-route-propagation", "--route-table-id", cls.rtb, "--gateway-id", cls.vgw)
        # dynamic: no StaticRoutesOnly, no connection route, no route to the VGW
        vpn = aws("create-vpn-connection", "--type", "ipsec.1", "--customer-gateway-id", cgw,
                  "--vpn-gateway-id", cls.vgw)["VpnConnection"]
        cls.vid = vpn["VpnConnectionId"]
        assert vpn["Options"]["StaticRoutesOnly"] is False, vpn["Options"]
        desc = aws("describe-vpn-connections", "--vpn-connection-ids", cls.vid)["VpnConnections"][0]
        cls.psks = [t["PreSharedKey"] for t in desc["Options"]["TunnelOptions"]]
        cls.xml = desc["CustomerGatewayConfiguration"]
        cls.bgp = bgp_values(cls.xml)
        assert len(cls.bgp) == 2, cls.bgp
        cls.step("VPC %s, %s (ASN %d), VPN %s (dynamic), propagation into %s" % (
            vpc, cls.vgw, cls.bgp[0]["peer_asn"], cls.vid, cls.rtb))

        # the instance, and a security group that lets the office in
        cls.sg = sg = aws("create-security-group", "--group-name", "office", "--description", "from the office",
                 "--vpc-id", vpc)["GroupId"]
        perms = ["IpProtocol=icmp,FromPort=-1,ToPort=-1,IpRanges=[{CidrIp=10.0.0.0/8}]",
                 "IpProtocol=tcp,FromPort=%d,ToPort=%d,IpRanges=[{CidrIp=10.0.0.0/8}]" % (PORT, PORT)]
        aws("authorize-security-group-ingress", "--group-id", sg, "--ip-permissions", *perms)
        cls.image = image = aws("describe-images", "--filters",
                                "Name=name,Values=vpcd-linux")["Images"][0]["ImageId"]
        inst = aws("run-instances", "--image-id", image, "--count", "1", "--subnet-id", private,
                   "--security-group-ids", sg)["Instances"][0]
        cls.iid = inst["InstanceId"]
        cls.instances.append(cls.iid)
        cls.addr = inst["PrivateIpAddress"]
        wait_for(lambda: os.path.exists("/run/netns/" + cls.iid), 10, "the instance's namespace")
        wait_for(lambda: cls.addr in run(["ip", "-n", cls.iid, "-4", "addr", "show", "eth0"],
                                         check=False).stdout, 10, "eth0 with " + cls.addr)
        cls.serve(cls.iid)
        cls.serve(cls.ns["office"])
        cls.step("instance %s: %s" % (cls.iid, cls.addr))

        # the router: the inside addresses as the download says, charon
        # with the download, bgpd from the XML's values
        cls.download = aws("get-vpn-connection-device-sample-configuration",
                           "--vpn-connection-id", cls.vid, "--vpn-connection-device-type-id",
                           "51cb26fd", "--internet-key-exchange-version", "ikev1"
                           )["VpnConnectionDeviceSampleConfiguration"]
        for t in cls.bgp:
            cidr = "%s/32" % t["local"]     # a /30 on lo would make vpcd's .1 local too
            assert "ip address add %s dev lo" % cidr in cls.download or t is not cls.bgp[0], \
                "the download does not say where the inside address goes:\n" + cls.download
            cls.ns.ip("router", "addr", "add", cidr, "dev", "lo")
        cls.swanctl_conf = os.path.join(cls.dir, "swanctl.conf")
        with open(cls.swanctl_conf, "w") as f:
            f.write(cls.download)
        out = cls.charon.start(cls.swanctl_conf)
        assert "successfully loaded 2 connections" in out, out
        cls.bgpd_conf_text = cls.frr_conf()
        cls.bgpd.start(cls.bgpd_conf_text)
        cls.step("router: charon with the download, bgpd from the XML")

    @classmethod
    def frr_conf(cls):
        """bgpd.conf from the XML's values: one neighbour per tunnel, the
        office's prefix announced; and what the scenarios need on tunnel 1
        (nothing changes until they announce more): the second prefix
        prepended twice, the 101 prefixes kept from it."""
        t1 = cls.bgp[0]
        asn = t1["asn"]
        lines = ["frr defaults traditional", "hostname office-router",
                 "log file %s informational" % cls.bgpd.log_path, "!",
                 "ip prefix-list SECOND seq 5 permit %s" % SECOND_NET,
                 "ip prefix-list NOT-MANY seq 5 deny 10.200.0.0/16 le 24",
                 "ip prefix-list NOT-MANY seq 10 permit 0.0.0.0/0 le 32",
                 "route-map TUNNEL1-OUT permit 10", " match ip address prefix-list SECOND",
                 " set as-path prepend %d %d" % (asn, asn), "exit",
                 "route-map TUNNEL1-OUT permit 20", "exit", "!",
                 "router bgp %d" % asn,
                 " bgp router-id %s" % t1["local"],
                 " bgp log-neighbor-changes",
                 # no zebra (docs/testing.md): nothing to import-check against,
                 # and FRR 8 sends nothing to an eBGP peer without a policy
                 " no bgp network import-check",
                 " no bgp ebgp-requires-policy"]
        for t in cls.bgp:
            assert t["asn"] == asn, cls.bgp
            keepalive = t["hold"] // 3
            lines += [" neighbor %s remote-as %d" % (t["peer"], t["peer_asn"]),
                      " neighbor %s update-source %s" % (t["peer"], t["local"]),
                      " neighbor %s disable-connected-check" % t["peer"],
                      " neighbor %s timers %d %d" % (t["peer"], keepalive, t["hold"]),
                      # the office retries a lost session within seconds
                      " neighbor %s timers connect 5" % t["peer"]]
        lines += [" address-family ipv4 unicast", "  network %s" % OFFICE_NET,
                  "  neighbor %s route-map TUNNEL1-OUT out" % t1["peer"],
                  "  neighbor %s prefix-list NOT-MANY out" % t1["peer"],
                  " exit-address-family", "!"]
        return "\n".join(lines) + "\n"

    # ---- vpcd -------------------------------------------------------------------

    @classmethod
    def start_vpcd(cls):
        cls.data_dir = os.path.join(cls.dir, "vpcd-data")
        os.makedirs(cls.data_dir, exist_ok=True)
        cls.vpcd_log = os.path.join(cls.dir, "vpcd.log")
        env = dict(os.environ, VPCD_ACCESS_KEY_ID=vpcdtest.KEY_ID,
                   VPCD_SECRET_ACCESS_KEY=vpcdtest.SECRET)
        # nsenter, not "ip netns exec": vpcd must stay in the host's mount
        # namespace (its instance and BGP namespaces under /run/netns); it
        # execs vpcd, so the pid is vpcd's
        argv = ["nsenter", "--net=/run/netns/" + cls.ns["vpcd"], VPCD, "--listen",
                "0.0.0.0:%d" % API_PORT, "--data-dir", cls.data_dir,
                "--vpn-outside-addresses", ",".join(OUTSIDE), "--dataplane"]
        with open(cls.vpcd_log, "ab") as log:
            cls.vpcd = subprocess.Popen(argv, stdout=log, stderr=log, env=env)
        netns.wait_listening(cls.pool, API_PORT, cls.vpcd, 10, lambda: cls.vpcd_log_text()[-3000:])
        cls.ec2 = cls.pool.submit(
            boto3.client, "ec2", region_name=vpcdtest.REGION, endpoint_url=API,
            aws_access_key_id=vpcdtest.KEY_ID, aws_secret_access_key=vpcdtest.SECRET,
            config=botocore.config.Config(retries={"max_attempts": 0})).result()

    @classmethod
    def stop_vpcd(cls, check=True):
        p, cls.vpcd = cls.vpcd, None
        if not p:
            return
        stop_process(p, 20)
        if check:
            assert p.returncode == 0, "vpcd did not stop cleanly; log tail:\n" + \
                cls.vpcd_log_text()[-3000:]

    @classmethod
    def vpcd_log_text(cls):
        with open(cls.vpcd_log, errors="replace") as f:
            return f.read()

    @classmethod
    def cleanup_instances(cls):
        for iid in cls.instances:
            netns.remove_instance_netns(iid)

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

    def telemetry(self):
        r = self.pool.submit(self.ec2.describe_vpn_connections, VpnConnectionIds=[self.vid]).result()
        return r["VpnConnections"][0].get("VgwTelemetry", [])

    def wait_telemetry(self, want, timeout, what):
        """want: per tunnel None (any) or (status, regex on StatusMessage)."""
        end = time.time() + timeout
        while True:
            tel = self.telemetry()
            if all(w is None or (t["Status"] == w[0] and re.search(w[1], t.get("StatusMessage", "")))
                   for t, w in zip(tel, want)):
                return tel
            if time.time() > end:
                raise AssertionError("timed out (%ss) waiting for %s; telemetry: %s\nvpcd log "
                                     "tail:\n%s" % (timeout, what, json.dumps(tel, default=str, indent=1),
                                                    self.vpcd_log_text()[-3000:]))
            time.sleep(0.25)

    def vpcctl_json(self, *args):
        env = dict(os.environ, AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                   AWS_ACCESS_KEY_ID=vpcdtest.KEY_ID, AWS_SECRET_ACCESS_KEY=vpcdtest.SECRET)
        env.pop("AWS_PROFILE", None)
        p = subprocess.run(netns.in_netns(self.ns["vpcd"], VPCCTL, "--endpoint-url", API,
                                          "--region", vpcdtest.REGION, "--output", "json", *args),
                           capture_output=True, text=True, env=env, timeout=30)
        self.assertEqual(p.returncode, 0, "vpcctl %s: %s%s" % (" ".join(args), p.stdout, p.stderr))
        return json.loads(p.stdout)

    def propagated(self):
        """{destination: route} of the routes DescribeRouteTables shows as
        propagated into the main table."""
        r = self.pool.submit(self.ec2.describe_route_tables, RouteTableIds=[self.rtb]).result()
        return {x["DestinationCidrBlock"]: x for t in r["RouteTables"] for x in t["Routes"]
                if x.get("Origin") == "EnableVgwRoutePropagation"}

    def vpn_status(self):
        """vpcctl vpn status's connection (JSON)."""
        [v] = self.vpcctl_json("vpn", "status", self.vid)["VpnConnections"]
        return v

    def wait_ipsec_up(self, timeout, tunnels=(1, 2)):
        """Until the endpoint shows IPsec UP on those tunnels (vpcctl vpn
        status: for a dynamic connection the telemetry is UP only with its
        BGP session)."""
        last = {}

        def up():
            last["v"] = self.vpn_status()
            # a restarted vpcd shows no tunnel detail (not the earlier
            # process's) until its endpoint's first status
            detail = last["v"].get("TunnelDetail")
            return detail is not None and all(detail[n - 1]["Status"] == "UP" for n in tunnels)
        try:
            wait_for(up, timeout, "IPsec UP on tunnel(s) %s" % (tunnels,), interval=0.5)
        except AssertionError as e:
            raise AssertionError("%s: %s\nvpcd log tail:\n%s" % (
                e, json.dumps(last.get("v"), indent=1)[:3000], self.vpcd_log_text()[-2000:]))

    # ---- BIRD, vpcd's BGP speaker (its control socket in vpcd's data dir) -------

    def birdc(self, command, check=True):
        """birdc's answer; check False: also when it is an error (birdc
        exits 1 for "Network not found")."""
        sock = os.path.join(self.data_dir, "bgp", "bird.ctl")
        return run(["birdc", "-s", sock, command], check=check, timeout=20).stdout

    def bird_protocol(self, n):
        """BIRD's name for the session over tunnel n (bgp_conf_write's)."""
        return "%s_t%d" % (self.vid.replace("-", "_"), n)

    def bird_session(self, n):
        """(state, last error) of tunnel n's session in `show protocols all`."""
        out = self.birdc("show protocols all " + self.bird_protocol(n))
        m = re.search(r"(?m)^\s+BGP state:\s+(\S+)", out)
        e = re.search(r"(?m)^\s+Last error:\s+(.*)$", out)
        return (m.group(1) if m else "?"), (e.group(1).strip() if e else "")

    def bird_routes(self, prefix):
        """[(protocol, best, AS path)] of BIRD's routes for prefix."""
        table = "vgw_" + self.vgw.split("-", 1)[1]
        out = self.birdc("show route %s all table %s" % (prefix, table), check=False)
        routes = []
        for line in out.splitlines():
            m = re.search(r"unicast \[(\w+) [^\]]*\] (\*)?", line)
            if m:
                routes.append([m.group(1), bool(m.group(2)), None])
            m = re.match(r"\s+BGP\.as_path:\s*(.*)$", line)
            if m and routes:
                routes[-1][2] = m.group(1).split()
        return [tuple(r) for r in routes]

    # ---- the router ---------------------------------------------------------------

    def frr_states(self):
        """[state of the session over tunnel 1, tunnel 2] as FRR sees them."""
        peers = self.bgpd.summary()
        return [peers.get(t["peer"], {}).get("state", "absent") for t in self.bgp]

    def frr_routes(self):
        """`show ip bgp json`: {prefix: [paths]}."""
        return json.loads(self.bgpd.vtysh("show ip bgp json").stdout).get("routes", {})

    def wait_frr(self, want, timeout, what):
        """want: per tunnel None (any) or the state FRR must show."""
        last = {}

        def ok():
            last["s"] = self.frr_states()
            return all(w is None or s == w for s, w in zip(last["s"], want))
        try:
            wait_for(ok, timeout, what, interval=0.5)
        except AssertionError as e:
            raise AssertionError("%s; FRR's sessions: %s\n%s\nBIRD:\n%s\ncharon's SAs:\n%s\nvpcd's "
                                 "tunnels:\n%s\nbgpd log tail:\n%s\nvpcd log tail:\n%s" % (
                e, last.get("s"), self.bgpd.vtysh("show bgp summary").stdout,
                self.birdc("show protocols all", check=False),
                self.charon.swanctl("--list-sas").stdout, self.tunnel_diag(),
                self.bgpd.output()[-2000:], self.vpcd_log_text()[-2000:]))

    def tunnel_diag(self):
        """Per tunnel: IPsec status, per CHILD SA selectors and packets, drops."""
        try:
            v = self.vpn_status()
        except AssertionError as e:
            return str(e)
        lines = []
        for n, t in enumerate(v["TunnelDetail"], 1):
            lines.append("tunnel %d %s drops %s" % (n, t.get("Status"), t.get("Drops")))
            for sa in t.get("IpsecSas", []):
                lines.append("  %s === %s in %s out %s (%s/%s)" % (
                    sa.get("LocalSelector"), sa.get("RemoteSelector"), sa.get("SpiIn"), sa.get("SpiOut"),
                    sa.get("PacketsIn"), sa.get("PacketsOut")))
        lines.append("Bgp: " + json.dumps(v.get("Bgp")))
        return "\n".join(lines)

    def strongswan_children(self):
        """{CHILD SA name: (local ts, remote ts)} of the INSTALLED ones."""
        out = self.charon.swanctl("--list-sas").stdout
        return {m.group(1): (m.group(2).strip(), m.group(3).strip()) for m in re.finditer(
            r"(?m)^  (\S+): #\d+, reqid \d+, INSTALLED, TUNNEL.*\n(?:    .*\n)*?"
            r"    local +(.*)\n    remote +(.*)", out)}

    def kill_tunnel(self, n):
        """Every packet between the router and tunnel n's outside address
        dropped in the router's namespace, both ways: the tunnel is dead and
        nobody says so. Policy rules before the local table's (moved from
        priority 0 to 50: at 0 it delivers what comes in for the router's
        own address before any other rule is read) and charon's table 220."""
        rules = self.ns.ip("router", "rule", "show").stdout
        if re.search(r"(?m)^0:\s+from all lookup local", rules):
            self.ns.ip("router", "rule", "add", "priority", "50", "lookup", "local")
            self.ns.ip("router", "rule", "del", "priority", "0")
        o = OUTSIDE[n - 1]
        self.ns.ip("router", "rule", "add", "from", o, "iif", "wan0", "priority", "10", "blackhole")
        self.ns.ip("router", "rule", "add", "to", o, "priority", "11", "blackhole")

    def revive_tunnel(self, n):
        o = OUTSIDE[n - 1]
        run(["ip", "-n", self.ns["router"], "rule", "del", "from", o, "iif", "wan0", "priority", "10"],
            check=False)
        run(["ip", "-n", self.ns["router"], "rule", "del", "to", o, "priority", "11"], check=False)
        # charon may still hold the dead IKE SA (its DPD takes up to 30 s
        # more) or be retrying: start over
        env = dict(os.environ, STRONGSWAN_CONF=self.charon.conf)
        run([netns.SWANCTL, "--terminate", "--ike", "tunnel%d" % n, "--force", "--timeout", "5",
             "--uri", self.charon.vici], check=False, env=env)
        for child in ("tunnel%d" % n, "inside%d" % n):
            self.charon.swanctl("--initiate", "--child", child, "--timeout", "20")

    # ---- traffic --------------------------------------------------------------------

    @classmethod
    def serve(cls, ns):
        p = subprocess.Popen(netns.in_netns(ns, sys.executable, "-c", netns.ECHO_SERVER, str(PORT)),
                             stdout=subprocess.PIPE, text=True)
        cls.servers.append(p)
        line = p.stdout.readline().strip()
        assert line == "listening", "echo server in %s: %r" % (ns, line)

    @classmethod
    def stop_servers(cls):
        for p in cls.servers:
            stop_process(p)

    def tcp_ok(self, ns, dst, timeout=3):
        p = run(netns.in_netns(ns, sys.executable, "-c", CLIENT, dst, str(PORT), str(timeout)),
                check=False, timeout=timeout + 15)
        return p.stdout.strip() == "ok", p.stdout

    def assert_traffic(self, dst_office=OFFICE_IP):
        """instance <-> office, ping and TCP both ways (the first ping may
        be lost while a flow or ARP settles)."""
        office = self.ns["office"]
        for src, dst in ((self.iid, dst_office), (office, self.addr)):
            _, got, out = netns.ping(src, dst, count=3)
            self.assertGreaterEqual(got, 2, "ping %s -> %s:\n%s\nvpcd log tail:\n%s" % (
                src, dst, out, self.vpcd_log_text()[-2000:]))
            ok, out = self.tcp_ok(src, dst)
            self.assertTrue(ok, "TCP %s -> %s:%d: %s" % (src, dst, PORT, out))

    def wait_traffic(self, timeout, what, dst_office=OFFICE_IP):
        wait_for(lambda: netns.ping(self.iid, dst_office, count=1)[1] == 1, timeout, what, interval=0.5)
        self.assert_traffic(dst_office)

    # ---- the scenarios ----------------------------------------------------------------

    def test_0_router_from_the_download(self):
        """The download brings the router's IPsec up unchanged: both tunnels
        UP, each with a CHILD SA for the VPC and one for the tunnel's inside
        addresses, vpcd's inside addresses answering the router's pings;
        bgpd runs with the XML's neighbours (AS, hold time)."""
        self.wait_ipsec_up(30)
        children = {}

        def installed():
            children.update(self.strongswan_children())
            return all(c + str(n) in children for n in (1, 2) for c in ("tunnel", "inside"))
        wait_for(installed, 15, "tunnel<N> and inside<N> INSTALLED in charon")
        for n, t in enumerate(self.bgp, 1):
            self.assertEqual(children["tunnel%d" % n], ("0.0.0.0/0", VPC_CIDR), children)
            self.assertEqual(children["inside%d" % n], (t["local"] + "/32", t["peer"] + "/32"), children)
            _, got, out = netns.ping(self.ns["router"], t["peer"], count=3, wait=2)
            self.assertEqual(got, 3, "router -> %s (vpcd's inside address, tunnel %d):\n%s" % (
                t["peer"], n, out))
        self.step("both tunnels UP from the unchanged download; vpcd's inside addresses answer")
        peers = self.bgpd.summary()
        for t in self.bgp:
            self.assertIn(t["peer"], peers, peers)
            self.assertEqual(peers[t["peer"]]["remoteAs"], t["peer_asn"])
        self.assertEqual(self.bgp[0]["peer_asn"], 64512)     # AmazonSideAsn's default
        self.assertEqual([t["hold"] for t in self.bgp], [HOLD_TIME] * 2)
        detail = json.loads(self.bgpd.vtysh("show bgp neighbors json").stdout)
        for t in self.bgp:
            self.assertEqual(detail[t["peer"]]["bgpTimerConfiguredHoldTimeMsecs"], HOLD_TIME * 1000)
        # the FRR lines the download suggests (in comments) say what the
        # XML says: every neighbour statement is one of bgpd.conf's
        suggested = re.findall(r"(?m)^#    (neighbor \S+ (?:remote-as|update-source|"
                               r"disable-connected-check|timers)\b.*)$", self.download)
        self.assertEqual(len(suggested), 8, self.download)
        conf = self.bgpd_conf_text.splitlines()
        for line in suggested:
            self.assertIn(" " + line, conf)
        self.assertIn("#   router bgp %d" % self.bgp[0]["asn"], self.download)
        self.step("bgpd: neighbours %s (AS %d, hold %d s)" % (
            ", ".join(t["peer"] for t in self.bgp), self.bgp[0]["peer_asn"], HOLD_TIME))

    # ---- with BGP ------------------------------------------------------------------

    def baseline(self, timeout=120):
        """Where every scenario starts and ends: both tunnels UP, both
        sessions Established as FRR and as vpcd see them (one side may still
        believe in a session the other has dropped, until its hold timer
        says otherwise), the telemetry UP, the office prefix propagated."""
        self.wait_ipsec_up(60)
        self.wait_frr(["Established"] * 2, timeout, "both sessions Established (FRR)")
        last = {}

        def settled():
            last["frr"] = self.frr_states()
            last["vpcd"] = [t["State"] for t in self.vpn_status().get("Bgp", {}).get("Tunnels", [])]
            last["tel"] = [(t["Status"], t.get("StatusMessage")) for t in self.telemetry()]
            return (last["frr"] == ["Established"] * 2 and last["vpcd"] == ["Established"] * 2
                    and all(st == "UP" for st, _ in last["tel"]) and OFFICE_NET in self.propagated())
        try:
            wait_for(settled, timeout, "both sessions Established (FRR and vpcd), telemetry UP, %s "
                     "propagated" % OFFICE_NET, interval=0.5)
        except AssertionError as e:
            raise AssertionError("%s: %s\n%s" % (e, last, self.tunnel_diag()))

    def wait_propagated(self, want, timeout, what):
        """want(routes) true, routes the propagated {destination: route}."""
        last = {}

        def ok():
            last["r"] = self.propagated()
            return want(last["r"])
        try:
            wait_for(ok, timeout, what, interval=0.5)
        except AssertionError as e:
            raise AssertionError("%s; propagated: %s\nvpcd log tail:\n%s" % (
                e, json.dumps(last.get("r"), indent=1), self.vpcd_log_text()[-2000:]))
        return last["r"]

    def announce(self, *lines):
        """Lines under `router bgp` / `address-family ipv4 unicast`."""
        self.bgpd.configure(self.bgp[0]["asn"], "address-family ipv4 unicast", *lines)

    def test_1_established_learned_propagated_traffic(self):
        """Both sessions Established; the office prefix learned by vpcd on
        both tunnels and propagated into the main route table; the VPC CIDR
        learned by FRR from both; telemetry "1 BGP ROUTES"; the instance
        and the office reach each other by ping and TCP."""
        self.baseline()
        self.step("both sessions Established (FRR)")
        for n in (1, 2):
            self.assertEqual(self.bird_session(n)[0], "Established", self.birdc("show protocols all"))
        # Established comes before the UPDATEs: baseline() has the office
        # prefix from one session; wait (bounded) until both have theirs
        tel = self.wait_telemetry([("UP", "^1 BGP ROUTES$")] * 2, 15, "telemetry 1 BGP ROUTES")
        self.assertEqual([t["AcceptedRouteCount"] for t in tel], [1, 1])
        last = {}

        def frr_received_vpc():
            last["peers"] = self.bgpd.summary()
            # the VPC's CIDR (what FRR sends: the office's prefix, and the
            # VPC's learned over the other tunnel, which BIRD drops as a loop)
            return all(last["peers"].get(t["peer"], {}).get("pfxRcd") == 1 for t in self.bgp)
        try:
            wait_for(frr_received_vpc, 15, "FRR: one prefix (the VPC's) from each session", interval=0.5)
        except AssertionError as e:
            raise AssertionError("%s: %s" % (e, last.get("peers")))
        paths = self.frr_routes().get(VPC_CIDR, [])
        self.assertEqual(sorted(p["peerId"] for p in paths), sorted(t["peer"] for t in self.bgp),
                         self.bgpd.vtysh("show ip bgp").stdout)
        for p in paths:
            self.assertEqual(p["path"], str(self.bgp[0]["peer_asn"]), p)
        self.step("FRR learned %s from both tunnels (AS path %d):\n%s" % (
            VPC_CIDR, self.bgp[0]["peer_asn"], self.bgpd.vtysh("show ip bgp").stdout.rstrip()))
        routes = self.propagated()
        self.assertEqual(routes, {OFFICE_NET: {"DestinationCidrBlock": OFFICE_NET, "GatewayId": self.vgw,
                                               "Origin": "EnableVgwRoutePropagation", "State": "active"}})
        [conn] = self.aws("describe-vpn-connections", "--vpn-connection-ids", self.vid)["VpnConnections"]
        self.assertEqual(conn.get("Routes", []), [])        # no static route anywhere
        self.step("%s learned and propagated into %s" % (OFFICE_NET, self.rtb))
        # vpcd's sessions as `vpcctl vpn status` shows them
        bgp = self.vpn_status()["Bgp"]
        for n, t in enumerate(bgp["Tunnels"]):
            self.assertEqual((t["OutsideIpAddress"], t["State"], t["LocalAsn"], t["NeighborAsn"],
                              t["NeighborAddress"], t["Received"], t["Advertised"], t["Cause"]),
                             (OUTSIDE[n], "Established", self.bgp[n]["peer_asn"], CGW_ASN,
                              self.bgp[n]["local"], 1, 1, ""), bgp)
        self.assertEqual([(r["DestinationCidrBlock"], r["AsPathLength"]) for r in bgp["Routes"]],
                         [(OFFICE_NET, 1)], bgp)
        self.wait_traffic(20, "the instance reaching the office")
        self.step("instance <-> office: ping and TCP both ways")

    def test_2_tunnel1_killed(self):
        """Tunnel 1's packets dropped both ways: its session drops within the
        hold time, the office prefix stays propagated (learned over tunnel
        2) and the traffic goes on through tunnel 2."""
        self.baseline()
        t_kill = time.time()
        self.kill_tunnel(1)
        self.addCleanup(self.revive_tunnel, 1)
        # waited for generously; the time of the drop is what each side
        # recorded (a poll on a loaded machine may come late)
        last = {}

        def down():
            last["s"] = self.vpn_status()["Bgp"]["Tunnels"][0]
            return last["s"]["State"] != "Established"
        wait_for(down, HOLD_TIME + 15, "tunnel 1's session down in vpcd (BIRD)", interval=0.5)
        session = last["s"]
        state, error = self.bird_session(1)
        dropped = session["Since"] - t_kill          # vpcd's record of BIRD's state change (1 s)
        self.step("tunnel 1 killed: its session %s after %.1f s (%s); vpcd: %s, %s" % (
            state, dropped, error, session["State"], session["Cause"]))
        self.assertLessEqual(dropped, HOLD_TIME + 1)
        self.assertRegex(error, "(?i)hold timer expired")
        self.assertEqual(session["Cause"], "hold-expired")
        # and the router's side too, by its own hold timer
        peer = self.bgp[0]["peer"]
        wait_for(lambda: self.frr_states()[0] != "Established", HOLD_TIME + 15,
                 "tunnel 1's session down in FRR", interval=0.5)
        j = json.loads(self.bgpd.vtysh("show bgp neighbors %s json" % peer).stdout)[peer]
        frr_dropped = time.time() - j["lastResetTimerMsecs"] / 1000 - t_kill
        self.step("FRR: tunnel 1's session %s after %.1f s (%s)" % (
            j["bgpState"], frr_dropped, j.get("lastResetDueTo")))
        self.assertLessEqual(frr_dropped, HOLD_TIME + 1)
        self.assertRegex(j.get("lastResetDueTo", ""), "(?i)hold timer|notification send")
        self.assertEqual(self.bird_session(2)[0], "Established")
        routes = self.wait_propagated(lambda r: OFFICE_NET in r, 5, OFFICE_NET + " still propagated")
        self.assertEqual(routes[OFFICE_NET]["State"], "active")
        self.wait_telemetry([("DOWN", ""), ("UP", "^1 BGP ROUTES$")], 15,
                            "tunnel 1 DOWN, tunnel 2 UP with its route")
        # the office's side lets go of tunnel 1 at its own DPD timeout
        self.wait_traffic(HOLD_TIME + 10, "traffic through tunnel 2")
        on_dead, on_live = self.pings_out(OFFICE_IP, 1, 2)
        self.step("traffic through tunnel 2 (%d pings: ESP at the router on tunnel 1 %+d, tunnel 2 %+d)" % (
            PINGS, on_dead, on_live))
        self.assertLess(on_dead, PINGS // 5)     # (it is dead: nothing can arrive)
        self.doCleanups()
        # AWS's gateway reconnects promptly: so does vpcd's BIRD (error wait
        # 1 s, connect retry 5 s; BIRD's default error wait of 60 s kept the
        # session down 40-60 s after the tunnel was back)
        self.wait_ipsec_up(60, tunnels=(1,))
        t_back = time.time()
        self.wait_frr(["Established"] * 2, REESTABLISH_S,
                      "tunnel 1's session Established again within %d s of its tunnel" % REESTABLISH_S)
        self.step("tunnel 1 back: its session Established again %.1f s after IPsec UP" % (
            time.time() - t_back))
        self.baseline(timeout=REESTABLISH_S)
        self.step("tunnel 1 back: both sessions Established")

    def test_3_office_withdraws(self):
        """The office withdraws its prefix: the propagated route disappears
        (and the instance no longer reaches the office); announced again:
        back."""
        self.baseline()
        self.announce("no network " + OFFICE_NET)
        self.addCleanup(self.announce, "network " + OFFICE_NET)
        self.wait_propagated(lambda r: OFFICE_NET not in r, 10, OFFICE_NET + " no longer propagated")
        self.assertEqual(self.bird_routes(OFFICE_NET), [])
        self.assertEqual(netns.ping(self.iid, OFFICE_IP, count=2)[1], 0, "the office still reachable")
        self.step("the office withdrew %s: no longer propagated, not reachable" % OFFICE_NET)
        self.doCleanups()
        self.wait_propagated(lambda r: OFFICE_NET in r, 10, OFFICE_NET + " propagated again")
        self.wait_traffic(15, "the office reachable again")
        self.step("announced again: propagated, reachable")

    def prefer(self, longer, shorter):
        """SECOND_NET announced with a path 2 ASes longer on tunnel
        `longer`: BIRD's best and the endpoint's choice is tunnel
        `shorter`: (ESP packets out on tunnel `longer`, on `shorter`)
        while the instance pings the second prefix."""
        def chosen():
            routes = self.bird_routes(SECOND_NET)
            best = [r for r in routes if r[1]]
            return (len(routes) == 2 and len(best) == 1
                    and best[0][0] == self.bird_protocol(shorter)) and routes
        wait_for(chosen, 20, "BIRD's best path for %s over tunnel %d" % (SECOND_NET, shorter), interval=0.5)
        for proto, best, path in self.bird_routes(SECOND_NET):
            self.assertEqual(len(path), 1 if best else 3, (proto, best, path))
        # vpcd's picture of it (and the endpoint's routes, moved by the same poll)
        wait_for(lambda: self.vpcd_route(SECOND_NET) == (shorter - 1, 1), 10,
                 "vpcd's route for %s over tunnel %d, AS path 1" % (SECOND_NET, shorter), interval=0.5)
        self.wait_propagated(lambda r: SECOND_NET in r, 10, SECOND_NET + " propagated")
        self.wait_traffic(15, "the second prefix reachable", dst_office=SECOND_IP)
        return self.pings_out(SECOND_IP, longer, shorter)

    def vpcd_route(self, prefix):
        """(tunnel index, AS path length) of vpcd's route for prefix
        (vpcctl vpn status's Bgp.Routes), or None."""
        for r in self.vpn_status().get("Bgp", {}).get("Routes", []):
            if r["DestinationCidrBlock"] == prefix:
                return r["Tunnel"], r["AsPathLength"]
        return None

    def router_packets_in(self):
        """Per tunnel the ESP packets the router received from vpcd, over
        all its CHILD SAs (swanctl --list-sas, counted at once; vpcd's own
        counters reach its API only every ENGINE_VPN_DETAIL_PERIOD_S)."""
        counts, ike = [0, 0], None
        for line in self.charon.swanctl("--list-sas").stdout.splitlines():
            m = re.match(r"^tunnel(\d): #\d+, ", line)
            if m:
                ike = int(m.group(1)) - 1
                continue
            m = re.match(r"^    in  [0-9a-f]{8}\S*,\s+\d+ bytes,\s+(\d+) packets", line)
            if m and ike is not None:
                counts[ike] += int(m.group(1))
        return counts

    def pings_out(self, dst, other, chosen, count=None):
        """The instance pings dst count times: (ESP packets the router got
        meanwhile on tunnel other, on tunnel chosen). All of them on chosen
        (every request one ESP packet, answered or not) shows that vpcd
        sent every one there."""
        count = count or PINGS
        before = self.router_packets_in()
        _, got, out = netns.ping(self.iid, dst, count=count, interval="0.02")
        self.assertGreaterEqual(got, count - 2, out)
        time.sleep(0.5)
        after = self.router_packets_in()
        self.assertGreaterEqual(after[chosen - 1] - before[chosen - 1], count,
                                "ESP packets the router got per tunnel: before %s, after %s" % (before, after))
        return after[other - 1] - before[other - 1], after[chosen - 1] - before[chosen - 1]

    def test_4_longer_as_path(self):
        """A second office prefix, announced with two more ASes on tunnel 1
        (route-map prepend): vpcd prefers tunnel 2 for it; the prepend moved
        to tunnel 2: vpcd prefers tunnel 1."""
        self.baseline()
        self.announce("network " + SECOND_NET)
        self.addCleanup(self.announce, "no network " + SECOND_NET)
        on_long, on_short = self.prefer(1, 2)
        self.step("%s: AS path 3 on tunnel 1, 1 on tunnel 2: BIRD chose tunnel 2; %d pings: ESP "
                  "at the router on tunnel 1 %+d, tunnel 2 %+d" % (SECOND_NET, PINGS, on_long, on_short))
        self.assertLess(on_long, PINGS // 5)    # BGP keepalives and their ACKs, not the pings
        tel = self.wait_telemetry([("UP", "^2 BGP ROUTES$")] * 2, 15, "telemetry 2 BGP ROUTES")
        self.assertEqual([t["AcceptedRouteCount"] for t in tel], [2, 2])
        # the other way round: not a tie broken by chance
        t1, t2 = self.bgp[0]["peer"], self.bgp[1]["peer"]
        self.announce("no neighbor %s route-map TUNNEL1-OUT out" % t1,
                      "neighbor %s route-map TUNNEL1-OUT out" % t2)
        self.addCleanup(self.announce, "no neighbor %s route-map TUNNEL1-OUT out" % t2,
                        "neighbor %s route-map TUNNEL1-OUT out" % t1)
        self.bgpd.vtysh("clear bgp ipv4 unicast * soft out")
        on_long, on_short = self.prefer(2, 1)
        self.step("prepend moved to tunnel 2: BIRD chose tunnel 1; ESP at the router on tunnel 2 %+d, tunnel 1 %+d" % (
            on_long, on_short))
        self.assertLess(on_long, PINGS // 5)
        self.doCleanups()
        self.bgpd.vtysh("clear bgp ipv4 unicast * soft out")
        self.wait_propagated(lambda r: SECOND_NET not in r, 10, SECOND_NET + " withdrawn")

    def test_5_prefix_limit(self):
        """101 more prefixes on tunnel 2 (102 > AWS's 100): vpcd drops that
        session and its StatusMessage names the cause; tunnel 1 carries on.
        Withdrawn: the session comes back."""
        self.baseline()
        many = ["network " + MANY_NET % i for i in range(101)]
        self.announce(*many)
        self.addCleanup(self.announce, *["no " + x for x in many])
        wait_for(lambda: self.bird_session(2)[0] != "Established", 30,
                 "tunnel 2's session dropped by the limit", interval=0.5)
        state, error = self.bird_session(2)
        self.assertRegex(error, "(?i)limit", self.birdc("show protocols all " + self.bird_protocol(2)))
        tel = self.wait_telemetry([("UP", "^1 BGP ROUTES$"), ("DOWN", "more than 100 prefixes")],
                                  15, "tunnel 2 DOWN naming the prefix limit")
        self.assertEqual(self.vpn_status()["Bgp"]["Tunnels"][1]["Cause"], "prefix-limit")
        self.step("102 prefixes on tunnel 2: BIRD %s (%s); telemetry: %s" % (
            state, error, tel[1]["StatusMessage"]))
        self.assertEqual(self.bird_session(1)[0], "Established")
        self.assertEqual([r for r in self.propagated() if r.startswith("10.200.")], [])
        self.wait_traffic(15, "traffic through tunnel 1")
        self.doCleanups()
        self.wait_frr(["Established"] * 2, 120, "tunnel 2's session back after the withdrawal")
        self.wait_telemetry([("UP", "^1 BGP ROUTES$")] * 2, 15, "both 1 BGP ROUTES again")
        self.step("the 101 withdrawn: tunnel 2's session back")

    def test_6_wrong_asn(self):
        """The router speaks from another ASN on tunnel 2 (FRR's local-as):
        vpcd refuses the session and the tunnel's StatusMessage names the
        cause; tunnel 1 carries on. The right ASN again: the session is
        back."""
        self.baseline()
        asn, t2 = self.bgp[0]["asn"], self.bgp[1]["peer"]
        self.bgpd.configure(asn, "neighbor %s local-as %d no-prepend replace-as" % (t2, WRONG_ASN))
        self.addCleanup(self.bgpd.configure, asn, "no neighbor %s local-as" % t2)
        last = {}

        def refused():
            last["bgp"] = self.vpn_status().get("Bgp", {})
            return last["bgp"].get("Tunnels", [{}, {}])[1].get("Cause") == "bad-peer-as"
        try:
            wait_for(refused, 30, "tunnel 2's session refused for its ASN (Cause bad-peer-as)", interval=0.5)
        except AssertionError as e:
            raise AssertionError("%s: %s\n%s" % (e, last.get("bgp"), self.birdc("show protocols all",
                                                                               check=False)))
        state, error = self.bird_session(2)
        self.assertRegex(error, "(?i)bad peer AS")
        tel = self.wait_telemetry([("UP", "^1 BGP ROUTES$"),
                                   ("DOWN", "the customer gateway's ASN is not %d" % CGW_ASN)],
                                  15, "tunnel 2 DOWN naming the ASN")
        self.step("tunnel 2 from AS %d: BIRD %s (%s); telemetry: %s" % (
            WRONG_ASN, state, error, tel[1]["StatusMessage"]))
        self.wait_traffic(15, "traffic through tunnel 1")
        t_fixed = time.time()
        self.doCleanups()
        # BIRD's error wait doubles per refused attempt, but stops at 30 s
        self.baseline(timeout=BIRD_ERROR_WAIT_MAX_S + REESTABLISH_S)
        self.step("the right ASN again: tunnel 2's session back after %.1f s" % (time.time() - t_fixed))

    def test_7_vpcd_restart(self):
        """vpcd restarted (SIGTERM, start): BIRD and its namespace go with
        it and come back; both sessions Established again, the route
        propagated, traffic."""
        self.baseline()
        old = "vpcd-bgp-%d" % self.vpcd.pid
        self.assertTrue(os.path.exists("/run/netns/" + old))
        t0 = time.time()
        self.stop_vpcd()
        self.assertFalse(os.path.exists("/run/netns/" + old), "vpcd left its BGP namespace behind")
        self.start_vpcd()
        self.baseline()
        self.step("vpcd restarted: both sessions Established again after %.1f s" % (time.time() - t0))
        self.serve(self.iid)       # the instance's server went with its namespace
        self.wait_traffic(20, "traffic after the restart")
        self.step("traffic after the restart")

    def test_8_secondary_block(self):
        """A secondary CIDR block (AssociateVpcCidrBlock) with an instance in
        a subnet of it: the download then has per tunnel a CHILD SA per
        block (tunnel<N>-2 for the secondary; IKEv1 negotiates one pair of
        selectors per CHILD SA); charon reloaded with it, unchanged,
        installs them, FRR learns the block from both sessions, and the
        office and the instance reach each other (ping and TCP)."""
        self.baseline()
        self.aws("associate-vpc-cidr-block", "--vpc-id", self.vpc, "--cidr-block", VPC_CIDR2)
        subnet = self.aws("create-subnet", "--vpc-id", self.vpc, "--cidr-block",
                          SECONDARY_NET)["Subnet"]["SubnetId"]
        inst = self.aws("run-instances", "--image-id", self.image, "--count", "1", "--subnet-id", subnet,
                        "--security-group-ids", self.sg)["Instances"][0]
        iid, addr = inst["InstanceId"], inst["PrivateIpAddress"]
        self.instances.append(iid)
        wait_for(lambda: os.path.exists("/run/netns/" + iid), 10, "the instance's namespace")
        wait_for(lambda: re.search(r"default via ", run(["ip", "-n", iid, "-4", "route", "show"],
                                                          check=False).stdout) is not None
                 and addr in run(["ip", "-n", iid, "-4", "addr", "show", "eth0"], check=False).stdout,
                 10, "eth0 with %s and its default route" % addr)
        self.serve(iid)
        self.step("%s associated; instance %s: %s" % (VPC_CIDR2, iid, addr))
        download = self.aws("get-vpn-connection-device-sample-configuration",
                            "--vpn-connection-id", self.vid, "--vpn-connection-device-type-id",
                            "51cb26fd", "--internet-key-exchange-version", "ikev1"
                            )["VpnConnectionDeviceSampleConfiguration"]
        self.assertEqual(re.findall(r"(?m)^ +(tunnel\d(?:-\d)?) \{\n +mode = tunnel\n.*\n +remote_ts = (\S+)$",
                                    download),
                         [("tunnel1", VPC_CIDR), ("tunnel1-2", VPC_CIDR2),
                          ("tunnel2", VPC_CIDR), ("tunnel2-2", VPC_CIDR2)], download)
        conf = os.path.join(self.dir, "swanctl-2.conf")
        with open(conf, "w") as f:
            f.write(download)
        out = self.charon.swanctl("--load-all", "--file", conf).stdout
        self.assertIn("successfully loaded 2 connections", out)
        children = {}

        def installed():
            children.update(self.strongswan_children())
            return all("tunnel%d-2" % n in children for n in (1, 2))
        try:
            wait_for(installed, 30, "tunnel1-2 and tunnel2-2 INSTALLED in charon")
        except AssertionError as e:
            raise AssertionError("%s: %s\n%s" % (e, self.charon.swanctl("--list-sas").stdout,
                                                 self.tunnel_diag()))
        for n in (1, 2):
            self.assertEqual(children["tunnel%d-2" % n], ("0.0.0.0/0", VPC_CIDR2), children)
            self.assertEqual(children["tunnel%d" % n], ("0.0.0.0/0", VPC_CIDR), children)
        self.step("charon reloaded with the new download: tunnel1-2, tunnel2-2 INSTALLED for %s" % VPC_CIDR2)
        wait_for(lambda: sorted(p["peerId"] for p in self.frr_routes().get(VPC_CIDR2, [])) ==
                 sorted(t["peer"] for t in self.bgp), 30, "FRR learning %s from both sessions" % VPC_CIDR2,
                 interval=0.5)
        office = self.ns["office"]
        wait_for(lambda: netns.ping(office, addr, count=1)[1] == 1, 20, "the office reaching " + addr,
                 interval=0.5)
        for src, dst in ((office, addr), (iid, OFFICE_IP)):
            _, got, out = netns.ping(src, dst, count=3)
            self.assertEqual(got, 3, "ping %s -> %s:\n%s\n%s" % (src, dst, out, self.tunnel_diag()))
            ok, out = self.tcp_ok(src, dst)
            self.assertTrue(ok, "TCP %s -> %s:%d: %s" % (src, dst, PORT, out))
        # the primary block as before
        self.assert_traffic()
        self.step("office <-> %s (%s) by ping and TCP; the primary block's instance too" % (addr, VPC_CIDR2))


if __name__ == "__main__":
    unittest.main()
