"""The seed's whole story against vpcd with its data plane (--dataplane):
the aws CLI builds the VPC of the console wizard's third pattern (public
and private subnet, hardware VPN), strongSwan is the office router with
the configuration downloaded from vpcd, an instance launched into the
private subnet is a network namespace named after its id, and the office
server reaches it through the tunnels — and back. Then each cause breaks
it and is put right again, and `vpcctl trace` (VpcdTracePacket: one
synthetic packet through the router's own compiled snapshot) names the
cause:

  - a NACL deny rule on the private subnet (trace: nacl-in, rule 50);
  - the instance's security group without the ICMP/TCP rules
    (trace: sg-ingress);
  - the route to the VPN gateway removed (trace: no-route);
  - tunnel 1 terminated by the router: traffic goes on through tunnel 2;
  - vpcd restarted over a leftover namespace: the instance comes back
    (vpcd deletes its namespaces at SIGTERM and makes them at start).

Topology (namespaces with per-run unique names, always deleted; the
instance's namespace is vpcd's, deleted by vpcd when it stops and by the
test in any case):

    office 10.0.0.10 -- 10.0.0.1 router 198.51.100.2 -- 198.51.100.1 vpcd
                                 (charon)              203.0.113.1, .2 (outside)
                                                       instance i-… 10.96.1.x

The router's swanctl.conf is the download with test_vpn_story's edits
(router_conf: close_action, inside CHILD SAs). Needs root; skipped
otherwise."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import vpcdtest
from interop import netns
from interop import test_vpn_story as vs
from interop.netns import Namespaces, netns_executor, run, wait_for

OFFICE_IP = vs.OFFICE_IP
OFFICE_NET = "10.0.0.0/24"
PORT = 8000

# A TCP echo server: one line back per line, for the office and the instance.
SERVER = netns.ECHO_SERVER

# Connects, sends a line, expects it back: prints "ok" or "fail ...".
CLIENT = r"""
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
    c.settimeout(float(sys.argv[3]))
    c.sendall(b"seed\n")
    print("ok" if c.recv(64) == b"seed\n" else "fail echo", flush=True)
except OSError as e:
    print("fail", e, flush=True)
