"""The VPN story through the aws CLI, as a network engineer types it:
customer gateway (--public-ip), VPN gateway, attach, VPN connection with
static routes, `aws ec2 wait`, Download Configuration, delete."""
import xml.etree.ElementTree as ET

from vpcdtest import VpcdTestCase

POOL = "203.0.113.1,203.0.113.2,203.0.113.3,203.0.113.4"


class TestVpnCli(VpcdTestCase):
    vpcd_args = ("--vpn-outside-addresses", POOL)

    def test_story(self):
        cli = self.vpcd.cli
        cgw = cli("create-customer-gateway", "--type", "ipsec.1", "--public-ip", "198.51.100.7",
                  "--bgp-asn", "65000")["CustomerGateway"]
        self.assertEqual(cgw["IpAddress"], "198.51.100.7")
        self.assertEqual(cgw["BgpAsn"], "65000")
        again = cli("create-customer-gateway", "--type", "ipsec.1", "--public-ip", "198.51.100.7")["CustomerGateway"]
        self.assertEqual(again["CustomerGatewayId"], cgw["CustomerGatewayId"])
        cli("wait", "customer-gateway-available", "--customer-gateway-ids", cgw["CustomerGatewayId"])

        vgw = cli("create-vpn-gateway", "--type", "ipsec.1")["VpnGateway"]
        self.assertEqual(vgw["AmazonSideAsn"], 64512)
        vpc = cli("create-vpc", "--cidr-block", "10.0.0.0/16")["Vpc"]["VpcId"]
        att = cli("attach-vpn-gateway", "--vpc-id", vpc, "--vpn-gateway-id", vgw["VpnGatewayId"])["VpcAttachment"]
        self.assertEqual(att["VpcId"], vpc)

        vpn = cli("create-vpn-connection", "--type", "ipsec.1", "--customer-gateway-id", cgw["CustomerGatewayId"],
                  "--vpn-gateway-id", vgw["VpnGatewayId"],
                  "--options", '{"StaticRoutesOnly":true,"TunnelOptions":[{"PreSharedKey":"cli_key_one1"},'
                               '{"TunnelInsideCidr":"169.254.10.0/30","DPDTimeoutSeconds":40}]}')["VpnConnection"]
        vid = vpn["VpnConnectionId"]
        self.assertEqual(vpn["State"], "pending")
        t1, t2 = vpn["Options"]["TunnelOptions"]
        self.assertEqual(t1["PreSharedKey"], "cli_key_one1")
        self.assertEqual(t2["TunnelInsideCidr"], "169.254.10.0/30")
        self.assertEqual(t2["DpdTimeoutSeconds"], 40)
        root = ET.fromstring(vpn["CustomerGatewayConfiguration"])
        self.assertEqual(root.findtext("vpn_connection_attributes"), "NoBGPVPNConnection")
        self.assertEqual([x.findtext("ipsec/tcp_mss_adjustment") for x in root.findall("ipsec_tunnel")],
                         ["1379", "1379"])

        p = self.vpcd.cli("wait", "vpn-connection-available", "--vpn-connection-ids", vid, check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        cli("create-vpn-connection-route", "--vpn-connection-id", vid, "--destination-cidr-block", "192.168.0.0/24")
        got = cli("describe-vpn-connections", "--filters", "Name=state,Values=available",
                  "Name=route.destination-cidr-block,Values=192.168.0.0/24")["VpnConnections"]
        self.assertEqual([v["VpnConnectionId"] for v in got], [vid])
        self.assertEqual(got[0]["Routes"][0]["State"], "available")
        self.assertEqual([t["Status"] for t in got[0]["VgwTelemetry"]], ["DOWN", "DOWN"])

        types = cli("get-vpn-connection-device-types")["VpnConnectionDeviceTypes"]
        self.assertIn("b0adb196", [t["VpnConnectionDeviceTypeId"] for t in types])
        conf = cli("get-vpn-connection-device-sample-configuration", "--vpn-connection-id", vid,
                   "--vpn-connection-device-type-id", "b0adb196",
                   "--internet-key-exchange-version", "ikev1")["VpnConnectionDeviceSampleConfiguration"]
        self.assertIn("cli_key_one1", conf)
        self.assertIn(t2["PreSharedKey"], conf)
        self.assertIn("ip route 10.0.0.0 255.255.0.0 Tunnel1 track", conf)

        out = cli("modify-vpn-tunnel-options", "--vpn-connection-id", vid, "--vpn-tunnel-outside-ip-address",
                  t1["OutsideIpAddress"], "--tunnel-options", "ReplayWindowSize=512")["VpnConnection"]
        self.assertEqual(out["Options"]["TunnelOptions"][0]["ReplayWindowSize"], 512)
        p = self.vpcd.cli("modify-vpn-tunnel-options", "--vpn-connection-id", vid, "--vpn-tunnel-outside-ip-address",
                          t1["OutsideIpAddress"], "--tunnel-options", "Phase1LifetimeSeconds=100", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("InvalidParameterValue", p.stderr)
        self.assertIn("Phase1LifetimeSeconds", p.stderr)

        cli("enable-vgw-route-propagation", "--route-table-id", self.main_route_table(vpc),
            "--gateway-id", vgw["VpnGatewayId"])

        p = self.vpcd.cli("delete-customer-gateway", "--customer-gateway-id", cgw["CustomerGatewayId"], check=False)
        self.assertIn("IncorrectState", p.stderr)
        cli("delete-vpn-connection", "--vpn-connection-id", vid)
        p = self.vpcd.cli("wait", "vpn-connection-deleted", "--vpn-connection-ids", vid, check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(cli("describe-vpn-connections", "--vpn-connection-ids", vid)["VpnConnections"][0]["State"],
                         "deleted")
        cli("detach-vpn-gateway", "--vpc-id", vpc, "--vpn-gateway-id", vgw["VpnGatewayId"])
        cli("delete-vpn-gateway", "--vpn-gateway-id", vgw["VpnGatewayId"])
        cli("delete-customer-gateway", "--customer-gateway-id", cgw["CustomerGatewayId"])
        states = {g["CustomerGatewayId"]: g["State"] for g in cli("describe-customer-gateways")["CustomerGateways"]}
        self.assertEqual(states[cgw["CustomerGatewayId"]], "deleted")     # describable for an hour, as on AWS

    def test_pool_exhausted(self):
        cli = self.vpcd.cli
        cgw = cli("create-customer-gateway", "--type", "ipsec.1", "--ip-address", "198.51.100.8")["CustomerGateway"]
        vgw = cli("create-vpn-gateway", "--type", "ipsec.1")["VpnGateway"]
        args = ("create-vpn-connection", "--type", "ipsec.1", "--customer-gateway-id", cgw["CustomerGatewayId"],
                "--vpn-gateway-id", vgw["VpnGatewayId"])
        made = [cli(*args)["VpnConnection"]["VpnConnectionId"] for _ in range(2)]
        p = self.vpcd.cli(*args, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("VpnConnectionLimitExceeded", p.stderr)
        self.assertIn("--vpn-outside-addresses", p.stderr)
        for vid in made:
            cli("delete-vpn-connection", "--vpn-connection-id", vid)

    def main_route_table(self, vpc):
        """The VPC's main route table id (from the store while
        DescribeRouteTables is not served)."""
        p = self.vpcd.cli("describe-route-tables", "--filters", "Name=vpc-id,Values=" + vpc, check=False)
        if p.returncode == 0:
            import json
            return json.loads(p.stdout)["RouteTables"][0]["RouteTableId"]
        import json
        import os
        import sqlite3
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.vpcd.data_dir, "vpcd.db"), uri=True)
        try:
            for (body,) in db.execute("SELECT body FROM resources WHERE type = 'route-table'"):
                t = json.loads(body)
                if t.get("VpcId") == vpc:
                    return t["RouteTableId"]
        finally:
            db.close()
        raise AssertionError("no route table for " + vpc)
