"""The VPN story with IKEv2, against vpcd itself (not the driver): the aws
CLI creates a VPC, gateways and a static VPN connection with AWS's default
tunnel options (IKEVersions ikev1 and ikev2); the strongSwan IKEv2
configuration that vpcd generates (GetVpnConnectionDeviceSampleConfiguration,
device type 51cb26fd, --internet-key-exchange-version ikev2) goes UNCHANGED
into a real charon (kernel-libipsec: NAT-T); vpcd's engine answers with
IKEv2 and reports the tunnels in VgwTelemetry, and `vpcctl vpn status`
shows the IKEv2 SA.

Topology and helpers are test_vpn_story.py's (VpnStoryTest: four
namespaces with per-run unique names, always deleted; vpcd in its own, the
aws CLI and boto3 reaching it there). Steps: both tunnels UP (telemetry,
strongSwan ESTABLISHED IKEv2 with INSTALLED CHILD SAs), router -> vpcd's
inside addresses, office <-> VPC host; `vpcctl vpn status` (JSON and
table): IKE version 2, the IKE SA ESTABLISHED with vpcd as responder and
its SPIs the ones strongSwan lists, every CHILD SA's SPIs strongSwan's (in
and out swapped), counters that grow with a ping; charon killed -> both
DOWN "DPD timeout" within 30 s; charon back -> UP and traffic.

Needs root (namespaces, TUN, charon) and the aws CLI; skipped otherwise."""
import json
import re
import signal
import time

from interop import test_vpn_story as story   # a module: its class is not collected twice

CGW_IP = story.CGW_IP
OUTSIDE = story.OUTSIDE
OFFICE_IP = story.OFFICE_IP
VPC_CIDR = story.VPC_CIDR
VPC_HOST_IP = story.VPC_HOST_IP
DPD_TIMEOUT = story.DPD_TIMEOUT