"""


@unittest.skipUnless(os.geteuid() == 0,
                     "needs root: creates network namespaces, runs vpcd's data plane and charon")
class SeedStoryTest(vs.VpnStoryTest):
    test_story = None   # the VPN story is test_vpn_story's; this class reuses its helpers

    @classmethod
    def setUpClass(cls):
        for path in (vs.VPCD, netns.CHARON, netns.SWANCTL, vpcdtest.VPCCTL):
            if not os.path.exists(path):
                raise unittest.SkipTest("%s is missing (make all, or install strongswan-swanctl "
                                        "charon-systemd libcharon-extra-plugins)" % path)
        if not shutil.which("aws"):
            raise unittest.SkipTest("the aws CLI is missing")
        cls.dir = tempfile.mkdtemp(prefix="seed-story-")
        if os.environ.get("VPCD_TEST_KEEP"):
            print("\nkeeping " + cls.dir, file=sys.stderr)
        else:
            cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.ns = Namespaces("seed", ("office", "router", "vpcd"))
        cls.addClassCleanup(cls.ns.remove)
        cls.ns.make(rp_filter=0)
        cls.ns.office_router_vpcd(office_ip=OFFICE_IP, cgw_ip=vs.CGW_IP, vpcd_link_ip=vs.VPCD_LINK_IP)
        for a in vs.OUTSIDE:
            cls.ns.ip("vpcd", "addr", "add", a + "/32", "dev", "wan0")
        cls.pool = netns_executor(cls.ns["vpcd"])
        cls.addClassCleanup(cls.pool.shutdown)

    def setUp(self):
        super().setUp()
        self.instances = []
        self.servers = []
        # last in, first out: servers, vpcd (deletes its namespaces), then
        # whatever namespace is still there
        self.addCleanup(self.cleanup_instances)
        self.addCleanup(self.stop_vpcd, False)
        self.addCleanup(self.stop_servers)

    outside = vs.OUTSIDE

    def vpcd_command(self):
        # nsenter, not "ip netns exec": vpcd must stay in the host's mount
        # namespace, or the instance namespaces it mounts under /run/netns
        # are visible to it alone; nsenter execs vpcd (the pid is vpcd's)
        # every address of its namespace: vpcctl asks it from the router's
        return ["nsenter", "--net=/run/netns/" + self.ns["vpcd"], vs.VPCD, "--listen",
                "0.0.0.0:%d" % vs.API_PORT, "--data-dir", self.data_dir,
                "--vpn-outside-addresses", ",".join(self.outside), "--dataplane"]

    def cleanup_instances(self):
        for iid in self.instances:
            netns.remove_instance_netns(iid)

    def stop_servers(self):
        for p in self.servers:
            if p.poll() is None:
                p.kill()
                p.wait()

    # ---- traffic ----------------------------------------------------------------

    def netns_of(self, where):
        return self.ns.get(where, where)

    def ping_ns(self, where, dst, expect=True, count=3):
        _, got, out = netns.ping(self.netns_of(where), dst, count)
        if expect:
            # the first may be lost while a flow or ARP settles
            self.assertGreaterEqual(got, count - 1, "ping %s from %s:\n%s\nvpcd log tail:\n%s" % (
                dst, where, out, self.vpcd_log_text()[-2000:]))
        else:
            self.assertEqual(got, 0, "ping %s from %s still answered:\n%s" % (dst, where, out))

    def serve(self, where):
        p = subprocess.Popen(["ip", "netns", "exec", self.netns_of(where), sys.executable, "-c", SERVER,
                              str(PORT)], stdout=subprocess.PIPE, text=True)
        self.servers.append(p)
        self.assertEqual(p.stdout.readline().strip(), "listening")

    def tcp(self, where, dst, expect=True, timeout=3):
        p = run(["ip", "netns", "exec", self.netns_of(where), sys.executable, "-c", CLIENT, dst,
                    str(PORT), str(timeout)], check=False, timeout=timeout + 15)
        if expect:
            self.assertEqual(p.stdout.strip(), "ok", "TCP %s -> %s:%d" % (where, dst, PORT))
        else:
            self.assertTrue(p.stdout.startswith("fail"), "TCP %s -> %s:%d still works" % (where, dst, PORT))

    def both_ways(self, addr, expect=True):
        """office -> instance (ping, TCP) and instance -> office (ping, TCP)."""
        self.ping_ns("office", addr, expect)
        self.tcp("office", addr, expect)
        if expect:
            self.ping_ns(self.iid, OFFICE_IP)
            self.tcp(self.iid, OFFICE_IP)

    def trace(self, src, dst, proto, port):
        """`vpcctl trace` from another namespace (VpcdTracePacket through the
        API, no --data-dir); exit 0 delivered, 1 dropped."""
        args = ["--output", "json", "trace", "--from", src, "--to", dst, "--proto", proto]
        if port >= 0:
            args += ["--port", str(port)]
        p = self.vpcctl_run(*args)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        tr = json.loads(p.stdout)
        self.assertEqual(p.returncode, 0 if tr["Reachable"] else 1, tr)
        return tr

    def assert_trace_drop(self, tr, cause, component=None, rule=None):
        self.assertFalse(tr["Reachable"], tr)
        self.assertEqual(tr["Cause"], cause, tr)
        bad = [s for s in tr["Steps"] if not s["Ok"]]
        self.assertTrue(bad, tr)
        if component:
            self.assertIn(component, bad[0]["Component"], tr)
        if rule is not None:
            self.assertIn(str(rule), bad[0]["Rule"], tr)

    # ---- the story -------------------------------------------------------------

    def test_seed_story(self):
        self.start_vpcd()
        self.step("vpcd --dataplane up in its namespace")
        aws = self.aws

        # pattern 3 of the wizard: public + private subnet, hardware VPN
        vpc = aws("create-vpc", "--cidr-block", vs.VPC_CIDR)["Vpc"]["VpcId"]
        public = aws("create-subnet", "--vpc-id", vpc, "--cidr-block", "10.96.0.0/24")["Subnet"]["SubnetId"]
        private = aws("create-subnet", "--vpc-id", vpc, "--cidr-block", "10.96.1.0/24")["Subnet"]["SubnetId"]
        igw = aws("create-internet-gateway")["InternetGateway"]["InternetGatewayId"]
        aws("attach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc)
        public_rtb = aws("create-route-table", "--vpc-id", vpc)["RouteTable"]["RouteTableId"]
        aws("create-route", "--route-table-id", public_rtb, "--destination-cidr-block", "0.0.0.0/0",
            "--gateway-id", igw)
        aws("associate-route-table", "--route-table-id", public_rtb, "--subnet-id", public)
        cgw = aws("create-customer-gateway", "--type", "ipsec.1", "--public-ip", vs.CGW_IP,
                  "--bgp-asn", "65000")["CustomerGateway"]["CustomerGatewayId"]
        vgw = aws("create-vpn-gateway", "--type", "ipsec.1")["VpnGateway"]["VpnGatewayId"]
        aws("attach-vpn-gateway", "--vpn-gateway-id", vgw, "--vpc-id", vpc)
        vid = aws("create-vpn-connection", "--type", "ipsec.1", "--customer-gateway-id", cgw,
                  "--vpn-gateway-id", vgw, "--options", "StaticRoutesOnly=true"
                  )["VpnConnection"]["VpnConnectionId"]
        aws("create-vpn-connection-route", "--vpn-connection-id", vid,
            "--destination-cidr-block", OFFICE_NET)
        main_rtb = aws("describe-route-tables", "--filters", "Name=vpc-id,Values=" + vpc,
                       "Name=association.main,Values=true")["RouteTables"][0]["RouteTableId"]
        aws("create-route", "--route-table-id", main_rtb, "--destination-cidr-block", OFFICE_NET,
            "--gateway-id", vgw)
        desc = aws("describe-vpn-connections", "--vpn-connection-ids", vid)["VpnConnections"][0]
        tunnels = desc["Options"]["TunnelOptions"]
        inside = [t["TunnelInsideCidr"] for t in tunnels]
        for cidr in inside:
            self.ns.ip("router", "addr", "add", self.inside_addrs(cidr)[0] + "/32", "dev", "lo")
        self.step("VPC %s: public %s, private %s, %s, %s, VPN %s" % (vpc, public, private, igw, vgw, vid))

        # the router with the downloaded configuration; both tunnels UP
        download = aws("get-vpn-connection-device-sample-configuration", "--vpn-connection-id", vid,
                       "--vpn-connection-device-type-id", "51cb26fd",
                       "--internet-key-exchange-version", "ikev1"
                       )["VpnConnectionDeviceSampleConfiguration"]
        esp = re.search(r"esp_proposals = (\S+)", download).group(1)
        self.start_charon(self.router_conf(download, inside, esp))
        self.wait_telemetry(vid, [("UP", "^IPSEC IS UP$")] * 2, 30, "both tunnels UP")
        self.assert_strongswan_up()
        self.step("both tunnels UP")

        # the instance: a security group that lets the office in
        sg = aws("create-security-group", "--group-name", "office", "--description", "from the office",
                 "--vpc-id", vpc)["GroupId"]
        perms = ["IpProtocol=icmp,FromPort=-1,ToPort=-1,IpRanges=[{CidrIp=%s}]" % OFFICE_NET,
                 "IpProtocol=tcp,FromPort=%d,ToPort=%d,IpRanges=[{CidrIp=%s}]" % (PORT, PORT, OFFICE_NET)]
        aws("authorize-security-group-ingress", "--group-id", sg, "--ip-permissions", *perms)
        image = aws("describe-images", "--filters", "Name=name,Values=vpcd-linux")["Images"][0]["ImageId"]
        inst = aws("run-instances", "--image-id", image, "--count", "1", "--subnet-id", private,
                   "--security-group-ids", sg)["Instances"][0]
        self.iid = inst["InstanceId"]
        self.instances.append(self.iid)
        addr = inst["PrivateIpAddress"]
        self.assertEqual(addr, "10.96.1.4")
        wait_for(lambda: os.path.exists("/run/netns/" + self.iid), 10, "the instance's namespace")
        # the file appears before "ip netns add" has mounted it: ask until it answers
        wait_for(lambda: addr in run(["ip", "-n", self.iid, "-4", "addr", "show", "eth0"],
                                           check=False).stdout, 10, "eth0 with " + addr)
        self.assertIn("default via 10.96.1.1", run(["ip", "-n", self.iid, "route"]).stdout)
        self.step("instance %s: %s, namespace %s" % (self.iid, addr, self.iid))

        # office <-> instance through the tunnels
        self.serve(self.iid)
        self.serve("office")
        self.both_ways(addr)
        tr = self.trace(OFFICE_IP, self.iid, "tcp", PORT)
        self.assertTrue(tr["Reachable"], tr)
        self.step("office -> instance: ping, TCP; instance -> office: ping, TCP")

        # 1. a NACL deny rule on the private subnet
        nacl = aws("describe-network-acls", "--filters", "Name=association.subnet-id,Values=" + private
                   )["NetworkAcls"][0]["NetworkAclId"]
        aws("create-network-acl-entry", "--network-acl-id", nacl, "--ingress", "--rule-number", "50",
            "--protocol", "-1", "--rule-action", "deny", "--cidr-block", OFFICE_NET)
        self.ping_ns("office", addr, expect=False, count=2)
        self.tcp("office", addr, expect=False, timeout=2)
        self.assert_trace_drop(self.trace(OFFICE_IP, self.iid, "icmp", -1), "nacl-in", nacl, 50)
        aws("delete-network-acl-entry", "--network-acl-id", nacl, "--ingress", "--rule-number", "50")
        self.both_ways(addr)
        self.step("NACL %s rule 50 deny: no traffic, the trace names it; removed: traffic" % nacl)

        # 2. the security group without the ICMP and TCP rules
        aws("revoke-security-group-ingress", "--group-id", sg, "--ip-permissions", *perms)
        self.ping_ns("office", addr, expect=False, count=2)
        self.tcp("office", addr, expect=False, timeout=2)
        self.assert_trace_drop(self.trace(OFFICE_IP, self.iid, "tcp", PORT), "sg-ingress")
        aws("authorize-security-group-ingress", "--group-id", sg, "--ip-permissions", *perms)
        self.both_ways(addr)
        self.step("%s without the rules: no traffic, the trace names it; back: traffic" % sg)

        # 3. the route to the VPN gateway removed
        aws("delete-route", "--route-table-id", main_rtb, "--destination-cidr-block", OFFICE_NET)
        self.ping_ns("office", addr, expect=False, count=2)
        self.assert_trace_drop(self.trace(self.iid, OFFICE_IP, "icmp", -1), "no-route")
        aws("create-route", "--route-table-id", main_rtb, "--destination-cidr-block", OFFICE_NET,
            "--gateway-id", vgw)
        self.both_ways(addr)
        self.step("route %s -> %s removed: no traffic, the trace names it; back: traffic" % (OFFICE_NET, vgw))

        # 4. tunnel 1 down: traffic goes on through tunnel 2
        self.charon.swanctl("--terminate", "--ike", "tunnel1")
        self.wait_telemetry(vid, [("DOWN", ""), ("UP", "^IPSEC IS UP$")], 15, "tunnel 1 DOWN, tunnel 2 UP")
        out = self.charon.swanctl("--list-sas").stdout
        self.assertNotRegex(out, r"(?m)^  tunnel1: #\d+, reqid \d+, INSTALLED", out)
        self.assertRegex(out, r"(?m)^  tunnel2: #\d+, reqid \d+, INSTALLED", out)
        self.both_ways(addr)
        self.step("tunnel 1 terminated by the router: traffic through tunnel 2")

        # vpcd restarted: the namespace goes at SIGTERM and comes back from
        # the store; a leftover namespace by that name (a vpcd that died) is
        # deleted and made again
        self.stop_vpcd()
        self.assertFalse(os.path.exists("/run/netns/" + self.iid), "vpcd left the namespace behind")
        run(["ip", "netns", "add", self.iid])    # as if vpcd had died without cleaning up
        since = self.next_second()
        self.start_vpcd()
        # the first answer is this vpcd's: no UP from before the restart
        # (the store's UP was served while the endpoint was still adding the
        # tunnels; a wait for UP went on at once and pinged into no IKE SA)
        for t in self.telemetry(vid):
            self.assertTrue(t["Status"] == "DOWN" or t["LastStatusChange"].timestamp() >= since,
                            "UP from before the restart: %s" % t)
        wait_for(lambda: addr in run(["ip", "-n", self.iid, "-4", "addr", "show", "eth0"],
                                           check=False).stdout, 10, "eth0 with %s again" % addr)
        self.assertIn("%s: namespace left over by an earlier vpcd: deleted (created again)" % self.iid,
                      self.vpcd_log_text())
        # (tunnel 1 stays down: the router terminated it)
        self.wait_telemetry(vid, [None, ("UP", "^IPSEC IS UP$")], 30, "tunnel 2 UP after vpcd restarted",
                            since=since)
        self.serve(self.iid)    # the old server died with its namespace
        self.both_ways(addr)
        self.step("vpcd restarted: leftover namespace replaced, instance back, traffic")

        # vpcd stops: the instance's namespace goes with it
        self.stop_vpcd()
        self.assertFalse(os.path.exists("/run/netns/" + self.iid), "vpcd left the namespace behind")
        log = self.vpcd_log_text()
        self.assertIn("data plane running", log)
        for t in tunnels:
            self.assertNotIn(t["PreSharedKey"], log)
        self.step("vpcd stopped: namespace %s deleted" % self.iid)


if __name__ == "__main__":
    unittest.main()
