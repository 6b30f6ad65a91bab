"""vpcctl's wizard against a vpcd started for the test: each of the
console's four patterns makes exactly the resources and routes of AWS's
scenarios (checked through boto3), everything tagged with the wizard's
name; a failure halfway leaves nothing behind.

The helpers here (vpcctl, clean_env, key_env, snapshot) serve the other
test_vpcctl_*.py modules too."""
import json
import os
import subprocess

from vpcdtest import BUILD, KEY_ID, REGION, SECRET, VpcdTestCase

VPCCTL = os.path.join(BUILD, "vpcctl")
POOL = "203.0.113.1,203.0.113.2,203.0.113.3,203.0.113.4"


def clean_env(**extra):
    """The environment with no AWS settings at all, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_CONFIG_FILE"] = "/dev/null"
    env["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
    env.update(extra)
    return env


def key_env(**extra):
    return clean_env(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION=REGION, **extra)


def vpcctl(vpcd, *args, env=None, endpoint=True, input=None):
    """Runs vpcctl [--endpoint-url URL] ARGS; returns the CompletedProcess."""
    cmd = [VPCCTL] + (["--endpoint-url", vpcd.endpoint] if endpoint and vpcd else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, env=env if env is not None else key_env(),
                          input=input, timeout=60)


def snapshot(ec2):
    """Ids of everything a wizard makes, deleted things left out."""
    def live(items, key, state="State"):
        return sorted(i[key] for i in items if i.get(state) not in ("deleted", "deleting"))
    rtbs = ec2.describe_route_tables()["RouteTables"]
    return {
        "vpcs": sorted(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]),
        "subnets": sorted(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]),
        "route_tables": sorted(r["RouteTableId"] for r in rtbs),
        "routes": sorted((r["RouteTableId"], x.get("DestinationCidrBlock"), x.get("GatewayId"))
                         for r in rtbs for x in r["Routes"]),
        "associations": sorted(a["RouteTableAssociationId"] for r in rtbs for a in r["Associations"]),
        "propagations": sorted((r["RouteTableId"], p["GatewayId"]) for r in rtbs for p in r.get("PropagatingVgws", [])),
        "igws": sorted((g["InternetGatewayId"], tuple(a["VpcId"] for a in g.get("Attachments", [])))
                       for g in ec2.describe_internet_gateways()["InternetGateways"]),
        "vgws": live(ec2.describe_vpn_gateways()["VpnGateways"], "VpnGatewayId"),
        "cgws": live(ec2.describe_customer_gateways()["CustomerGateways"], "CustomerGatewayId"),
        "vpns": live(ec2.describe_vpn_connections()["VpnConnections"], "VpnConnectionId"),
        "nats": live(ec2.describe_nat_gateways()["NatGateways"], "NatGatewayId"),
        "eips": sorted(a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]),
    }



def name_tag(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}.get("Name")


class WizardChecks:
    def wizard(self, *args):
        p = vpcctl(self.vpcd, "--output", "json", "wizard", *args)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def vpc_parts(self, vpc):
        ec2 = self.ec2
        f = [{"Name": "vpc-id", "Values": [vpc]}]
        return {
            "vpc": ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0],
            "subnets": ec2.describe_subnets(Filters=f)["Subnets"],
            "rtbs": ec2.describe_route_tables(Filters=f)["RouteTables"],
            "igws": ec2.describe_internet_gateways(
                Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])["InternetGateways"],
            "vgws": ec2.describe_vpn_gateways(
                Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])["VpnGateways"],
        }

    @staticmethod
    def routes(rtb):
        return sorted((r["DestinationCidrBlock"], r.get("GatewayId") or r.get("NatGatewayId")) for r in rtb["Routes"]
                      if r.get("Origin") != "EnableVgwRoutePropagation")

    @staticmethod
    def main_table(rtbs):
        return [r for r in rtbs if any(a.get("Main") for a in r["Associations"])][0]


class TestWizardPatterns(VpcdTestCase, WizardChecks):
    vpcd_args = ("--vpn-outside-addresses", POOL)

    def test_public(self):
        out = self.wizard("--pattern", "public", "--name", "web", "--vpc-cidr", "10.1.0.0/16",
                          "--public-subnet", "10.1.0.0/24", "--public-az", "us-east-1b")
        vpc = out["VpcId"]
        parts = self.vpc_parts(vpc)
        self.assertEqual(parts["vpc"]["CidrBlock"], "10.1.0.0/16")
        self.assertEqual(name_tag(parts["vpc"]), "web")
        [sub] = parts["subnets"]
        self.assertEqual((sub["SubnetId"], sub["CidrBlock"], sub["AvailabilityZone"]),
                         (out["PublicSubnetId"], "10.1.0.0/24", "us-east-1b"))
        self.assertEqual(name_tag(sub), "web")
        [igw] = parts["igws"]
        self.assertEqual(igw["InternetGatewayId"], out["InternetGatewayId"])
        self.assertEqual(name_tag(igw), "web")
        self.assertEqual(parts["vgws"], [])
        self.assertEqual(len(parts["rtbs"]), 2)
        main = self.main_table(parts["rtbs"])
        self.assertEqual(main["RouteTableId"], out["MainRouteTableId"])
        self.assertEqual(self.routes(main), [("10.1.0.0/16", "local")])
        [pub] = [r for r in parts["rtbs"] if r is not main]
        self.assertEqual(pub["RouteTableId"], out["PublicRouteTableId"])
        self.assertEqual(name_tag(pub), "web")
        self.assertEqual(self.routes(pub), [("0.0.0.0/0", igw["InternetGatewayId"]), ("10.1.0.0/16", "local")])
        self.assertEqual([a["SubnetId"] for a in pub["Associations"]], [sub["SubnetId"]])
        self.assertNotIn("VpnConnectionId", out)
        self.assertEqual(out["Pattern"], "public")

    def test_public_private(self):
        out = self.wizard("--pattern", "public-private", "--name", "two", "--vpc-cidr", "10.2.0.0/16",
                          "--public-subnet", "10.2.0.0/24", "--private-subnet", "10.2.1.0/24",
                          "--tenancy", "dedicated")
        parts = self.vpc_parts(out["VpcId"])
        self.assertEqual(parts["vpc"]["InstanceTenancy"], "dedicated")
        subnets = {s["CidrBlock"]: s["SubnetId"] for s in parts["subnets"]}
        self.assertEqual(subnets, {"10.2.0.0/24": out["PublicSubnetId"], "10.2.1.0/24": out["PrivateSubnetId"]})
        self.assertTrue(all(name_tag(s) == "two" for s in parts["subnets"]))
        [igw] = parts["igws"]
        main = self.main_table(parts["rtbs"])
        [pub] = [r for r in parts["rtbs"] if r is not main]
        # the private subnet's way out: a NAT gateway with a new Elastic IP in the public subnet
        [nat] = self.ec2.describe_nat_gateways(Filter=[{"Name": "vpc-id", "Values": [out["VpcId"]]}])["NatGateways"]
        self.assertEqual(nat["NatGatewayId"], out["NatGatewayId"])
        self.assertEqual(nat["State"], "available")      # the wizard waited for it
        self.assertEqual(nat["SubnetId"], out["PublicSubnetId"])
        self.assertEqual(name_tag(nat), "two")
        [addr] = nat["NatGatewayAddresses"]
        self.assertEqual(addr["AllocationId"], out["AllocationId"])
        eip = self.ec2.describe_addresses(AllocationIds=[out["AllocationId"]])["Addresses"][0]
        self.assertEqual(name_tag(eip), "two")
        self.assertEqual(eip["NetworkInterfaceId"], addr["NetworkInterfaceId"])
        self.assertEqual(self.routes(main), [("0.0.0.0/0", nat["NatGatewayId"]), ("10.2.0.0/16", "local")])
        self.assertEqual(self.routes(pub), [("0.0.0.0/0", igw["InternetGatewayId"]), ("10.2.0.0/16", "local")])
        # the private subnet stays on the main table: no explicit association
        self.assertEqual([a.get("SubnetId") for a in main["Associations"]], [None])
        self.assertEqual([a["SubnetId"] for a in pub["Associations"]], [out["PublicSubnetId"]])
        self.assertEqual(parts["vgws"], [])

    def test_public_private_vpn(self):
        out = self.wizard("--pattern", "public-private-vpn", "--name", "office", "--vpc-cidr", "10.3.0.0/16",
                          "--public-subnet", "10.3.0.0/24", "--private-subnet", "10.3.1.0/24",
                          "--customer-gateway-ip", "198.51.100.7",
                          "--static-route", "192.168.0.0/24", "--static-route", "192.168.10.0/24")
        ec2 = self.ec2
        parts = self.vpc_parts(out["VpcId"])
        [igw], [vgw] = parts["igws"], parts["vgws"]
        self.assertEqual(vgw["VpnGatewayId"], out["VpnGatewayId"])
        self.assertEqual(name_tag(vgw), "office")
        self.assertEqual([(a["VpcId"], a["State"]) for a in vgw["VpcAttachments"]], [(out["VpcId"], "attached")])
        main = self.main_table(parts["rtbs"])
        [pub] = [r for r in parts["rtbs"] if r is not main]
        self.assertEqual(self.routes(pub), [("0.0.0.0/0", igw["InternetGatewayId"]), ("10.3.0.0/16", "local")])
        self.assertEqual(self.routes(main), [("0.0.0.0/0", vgw["VpnGatewayId"]), ("10.3.0.0/16", "local")])
        self.assertEqual([p["GatewayId"] for p in main["PropagatingVgws"]], [vgw["VpnGatewayId"]])
        self.assertEqual(pub.get("PropagatingVgws", []), [])
        self.assertEqual(name_tag(main), "office")
        cgw = ec2.describe_customer_gateways(CustomerGatewayIds=[out["CustomerGatewayId"]])["CustomerGateways"][0]
        self.assertEqual((cgw["IpAddress"], cgw["BgpAsn"], name_tag(cgw)), ("198.51.100.7", "65000", "office"))
        vpn = ec2.describe_vpn_connections(VpnConnectionIds=[out["VpnConnectionId"]])["VpnConnections"][0]
        self.assertEqual((vpn["CustomerGatewayId"], vpn["VpnGatewayId"]), (cgw["CustomerGatewayId"], vgw["VpnGatewayId"]))
        self.assertTrue(vpn["Options"]["StaticRoutesOnly"])
        self.assertEqual(sorted(r["DestinationCidrBlock"] for r in vpn["Routes"]), ["192.168.0.0/24", "192.168.10.0/24"])
        self.assertEqual(name_tag(vpn), "office")
        steps = [s["Action"] for s in out["Steps"]]
        # the order the issue asks for
        order = ["CreateVpc", "CreateSubnet", "CreateInternetGateway", "CreateRouteTable", "CreateVpnGateway",
                 "CreateCustomerGateway", "CreateVpnConnection", "CreateVpnConnectionRoute", "EnableVgwRoutePropagation"]
        self.assertEqual([a for a in steps if a in order], sorted([a for a in steps if a in order], key=order.index))

    def test_private_vpn_bgp(self):
        out = self.wizard("--pattern", "private-vpn", "--name", "vpn-only", "--vpc-cidr", "10.4.0.0/16",
                          "--private-subnet", "10.4.0.0/24", "--customer-gateway-ip", "198.51.100.8",
                          "--bgp-asn", "65010")
        parts = self.vpc_parts(out["VpcId"])
        self.assertEqual([s["CidrBlock"] for s in parts["subnets"]], ["10.4.0.0/24"])
        self.assertEqual(parts["igws"], [])
        [vgw] = parts["vgws"]
        [main] = parts["rtbs"]
        self.assertEqual(self.routes(main), [("0.0.0.0/0", vgw["VpnGatewayId"]), ("10.4.0.0/16", "local")])
        self.assertEqual([p["GatewayId"] for p in main["PropagatingVgws"]], [vgw["VpnGatewayId"]])
        cgw = self.ec2.describe_customer_gateways(CustomerGatewayIds=[out["CustomerGatewayId"]])["CustomerGateways"][0]
        self.assertEqual(cgw["BgpAsn"], "65010")
        vpn = self.ec2.describe_vpn_connections(VpnConnectionIds=[out["VpnConnectionId"]])["VpnConnections"][0]
        self.assertFalse(vpn["Options"]["StaticRoutesOnly"])
        self.assertEqual(vpn.get("Routes", []), [])
        self.assertNotIn("PublicSubnetId", out)

    def test_table_output_names_what_was_made(self):
        p = vpcctl(self.vpcd, "wizard", "--pattern", "public", "--name", "tbl", "--vpc-cidr", "10.5.0.0/16",
                   "--public-subnet", "10.5.0.0/24")
        self.assertEqual(p.returncode, 0, p.stderr)
        vpc = [v for v in self.ec2.describe_vpcs()["Vpcs"] if name_tag(v) == "tbl"][0]
        self.assertIn('Made VPC "tbl" (pattern public)', p.stdout)
        self.assertIn(vpc["VpcId"], p.stdout)
        for line in ("create VPC", "create public subnet", "create internet gateway", "create public route table"):
            self.assertIn(line, p.stdout)


class TestWizardRollback(VpcdTestCase, WizardChecks):
    vpcd_args = ("--vpn-outside-addresses", POOL)

    def test_refused_customer_gateway_leaves_nothing(self):
        before = snapshot(self.ec2)
        p = vpcctl(self.vpcd, "wizard", "--pattern", "public-private-vpn", "--name", "bad",
                   "--customer-gateway-ip", "198.51.100.300", "--static-route", "192.168.0.0/24")
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("InvalidParameterValue: ", p.stderr)
        self.assertIn("(create customer gateway 198.51.100.300) failed", p.stderr)
        self.assertIn("rolled back; nothing was left behind", p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertEqual(snapshot(self.ec2), before)

    def test_exhausted_pool_leaves_nothing_and_keeps_an_existing_gateway(self):
        ec2 = self.ec2
        # two connections take the four outside addresses
        mine = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="198.51.100.50", BgpAsn=65000)["CustomerGateway"]
        vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
        vpns = [ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=mine["CustomerGatewayId"],
                                          VpnGatewayId=vgw)["VpnConnection"]["VpnConnectionId"] for _ in range(2)]
        try:
            before = snapshot(ec2)
            p = vpcctl(self.vpcd, "wizard", "--pattern", "public-private-vpn", "--name", "full",
                       "--customer-gateway-ip", "198.51.100.50", "--static-route", "192.168.0.0/24")
            self.assertEqual(p.returncode, 1, p.stdout)
            self.assertIn("VpnConnectionLimitExceeded: ", p.stderr)
            self.assertIn("(create VPN connection) failed", p.stderr)
            self.assertIn("rolled back: delete VPC", p.stderr)
            self.assertNotIn("customer gateway " + mine["CustomerGatewayId"], p.stderr)
            self.assertEqual(snapshot(ec2), before)
            # the gateway that existed before is untouched: no Name tag either
            cgw = ec2.describe_customer_gateways(CustomerGatewayIds=[mine["CustomerGatewayId"]])["CustomerGateways"][0]
            self.assertEqual(cgw["State"], "available")
            self.assertIsNone(name_tag(cgw))
        finally:
            for v in vpns:
                ec2.delete_vpn_connection(VpnConnectionId=v)
        # with the pool free again the same wizard succeeds and reuses that gateway
        out = self.wizard("--pattern", "private-vpn", "--name", "again", "--customer-gateway-ip", "198.51.100.50")
        self.assertEqual(out["CustomerGatewayId"], mine["CustomerGatewayId"])

    def test_no_elastic_ip_left_rolls_back_everything(self):
        # the account's five Elastic IPs are taken: the NAT gateway step fails
        taken = [self.ec2.allocate_address(Domain="vpc")["AllocationId"]
                 for _ in range(5 - len(self.ec2.describe_addresses()["Addresses"]))]
        try:
            before = snapshot(self.ec2)
            p = vpcctl(self.vpcd, "wizard", "--pattern", "public-private", "--name", "nonat",
                       "--vpc-cidr", "10.8.0.0/16", "--public-subnet", "10.8.0.0/24", "--private-subnet", "10.8.1.0/24")
            self.assertEqual(p.returncode, 1, p.stdout)
            self.assertIn("AddressLimitExceeded: ", p.stderr)
            self.assertIn("(allocate Elastic IP) failed", p.stderr)
            self.assertIn("rolled back: delete VPC", p.stderr)
            self.assertEqual(snapshot(self.ec2), before)
        finally:
            for a in taken:
                self.ec2.release_address(AllocationId=a)
        # with an address free again the same wizard succeeds
        out = self.wizard("--pattern", "public-private", "--name", "nat-ok", "--vpc-cidr", "10.8.0.0/16",
                          "--public-subnet", "10.8.0.0/24", "--private-subnet", "10.8.1.0/24")
        self.assertTrue(out["NatGatewayId"].startswith("nat-"))

    def test_refused_subnet_rolls_back_the_vpc(self):
        before = snapshot(self.ec2)
        p = vpcctl(self.vpcd, "wizard", "--pattern", "public-private", "--name", "oops",
                   "--vpc-cidr", "10.9.0.0/16", "--public-subnet", "10.9.0.0/24", "--private-subnet", "10.99.0.0/24")
        self.assertEqual(p.returncode, 1)
        self.assertIn("InvalidSubnet.Range: ", p.stderr)
        self.assertIn("(create private subnet) failed", p.stderr)
        self.assertEqual(snapshot(self.ec2), before)

    def test_usage_errors_make_nothing(self):
        before = snapshot(self.ec2)
        cases = [
            ("wizard", "--name", "x"),                                        # no pattern, not a terminal
            ("wizard", "--pattern", "public"),                                # no name
            ("wizard", "--pattern", "nope", "--name", "x"),
            ("wizard", "--pattern", "public-private-vpn", "--name", "x"),    # no customer gateway
            ("wizard", "--pattern", "public", "--name", "x", "--customer-gateway-ip", "198.51.100.1"),
            ("wizard", "--pattern", "private-vpn", "--name", "x", "--public-subnet", "10.0.0.0/24",
             "--customer-gateway-ip", "198.51.100.1"),
            ("wizard", "--pattern", "private-vpn", "--name", "x", "--customer-gateway-ip", "198.51.100.1",
             "--bgp-asn", "65000", "--static-route", "192.168.0.0/24"),
            ("wizard", "--pattern", "public", "--name", "x", "--tenancy", "host"),
            ("wizard", "--pattern", "public", "--name", "x", "--bogus"),
        ]
        for args in cases:
            p = vpcctl(self.vpcd, *args)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn("vpcctl wizard: ", p.stderr)
        self.assertEqual(snapshot(self.ec2), before)
