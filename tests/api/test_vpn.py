"""Site-to-Site VPN objects through boto3: customer gateways, VPN gateways,
VPN connections (tunnel options, routes, telemetry, XML configuration),
route propagation, Download Configuration, the outside address pool, and
restart."""
import os
import re
import xml.etree.ElementTree as ET

import botocore.exceptions

from vpcdtest import VpcdTestCase

POOL = ("203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4")
VPN_ARGS = ("--vpn-outside-addresses", ",".join(POOL))


class VpnBase(VpcdTestCase):
    vpcd_args = VPN_ARGS

    def cgw(self, ip="198.51.100.7", **kw):
        return self.ec2.create_customer_gateway(Type="ipsec.1", IpAddress=ip, **kw)["CustomerGateway"]

    def vgw(self, **kw):
        return self.ec2.create_vpn_gateway(Type="ipsec.1", **kw)["VpnGateway"]

    def vpc(self, cidr="10.20.0.0/16"):
        return self.ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]

    def vpn(self, cgw_id, vgw_id, **options):
        kw = {"Options": options} if options else {}
        return self.ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw_id,
                                              VpnGatewayId=vgw_id, **kw)["VpnConnection"]

    def describe_vpn(self, vpn_id):
        return self.ec2.describe_vpn_connections(VpnConnectionIds=[vpn_id])["VpnConnections"][0]

    def setup_pair(self, static=True, vpc_cidr=None, **options):
        cgw = self.cgw()
        vgw = self.vgw()
        if vpc_cidr:
            self.ec2.attach_vpn_gateway(VpcId=self.vpc(vpc_cidr), VpnGatewayId=vgw["VpnGatewayId"])
        vpn = self.vpn(cgw["CustomerGatewayId"], vgw["VpnGatewayId"], StaticRoutesOnly=static, **options)
        self.addCleanup(self.drop_vpn, vpn["VpnConnectionId"])
        return cgw, vgw, vpn

    def drop_vpn(self, vpn_id):
        try:
            self.ec2.delete_vpn_connection(VpnConnectionId=vpn_id)
        except botocore.exceptions.ClientError:
            pass


class TestCustomerGateway(VpnBase):
    def test_create_defaults_and_identical(self):
        c = self.cgw("198.51.100.20")
        self.assertTrue(c["CustomerGatewayId"].startswith("cgw-"))
        self.assertEqual(c["BgpAsn"], "65000")
        self.assertEqual(c["IpAddress"], "198.51.100.20")
        self.assertEqual(c["Type"], "ipsec.1")
        self.assertEqual(c["State"], "available")
        again = self.cgw("198.51.100.20")
        self.assertEqual(again["CustomerGatewayId"], c["CustomerGatewayId"])
        other = self.cgw("198.51.100.20", BgpAsn=65010)
        self.assertNotEqual(other["CustomerGatewayId"], c["CustomerGatewayId"])
        self.assertEqual(other["BgpAsn"], "65010")
        named = self.cgw("198.51.100.21", DeviceName="office-1921")
        self.assertEqual(named["DeviceName"], "office-1921")

    def test_public_ip_legacy_and_errors(self):
        c = self.ec2.create_customer_gateway(Type="ipsec.1", PublicIp="198.51.100.30", BgpAsn=65100)["CustomerGateway"]
        self.assertEqual(c["IpAddress"], "198.51.100.30")
        self.assertError("MissingParameter", self.ec2.create_customer_gateway, Type="ipsec.1")
        msg = self.assertError("InvalidParameterValue", self.ec2.create_customer_gateway, Type="ipsec.1",
                               IpAddress="198.51.100.300")
        self.assertIn("ipAddress", msg)
        self.assertError("InvalidParameterValue", self.ec2.create_customer_gateway, Type="ipsec.2",
                         IpAddress="198.51.100.31")
        self.assertError("InvalidParameterValue", self.ec2.create_customer_gateway, Type="ipsec.1",
                         IpAddress="198.51.100.31", BgpAsn=0)

    def test_describe_filters_and_delete(self):
        c = self.cgw("198.51.100.40", BgpAsn=65040)
        cid = c["CustomerGatewayId"]
        got = self.ec2.describe_customer_gateways(Filters=[{"Name": "ip-address", "Values": ["198.51.100.40"]}])
        self.assertEqual([g["CustomerGatewayId"] for g in got["CustomerGateways"]], [cid])
        got = self.ec2.describe_customer_gateways(Filters=[{"Name": "bgp-asn", "Values": ["65040"]}])
        self.assertEqual([g["CustomerGatewayId"] for g in got["CustomerGateways"]], [cid])
        self.assertEqual(self.ec2.describe_customer_gateways(CustomerGatewayIds=[cid])["CustomerGateways"][0]["State"],
                         "available")
        self.ec2.delete_customer_gateway(CustomerGatewayId=cid)
        # a deleted gateway stays describable as deleted (for an hour, as on AWS); nothing else finds it
        got = self.ec2.describe_customer_gateways(CustomerGatewayIds=[cid])["CustomerGateways"]
        self.assertEqual(got[0]["State"], "deleted")
        got = self.ec2.describe_customer_gateways(Filters=[{"Name": "state", "Values": ["available"]}])
        self.assertNotIn(cid, [g["CustomerGatewayId"] for g in got["CustomerGateways"]])
        msg = self.assertError("InvalidCustomerGatewayID.NotFound", self.ec2.delete_customer_gateway,
                               CustomerGatewayId=cid)
        self.assertEqual(msg, "The customerGateway ID '%s' does not exist" % cid)

    def test_delete_in_use(self):
        cgw, vgw, vpn = self.setup_pair()
        msg = self.assertError("IncorrectState", self.ec2.delete_customer_gateway,
                               CustomerGatewayId=cgw["CustomerGatewayId"])
        self.assertIn(vpn["VpnConnectionId"], msg)
        self.ec2.delete_vpn_connection(VpnConnectionId=vpn["VpnConnectionId"])
        self.ec2.delete_customer_gateway(CustomerGatewayId=cgw["CustomerGatewayId"])


