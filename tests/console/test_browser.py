"""The web console in a real browser: Debian's headless Chromium driven by
playwright-core (installed by `make console-test` into BUILD/console-test)
runs browser.mjs against a vpcd started here with VPN outside addresses
that are not this host's (so the tunnels are DOWN with their status
message). The page's own assertions run in browser.mjs; here boto3 checks
that what the browser made is what the API holds, and that each
downloaded configuration is exactly GetVpnConnectionDeviceSampleConfiguration's
text. Screenshots land in BUILD/console-artifacts/."""
import json
import os
import re
import shutil
import subprocess
import unittest
import urllib.error
import urllib.request

import botocore.auth
import botocore.awsrequest
import botocore.credentials

from vpcdtest import BUILD, KEY_ID, REGION, SECRET, Vpcd

HERE = os.path.dirname(os.path.abspath(__file__))
PLAYWRIGHT_DIR = os.path.join(os.path.abspath(BUILD), "console-test")
ARTIFACTS = os.path.join(os.path.abspath(BUILD), "console-artifacts")
CHROMIUM = "/usr/bin/chromium"
OUTSIDE = ("203.0.113.1", "203.0.113.2")


class TestConsoleInBrowser(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        missing = [p for p in (CHROMIUM, os.path.join(PLAYWRIGHT_DIR, "node_modules", "playwright-core"))
                   if not os.path.exists(p)]
        if missing or not shutil.which("node"):
            raise AssertionError("the browser tests need %s and node: run `make console-test` (scripts/install-deps.sh, "
                                 "scripts/console-test-deps.sh)" % ", ".join(missing))
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        os.makedirs(ARTIFACTS)
        cls.vpcd = Vpcd(("--vpn-outside-addresses", ",".join(OUTSIDE))).__enter__()
        cls.ec2 = cls.vpcd.client()
        # more security groups than one page of ten holds
        default_vpc = cls.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        for i in range(11):
            cls.ec2.create_security_group(GroupName="paging-%02d" % i, Description="paging", VpcId=default_vpc)
        regions = [r["RegionName"] for r in cls.ec2.describe_regions()["Regions"]]
        result_path = os.path.join(ARTIFACTS, "result.json")
        env = dict(os.environ, ENDPOINT=cls.vpcd.endpoint, KEY_ID=KEY_ID, SECRET=SECRET, ARTIFACTS=ARTIFACTS,
                   RESULT=result_path, PLAYWRIGHT_DIR=PLAYWRIGHT_DIR, REGIONS=json.dumps(regions), CHROMIUM=CHROMIUM)
        cls.node = subprocess.run(["node", os.path.join(HERE, "browser.mjs")], env=env, capture_output=True, text=True,
                                 timeout=900)
        with open(os.path.join(ARTIFACTS, "browser.log"), "w") as f:
            f.write(cls.node.stdout + cls.node.stderr)
        try:
            with open(result_path) as f:
                cls.result = json.load(f)
        except (OSError, ValueError):
            cls.result = {}

    @classmethod
    def tearDownClass(cls):
        cls.vpcd.__exit__(None, None, None)

    def test_1_browser_story(self):
        """browser.mjs ran every step and its assertions held."""
        self.assertEqual(self.node.returncode, 0, "browser.mjs failed:\n%s\n%s" % (self.node.stdout[-4000:],
                                                                                 self.node.stderr[-6000:]))
        self.assertTrue(self.result.get("ok"), self.result.get("error"))
        pngs = [f for f in os.listdir(ARTIFACTS) if f.endswith(".png")]
        self.assertGreaterEqual(len(pngs), 25, pngs)

    def test_2_wizard_resources(self):
        """The wizard's resources are in the API, tagged, wired as vpcctl wizard wires them."""
        w = self.result.get("wizard")
        self.assertTrue(w, "the wizard step did not finish")
        ec2 = self.ec2
        vpc = ec2.describe_vpcs(VpcIds=[w["VpcId"]])["Vpcs"][0]
        self.assertEqual(vpc["CidrBlock"], "10.96.0.0/16")
        self.assertIn({"Key": "Name", "Value": "office"}, vpc["Tags"])
        self.assertIn({"Key": "site", "Value": "東京オフィス"}, vpc["Tags"])
        subnets = {s["SubnetId"]: s for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [w["VpcId"]]}])["Subnets"]}
        self.assertEqual(subnets[w["PublicSubnetId"]]["CidrBlock"], "10.96.0.0/24")
        self.assertEqual(subnets[w["PrivateSubnetId"]]["CidrBlock"], "10.96.1.0/24")
        self.assertEqual(subnets[w["PrivateSubnetId"]]["AvailabilityZone"], "us-east-1a")
        self.assertEqual(len(subnets), 2, "the failed overlapping subnet was not made")
        igw = ec2.describe_internet_gateways(InternetGatewayIds=[w["InternetGatewayId"]])["InternetGateways"][0]
        self.assertEqual(igw["Attachments"][0]["VpcId"], w["VpcId"])
        rtbs = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [w["VpcId"]]}])["RouteTables"]
        main = [t for t in rtbs if any(a.get("Main") for a in t["Associations"])][0]
        public = [t for t in rtbs if t["RouteTableId"] == w["PublicRouteTableId"]][0]
        self.assertIn(("0.0.0.0/0", w["VpnGatewayId"]), [(r["DestinationCidrBlock"], r.get("GatewayId")) for r in main["Routes"]])
        self.assertEqual([p["GatewayId"] for p in main["PropagatingVgws"]], [w["VpnGatewayId"]])
        self.assertIn(("0.0.0.0/0", w["InternetGatewayId"]), [(r["DestinationCidrBlock"], r.get("GatewayId")) for r in public["Routes"]])
        self.assertEqual([a["SubnetId"] for a in public["Associations"] if a.get("SubnetId")], [w["PublicSubnetId"]])
        vgw = ec2.describe_vpn_gateways(VpnGatewayIds=[w["VpnGatewayId"]])["VpnGateways"][0]
        self.assertEqual([a["VpcId"] for a in vgw["VpcAttachments"] if a["State"] == "attached"], [w["VpcId"]])
        cgw = ec2.describe_customer_gateways(CustomerGatewayIds=[w["CustomerGatewayId"]])["CustomerGateways"][0]
        self.assertEqual(cgw["IpAddress"], "198.51.100.2")
        vpn = ec2.describe_vpn_connections(VpnConnectionIds=[w["VpnConnectionId"]])["VpnConnections"][0]
        self.assertTrue(vpn["Options"]["StaticRoutesOnly"])
        self.assertEqual(vpn["CustomerGatewayId"], w["CustomerGatewayId"])
        self.assertEqual(vpn["VpnGatewayId"], w["VpnGatewayId"])
        # the wizard's route and the one added on the Static routes tab
        self.assertEqual(sorted(r["DestinationCidrBlock"] for r in vpn["Routes"] if r["State"] != "deleted"),
                         ["10.0.0.0/24", "10.1.0.0/24"])
        # Modify VPN tunnel options on the page: tunnel 2's DPD timeout only
        # (an option at its default, 30 s, is not described, as on AWS)
        self.assertEqual([t.get("DpdTimeoutSeconds", 30) for t in vpn["Options"]["TunnelOptions"]], [30, 40])
        for res in (vpc, igw, vgw, cgw, vpn, main, public, *subnets.values()):
            self.assertIn({"Key": "Name", "Value": "office"}, res["Tags"])

    def test_2b_tunnel_defaults_are_the_c_ones(self):
        """What the Modify VPN tunnel options form showed for a tunnel at its
        defaults is model/tunnel_limits.h's, read here from the header itself
        (the console's module is made from it at build time; test_tunnel_defaults
        compares the module with the C compiler's values)."""
        shown = self.result.get("tunnelDefaultsShown")
        self.assertIsNotNone(shown, "the browser did not reach the Modify VPN tunnel options form")
        header = open(os.path.join(HERE, "..", "..", "src", "model", "tunnel_limits.h"), encoding="utf-8").read()

        def define(name):
            m = re.search(r"^#define\s+%s\s+(.+?)\s*(?:/\*.*)?$" % name, header, re.M)
            self.assertIsNotNone(m, name)
            return m.group(1)
        self.assertEqual(shown["dpd"], define("TUNNEL_DPD_TIMEOUT_DEFAULT"))
        self.assertEqual(shown["phase1"], define("TUNNEL_PHASE1_LIFETIME_DEFAULT"))
        self.assertEqual(shown["phase2"], define("TUNNEL_PHASE2_LIFETIME_DEFAULT"))
        self.assertEqual(shown["actions"], re.findall(r'"([^"]+)"', define("TUNNEL_DPD_ACTION_NAMES")))
        self.assertEqual(shown["action"], shown["actions"][0])
        self.assertEqual(shown["dpdRange"], "%s to %s" % (define("TUNNEL_DPD_TIMEOUT_MIN"), define("TUNNEL_DPD_TIMEOUT_MAX")))
        self.assertEqual(shown["phase1Range"], "%s to %s" % (define("TUNNEL_PHASE1_LIFETIME_MIN"),
                                                            define("TUNNEL_PHASE1_LIFETIME_MAX")))
        self.assertEqual(shown["phase2Range"], "%s to %s" % (define("TUNNEL_PHASE2_LIFETIME_MIN"),
                                                            define("TUNNEL_PHASE2_LIFETIME_MAX")))
        # what the form sent: only tunnel 2's DPD timeout; every option the
        # form left alone is still the header's default in the API's answer
        # (a described one or, as on AWS, one left out)
        vpn = self.ec2.describe_vpn_connections(
            VpnConnectionIds=[self.result["wizard"]["VpnConnectionId"]])["VpnConnections"][0]
        for t in vpn["Options"]["TunnelOptions"]:
            self.assertEqual(t.get("Phase1LifetimeSeconds", int(define("TUNNEL_PHASE1_LIFETIME_DEFAULT"))),
                             int(define("TUNNEL_PHASE1_LIFETIME_DEFAULT")))
            self.assertEqual(t.get("Phase2LifetimeSeconds", int(define("TUNNEL_PHASE2_LIFETIME_DEFAULT"))),
                             int(define("TUNNEL_PHASE2_LIFETIME_DEFAULT")))
            self.assertEqual(t.get("DpdTimeoutAction", shown["actions"][0]), shown["actions"][0])

    def test_3_downloads_are_the_api_text(self):
        """Each file the browser downloaded is exactly the API's sample configuration."""
        downloads = self.result.get("downloads") or []
        self.assertEqual([d["ike"] for d in downloads], ["ikev1", "ikev2"])
        types = self.ec2.get_vpn_connection_device_types()["VpnConnectionDeviceTypes"]
        vpn_id = self.result["wizard"]["VpnConnectionId"]
        # both were downloaded before the browser added 10.1.0.0/24, which the
        # configuration lists: take it away again to compare
        vpn = self.ec2.describe_vpn_connections(VpnConnectionIds=[vpn_id])["VpnConnections"][0]
        if "10.1.0.0/24" in [r["DestinationCidrBlock"] for r in vpn["Routes"] if r["State"] != "deleted"]:
            self.ec2.delete_vpn_connection_route(VpnConnectionId=vpn_id, DestinationCidrBlock="10.1.0.0/24")
        for d in downloads:
            [t] = [t for t in types if (t["Vendor"], t["Platform"], t["Software"]) == (d["vendor"], d["platform"], d["software"])]
            text = self.ec2.get_vpn_connection_device_sample_configuration(
                VpnConnectionId=vpn_id, VpnConnectionDeviceTypeId=t["VpnConnectionDeviceTypeId"],
                InternetKeyExchangeVersion=d["ike"])["VpnConnectionDeviceSampleConfiguration"]
            with open(d["file"], encoding="utf-8") as f:
                got = f.read()
            self.assertEqual(got, text, d["file"])
            self.assertIn("crypto ipsec transform-set ipsec-prop-%s-0" % vpn_id, got)
            self.assertTrue(d["name"].startswith(vpn_id), d["name"])

    def test_4_tunnels_as_the_api_says(self):
        """The Tunnel details rows are the API's VgwTelemetry."""
        vpn = self.ec2.describe_vpn_connections(VpnConnectionIds=[self.result["wizard"]["VpnConnectionId"]])["VpnConnections"][0]
        rows = self.result.get("tunnelRows") or []
        self.assertEqual([(r[1], r[3], r[5]) for r in rows],
                         [(t["OutsideIpAddress"], t["Status"], t["StatusMessage"]) for t in vpn["VgwTelemetry"]])
        self.assertEqual(sorted(r[1] for r in rows), list(OUTSIDE))

    def test_5_instances_and_traces(self):
        """The instances launched with their subnets, groups and addresses; the four traces as the page said."""
        iid, bastion = self.result.get("instanceId"), self.result.get("bastionId")
        self.assertTrue(iid and bastion, "the launch steps did not finish")
        w = self.result["wizard"]
        inst = self.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
        self.assertEqual(inst["SubnetId"], w["PrivateSubnetId"])
        self.assertEqual(inst["PrivateIpAddress"], "10.96.1.10")
        self.assertNotIn("PublicIpAddress", inst)
        self.assertEqual([g["GroupId"] for g in inst["SecurityGroups"]], [self.result["sgId"]])
        self.assertEqual(inst["State"]["Name"], "running")
        # the bastion (public subnet, public IP: the page showed it) was terminated from the page
        b = self.ec2.describe_instances(InstanceIds=[bastion])["Reservations"][0]["Instances"][0]
        self.assertIn(b["State"]["Name"], ("shutting-down", "terminated"))
        self.assertRegex(self.result["bastionPublicIp"], r"^\d+\.\d+\.\d+\.\d+$")
        analyses = self.ec2.describe_network_insights_analyses()["NetworkInsightsAnalyses"]
        self.assertEqual([a["NetworkPathFound"] for a in analyses], [False, True, False, False])
        self.assertEqual([a["Explanations"][0]["ExplanationCode"] for a in analyses if a["Explanations"]],
                         ["BAD_STATE_VPN", "ENI_SG_RULES_MISMATCH", "SUBNET_ACL_RESTRICTION"])
        self.assertEqual(analyses[2]["Explanations"][0]["SecurityGroup"]["Id"], self.result["sgId"])
        self.assertEqual(analyses[3]["Explanations"][0]["AclRule"]["RuleNumber"], 90)
        self.assertEqual(analyses[3]["Explanations"][0]["Acl"]["Id"], self.result["aclId"])
        paths = {p["NetworkInsightsPathId"]: p for p in self.ec2.describe_network_insights_paths()["NetworkInsightsPaths"]}
        self.assertEqual([(paths[a["NetworkInsightsPathId"]]["Source"], paths[a["NetworkInsightsPathId"]]["Destination"])
                          for a in analyses], [(w["VpnGatewayId"], iid)] + [(bastion, iid)] * 3)

    def test_6_addresses(self):
        """The Elastic IP allocated and released on the page is gone; the NAT gateway's is the one it shows."""
        self.assertTrue(self.result.get("eip"))
        self.assertEqual(self.result.get("eipPrivateIp"), "10.96.1.10", "associated with the instance's address")
        nat_id = self.result.get("natGatewayId")
        self.assertTrue(nat_id, "the NAT gateway step did not finish")
        [nat] = self.ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"]
        self.assertEqual(nat["SubnetId"], self.result["wizard"]["PublicSubnetId"])
        [a] = nat["NatGatewayAddresses"]
        self.assertTrue(self.result["natAddress"].startswith("%s (%s) → %s on %s" % (a["PublicIp"], a["AllocationId"],
                                                                                   a["PrivateIp"], a["NetworkInterfaceId"])))
        self.assertIn({"Key": "Name", "Value": "office-nat"}, nat["Tags"])
        self.assertEqual([x["AllocationId"] for x in self.ec2.describe_addresses()["Addresses"]], [a["AllocationId"]])

    def test_9_peering(self):
        """The peering connection requested and accepted on the page."""
        pcx = self.result.get("peeringId")
        self.assertTrue(pcx, "the peering step did not finish")
        [p] = self.ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx])["VpcPeeringConnections"]
        self.assertEqual(p["Status"]["Code"], "active")
        self.assertEqual(p["RequesterVpcInfo"]["VpcId"], self.result["wizard"]["VpcId"])
        self.assertEqual(p["AccepterVpcInfo"]["VpcId"], self.result["peeringDefaultVpc"])
        self.assertIn({"Key": "Name", "Value": "office-default"}, p["Tags"])

    def test_7_rollback_left_nothing(self):
        """The failed wizard build removed all it made."""
        self.assertTrue(self.result.get("rollback"), "the rollback step did not finish")
        f = [{"Name": "tag:Name", "Values": ["rollback"]}]
        self.assertEqual(self.ec2.describe_vpcs(Filters=f)["Vpcs"], [])
        self.assertEqual(self.ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.97.0.0/16"]}])["Vpcs"], [])
        self.assertEqual(self.ec2.describe_subnets(Filters=f)["Subnets"], [])
        self.assertEqual([g for g in self.ec2.describe_vpn_gateways(Filters=f)["VpnGateways"] if g["State"] != "deleted"], [])
        self.assertEqual([g for g in self.ec2.describe_customer_gateways()["CustomerGateways"]
                          if g["IpAddress"] == "203.0.113.300"], [])

    def test_8_tunnel_detail(self):
        """The tunnel detail under Tunnel details is vpcd's VpcdDescribeTunnelDetails when it serves it, else says so."""
        text = self.result.get("tunnelDetail")
        self.assertIsNotNone(text, "the tunnel step did not finish")
        vpn_id = self.result["wizard"]["VpnConnectionId"]
        status, body = signed_post(self.vpcd.endpoint, "Action=VpcdDescribeTunnelDetails&Version=2016-11-15"
                                   "&VpnConnectionId.1=" + vpn_id)
        if status == 400 and "<Code>InvalidAction</Code>" in body:
            self.assertIn("This vpcd serves no tunnel-detail action", text)
            return
        self.assertEqual(status, 200, body)
        state = re.search(r"<state>([^<]*)</state>", body)
        self.assertIn("Tunnel detail: ISAKMP and IPsec SAs", text)
        self.assertIn("(state: %s)" % (state.group(1) if state else "none"), text)


def signed_post(endpoint, body):
    """A SigV4-signed POST of a form body to vpcd: (status, text)."""
    req = botocore.awsrequest.AWSRequest(method="POST", url=endpoint + "/", data=body,
                                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(KEY_ID, SECRET), "ec2", REGION).add_auth(req)
    r = urllib.request.Request(endpoint + "/", data=body.encode(), headers=dict(req.headers.items()), method="POST")
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


if __name__ == "__main__":
    unittest.main()
