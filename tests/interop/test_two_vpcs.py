"""Two VPCs, each with its own VPN gateway and VPN connection to its own
office, against vpcd with its data plane (--dataplane): the VPN endpoint
has one plaintext side per VPN gateway (the gateway's port in the virtual
router), so what comes out of a connection's tunnels enters that
connection's VPC, and what a VPC sends to its gateway leaves through that
gateway's tunnels only.

Topology (namespaces with per-run unique names, always deleted; the
instances' namespaces are vpcd's, deleted by vpcd when it stops and by the
test in any case):

  office1 10.0.0.10 -- 10.0.0.1 router1 198.51.100.2 -- 198.51.100.1 vpcd
  office2 10.0.2.10 -- 10.0.2.1 router2 192.0.2.2    -- 192.0.2.1    vpcd
                                                 outside 203.0.113.1-.4
  VPC 1 10.96.0.0/16: instance 10.96.1.4    VPC 2 10.97.0.0/16: 10.97.1.4

Each office pings its own VPC's instance through its tunnels. Router 2's
selectors are widened to 10.96.0.0/15 (both VPCs) and VPC 1 routes
10.0.0.0/16 (both offices) to its gateway, so that nothing but the
separation of the two gateways stops office 2 from reaching VPC 1's
instance: its ping gets no answer. Needs root; skipped otherwise."""
import os
import re
import shutil
import sys
import tempfile
import unittest

from interop import netns
from interop import test_seed_story as seed
from interop import test_vpn_story as vs
from interop.netns import Charon, Namespaces, netns_executor, run, wait_for

OUTSIDE = ("203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4")
SITES = {
    1: {"office": "10.0.0.10", "lan": "10.0.0.0/24", "lan_gw": "10.0.0.1", "cgw": vs.CGW_IP,
        "wan": "198.51.100", "vpc": "10.96.0.0/16", "subnet": "10.96.1.0/24", "inst": "10.96.1.4"},
    2: {"office": "10.0.2.10", "lan": "10.0.2.0/24", "lan_gw": "10.0.2.1", "cgw": "192.0.2.2",
        "wan": "192.0.2", "vpc": "10.97.0.0/16", "subnet": "10.97.1.0/24", "inst": "10.97.1.4"},
}


@unittest.skipUnless(os.geteuid() == 0,
                     "needs root: creates network namespaces, runs vpcd's data plane and charon")