class TestVpnGateway(VpnBase):
    def test_create_asn(self):
        g = self.vgw()
        self.assertTrue(g["VpnGatewayId"].startswith("vgw-"))
        self.assertEqual(g["AmazonSideAsn"], 64512)
        self.assertEqual(g["State"], "available")
        self.assertEqual(g["VpcAttachments"], [])
        self.assertEqual(self.vgw(AmazonSideAsn=65001)["AmazonSideAsn"], 65001)
        self.assertEqual(self.vgw(AmazonSideAsn=4200000001)["AmazonSideAsn"], 4200000001)
        for bad in (100, 64511, 65535, 4199999999):
            self.assertError("InvalidParameterValue", self.ec2.create_vpn_gateway, Type="ipsec.1", AmazonSideAsn=bad)
        self.assertError("InvalidParameterValue", self.ec2.create_vpn_gateway, Type="ipsec.9")
        got = self.ec2.describe_vpn_gateways(Filters=[{"Name": "amazon-side-asn", "Values": ["65001"]}])["VpnGateways"]
        self.assertEqual(len(got), 1)

    def test_attach_detach_delete(self):
        vpc1, vpc2 = self.vpc("10.31.0.0/16"), self.vpc("10.32.0.0/16")
        g1, g2 = self.vgw()["VpnGatewayId"], self.vgw()["VpnGatewayId"]
        att = self.ec2.attach_vpn_gateway(VpcId=vpc1, VpnGatewayId=g1)["VpcAttachment"]
        self.assertEqual(att, {"VpcId": vpc1, "State": "attaching"})
        d = self.ec2.describe_vpn_gateways(VpnGatewayIds=[g1])["VpnGateways"][0]
        self.assertEqual(d["VpcAttachments"], [{"VpcId": vpc1, "State": "attached"}])
        got = self.ec2.describe_vpn_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc1]},
                                                      {"Name": "attachment.state", "Values": ["attached"]}])
        self.assertEqual([x["VpnGatewayId"] for x in got["VpnGateways"]], [g1])
        # one VPN gateway per VPC, one VPC per VPN gateway
        self.assertError("InvalidVpcState", self.ec2.attach_vpn_gateway, VpcId=vpc1, VpnGatewayId=g2)
        self.assertError("VpnGatewayAttachmentLimitExceeded", self.ec2.attach_vpn_gateway, VpcId=vpc2, VpnGatewayId=g1)
        self.assertError("InvalidParameterValue", self.ec2.attach_vpn_gateway, VpcId=vpc1, VpnGatewayId=g1)
        self.assertError("DependencyViolation", self.ec2.delete_vpc, VpcId=vpc1)
        self.assertError("IncorrectState", self.ec2.delete_vpn_gateway, VpnGatewayId=g1)
        self.assertError("InvalidVpnGatewayAttachment.NotFound", self.ec2.detach_vpn_gateway, VpcId=vpc2, VpnGatewayId=g1)
        self.ec2.detach_vpn_gateway(VpcId=vpc1, VpnGatewayId=g1)
        # AWS keeps the attachment, detached
        self.assertEqual(self.ec2.describe_vpn_gateways(VpnGatewayIds=[g1])["VpnGateways"][0]["VpcAttachments"],
                         [{"VpcId": vpc1, "State": "detached"}])
        self.assertError("InvalidVpnGatewayAttachment.NotFound", self.ec2.detach_vpn_gateway, VpcId=vpc1, VpnGatewayId=g1)
        # a VPC that is gone has no attachment (Terraform detaches while deleting the gateway)
        self.assertError("InvalidVpnGatewayAttachment.NotFound", self.ec2.detach_vpn_gateway,
                         VpcId="vpc-0123456789abcdef0", VpnGatewayId=g1)
        self.assertError("InvalidVpnGatewayID.NotFound", self.ec2.detach_vpn_gateway, VpcId=vpc1,
                         VpnGatewayId="vgw-0123456789abcdef0")
        self.ec2.attach_vpn_gateway(VpcId=vpc1, VpnGatewayId=g2)
        self.ec2.delete_vpn_gateway(VpnGatewayId=g1)
        self.assertEqual(self.ec2.describe_vpn_gateways(VpnGatewayIds=[g1])["VpnGateways"][0]["State"], "deleted")
        msg = self.assertError("InvalidVpnGatewayID.NotFound", self.ec2.attach_vpn_gateway, VpcId=vpc2, VpnGatewayId=g1)
        self.assertEqual(msg, "The vpnGateway ID '%s' does not exist" % g1)
        self.assertError("InvalidVpnGatewayID.NotFound", self.ec2.delete_vpn_gateway, VpnGatewayId=g1)
        self.assertError("InvalidVpcID.NotFound", self.ec2.attach_vpn_gateway, VpcId="vpc-00000000000000000",
                         VpnGatewayId=g2)
        self.ec2.detach_vpn_gateway(VpcId=vpc1, VpnGatewayId=g2)
        self.ec2.delete_vpc(VpcId=vpc1)

    def test_delete_in_use_by_connection(self):
        cgw, vgw, vpn = self.setup_pair()
        self.assertError("IncorrectState", self.ec2.delete_vpn_gateway, VpnGatewayId=vgw["VpnGatewayId"])
        self.ec2.delete_vpn_connection(VpnConnectionId=vpn["VpnConnectionId"])
        self.ec2.delete_vpn_gateway(VpnGatewayId=vgw["VpnGatewayId"])


class TestRoutePropagation(VpnBase):
    def route_tables(self, vpc_id):
        return self.ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]

    def test_enable_disable(self):
        vpc = self.vpc("10.40.0.0/16")
        g = self.vgw()["VpnGatewayId"]
        rtb = self.route_tables(vpc)[0]["RouteTableId"]
        self.assertError("Gateway.NotAttached", self.ec2.enable_vgw_route_propagation, RouteTableId=rtb, GatewayId=g)
        self.ec2.attach_vpn_gateway(VpcId=vpc, VpnGatewayId=g)
        self.ec2.enable_vgw_route_propagation(RouteTableId=rtb, GatewayId=g)
        self.ec2.enable_vgw_route_propagation(RouteTableId=rtb, GatewayId=g)	# idempotent
        self.assertEqual(self.route_tables(vpc)[0]["PropagatingVgws"], [{"GatewayId": g}])
        self.ec2.disable_vgw_route_propagation(RouteTableId=rtb, GatewayId=g)
        self.assertEqual(self.route_tables(vpc)[0]["PropagatingVgws"], [])
        self.ec2.enable_vgw_route_propagation(RouteTableId=rtb, GatewayId=g)
        self.ec2.detach_vpn_gateway(VpcId=vpc, VpnGatewayId=g)	# detaching stops propagation
        self.assertEqual(self.route_tables(vpc)[0]["PropagatingVgws"], [])
        self.assertError("InvalidRouteTableID.NotFound", self.ec2.enable_vgw_route_propagation,
                         RouteTableId="rtb-00000000000000000", GatewayId=g)
        self.assertError("InvalidVpnGatewayID.NotFound", self.ec2.enable_vgw_route_propagation,
                         RouteTableId=rtb, GatewayId="vgw-00000000000000000")


def tunnel_xml(xml_text):
    root = ET.fromstring(xml_text)
    return root, root.findall("ipsec_tunnel")