class VpnStoryIkev2Test(story.VpnStoryTest):

    def swanctl_ike_spis(self):
        """{IKE SA name: (spi_i, spi_r)} of the ESTABLISHED IKEv2 SAs."""
        out = self.charon.swanctl("--list-sas").stdout
        return {m.group(1): (m.group(2), m.group(3)) for m in re.finditer(
            r"(?m)^(\S+): #\d+, ESTABLISHED, IKEv2, ([0-9a-f]{16})_i\*? ([0-9a-f]{16})_r", out)}

    def test_story(self):
        self.start_vpcd()
        vpc = self.aws("create-vpc", "--cidr-block", VPC_CIDR)["Vpc"]["VpcId"]
        self.aws("create-subnet", "--vpc-id", vpc, "--cidr-block", "10.96.1.0/24")
        cgw = self.aws("create-customer-gateway", "--type", "ipsec.1", "--public-ip", CGW_IP,
                       "--bgp-asn", "65000")["CustomerGateway"]["CustomerGatewayId"]
        vgw = self.aws("create-vpn-gateway", "--type", "ipsec.1")["VpnGateway"]["VpnGatewayId"]
        self.aws("attach-vpn-gateway", "--vpn-gateway-id", vgw, "--vpc-id", vpc)
        vpn = self.aws("create-vpn-connection", "--type", "ipsec.1", "--customer-gateway-id", cgw,
                       "--vpn-gateway-id", vgw, "--options", "StaticRoutesOnly=true")
        vid = vpn["VpnConnection"]["VpnConnectionId"]
        self.aws("create-vpn-connection-route", "--vpn-connection-id", vid,
                 "--destination-cidr-block", "10.0.0.0/24")
        desc = self.aws("describe-vpn-connections", "--vpn-connection-ids", vid)["VpnConnections"][0]
        tunnels = desc["Options"]["TunnelOptions"]
        for t in tunnels:   # AWS's default, both versions (left out of the answer when not set)
            self.assertEqual(sorted(v["Value"] for v in t.get("IkeVersions", [])),
                             [] if "IkeVersions" not in t else ["ikev1", "ikev2"])
        inside = [t["TunnelInsideCidr"] for t in tunnels]
        for cidr in inside:   # the router's inside addresses
            self.ns.ip("router", "addr", "add", self.inside_addrs(cidr)[0] + "/32", "dev", "lo")
        self.wait_telemetry(vid, [("DOWN", "waiting for the peer")] * 2, 10, "DOWN, waiting")
        self.step("VPC, gateways and VPN connection %s created" % vid)

        # Download Configuration for strongSwan, IKEv2: used as it is
        download = self.aws("get-vpn-connection-device-sample-configuration",
                            "--vpn-connection-id", vid, "--vpn-connection-device-type-id",
                            "51cb26fd", "--internet-key-exchange-version", "ikev2"
                            )["VpnConnectionDeviceSampleConfiguration"]
        self.assertIn("version = 2", download)
        self.assertIn("remote_addrs = %s" % OUTSIDE[0], download)
        path = "%s/swanctl-ikev2.conf" % self.dir
        with open(path, "w") as f:
            f.write(download)
        self.start_charon(path)
        self.wait_telemetry(vid, [("UP", "^IPSEC IS UP$")] * 2, 30, "both tunnels UP")

        def strongswan_up():
            out = self.charon.swanctl("--list-sas").stdout
            return all(re.search(r"(?m)^tunnel%d: #\d+, ESTABLISHED, IKEv2" % n, out) and
                       re.search(r"(?m)^  tunnel%d: #\d+, reqid \d+, INSTALLED, TUNNEL-in-UDP" % n, out)
                       for n in (1, 2))
        story.wait_for(strongswan_up, 15, "IKEv2 ESTABLISHED, CHILD SAs INSTALLED in swanctl")
        for cidr in inside:
            self.ping("router", self.inside_addrs(cidr)[1])
        self.ping("office", VPC_HOST_IP)
        self.ping("vpchost", OFFICE_IP)
        self.step("both UP over IKEv2 (the download unchanged); pings")

        # vpcctl vpn status, from the router's namespace
        last = {}

        def matches():
            v = self.vpn_status_json(vid)
            ike, child = self.swanctl_ike_spis(), self.swanctl_child_spis()
            last.update(v=v, ike=ike, child=child)
            for n, t in enumerate(v["TunnelDetail"], 1):
                sa = t.get("IkeSa", {})
                if (sa.get("SpiI"), sa.get("SpiR")) != ike.get("tunnel%d" % n):
                    return False
                ours = {(s["SpiOut"][2:].lower(), s["SpiIn"][2:].lower())
                        for s in t["IpsecSas"] if not s["Lingering"]}
                if ours != child.get("tunnel%d" % n):
                    return False
            return True
        try:
            story.wait_for(matches, 15, "vpcctl vpn status's SPIs = strongSwan's")
        except AssertionError:
            raise AssertionError(json.dumps(last, indent=1, default=str))
        v = last["v"]
        for n, t in enumerate(v["TunnelDetail"]):
            self.assertEqual(t["Status"], "UP")
            self.assertEqual(t["IkeVersion"], 2)
            self.assertEqual(t["Isakmp"]["State"], "NONE")
            sa = t["IkeSa"]
            self.assertEqual(sa["State"], "ESTABLISHED")
            self.assertEqual(sa["Role"], "responder")
            self.assertTrue(sa["LocalAddress"].startswith(OUTSIDE[n] + ":4500"))
            self.assertTrue(sa["PeerAddress"].startswith(CGW_IP + ":4500"))
            self.assertTrue(sa["NatPeer"])   # strongSwan's userspace ESP fakes NAT
            self.assertEqual((sa["Encryption"], sa["Integrity"], sa["Prf"], sa["DhGroup"]),
                             ("AES_CBC-128", "HMAC_SHA1_96", "PRF_HMAC_SHA1", 2))
            self.assertGreater(sa["RemainingSeconds"], 0)
            self.assertLessEqual(sa["RemainingSeconds"], sa["LifetimeSeconds"])
            self.assertGreaterEqual(sa["MessageIdIn"], 2)
            self.assertGreaterEqual(len(t["IpsecSas"]), 2)   # tunnel<N> and inside<N>
            for s in t["IpsecSas"]:
                self.assertTrue(s["UdpEncap"])
                self.assertGreater(s["RemainingSeconds"], 0)
        before = self.detail_packets(v)
        self.ping("office", VPC_HOST_IP)
        story.wait_for(lambda: all(a >= b + 3 for a, b in zip(
            self.detail_packets(self.vpn_status_json(vid)), before)), 15,
            "the packet counters grown by the ping")
        table = self.vpcctl("vpn", "status", vid)
        self.assertEqual(len(re.findall(r"(?m)^  IKEv2 SA$", table)), 2, table)
        self.assertEqual(len(re.findall(r"(?m)^  #\d+: ESTABLISHED, IKEv2, [0-9a-f]{16}_i [0-9a-f]{16}_r\*$",
                                        table)), 2, table)
        self.assertIn("AES_CBC-128/HMAC_SHA1_96/PRF_HMAC_SHA1/DH group 2, auth psk", table)
        self.assertRegex(table, r"#pkts decaps: [1-9]\d*")
        self.step("vpcctl vpn status: IKEv2 SA ESTABLISHED (responder), SPIs = strongSwan's")

        # the router dies without a word: DPD (30 s) must notice
        t_kill = time.time()
        self.charon.stop(signal.SIGKILL)
        self.wait_telemetry(vid, [("DOWN", "DPD timeout")] * 2, DPD_TIMEOUT + 3,
                            "both DOWN with the DPD cause")
        self.step("both DOWN 'DPD timeout' %.1f s after charon was killed" % (time.time() - t_kill))
        self.start_charon(path)
        self.wait_telemetry(vid, [("UP", "^IPSEC IS UP$")] * 2, 30, "both UP after charon restarted")
        story.wait_for(lambda: self.ping_answered("office", VPC_HOST_IP), 10, "traffic again")
        self.ping("office", VPC_HOST_IP)
        self.step("charon restarted: both UP, traffic")