class TwoVpcsTest(seed.SeedStoryTest):
    test_seed_story = None  # the seed story is test_seed_story's; this class reuses its helpers

    @classmethod
    def setUpClass(cls):
        for path in (vs.VPCD, netns.CHARON, netns.SWANCTL):
            if not os.path.exists(path):
                raise unittest.SkipTest("%s is missing (make all, or install strongswan-swanctl "
                                        "charon-systemd libcharon-extra-plugins)" % path)
        if not shutil.which("aws"):
            raise unittest.SkipTest("the aws CLI is missing")
        cls.dir = tempfile.mkdtemp(prefix="two-vpcs-")
        if os.environ.get("VPCD_TEST_KEEP"):
            print("\nkeeping " + cls.dir, file=sys.stderr)
        else:
            cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.ns = Namespaces("twovpc", ("office1", "router1", "office2", "router2", "vpcd"))
        cls.addClassCleanup(cls.ns.remove)
        cls.ns.make(rp_filter=0)
        for n, s in SITES.items():
            cls.ns.office_router_vpcd("office%d" % n, "router%d" % n, "vpcd", "wan%d" % n,
                                      office_ip=s["office"], office_gw=s["lan_gw"], cgw_ip=s["cgw"],
                                      vpcd_link_ip=s["wan"] + ".1")
        for a in OUTSIDE:
            cls.ns.ip("vpcd", "addr", "add", a + "/32", "dev", "wan1")
        cls.pool = netns_executor(cls.ns["vpcd"])
        cls.addClassCleanup(cls.pool.shutdown)

    outside = OUTSIDE    # vpcd's, in seed.SeedStoryTest.vpcd_command
    vpcctl_ns = "router1"    # vpcctl asks vpcd from there (vs.VpnStoryTest.vpcctl)
    vpcctl_endpoint = "http://%s.1:%d" % (SITES[1]["wan"], vs.API_PORT)

    def setUp(self):
        super().setUp()
        self.charons = {}
        self.addCleanup(self.stop_charons)

    # ---- one charon per router -------------------------------------------------

    def make_charon(self):
        return None     # no "router": start_charon_n makes each router's

    def start_charon_n(self, n, swanctl_conf):
        charon = Charon(self.ns["router%d" % n], self.dir, suffix=str(n))
        self.charons[n] = charon
        self.assertIn("successfully loaded 2 connections", charon.start(swanctl_conf))

    def stop_charons(self):
        # only the charons this test started, by their pid
        for charon in self.charons.values():
            charon.stop()
        self.charons = {}

    # ---- the test -----------------------------------------------------------------

    def build_site(self, n, image):
        """VPC n with a subnet, a VPN gateway, a VPN connection to router n
        (its strongSwan up) and an instance; returns (vpn id, instance id)."""
        aws, s = self.aws, SITES[n]
        vpc = aws("create-vpc", "--cidr-block", s["vpc"])["Vpc"]["VpcId"]
        subnet = aws("create-subnet", "--vpc-id", vpc, "--cidr-block", s["subnet"])["Subnet"]["SubnetId"]
        cgw = aws("create-customer-gateway", "--type", "ipsec.1", "--public-ip", s["cgw"],
                  "--bgp-asn", "65000")["CustomerGateway"]["CustomerGatewayId"]
        vgw = aws("create-vpn-gateway", "--type", "ipsec.1")["VpnGateway"]["VpnGatewayId"]
        aws("attach-vpn-gateway", "--vpn-gateway-id", vgw, "--vpc-id", vpc)
        vid = aws("create-vpn-connection", "--type", "ipsec.1", "--customer-gateway-id", cgw,
                  "--vpn-gateway-id", vgw, "--options", "StaticRoutesOnly=true"
                  )["VpnConnection"]["VpnConnectionId"]
        aws("create-vpn-connection-route", "--vpn-connection-id", vid,
            "--destination-cidr-block", s["lan"])
        main_rtb = aws("describe-route-tables", "--filters", "Name=vpc-id,Values=" + vpc,
                       "Name=association.main,Values=true")["RouteTables"][0]["RouteTableId"]
        # VPC 1 sends both offices to its gateway: only the gateway's own
        # tunnels may take what it sends
        aws("create-route", "--route-table-id", main_rtb, "--destination-cidr-block",
            "10.0.0.0/16" if n == 1 else s["lan"], "--gateway-id", vgw)
        tunnels = aws("describe-vpn-connections", "--vpn-connection-ids", vid
                      )["VpnConnections"][0]["Options"]["TunnelOptions"]
        inside = [t["TunnelInsideCidr"] for t in tunnels]
        for cidr in inside:
            self.ns.ip("router%d" % n, "addr", "add", self.inside_addrs(cidr)[0] + "/32", "dev", "lo")
        download = aws("get-vpn-connection-device-sample-configuration", "--vpn-connection-id", vid,
                       "--vpn-connection-device-type-id", "51cb26fd",
                       "--internet-key-exchange-version", "ikev1"
                       )["VpnConnectionDeviceSampleConfiguration"]
        esp = re.search(r"esp_proposals = (\S+)", download).group(1)
        path = self.router_conf(download, inside, esp)
        with open(path) as f:
            conf = f.read()
        if n == 2:
            # router 2 would send VPC 1's addresses into its tunnels too
            conf, k = re.subn(r"remote_ts = 10\.97\.0\.0/16", "remote_ts = 10.96.0.0/15", conf)
            self.assertGreater(k, 0, "the downloaded configuration changed: no remote_ts 10.97.0.0/16")
        mine = os.path.join(self.dir, "swanctl-router%d.conf" % n)
        with open(mine, "w") as f:
            f.write(conf)
        self.start_charon_n(n, mine)
        self.wait_telemetry(vid, [("UP", "^IPSEC IS UP$")] * 2, 30, "both tunnels of %s UP" % vid)

        sg = aws("create-security-group", "--group-name", "offices", "--description", "offices",
                 "--vpc-id", vpc)["GroupId"]
        aws("authorize-security-group-ingress", "--group-id", sg, "--ip-permissions",
            "IpProtocol=icmp,FromPort=-1,ToPort=-1,IpRanges=[{CidrIp=10.0.0.0/16}]")
        inst = aws("run-instances", "--image-id", image, "--count", "1", "--subnet-id", subnet,
                   "--security-group-ids", sg)["Instances"][0]
        iid = inst["InstanceId"]
        self.instances.append(iid)
        self.assertEqual(inst["PrivateIpAddress"], s["inst"])
        wait_for(lambda: os.path.exists("/run/netns/" + iid), 10, "the namespace of " + iid)
        wait_for(lambda: s["inst"] in run(["ip", "-n", iid, "-4", "addr", "show", "eth0"],
                                                check=False).stdout, 10, "eth0 with " + s["inst"])
        self.step("VPC %d %s: %s, %s, VPN %s (both tunnels UP), instance %s %s" % (
            n, vpc, subnet, vgw, vid, iid, s["inst"]))
        return vid, iid

    def test_two_vpcs(self):
        self.start_vpcd()
        self.step("vpcd --dataplane up, four outside addresses")
        image = self.aws("describe-images", "--filters", "Name=name,Values=vpcd-linux"
                         )["Images"][0]["ImageId"]
        sites = {n: self.build_site(n, image) for n in SITES}

        for n, s in SITES.items():
            self.ping_ns("office%d" % n, s["inst"])
            self.ping_ns(sites[n][1], s["office"])
        self.step("each office <-> its own VPC's instance: ping both ways")

        # office 2's packet to VPC 1's instance goes into VPN 2's tunnels
        # (router 2's selectors cover it) and comes out into VPC 2 only
        self.ping_ns("office2", SITES[1]["inst"], expect=False, count=3)
        # and VPC 1 cannot send to office 2 through VPN 2's tunnels either
        self.ping_ns(sites[1][1], SITES[2]["office"], expect=False, count=3)
        # while each office still reaches its own
        for n, s in SITES.items():
            self.ping_ns("office%d" % n, s["inst"])
        self.step("office 2 -> VPC 1's instance: no answer; VPC 1 -> office 2: none")

        self.stop_vpcd()
        log = self.vpcd_log_text()
        self.assertIn("data plane running", log)
        for n in SITES:
            self.assertFalse(os.path.exists("/run/netns/" + sites[n][1]),
                             "vpcd left the namespace behind")
        self.step("vpcd stopped")


if __name__ == "__main__":
    unittest.main()