class TestVpnConnection(VpnBase):
    def test_create_defaults(self):
        cgw, vgw, vpn = self.setup_pair(static=True)
        self.assertTrue(vpn["VpnConnectionId"].startswith("vpn-"))
        self.assertEqual(vpn["State"], "pending")
        self.assertEqual(vpn["Type"], "ipsec.1")
        self.assertEqual(vpn["CustomerGatewayId"], cgw["CustomerGatewayId"])
        self.assertEqual(vpn["VpnGatewayId"], vgw["VpnGatewayId"])
        opts = vpn["Options"]
        self.assertTrue(opts["StaticRoutesOnly"])
        self.assertEqual(opts["LocalIpv4NetworkCidr"], "0.0.0.0/0")
        self.assertEqual(opts["RemoteIpv4NetworkCidr"], "0.0.0.0/0")
        tunnels = opts["TunnelOptions"]
        self.assertEqual(len(tunnels), 2)
        outside = [t["OutsideIpAddress"] for t in tunnels]
        self.assertEqual(len(set(outside)), 2)
        self.assertTrue(set(outside) <= set(POOL))
        self.assertNotEqual(tunnels[0]["TunnelInsideCidr"], tunnels[1]["TunnelInsideCidr"])
        for t in tunnels:
            self.assertRegex(t["TunnelInsideCidr"], r"^169\.254\.\d+\.\d+/30$")
            self.assertRegex(t["PreSharedKey"], r"^[A-Za-z1-9._][A-Za-z0-9._]{31}$")
            # options never set are absent, as AWS answers (Terraform's
            # aws_vpn_connection would otherwise show a perpetual diff)...
            for never_set in ("Phase1LifetimeSeconds", "Phase2LifetimeSeconds", "RekeyMarginTimeSeconds",
                              "RekeyFuzzPercentage", "ReplayWindowSize", "DpdTimeoutSeconds", "DpdTimeoutAction",
                              "StartupAction", "IkeVersions", "Phase1EncryptionAlgorithms",
                              "Phase2EncryptionAlgorithms", "Phase1IntegrityAlgorithms", "Phase2IntegrityAlgorithms",
                              "Phase1DHGroupNumbers", "Phase2DHGroupNumbers", "EnableTunnelLifecycleControl"):
                self.assertNotIn(never_set, t)
            self.assertEqual(t["LogOptions"]["CloudWatchLogOptions"]["LogEnabled"], False)
        # ... while AWS's defaults are in force: the configuration says so
        _, xml_tunnels = tunnel_xml(vpn["CustomerGatewayConfiguration"])
        for x in xml_tunnels:
            self.assertEqual(x.findtext("ike/lifetime"), "28800")
            self.assertEqual(x.findtext("ipsec/lifetime"), "3600")
        tel = vpn["VgwTelemetry"]
        self.assertEqual([t["OutsideIpAddress"] for t in tel], outside)
        for t in tel:
            self.assertEqual(t["Status"], "DOWN")
            self.assertEqual(t["AcceptedRouteCount"], 0)
            self.assertIn("LastStatusChange", t)
            self.assertIn("StatusMessage", t)
        self.assertEqual(vpn["Routes"], [])
        # available from the next Describe on; the configuration too
        d = self.describe_vpn(vpn["VpnConnectionId"])
        self.assertEqual(d["State"], "available")
        self.assertEqual(d["CustomerGatewayConfiguration"], vpn["CustomerGatewayConfiguration"])

    def test_xml_by_element_path_static(self):
        cgw, vgw, vpn = self.setup_pair(static=True)
        root, tunnels = tunnel_xml(vpn["CustomerGatewayConfiguration"])
        self.assertEqual(root.tag, "vpn_connection")
        self.assertEqual(root.get("id"), vpn["VpnConnectionId"])
        self.assertEqual(root.findtext("customer_gateway_id"), cgw["CustomerGatewayId"])
        self.assertEqual(root.findtext("vpn_gateway_id"), vgw["VpnGatewayId"])
        self.assertEqual(root.findtext("vpn_connection_type"), "ipsec.1")
        self.assertEqual(root.findtext("vpn_connection_attributes"), "NoBGPVPNConnection")
        self.assertEqual(len(tunnels), 2)
        for x, t in zip(tunnels, vpn["Options"]["TunnelOptions"]):
            net = t["TunnelInsideCidr"].split("/")[0].rsplit(".", 1)
            self.assertEqual(x.findtext("customer_gateway/tunnel_outside_address/ip_address"), cgw["IpAddress"])
            self.assertEqual(x.findtext("customer_gateway/tunnel_inside_address/ip_address"),
                             "%s.%d" % (net[0], int(net[1]) + 2))
            self.assertEqual(x.findtext("customer_gateway/tunnel_inside_address/network_mask"), "255.255.255.252")
            self.assertEqual(x.findtext("customer_gateway/tunnel_inside_address/network_cidr"), "30")
            self.assertEqual(x.findtext("vpn_gateway/tunnel_outside_address/ip_address"), t["OutsideIpAddress"])
            self.assertEqual(x.findtext("vpn_gateway/tunnel_inside_address/ip_address"),
                             "%s.%d" % (net[0], int(net[1]) + 1))
            self.assertIsNone(x.find("customer_gateway/bgp"))
            self.assertEqual(x.findtext("ike/authentication_protocol"), "sha1")
            self.assertEqual(x.findtext("ike/encryption_protocol"), "aes-128-cbc")
            self.assertEqual(x.findtext("ike/lifetime"), "28800")
            self.assertEqual(x.findtext("ike/perfect_forward_secrecy"), "group2")
            self.assertEqual(x.findtext("ike/mode"), "main")
            self.assertEqual(x.findtext("ike/pre_shared_key"), t["PreSharedKey"])
            self.assertEqual(x.findtext("ipsec/protocol"), "esp")
            self.assertEqual(x.findtext("ipsec/authentication_protocol"), "hmac-sha1-96")
            self.assertEqual(x.findtext("ipsec/encryption_protocol"), "aes-128-cbc")
            self.assertEqual(x.findtext("ipsec/lifetime"), "3600")
            self.assertEqual(x.findtext("ipsec/perfect_forward_secrecy"), "group2")
            self.assertEqual(x.findtext("ipsec/mode"), "tunnel")
            self.assertEqual(x.findtext("ipsec/clear_df_bit"), "true")
            self.assertEqual(x.findtext("ipsec/fragmentation_before_encryption"), "true")
            self.assertEqual(x.findtext("ipsec/tcp_mss_adjustment"), "1379")
            self.assertEqual(x.findtext("ipsec/dead_peer_detection/interval"), "10")
            self.assertEqual(x.findtext("ipsec/dead_peer_detection/retries"), "3")

    def test_xml_bgp(self):
        cgw = self.cgw("198.51.100.60", BgpAsn=65060)
        vgw = self.vgw(AmazonSideAsn=64600)
        vpn = self.vpn(cgw["CustomerGatewayId"], vgw["VpnGatewayId"])
        self.addCleanup(self.drop_vpn, vpn["VpnConnectionId"])
        self.assertFalse(vpn["Options"]["StaticRoutesOnly"])
        root, tunnels = tunnel_xml(vpn["CustomerGatewayConfiguration"])
        self.assertIsNone(root.find("vpn_connection_attributes"))
        for x in tunnels:
            self.assertEqual(x.findtext("customer_gateway/bgp/asn"), "65060")
            self.assertEqual(x.findtext("customer_gateway/bgp/hold_time"), "30")
            self.assertEqual(x.findtext("vpn_gateway/bgp/asn"), "64600")
        got = self.ec2.describe_vpn_connections(Filters=[{"Name": "bgp-asn", "Values": ["65060"]}])["VpnConnections"]
        self.assertEqual([v["VpnConnectionId"] for v in got], [vpn["VpnConnectionId"]])
        # BGP connections take no static routes
        self.assertError("InvalidVpnConnection.InvalidType", self.ec2.create_vpn_connection_route,
                         VpnConnectionId=vpn["VpnConnectionId"], DestinationCidrBlock="192.168.0.0/24")

    def test_tunnel_options_given(self):
        spec = [{
            "TunnelInsideCidr": "169.254.100.0/30", "PreSharedKey": "first_key.1234",
            "Phase1LifetimeSeconds": 900 * 4, "Phase2LifetimeSeconds": 900, "RekeyMarginTimeSeconds": 450,
            "RekeyFuzzPercentage": 0, "ReplayWindowSize": 64, "DPDTimeoutSeconds": 60, "DPDTimeoutAction": "restart",
            "StartupAction": "start",
            "Phase1EncryptionAlgorithms": [{"Value": "AES256"}], "Phase2EncryptionAlgorithms": [{"Value": "AES256-GCM-16"}],
            "Phase1IntegrityAlgorithms": [{"Value": "SHA2-256"}], "Phase2IntegrityAlgorithms": [{"Value": "SHA2-512"}],
            "Phase1DHGroupNumbers": [{"Value": 14}], "Phase2DHGroupNumbers": [{"Value": 5}],
            "IKEVersions": [{"Value": "ikev2"}],
        }, {"TunnelInsideCidr": "169.254.100.4/30", "PreSharedKey": "Second_key.5678", "ReplayWindowSize": 2048,
            "DPDTimeoutAction": "none"}]
        _, _, vpn = self.setup_pair(TunnelOptions=spec, LocalIpv4NetworkCidr="192.168.10.0/24",
                                    RemoteIpv4NetworkCidr="10.20.0.0/16")
        self.assertEqual(vpn["Options"]["LocalIpv4NetworkCidr"], "192.168.10.0/24")
        self.assertEqual(vpn["Options"]["RemoteIpv4NetworkCidr"], "10.20.0.0/16")
        t1, t2 = self.describe_vpn(vpn["VpnConnectionId"])["Options"]["TunnelOptions"]
        self.assertEqual(t1["TunnelInsideCidr"], "169.254.100.0/30")
        self.assertEqual(t1["PreSharedKey"], "first_key.1234")
        self.assertEqual((t1["Phase1LifetimeSeconds"], t1["Phase2LifetimeSeconds"], t1["RekeyMarginTimeSeconds"]),
                         (3600, 900, 450))
        self.assertEqual((t1["RekeyFuzzPercentage"], t1["ReplayWindowSize"], t1["DpdTimeoutSeconds"]), (0, 64, 60))
        self.assertEqual((t1["DpdTimeoutAction"], t1["StartupAction"]), ("restart", "start"))
        self.assertEqual(t1["Phase1EncryptionAlgorithms"], [{"Value": "AES256"}])
        self.assertEqual(t1["Phase2EncryptionAlgorithms"], [{"Value": "AES256-GCM-16"}])
        self.assertEqual(t1["Phase1IntegrityAlgorithms"], [{"Value": "SHA2-256"}])
        self.assertEqual(t1["Phase2IntegrityAlgorithms"], [{"Value": "SHA2-512"}])
        self.assertEqual(t1["Phase1DHGroupNumbers"], [{"Value": 14}])
        self.assertEqual(t1["Phase2DHGroupNumbers"], [{"Value": 5}])
        self.assertEqual(t1["IkeVersions"], [{"Value": "ikev2"}])
        self.assertEqual((t2["PreSharedKey"], t2["ReplayWindowSize"], t2["DpdTimeoutAction"]),
                         ("Second_key.5678", 2048, "none"))
        self.assertNotIn("Phase1LifetimeSeconds", t2)	# never set: absent, 28800 in force
        self.assertNotIn("Phase1LifetimeSeconds", vpn["Options"]["TunnelOptions"][1])
        # the XML shows what is in force
        _, tunnels = tunnel_xml(vpn["CustomerGatewayConfiguration"])
        x1 = tunnels[0]
        self.assertEqual(x1.findtext("ike/encryption_protocol"), "aes-256-cbc")
        self.assertEqual(x1.findtext("ike/authentication_protocol"), "sha2-256")
        self.assertEqual(x1.findtext("ike/lifetime"), "3600")
        self.assertEqual(x1.findtext("ike/perfect_forward_secrecy"), "group14")
        self.assertEqual(x1.findtext("ipsec/lifetime"), "900")
        self.assertEqual(x1.findtext("ipsec/perfect_forward_secrecy"), "group5")
        self.assertEqual(x1.findtext("ike/pre_shared_key"), "first_key.1234")
        self.assertEqual(tunnels[1].findtext("ike/pre_shared_key"), "Second_key.5678")

    def test_options_for_tunnel_two_only(self):
        # boto3 drops an empty {} item: only Options.TunnelOptions.2.* goes on the wire
        _, _, vpn = self.setup_pair(TunnelOptions=[{}, {"PreSharedKey": "only_second.123"}])
        t1, t2 = self.describe_vpn(vpn["VpnConnectionId"])["Options"]["TunnelOptions"]
        self.assertEqual(t2["PreSharedKey"], "only_second.123")
        self.assertNotEqual(t1["PreSharedKey"], "only_second.123")
        self.assertEqual(len(t1["PreSharedKey"]), 32)

    def test_tunnel_option_bounds(self):
        cgw = self.cgw("198.51.100.70")
        vgw = self.vgw()
        cases = [
            ("Phase1LifetimeSeconds", 899), ("Phase1LifetimeSeconds", 28801),
            ("Phase2LifetimeSeconds", 899), ("Phase2LifetimeSeconds", 3601),
            ("RekeyMarginTimeSeconds", 59), ("RekeyMarginTimeSeconds", 1801),
            ("RekeyFuzzPercentage", -1), ("RekeyFuzzPercentage", 101),
            ("ReplayWindowSize", 63), ("ReplayWindowSize", 2049),
            ("DPDTimeoutSeconds", 29), ("DPDTimeoutAction", "hold"), ("StartupAction", "later"),
            ("TunnelInsideCidr", "169.254.0.0/30"), ("TunnelInsideCidr", "169.254.5.0/30"),
            ("TunnelInsideCidr", "169.254.169.252/30"), ("TunnelInsideCidr", "169.254.10.0/29"),
            ("TunnelInsideCidr", "10.0.0.0/30"), ("TunnelInsideCidr", "169.254.10.1/30"),
            ("PreSharedKey", "short"), ("PreSharedKey", "0startswithzero"), ("PreSharedKey", "bad-char-key"),
            ("PreSharedKey", "k" * 65),
            ("Phase1EncryptionAlgorithms", [{"Value": "DES"}]), ("Phase2EncryptionAlgorithms", [{"Value": "AES192"}]),
            ("Phase1IntegrityAlgorithms", [{"Value": "MD5"}]), ("Phase2IntegrityAlgorithms", [{"Value": "SHA3"}]),
            ("Phase1DHGroupNumbers", [{"Value": 5}]), ("Phase1DHGroupNumbers", [{"Value": 1}]),
            ("Phase2DHGroupNumbers", [{"Value": 13}]), ("Phase2DHGroupNumbers", [{"Value": 25}]),
            ("IKEVersions", [{"Value": "ikev3"}]),
        ]
        for field, value in cases:
            with self.subTest(field=field, value=value):
                msg = self.assertError("InvalidParameterValue", self.ec2.create_vpn_connection, Type="ipsec.1",
                                       CustomerGatewayId=cgw["CustomerGatewayId"], VpnGatewayId=vgw["VpnGatewayId"],
                                       Options={"TunnelOptions": [{"StartupAction": "add"}, {field: value}]})
                self.assertIn(field, msg)
                self.assertIn("TunnelOptions.2", msg)
                if field == "PreSharedKey":
                    self.assertNotIn(value, msg)
        # bounds that are allowed
        ok = [("Phase1LifetimeSeconds", 28800), ("Phase2LifetimeSeconds", 900), ("RekeyMarginTimeSeconds", 60),
              ("RekeyFuzzPercentage", 0), ("RekeyFuzzPercentage", 100), ("ReplayWindowSize", 64),
              ("ReplayWindowSize", 2048), ("DPDTimeoutSeconds", 30), ("PreSharedKey", "k" * 64),
              ("PreSharedKey", "eight_ch"), ("TunnelInsideCidr", "169.254.6.0/30"),
              ("Phase2DHGroupNumbers", [{"Value": 5}]), ("Phase1DHGroupNumbers", [{"Value": 24}])]
        for field, value in ok:
            with self.subTest(field=field, value=value):
                vpn = self.ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw["CustomerGatewayId"],
                                                     VpnGatewayId=vgw["VpnGatewayId"],
                                                     Options={"TunnelOptions": [{field: value}]})["VpnConnection"]
                self.ec2.delete_vpn_connection(VpnConnectionId=vpn["VpnConnectionId"])
        # rules between fields
        for spec, field in [({"Phase1LifetimeSeconds": 3600}, "Phase2LifetimeSeconds"),
                            ({"Phase2LifetimeSeconds": 900, "RekeyMarginTimeSeconds": 451}, "RekeyMarginTimeSeconds")]:
            msg = self.assertError("InvalidParameterValue", self.ec2.create_vpn_connection, Type="ipsec.1",
                                   CustomerGatewayId=cgw["CustomerGatewayId"], VpnGatewayId=vgw["VpnGatewayId"],
                                   Options={"TunnelOptions": [spec]})
            self.assertIn(field, msg)
        # the two tunnels, and tunnels of one VPN gateway, differ in inside CIDR
        same = [{"TunnelInsideCidr": "169.254.44.0/30"}, {"TunnelInsideCidr": "169.254.44.0/30"}]
        self.assertError("InvalidParameterValue", self.ec2.create_vpn_connection, Type="ipsec.1",
                         CustomerGatewayId=cgw["CustomerGatewayId"], VpnGatewayId=vgw["VpnGatewayId"],
                         Options={"TunnelOptions": same})
        first = self.vpn(cgw["CustomerGatewayId"], vgw["VpnGatewayId"], TunnelOptions=same[:1])
        self.addCleanup(self.drop_vpn, first["VpnConnectionId"])
        msg = self.assertError("InvalidParameterValue", self.ec2.create_vpn_connection, Type="ipsec.1",
                               CustomerGatewayId=cgw["CustomerGatewayId"], VpnGatewayId=vgw["VpnGatewayId"],
                               Options={"TunnelOptions": same[:1]})
        self.assertIn("TunnelInsideCidr", msg)
        # another VPN gateway may use it
        other = self.vpn(cgw["CustomerGatewayId"], self.vgw()["VpnGatewayId"], TunnelOptions=same[:1])
        self.ec2.delete_vpn_connection(VpnConnectionId=other["VpnConnectionId"])
        self.assertError("InvalidParameterValue", self.ec2.create_vpn_connection, Type="ipsec.1",
                         CustomerGatewayId=cgw["CustomerGatewayId"], VpnGatewayId=vgw["VpnGatewayId"],
                         Options={"TunnelOptions": [{"StartupAction": "add"}] * 3})
        self.assertError("InvalidParameterValue", self.ec2.create_vpn_connection, Type="ipsec.1",
                         CustomerGatewayId=cgw["CustomerGatewayId"], VpnGatewayId=vgw["VpnGatewayId"],
                         Options={"LocalIpv4NetworkCidr": "192.168.1.0/33"})

    def test_create_errors(self):
        cgw = self.cgw("198.51.100.80")
        vgw = self.vgw()
        self.assertError("InvalidCustomerGatewayID.NotFound", self.ec2.create_vpn_connection, Type="ipsec.1",
                         CustomerGatewayId="cgw-00000000000000000", VpnGatewayId=vgw["VpnGatewayId"])
        self.assertError("InvalidVpnGatewayID.NotFound", self.ec2.create_vpn_connection, Type="ipsec.1",
                         CustomerGatewayId=cgw["CustomerGatewayId"], VpnGatewayId="vgw-00000000000000000")
        self.assertError("MissingParameter", self.ec2.create_vpn_connection, Type="ipsec.1",
                         CustomerGatewayId=cgw["CustomerGatewayId"])
        self.assertError("InvalidParameterValue", self.ec2.create_vpn_connection, Type="ipsec.2",
                         CustomerGatewayId=cgw["CustomerGatewayId"], VpnGatewayId=vgw["VpnGatewayId"])
        self.assertError("InvalidVpnConnectionID.NotFound", self.ec2.describe_vpn_connections,
                         VpnConnectionIds=["vpn-00000000000000000"])
        self.assertError("InvalidVpnConnectionID.NotFound", self.ec2.delete_vpn_connection,
                         VpnConnectionId="vpn-00000000000000000")

    def test_routes(self):
        _, _, vpn = self.setup_pair(static=True)
        vid = vpn["VpnConnectionId"]
        self.ec2.create_vpn_connection_route(VpnConnectionId=vid, DestinationCidrBlock="192.168.0.0/24")
        self.ec2.create_vpn_connection_route(VpnConnectionId=vid, DestinationCidrBlock="192.168.1.7/24")
        self.assertEqual(self.describe_vpn(vid)["Routes"], [
            {"DestinationCidrBlock": "192.168.0.0/24", "Source": "Static", "State": "available"},
            {"DestinationCidrBlock": "192.168.1.0/24", "Source": "Static", "State": "available"},
        ])
        got = self.ec2.describe_vpn_connections(Filters=[{"Name": "route.destination-cidr-block",
                                                          "Values": ["192.168.1.0/24"]}])["VpnConnections"]
        self.assertEqual([v["VpnConnectionId"] for v in got], [vid])
        self.assertError("RouteAlreadyExists", self.ec2.create_vpn_connection_route, VpnConnectionId=vid,
                         DestinationCidrBlock="192.168.0.0/24")
        self.assertError("InvalidParameterValue", self.ec2.create_vpn_connection_route, VpnConnectionId=vid,
                         DestinationCidrBlock="192.168.0.0")
        self.assertError("InvalidVpnConnectionID.NotFound", self.ec2.create_vpn_connection_route,
                         VpnConnectionId="vpn-00000000000000000", DestinationCidrBlock="192.168.0.0/24")
        self.ec2.delete_vpn_connection_route(VpnConnectionId=vid, DestinationCidrBlock="192.168.0.0/24")
        self.assertError("InvalidRoute.NotFound", self.ec2.delete_vpn_connection_route, VpnConnectionId=vid,
                         DestinationCidrBlock="192.168.0.0/24")
        self.assertEqual([r["DestinationCidrBlock"] for r in self.describe_vpn(vid)["Routes"]], ["192.168.1.0/24"])
        for i in range(2, 101):
            self.ec2.create_vpn_connection_route(VpnConnectionId=vid, DestinationCidrBlock="172.16.%d.0/24" % i)
        self.assertError("RouteLimitExceeded", self.ec2.create_vpn_connection_route, VpnConnectionId=vid,
                         DestinationCidrBlock="172.17.0.0/24")

    def test_describe_filters(self):
        cgw, vgw, vpn = self.setup_pair(static=True)
        vid = vpn["VpnConnectionId"]
        for name, value in [("customer-gateway-id", cgw["CustomerGatewayId"]), ("vpn-gateway-id", vgw["VpnGatewayId"]),
                            ("vpn-connection-id", vid), ("type", "ipsec.1"), ("option.static-routes-only", "true"),
                            ("customer-gateway-configuration", "*%s*" % vid)]:
            got = self.ec2.describe_vpn_connections(Filters=[{"Name": name, "Values": [value]},
                                                             {"Name": "state", "Values": ["available"]}])
            self.assertIn(vid, [v["VpnConnectionId"] for v in got["VpnConnections"]], name)
        got = self.ec2.describe_vpn_connections(Filters=[{"Name": "option.static-routes-only", "Values": ["false"]},
                                                         {"Name": "vpn-connection-id", "Values": [vid]}])
        self.assertEqual(got["VpnConnections"], [])
        self.assertError("InvalidParameterValue", self.ec2.describe_vpn_connections,
                         Filters=[{"Name": "no-such-filter", "Values": ["x"]}])
        # tags
        self.ec2.create_tags(Resources=[vid], Tags=[{"Key": "site", "Value": "tokyo"}])
        got = self.ec2.describe_vpn_connections(Filters=[{"Name": "tag:site", "Values": ["tokyo"]}])["VpnConnections"]
        self.assertEqual([v["VpnConnectionId"] for v in got], [vid])
        self.assertEqual(got[0]["Tags"], [{"Key": "site", "Value": "tokyo"}])

    def test_delete_stays_describable(self):
        cgw, vgw, vpn = self.setup_pair()
        vid = vpn["VpnConnectionId"]
        self.ec2.delete_vpn_connection(VpnConnectionId=vid)
        d = self.describe_vpn(vid)
        self.assertEqual(d["State"], "deleted")
        self.assertNotIn("CustomerGatewayConfiguration", d)
        for t in d["Options"]["TunnelOptions"]:
            self.assertNotIn("PreSharedKey", t)
        self.assertError("InvalidVpnConnectionID.NotFound", self.ec2.delete_vpn_connection, VpnConnectionId=vid)
        self.assertError("InvalidVpnConnectionID.NotFound", self.ec2.create_vpn_connection_route, VpnConnectionId=vid,
                         DestinationCidrBlock="10.0.0.0/8")
        # the gateways are free again
        self.ec2.delete_customer_gateway(CustomerGatewayId=cgw["CustomerGatewayId"])
        self.ec2.delete_vpn_gateway(VpnGatewayId=vgw["VpnGatewayId"])
        waiter = self.ec2.get_waiter("vpn_connection_deleted")
        waiter.wait(VpnConnectionIds=[vid], WaiterConfig={"Delay": 1, "MaxAttempts": 3})

    def test_modify_tunnel_options(self):
        _, _, vpn = self.setup_pair(static=True)
        vid = vpn["VpnConnectionId"]
        t1, t2 = vpn["Options"]["TunnelOptions"]
        out = self.ec2.modify_vpn_tunnel_options(
            VpnConnectionId=vid, VpnTunnelOutsideIpAddress=t2["OutsideIpAddress"],
            TunnelOptions={"PreSharedKey": "changed_key_2", "DPDTimeoutSeconds": 45, "TunnelInsideCidr": "169.254.200.8/30",
                           "Phase1EncryptionAlgorithms": [{"Value": "AES256"}]})["VpnConnection"]
        n1, n2 = out["Options"]["TunnelOptions"]
        self.assertEqual(n1, t1)
        self.assertEqual(n2["OutsideIpAddress"], t2["OutsideIpAddress"])
        self.assertEqual(n2["PreSharedKey"], "changed_key_2")
        self.assertEqual(n2["DpdTimeoutSeconds"], 45)
        self.assertEqual(n2["TunnelInsideCidr"], "169.254.200.8/30")
        self.assertEqual(n2["Phase1EncryptionAlgorithms"], [{"Value": "AES256"}])
        self.assertNotIn("ReplayWindowSize", n2)	# still never set
        self.assertNotIn("ReplayWindowSize", t2)
        # what was set stays shown; what a later modify sets joins it
        again = self.ec2.modify_vpn_tunnel_options(
            VpnConnectionId=vid, VpnTunnelOutsideIpAddress=t2["OutsideIpAddress"],
            TunnelOptions={"ReplayWindowSize": 2048})["VpnConnection"]["Options"]["TunnelOptions"][1]
        self.assertEqual((again["ReplayWindowSize"], again["DpdTimeoutSeconds"]), (2048, 45))
        desc = self.describe_vpn(vid)["Options"]["TunnelOptions"][1]
        self.assertEqual((desc["ReplayWindowSize"], desc["DpdTimeoutSeconds"]), (2048, 45))
        self.assertNotIn("Phase2LifetimeSeconds", desc)
        self.assertEqual(out["VgwTelemetry"], vpn["VgwTelemetry"])
        _, tunnels = tunnel_xml(out["CustomerGatewayConfiguration"])
        self.assertEqual(tunnels[1].findtext("ike/pre_shared_key"), "changed_key_2")
        self.assertEqual(tunnels[1].findtext("ike/encryption_protocol"), "aes-256-cbc")
        self.assertEqual(tunnels[1].findtext("vpn_gateway/tunnel_inside_address/ip_address"), "169.254.200.9")
        # keeping its own inside CIDR is fine; taking the other tunnel's is not
        self.ec2.modify_vpn_tunnel_options(VpnConnectionId=vid, VpnTunnelOutsideIpAddress=t2["OutsideIpAddress"],
                                           TunnelOptions={"TunnelInsideCidr": "169.254.200.8/30"})
        msg = self.assertError("InvalidParameterValue", self.ec2.modify_vpn_tunnel_options, VpnConnectionId=vid,
                               VpnTunnelOutsideIpAddress=t2["OutsideIpAddress"],
                               TunnelOptions={"TunnelInsideCidr": t1["TunnelInsideCidr"]})
        self.assertIn("TunnelInsideCidr", msg)
        msg = self.assertError("InvalidParameterValue", self.ec2.modify_vpn_tunnel_options, VpnConnectionId=vid,
                               VpnTunnelOutsideIpAddress=t1["OutsideIpAddress"],
                               TunnelOptions={"ReplayWindowSize": 4096})
        self.assertIn("ReplayWindowSize", msg)
        self.assertError("InvalidParameterValue", self.ec2.modify_vpn_tunnel_options, VpnConnectionId=vid,
                         VpnTunnelOutsideIpAddress="192.0.2.99", TunnelOptions={"ReplayWindowSize": 128})
        self.assertError("InvalidVpnConnectionID.NotFound", self.ec2.modify_vpn_tunnel_options,
                         VpnConnectionId="vpn-00000000000000000", VpnTunnelOutsideIpAddress="192.0.2.99",
                         TunnelOptions={"ReplayWindowSize": 128})

    def test_modify_connection_options(self):
        _, _, vpn = self.setup_pair(static=True)
        vid = vpn["VpnConnectionId"]
        out = self.ec2.modify_vpn_connection_options(VpnConnectionId=vid, LocalIpv4NetworkCidr="192.168.0.0/16",
                                                     RemoteIpv4NetworkCidr="10.0.0.0/8")["VpnConnection"]
        self.assertEqual(out["Options"]["LocalIpv4NetworkCidr"], "192.168.0.0/16")
        self.assertEqual(out["Options"]["RemoteIpv4NetworkCidr"], "10.0.0.0/8")
        self.assertEqual(self.describe_vpn(vid)["Options"]["RemoteIpv4NetworkCidr"], "10.0.0.0/8")
        self.assertError("InvalidParameterValue", self.ec2.modify_vpn_connection_options, VpnConnectionId=vid,
                         LocalIpv4NetworkCidr="192.168.0.1/16")
        self.assertError("MissingParameter", self.ec2.modify_vpn_connection_options, VpnConnectionId=vid)

    def test_waiter_available(self):
        _, _, vpn = self.setup_pair()
        self.ec2.get_waiter("vpn_connection_available").wait(
            VpnConnectionIds=[vpn["VpnConnectionId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 3})


class TestOutsidePool(VpnBase):
    def test_exhaustion(self):
        cgw = self.cgw("198.51.100.90")
        vgw = self.vgw()
        a = self.vpn(cgw["CustomerGatewayId"], vgw["VpnGatewayId"])
        b = self.vpn(cgw["CustomerGatewayId"], vgw["VpnGatewayId"])
        used = [t["OutsideIpAddress"] for v in (a, b) for t in v["Options"]["TunnelOptions"]]
        self.assertEqual(sorted(used), sorted(POOL))
        msg = self.assertError("VpnConnectionLimitExceeded", self.ec2.create_vpn_connection, Type="ipsec.1",
                               CustomerGatewayId=cgw["CustomerGatewayId"], VpnGatewayId=vgw["VpnGatewayId"])
        self.assertIn("--vpn-outside-addresses", msg)
        self.assertIn("exhausted", msg)
        # a deleted connection gives its addresses back
        self.ec2.delete_vpn_connection(VpnConnectionId=a["VpnConnectionId"])
        c = self.vpn(cgw["CustomerGatewayId"], vgw["VpnGatewayId"])
        self.assertEqual(sorted(t["OutsideIpAddress"] for t in c["Options"]["TunnelOptions"]),
                         sorted(t["OutsideIpAddress"] for t in a["Options"]["TunnelOptions"]))
        for v in (b, c):
            self.ec2.delete_vpn_connection(VpnConnectionId=v["VpnConnectionId"])


class TestNoPool(VpcdTestCase):
    def test_without_pool(self):
        """Without --vpn-outside-addresses (make run) a connection is still
        created, as on AWS: unique placeholder outside addresses of
        192.0.2.0/24, tunnels DOWN, the status message naming the option."""
        cgw = self.ec2.create_customer_gateway(Type="ipsec.1", IpAddress="198.51.100.91")["CustomerGateway"]
        vgw = self.ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]
        vpns = [self.ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw["CustomerGatewayId"],
                                               VpnGatewayId=vgw["VpnGatewayId"])["VpnConnection"]
                for _ in range(2)]
        outside = [t["OutsideIpAddress"] for v in vpns for t in v["Options"]["TunnelOptions"]]
        self.assertEqual(len(set(outside)), 4)
        self.assertTrue(all(ip.startswith("192.0.2.") for ip in outside), outside)
        for v in self.ec2.describe_vpn_connections()["VpnConnections"]:
            for tel in v["VgwTelemetry"]:
                self.assertEqual(tel["Status"], "DOWN")
                self.assertIn("--vpn-outside-addresses", tel["StatusMessage"])
        # the router configuration still downloads, with those addresses
        conf = self.ec2.get_vpn_connection_device_sample_configuration(
            VpnConnectionId=vpns[0]["VpnConnectionId"],
            VpnConnectionDeviceTypeId="9005b6c1")["VpnConnectionDeviceSampleConfiguration"]
        self.assertIn(vpns[0]["Options"]["TunnelOptions"][0]["OutsideIpAddress"], conf)
        # a deleted connection gives its addresses back
        self.ec2.delete_vpn_connection(VpnConnectionId=vpns[0]["VpnConnectionId"])
        again = self.ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw["CustomerGatewayId"],
                                               VpnGatewayId=vgw["VpnGatewayId"])["VpnConnection"]
        self.assertEqual(sorted(t["OutsideIpAddress"] for t in again["Options"]["TunnelOptions"]),
                         sorted(outside[:2]))



