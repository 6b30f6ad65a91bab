"""A dynamic (BGP) VPN connection as vpcd's API and vpcctl show it, from
the BGP picture vpcd's engine keeps in the connection's doc (`_Bgp`: per
tunnel the session's state, ASNs, prefixes received and advertised, last
error and its cause; the routes learned, each with the tunnel BIRD chose;
the layout is at the top of src/api/vpn.c), and the telemetry derived
from it (engine_vpn.h; unit-tested in tests/engine/test_engine_vpn.c).

No BIRD here: the test writes that picture into a stopped vpcd's store as
the engine leaves it, and starts vpcd again without tunnels (no
--vpn-outside-addresses, so no engine runs and nothing rewrites it). Then,
through the real API and clients:
  - DescribeRouteTables: the routes learned over the tunnel whose session
    is Established and which is UP are propagated (Origin
    EnableVgwRoutePropagation, GatewayId the vgw), the one learned over the
    other tunnel is not; the table's own routes stay;
  - vpcctl trace (VpcdTracePacket, the router's own code): an instance
    reaches an address of a learned prefix through the gateway, and not
    one of the prefix that is not propagated;
  - DescribeVpnConnections: "N BGP ROUTES" / AcceptedRouteCount, nothing
    of vpcd's own keys on the wire;
  - VpcdDescribeTunnelDetails: the BGP picture (bgpDocument);
  - vpcctl vpn status: the sessions as `show ip bgp summary` prints them
    (neighbor = the router's inside address, AS, up/down, state or
    prefixes received, Idle (PfxCt) after the prefix limit, prefixes
    sent, last error) and the routes learned; "BGP cannot run: ..." when
    the engine says so; nothing of BGP for a static connection.
And `vpcctl wizard --bgp-asn N` without --static-route makes the dynamic
connection this starts from (its XML carries the BGP values)."""
import json
import os
import re
import sqlite3
import time
import xml.etree.ElementTree as ET

from vpcdtest import IMAGE, VpcdTestCase, signed_post
from api.test_vpcctl import vpcctl

NS = "{http://ec2.amazonaws.com/doc/2016-11-15/}"


def inside_peer(cidr):
    """The router's inside address: .2 of the /30."""
    net, _ = cidr.split("/")
    a, b, c, d = (int(x) for x in net.split("."))
    return "%d.%d.%d.%d" % (a, b, c, (d & ~3) + 2)


