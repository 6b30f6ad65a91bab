"""vpcd's own actions (src/api/vpcd_actions.c, shapes in
src/api/vpcd_model.json), for what EC2 has no action for: the tunnels'
detail, the data plane's counters and the packet trace. Sent as any EC2
action is (SigV4-signed form POSTs; boto3 does not know them), answered in
EC2's XML with a Document member holding JSON."""
import json
import xml.etree.ElementTree as ET

from vpcdtest import VpcdTestCase, signed_post, two_instance_vpc

NS = "{http://ec2.amazonaws.com/doc/2016-11-15/}"


class TestVpcdActions(VpcdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        two_instance_vpc(cls, 30)
        cgw = cls.ec2.create_customer_gateway(Type="ipsec.1", IpAddress="198.51.100.77")["CustomerGateway"]
        vgw = cls.ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]
        cls.vpn = cls.ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw["CustomerGatewayId"],
                                                VpnGatewayId=vgw["VpnGatewayId"])["VpnConnection"]["VpnConnectionId"]

    def call(self, action, params="", sign=True):
        """(HTTP status, the XML root)."""
        status, text = signed_post(self.vpcd.endpoint, "Action=%s&Version=2016-11-15%s" % (action, params),
                                   sign=sign)
        return status, ET.fromstring(text)

    def error(self, root):
        return root.find("./Errors/Error/Code").text, root.find("./Errors/Error/Message").text

    def test_tunnel_details(self):
        status, root = self.call("VpcdDescribeTunnelDetails")
        self.assertEqual(status, 200)
        self.assertEqual(root.tag, NS + "VpcdDescribeTunnelDetailsResponse")
        items = root.findall("./%stunnelDetailSet/%sitem" % (NS, NS))
        self.assertEqual([i.findtext(NS + "vpnConnectionId") for i in items], [self.vpn])
        self.assertEqual(items[0].findtext(NS + "state"), "available")
        # vpcd runs no tunnel here (no outside addresses): no detail document
        self.assertIsNone(items[0].find(NS + "document"))
        status, root = self.call("VpcdDescribeTunnelDetails", "&VpnConnectionId.1=" + self.vpn)
        self.assertEqual(len(root.findall("./%stunnelDetailSet/%sitem" % (NS, NS))), 1)
        status, root = self.call("VpcdDescribeTunnelDetails", "&VpnConnectionId.1=vpn-0000000000000000a")
        self.assertEqual(status, 400)
        self.assertEqual(self.error(root)[0], "InvalidVpnConnectionID.NotFound")

    def test_data_plane(self):
        status, root = self.call("VpcdDescribeDataPlane")
        self.assertEqual(status, 200)
        view = json.loads(root.findtext(NS + "document"))
        self.assertEqual(view["State"], "off")
        self.assertIn("--dataplane", view["Reason"])

    def test_trace(self):
        status, root = self.call("VpcdTracePacket", "&From=%s&To=%s&Protocol=tcp&Port=80" % (self.a, self.b))
        self.assertEqual(status, 200, ET.tostring(root))
        self.assertEqual(root.findtext(NS + "reachable"), "true")
        doc = json.loads(root.findtext(NS + "document"))
        self.assertTrue(doc["Reachable"])
        self.assertIn("=> reachable", doc["Text"])
        status, root = self.call("VpcdTracePacket", "&From=%s&To=%s&Protocol=tcp&Port=22" % (self.a, self.b))
        doc = json.loads(root.findtext(NS + "document"))
        self.assertEqual(root.findtext(NS + "reachable"), "false")
        self.assertEqual([s["Rule"] for s in doc["Steps"] if not s["Ok"]], ["90"])

    def test_errors(self):
        status, root = self.call("VpcdTracePacket", "&From=%s&To=%s" % (self.a, self.b))
        self.assertEqual((status, self.error(root)[0]), (400, "MissingParameter"))
        status, root = self.call("VpcdTracePacket", "&From=%s&To=%s&Protocol=tcp&Port=70000" % (self.a, self.b))
        self.assertEqual((status, self.error(root)[0]), (400, "InvalidParameterValue"))
        status, root = self.call("VpcdTracePacket", "&From=i-0000000000000000a&To=%s&Protocol=icmp" % self.b)
        self.assertEqual((status, self.error(root)[0]), (400, "InvalidParameterValue"))
        status, root = self.call("VpcdDescribeDataPlane", "&DryRun=true")
        self.assertEqual((status, self.error(root)[0]), (412, "DryRunOperation"))
        # signed like every action: no back door
        for action in ("VpcdDescribeTunnelDetails", "VpcdDescribeDataPlane", "VpcdTracePacket"):
            status, root = self.call(action, sign=False)
            self.assertEqual((status, self.error(root)[0]), (401, "MissingAuthenticationToken"))