class TestDownloadConfiguration(VpnBase):
    def test_device_types(self):
        types = self.ec2.get_vpn_connection_device_types()["VpnConnectionDeviceTypes"]
        by_id = {t["VpnConnectionDeviceTypeId"]: t for t in types}
        for must in ("9005b6c1", "b0adb196", "6883834a", "8a961875", "1361227b", "acabcac0", "631f834b",
                     "dd55903b", "e7a2d626", "51cb26fd", "6e62f3e3"):
            self.assertIn(must, by_id)
        self.assertEqual(by_id["b0adb196"], {"VpnConnectionDeviceTypeId": "b0adb196",
                                             "Vendor": "Cisco Systems, Inc.", "Platform": "ISR Series Routers",
                                             "Software": "IOS 12.4+"})
        tsv = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "aws", "device-types.tsv")
        if os.path.exists(tsv):
            aws = {}
            with open(tsv) as f:
                next(f)
                for line in f:
                    i, vendor, platform, software = line.rstrip("\n").split("\t")
                    aws[i] = (vendor, platform, software)
            for t in types:	# AWS's own strings
                self.assertEqual(aws[t["VpnConnectionDeviceTypeId"]], (t["Vendor"], t["Platform"], t["Software"]))
        page = self.ec2.get_vpn_connection_device_types(MaxResults=200)
        self.assertEqual(len(page["VpnConnectionDeviceTypes"]), len(types))
        self.assertNotIn("NextToken", page)

    def test_cisco_isr_sample(self):
        cgw, vgw, vpn = self.setup_pair(static=True, vpc_cidr="10.50.0.0/16")
        vid = vpn["VpnConnectionId"]
        self.ec2.create_vpn_connection_route(VpnConnectionId=vid, DestinationCidrBlock="192.168.10.0/24")
        conf = self.ec2.get_vpn_connection_device_sample_configuration(
            VpnConnectionId=vid, VpnConnectionDeviceTypeId="b0adb196",
            InternetKeyExchangeVersion="ikev1")["VpnConnectionDeviceSampleConfiguration"]
        for t in vpn["Options"]["TunnelOptions"]:
            self.assertIn(t["PreSharedKey"], conf)
            self.assertIn(t["OutsideIpAddress"], conf)
            base, last = t["TunnelInsideCidr"].split("/")[0].rsplit(".", 1)
            self.assertIn("%s.%d" % (base, int(last) + 1), conf)	# ip sla probes the VGW side
            self.assertIn("%s.%d" % (base, int(last) + 2), conf)	# the Tunnel interface address
        self.assertIn(cgw["IpAddress"], conf)
        self.assertIn(vid, conf)
        for statement in ("crypto isakmp policy", "crypto keyring", "crypto isakmp profile",
                          "crypto ipsec transform-set", "crypto ipsec profile", "set pfs group2",
                          "crypto ipsec df-bit clear", "crypto isakmp keepalive 10 10 on-demand",
                          "crypto ipsec security-association replay window-size",
                          "crypto ipsec fragmentation before-encryption", "ip virtual-reassembly",
                          "tunnel mode ipsec ipv4", "ip tcp adjust-mss 1379", "ip sla", "reachability",
                          "10.50.0.0 255.255.0.0"):
            self.assertIn(statement, conf)
        v2 = self.ec2.get_vpn_connection_device_sample_configuration(
            VpnConnectionId=vid, VpnConnectionDeviceTypeId="b0adb196",
            InternetKeyExchangeVersion="ikev2")["VpnConnectionDeviceSampleConfiguration"]
        self.assertIn("ikev2", v2.lower())
        generic = self.ec2.get_vpn_connection_device_sample_configuration(
            VpnConnectionId=vid, VpnConnectionDeviceTypeId="9005b6c1")["VpnConnectionDeviceSampleConfiguration"]
        self.assertIn(vpn["Options"]["TunnelOptions"][0]["PreSharedKey"], generic)

    def test_strongswan_sample_vpc_blocks(self):
        # RemoteIpv4NetworkCidr 0.0.0.0/0: the strongSwan download has per
        # tunnel one CHILD SA per associated block of the attached VPC,
        # primary first; a disassociated block is gone from it
        cgw, vgw, vpn = self.setup_pair(static=False, vpc_cidr="10.70.0.0/16")
        vid = vpn["VpnConnectionId"]
        vpc = self.ec2.describe_vpn_gateways(
            VpnGatewayIds=[vgw["VpnGatewayId"]])["VpnGateways"][0]["VpcAttachments"][0]["VpcId"]

        def children():
            conf = self.ec2.get_vpn_connection_device_sample_configuration(
                VpnConnectionId=vid, VpnConnectionDeviceTypeId="51cb26fd",
                InternetKeyExchangeVersion="ikev1")["VpnConnectionDeviceSampleConfiguration"]
            return re.findall(r"^ +(tunnel\d(?:-\d)?) \{\n +mode = tunnel\n +local_ts = \S+\n +remote_ts = (\S+)\n",
                              conf, re.M)

        self.assertEqual(children(), [("tunnel1", "10.70.0.0/16"), ("tunnel2", "10.70.0.0/16")])
        a2 = self.ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock="10.71.0.0/24")["CidrBlockAssociation"]
        self.ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock="100.64.4.0/28")
        self.assertEqual(children(), [("tunnel1", "10.70.0.0/16"), ("tunnel1-2", "10.71.0.0/24"),
                                      ("tunnel1-3", "100.64.4.0/28"), ("tunnel2", "10.70.0.0/16"),
                                      ("tunnel2-2", "10.71.0.0/24"), ("tunnel2-3", "100.64.4.0/28")])
        self.ec2.disassociate_vpc_cidr_block(AssociationId=a2["AssociationId"])
        self.assertEqual(children(), [("tunnel1", "10.70.0.0/16"), ("tunnel1-2", "100.64.4.0/28"),
                                      ("tunnel2", "10.70.0.0/16"), ("tunnel2-2", "100.64.4.0/28")])

    def test_sample_errors(self):
        _, _, gcm_only = self.setup_pair(TunnelOptions=[
            {"Phase1EncryptionAlgorithms": [{"Value": "AES128-GCM-16"}], "IKEVersions": [{"Value": "ikev1"}]}])
        msg = self.assertError("InvalidParameterValue", self.ec2.get_vpn_connection_device_sample_configuration,
                               VpnConnectionId=gcm_only["VpnConnectionId"], VpnConnectionDeviceTypeId="b0adb196",
                               InternetKeyExchangeVersion="ikev1")
        self.assertNotIn(gcm_only["Options"]["TunnelOptions"][0]["PreSharedKey"], msg)
        vid = gcm_only["VpnConnectionId"]
        self.assertError("InvalidParameterValue", self.ec2.get_vpn_connection_device_sample_configuration,
                         VpnConnectionId=vid, VpnConnectionDeviceTypeId="ffffffff")
        self.assertError("InvalidParameterValue", self.ec2.get_vpn_connection_device_sample_configuration,
                         VpnConnectionId=vid, VpnConnectionDeviceTypeId="b0adb196", InternetKeyExchangeVersion="ikev9")
        self.assertError("InvalidVpnConnectionID.NotFound", self.ec2.get_vpn_connection_device_sample_configuration,
                         VpnConnectionId="vpn-00000000000000000", VpnConnectionDeviceTypeId="b0adb196")