class TestVpnBgp(VpcdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        p = vpcctl(cls.vpcd, "--output", "json", "wizard", "--pattern", "private-vpn", "--name", "bgp-office",
                   "--vpc-cidr", "10.44.0.0/16", "--private-subnet", "10.44.1.0/24",
                   "--customer-gateway-ip", "198.51.100.44", "--bgp-asn", "65044")
        if p.returncode != 0:
            raise AssertionError(p.stderr)
        cls.made = json.loads(p.stdout)
        cls.vpn = cls.made["VpnConnectionId"]
        cls.vgw = cls.made["VpnGatewayId"]
        # a static connection beside it, on a second VPC's gateway
        p = vpcctl(cls.vpcd, "--output", "json", "wizard", "--pattern", "private-vpn", "--name", "static-office",
                   "--vpc-cidr", "10.45.0.0/16", "--private-subnet", "10.45.1.0/24",
                   "--customer-gateway-ip", "198.51.100.45", "--static-route", "192.168.45.0/24")
        if p.returncode != 0:
            raise AssertionError(p.stderr)
        cls.static_vpn = json.loads(p.stdout)["VpnConnectionId"]
        cls.instance = cls.ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                                             SubnetId=cls.made["PrivateSubnetId"])["Instances"][0]["InstanceId"]
        vpn = cls.ec2.describe_vpn_connections(VpnConnectionIds=[cls.vpn])["VpnConnections"][0]
        cls.outside = [t["OutsideIpAddress"] for t in vpn["Options"]["TunnelOptions"]]
        cls.neighbors = [inside_peer(t["TunnelInsideCidr"]) for t in vpn["Options"]["TunnelOptions"]]
        cls.since = int(time.time()) - 3725          # up 1 h 2 min 5 s ago
        # tunnel 1: IPsec up, session Established, 2 prefixes received;
        # tunnel 2: IPsec up, session dropped by the 100-prefix limit
        cls.bgp = {
            "Tunnels": [
                {"OutsideIpAddress": cls.outside[0], "State": "Established", "Since": cls.since,
                 "LocalAsn": 64512, "NeighborAsn": 65044, "Received": 2, "Advertised": 1,
                 "LastError": "", "Cause": ""},
                {"OutsideIpAddress": cls.outside[1], "State": "Down", "Since": cls.since + 3600,
                 "LocalAsn": 64512, "NeighborAsn": 65044, "Received": 0, "Advertised": 0,
                 "LastError": "Route limit exceeded", "Cause": "prefix-limit"}],
            "Routes": [
                {"DestinationCidrBlock": "172.16.0.0/16", "Tunnel": 0, "AsPathLength": 1},
                {"DestinationCidrBlock": "192.168.44.0/24", "Tunnel": 0, "AsPathLength": 2, "Med": 50},
                # not Established: never propagated
                {"DestinationCidrBlock": "192.168.99.0/24", "Tunnel": 1, "AsPathLength": 1}],
        }
        cls.telemetry = [
            {"Status": "UP", "StatusMessage": "2 BGP ROUTES", "AcceptedRouteCount": 2, "_Ipsec": "UP",
             "_IpsecMessage": ""},
            {"Status": "DOWN", "StatusMessage": "BGP session dropped: more than 100 prefixes received",
             "AcceptedRouteCount": 0, "_Ipsec": "UP", "_IpsecMessage": ""}]
        cls.write_engine_state(cls.vpn, cls.bgp, cls.telemetry)

    @classmethod
    def write_engine_state(cls, vpn_id, bgp, telemetry):
        """Stops vpcd, writes _Bgp (None: removes it) and the telemetry
        entries' members into the connection's stored doc, starts vpcd."""
        cls.vpcd.stop()
        db = sqlite3.connect(os.path.join(cls.vpcd.data_dir, "vpcd.db"))
        with db:
            body = json.loads(db.execute("SELECT body FROM resources WHERE id = ?", (vpn_id,)).fetchone()[0])
            if bgp is None:
                body.pop("_Bgp", None)
            else:
                body["_Bgp"] = bgp
            for entry, fields in zip(body["VgwTelemetry"], telemetry):
                entry.update(fields)
            db.execute("UPDATE resources SET body = ? WHERE id = ?", (json.dumps(body), vpn_id))
        db.close()
        cls.vpcd.start()

    def status_json(self, vpn_id):
        p = vpcctl(self.vpcd, "--output", "json", "vpn", "status", vpn_id)
        self.assertEqual(p.returncode, 0, p.stderr)
        [v] = json.loads(p.stdout)["VpnConnections"]
        return v

    def status_text(self, *args):
        p = vpcctl(self.vpcd, "vpn", "status", *args)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_wizard_made_a_dynamic_connection(self):
        vpn = self.ec2.describe_vpn_connections(VpnConnectionIds=[self.vpn])["VpnConnections"][0]
        self.assertFalse(vpn["Options"]["StaticRoutesOnly"])
        root = ET.fromstring(vpn["CustomerGatewayConfiguration"])
        self.assertIsNone(root.find("vpn_connection_attributes"))
        for t in root.findall("ipsec_tunnel"):
            self.assertEqual(t.findtext("customer_gateway/bgp/asn"), "65044")
            self.assertEqual(t.findtext("vpn_gateway/bgp/asn"), "64512")
            self.assertEqual(t.findtext("customer_gateway/bgp/hold_time"), "30")

    def test_learned_routes_propagated(self):
        [rtb] = self.ec2.describe_route_tables(RouteTableIds=[self.made["MainRouteTableId"]])["RouteTables"]
        self.assertEqual([p["GatewayId"] for p in rtb["PropagatingVgws"]], [self.vgw])
        routes = [(r["DestinationCidrBlock"], r.get("GatewayId"), r.get("Origin"), r["State"]) for r in rtb["Routes"]]
        self.assertEqual(routes, [
            ("10.44.0.0/16", "local", "CreateRouteTable", "active"),
            ("0.0.0.0/0", self.vgw, "CreateRoute", "active"),
            ("172.16.0.0/16", self.vgw, "EnableVgwRoutePropagation", "active"),
            ("192.168.44.0/24", self.vgw, "EnableVgwRoutePropagation", "active")])
        # the route-table filter sees them too
        got = self.ec2.describe_route_tables(Filters=[
            {"Name": "route.destination-cidr-block", "Values": ["192.168.44.0/24"]}])["RouteTables"]
        self.assertIn(self.made["MainRouteTableId"], [t["RouteTableId"] for t in got])

    def test_trace_through_a_learned_route(self):
        def trace(to):
            p = vpcctl(self.vpcd, "--output", "json", "trace", "--from", self.instance, "--to", to,
                       "--proto", "icmp")
            self.assertIn(p.returncode, (0, 1), p.stderr)
            return json.loads(p.stdout)
        r = trace("192.168.44.9")
        self.assertTrue(r["Reachable"], r)
        route = [s for s in r["Steps"] if s["Step"] == "route"][0]
        self.assertIn("192.168.44.0/24", route["Rule"])
        self.assertIn(self.vgw, route["Rule"])
        # 192.168.99.0/24 was learned over the tunnel whose session is down:
        # only the table's 0.0.0.0/0 to the gateway, which no tunnel carries
        r = trace("192.168.99.9")
        self.assertFalse(r["Reachable"], r)
        self.assertEqual(r["Cause"], "vpn-down")

    def test_telemetry_on_the_wire(self):
        vpn = self.ec2.describe_vpn_connections(VpnConnectionIds=[self.vpn])["VpnConnections"][0]
        self.assertEqual([(t["OutsideIpAddress"], t["Status"], t["StatusMessage"], t["AcceptedRouteCount"])
                          for t in vpn["VgwTelemetry"]],
                         [(self.outside[0], "UP", "2 BGP ROUTES", 2),
                          (self.outside[1], "DOWN", "BGP session dropped: more than 100 prefixes received", 0)])
        status, text = signed_post(self.vpcd.endpoint, "Action=DescribeVpnConnections&Version=2016-11-15"
                                   "&VpnConnectionId.1=" + self.vpn)
        self.assertEqual(status, 200, text)
        for own in ("_Bgp", "_Ipsec", "Bgp", "Established", "Route limit exceeded"):
            self.assertNotIn(own, text)

    def test_tunnel_details_action_serves_bgp(self):
        status, text = signed_post(self.vpcd.endpoint, "Action=VpcdDescribeTunnelDetails&Version=2016-11-15"
                                   "&VpnConnectionId.1=" + self.vpn + "&VpnConnectionId.2=" + self.static_vpn)
        self.assertEqual(status, 200, text)
        items = {i.findtext(NS + "vpnConnectionId"): i for i in ET.fromstring(text).iter(NS + "item")}
        self.assertEqual(json.loads(items[self.vpn].findtext(NS + "bgpDocument")), self.bgp)
        self.assertIsNone(items[self.static_vpn].find(NS + "bgpDocument"))

    def test_vpn_status_json(self):
        v = self.status_json(self.vpn)
        b = v["Bgp"]
        self.assertEqual([t["NeighborAddress"] for t in b["Tunnels"]], self.neighbors)
        self.assertEqual([t["State"] for t in b["Tunnels"]], ["Established", "Down"])
        self.assertEqual([(t["Received"], t["Advertised"], t["NeighborAsn"], t["Cause"]) for t in b["Tunnels"]],
                         [(2, 1, 65044, ""), (0, 0, 65044, "prefix-limit")])
        up = b["Tunnels"][0]["UpDownSeconds"]
        self.assertGreaterEqual(up, 3725)
        self.assertLess(up, 3725 + 120)
        self.assertEqual(b["Routes"], self.bgp["Routes"])
        self.assertNotIn("Options", v)                     # no tunnel options (pre-shared keys) printed
        self.assertIs(v["Dynamic"], True)
        static = self.status_json(self.static_vpn)
        self.assertNotIn("Bgp", static)
        self.assertIs(static["Dynamic"], False)

    def test_vpn_status_table(self):
        out = self.status_text(self.vpn)
        lines = out.splitlines()
        self.assertIn("%s BGP (show ip bgp summary)" % self.vpn, lines)
        self.assertIn("  local AS number 64512", lines)
        head = [l for l in lines if l.strip().startswith("Neighbor")]
        self.assertEqual(len(head), 1, out)
        self.assertEqual(head[0].split(), ["Neighbor", "V", "AS", "Up/Down", "State/PfxRcd", "PfxSnt", "Tunnel",
                                           "Last", "error"])
        one = [l for l in lines if l.strip().startswith(self.neighbors[0] + " ")]
        two = [l for l in lines if l.strip().startswith(self.neighbors[1] + " ")]
        self.assertEqual(len(one), 1, out)
        self.assertEqual(len(two), 1, out)
        self.assertRegex(one[0], r"^\s+%s\s+4\s+65044\s+01:0[23]:\d\d\s+2\s+1\s+1\s+-$" % re.escape(self.neighbors[0]))
        self.assertRegex(two[0], r"^\s+%s\s+4\s+65044\s+00:0[12]:\d\d\s+Idle \(PfxCt\)\s+0\s+2\s+Route limit exceeded$"
                         % re.escape(self.neighbors[1]))
        self.assertIn("  routes learned: 3", lines)
        self.assertIn("    172.16.0.0/16      via tunnel 1, AS path length 1", lines)
        self.assertIn("    192.168.44.0/24    via tunnel 1, AS path length 2, MED 50", lines)
        # the telemetry table says the same as DescribeVpnConnections
        row = [l for l in lines if self.outside[1] in l and self.vpn in l][0]
        self.assertIn("DOWN", row)
        self.assertIn("more than 100 prefixes received", row)
        # a static connection: no BGP block; all connections: the dynamic one's
        self.assertNotIn("BGP", self.status_text(self.static_vpn))
        self.assertIn("%s BGP (show ip bgp summary)" % self.vpn, self.status_text())

    def test_zy_other_tunnels_inside_pair(self):
        """The tunnel detail as the engine writes it after a restart in
        which the router (strongSwan 5.9.8's shared reqid) sent tunnel 1's
        inside pair into tunnel 2's SA: PacketsForOtherTunnel on tunnel 2
        (the one it arrived on), shown by vpcctl vpn status (table and
        JSON), nothing on tunnel 1. Rewrites the stored detail (test_zy:
        after the others)."""
        def tunnel(n, crossed):
            t = {"Running": True, "OutsideIpAddress": self.outside[n], "PeerIpAddress": "198.51.100.44",
                 "Status": "UP", "StatusMessage": "", "IkeVersion": 1, "IpsecSas": [], "Drops": {}}
            if crossed:
                t["PacketsForOtherTunnel"] = crossed
            return t

        self.vpcd.stop()
        db = sqlite3.connect(os.path.join(self.vpcd.data_dir, "vpcd.db"))
        with db:
            body = json.loads(db.execute("SELECT body FROM resources WHERE id = ?", (self.vpn,)).fetchone()[0])
            body["_TunnelDetail"] = {"UpdatedAt": int(time.time()), "Tunnels": [tunnel(0, 0), tunnel(1, 7)]}
            db.execute("UPDATE resources SET body = ? WHERE id = ?", (json.dumps(body), self.vpn))
        db.close()
        self.vpcd.start()
        detail = self.status_json(self.vpn)["TunnelDetail"]
        self.assertEqual([t.get("PacketsForOtherTunnel") for t in detail], [None, 7])
        out = self.status_text(self.vpn)
        line = "  the other tunnel's inside pair taken from this tunnel's SAs: 7 packets"
        self.assertEqual(out.splitlines().count(line), 1, out)
        # in tunnel 2's block, not tunnel 1's
        two = out.index("%s tunnel 2 (detail" % self.vpn)
        self.assertLess(out.index("%s tunnel 1 (detail" % self.vpn), two)
        self.assertGreater(out.index(line), two, out)

    def test_zz_bgp_cannot_run_and_no_picture_yet(self):
        """Last (test_zz): it rewrites the connection's state."""
        error = "bird2 is not installed (/usr/sbin/bird not found)"
        msg = "BGP cannot run: " + error
        self.write_engine_state(self.vpn, {"Error": error, "Tunnels": [], "Routes": []},
                                [{"Status": "DOWN", "StatusMessage": msg, "AcceptedRouteCount": 0}] * 2)
        out = self.status_text(self.vpn)
        self.assertIn("  " + msg, out.splitlines())
        self.assertIn("  routes learned: 0", out.splitlines())
        self.assertNotIn("Neighbor", out)
        [rtb] = self.ec2.describe_route_tables(RouteTableIds=[self.made["MainRouteTableId"]])["RouteTables"]
        self.assertEqual([r.get("Origin") for r in rtb["Routes"]], ["CreateRouteTable", "CreateRoute"])
        # no picture at all (BGP has not run): said so, not invented
        self.write_engine_state(self.vpn, None, [{}, {}])
        out = self.status_text(self.vpn)
        self.assertIn("%s BGP: no session information from vpcd yet (its BGP has not run)" % self.vpn, out.splitlines())
        self.assertNotIn("Bgp", self.status_json(self.vpn))