class TestRestart(VpnBase):
    def test_restart_keeps_everything(self):
        cgw, vgw, vpn = self.setup_pair(static=True, vpc_cidr="10.60.0.0/16")
        vid = vpn["VpnConnectionId"]
        self.ec2.create_vpn_connection_route(VpnConnectionId=vid, DestinationCidrBlock="192.168.60.0/24")
        before = self.describe_vpn(vid)
        gone = self.vpn(cgw["CustomerGatewayId"], vgw["VpnGatewayId"])
        self.ec2.delete_vpn_connection(VpnConnectionId=gone["VpnConnectionId"])
        self.vpcd.restart()
        after = self.describe_vpn(vid)
        self.assertEqual(after, before)
        self.assertEqual(self.describe_vpn(gone["VpnConnectionId"])["State"], "deleted")
        self.assertEqual(self.ec2.describe_customer_gateways(
            CustomerGatewayIds=[cgw["CustomerGatewayId"]])["CustomerGateways"][0]["IpAddress"], cgw["IpAddress"])
        self.assertEqual(self.ec2.describe_vpn_gateways(
            VpnGatewayIds=[vgw["VpnGatewayId"]])["VpnGateways"][0]["VpcAttachments"][0]["State"], "attached")
        # the pool still knows which addresses are taken
        second = self.vpn(cgw["CustomerGatewayId"], vgw["VpnGatewayId"])
        self.addCleanup(self.drop_vpn, second["VpnConnectionId"])
        self.assertError("VpnConnectionLimitExceeded", self.ec2.create_vpn_connection, Type="ipsec.1",
                         CustomerGatewayId=cgw["CustomerGatewayId"], VpnGatewayId=vgw["VpnGatewayId"])

    def test_psk_never_logged(self):
        _, _, vpn = self.setup_pair()
        self.ec2.describe_vpn_connections()
        self.ec2.modify_vpn_tunnel_options(VpnConnectionId=vpn["VpnConnectionId"],
                                           VpnTunnelOutsideIpAddress=vpn["Options"]["TunnelOptions"][0]["OutsideIpAddress"],
                                           TunnelOptions={"PreSharedKey": "never_in_the_log_1"})
        log = self.vpcd.read_log()
        for t in vpn["Options"]["TunnelOptions"]:
            self.assertNotIn(t["PreSharedKey"], log)
        self.assertNotIn("never_in_the_log_1", log)
