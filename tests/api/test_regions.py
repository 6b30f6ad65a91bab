"""Every region on one endpoint: the region of a request is its signature's
scope. DescribeRegions lists botocore's EC2 regions (partition aws),
DescribeAvailabilityZones the request's region's zones; state is per
region (a VPC made in us-west-2 is invisible from us-east-1, paging counts
one region only); each region gets its own default VPC when first used;
STS GetCallerIdentity on the same endpoint. Driven with boto3 and the aws
CLI."""
import json
import os

import boto3
import botocore
import botocore.config

from vpcdtest import KEY_ID, SECRET, Vpcd, VpcdTestCase


def botocore_ec2_regions():
    with open(os.path.join(os.path.dirname(botocore.__file__), "data", "endpoints.json")) as f:
        data = json.load(f)
    aws = [p for p in data["partitions"] if p["partition"] == "aws"][0]
    return sorted(r for r in aws["services"]["ec2"]["endpoints"] if r in aws["regions"])


class TestRegions(VpcdTestCase):
    def client(self, region):
        return self.vpcd.client(region=region)

    def test_describe_regions(self):
        want = botocore_ec2_regions()
        got = self.ec2.describe_regions()["Regions"]
        self.assertEqual(sorted(r["RegionName"] for r in got), want)
        self.assertEqual(sorted(r["RegionName"] for r in self.ec2.describe_regions(AllRegions=True)["Regions"]), want)
        by = {r["RegionName"]: r for r in got}
        self.assertEqual(by["us-east-1"]["OptInStatus"], "opt-in-not-required")
        self.assertEqual(by["af-south-1"]["OptInStatus"], "opted-in")
        self.assertEqual(by["ap-southeast-2"]["Endpoint"], "ec2.ap-southeast-2.amazonaws.com")
        opted = self.ec2.describe_regions(Filters=[{"Name": "opt-in-status", "Values": ["opted-in"]}])["Regions"]
        self.assertIn("me-south-1", [r["RegionName"] for r in opted])
        self.assertNotIn("us-east-1", [r["RegionName"] for r in opted])

    def test_zones_are_the_requests_regions(self):
        for region in botocore_ec2_regions():
            zones = self.client(region).describe_availability_zones()["AvailabilityZones"]
            self.assertGreaterEqual(len(zones), 2, region)
            for z in zones:
                self.assertEqual(z["RegionName"], region)
                self.assertTrue(z["ZoneName"].startswith(region) and len(z["ZoneName"]) == len(region) + 1, z)
                prefix, _, az = z["ZoneId"].partition("-")
                self.assertTrue(az.startswith("az"), z)
            self.assertEqual(len({z["ZoneId"] for z in zones}), len(zones), region)
        usw2 = self.client("us-west-2").describe_availability_zones()["AvailabilityZones"]
        self.assertEqual([(z["ZoneName"], z["ZoneId"]) for z in usw2][:1], [("us-west-2a", "usw2-az1")])
        self.assertEqual(len(usw2), 4)
        # a zone of another region is not this region's
        self.assertError("InvalidParameterValue", self.client("us-west-2").describe_availability_zones,
                         ZoneNames=["us-east-1a"])
        # the CLI signs with its --region, and sees that region's zones
        env = self.vpcd.cli_env()
        env["AWS_DEFAULT_REGION"] = "eu-central-1"
        out = self.vpcd.cli("describe-availability-zones", env=env)
        self.assertEqual({z["RegionName"] for z in out["AvailabilityZones"]}, {"eu-central-1"})

    def test_state_is_per_region(self):
        west, east = self.client("us-west-2"), self.ec2
        vpc = west.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
        sub = west.create_subnet(VpcId=vpc, CidrBlock="10.77.1.0/24", AvailabilityZone="us-west-2b")["Subnet"]
        self.assertEqual(sub["AvailabilityZoneId"], "usw2-az2")
        self.assertIn(":us-west-2:", sub["SubnetArn"])
        # a zone of another region is refused
        self.assertError("InvalidParameterValue", west.create_subnet, VpcId=vpc, CidrBlock="10.77.2.0/24",
                         AvailabilityZone="us-east-1a")
        self.assertEqual([v["VpcId"] for v in west.describe_vpcs(VpcIds=[vpc])["Vpcs"]], [vpc])
        # invisible from us-east-1: by id, in listings, by filter, and for changes
        self.assertError("InvalidVpcID.NotFound", east.describe_vpcs, VpcIds=[vpc])
        self.assertNotIn(vpc, [v["VpcId"] for v in east.describe_vpcs()["Vpcs"]])
        self.assertEqual(east.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"], [])
        self.assertError("InvalidSubnetID.NotFound", east.describe_subnets, SubnetIds=[sub["SubnetId"]])
        self.assertError("InvalidVpcID.NotFound", east.delete_vpc, VpcId=vpc)
        self.assertError("InvalidVpcID.NotFound", east.create_subnet, VpcId=vpc, CidrBlock="10.77.3.0/24")
        west.create_tags(Resources=[vpc], Tags=[{"Key": "where", "Value": "oregon"}])
        tags_east = east.describe_tags(Filters=[{"Name": "resource-id", "Values": [vpc]}])["Tags"]
        self.assertEqual(tags_east, [])
        tags_west = west.describe_tags(Filters=[{"Name": "resource-id", "Values": [vpc]}])["Tags"]
        self.assertEqual([(t["Key"], t["Value"]) for t in tags_west], [("where", "oregon")])
        # the same CIDR in another region is another VPC; ids never repeat
        vpc_e = east.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
        self.assertNotEqual(vpc, vpc_e)
        east.delete_vpc(VpcId=vpc_e)
        west.delete_subnet(SubnetId=sub["SubnetId"])
        west.delete_vpc(VpcId=vpc)
        self.assertError("InvalidVpcID.NotFound", west.describe_vpcs, VpcIds=[vpc])

    def test_default_vpc_per_region(self):
        defaults = {}
        for region in ("us-east-1", "eu-west-1", "ap-northeast-1"):
            c = self.client(region)
            vpcs = c.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
            self.assertEqual(len(vpcs), 1, region)
            self.assertEqual(vpcs[0]["CidrBlock"], "172.31.0.0/16")
            defaults[region] = vpcs[0]["VpcId"]
            subs = c.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}])["Subnets"]
            zones = [z["ZoneName"] for z in c.describe_availability_zones()["AvailabilityZones"]]
            self.assertEqual(sorted((s["AvailabilityZone"], s["CidrBlock"]) for s in subs),
                             [(z, "172.31.%d.0/20" % (16 * i)) for i, z in enumerate(zones)])
            self.assertTrue(all(s["DefaultForAz"] for s in subs))
            igws = c.describe_internet_gateways(
                Filters=[{"Name": "attachment.vpc-id", "Values": [vpcs[0]["VpcId"]]}])["InternetGateways"]
            self.assertEqual(len(igws), 1)
            attr = c.describe_account_attributes(AttributeNames=["default-vpc"])["AccountAttributes"]
            self.assertEqual(attr[0]["AttributeValues"][0]["AttributeValue"], vpcs[0]["VpcId"])
        self.assertEqual(len(set(defaults.values())), 3)

    def test_paging_counts_one_region(self):
        west, eu = self.client("us-west-1"), self.client("eu-west-3")
        made = [west.create_vpc(CidrBlock="10.%d.0.0/16" % (100 + i))["Vpc"]["VpcId"] for i in range(6)]
        other = [eu.create_vpc(CidrBlock="10.%d.0.0/16" % (100 + i))["Vpc"]["VpcId"] for i in range(4)]
        seen, token = [], None
        while True:
            kw = {"MaxResults": 5}
            if token:
                kw["NextToken"] = token
            page = west.describe_vpcs(**kw)
            self.assertLessEqual(len(page["Vpcs"]), 5)
            seen += [v["VpcId"] for v in page["Vpcs"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(len(seen), 7)	# the default VPC and the six
        self.assertEqual(set(seen) - set(made), {v["VpcId"] for v in west.describe_vpcs(
            Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]})
        self.assertFalse(set(other) & set(seen))
        for v in made:
            west.delete_vpc(VpcId=v)
        for v in other:
            eu.delete_vpc(VpcId=v)

    def test_images_in_every_region(self):
        # the offered images are the same everywhere, whichever region used them first
        east, west = self.vpcd.client(region="us-east-1"), self.vpcd.client(region="us-west-2")
        by_name = [{"Name": "name", "Values": ["vpcd-linux"]}]
        img = east.describe_images(Filters=by_name)["Images"][0]["ImageId"]
        self.assertEqual([i["ImageId"] for i in west.describe_images(Filters=by_name)["Images"]], [img])
        self.assertEqual(len(west.describe_images(ImageIds=[img])["Images"]), 1)
        vpc = west.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
        sub = west.create_subnet(VpcId=vpc, CidrBlock="10.77.0.0/24")["Subnet"]["SubnetId"]
        inst = west.run_instances(ImageId=img, MinCount=1, MaxCount=1, SubnetId=sub)["Instances"][0]
        self.assertEqual(inst["ImageId"], img)
        west.terminate_instances(InstanceIds=[inst["InstanceId"]])

    def test_sts_get_caller_identity(self):
        for region in ("us-east-1", "eu-west-2"):
            sts = boto3.client("sts", region_name=region, endpoint_url=self.vpcd.endpoint,
                               aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                               config=botocore.config.Config(retries={"max_attempts": 0}))
            me = sts.get_caller_identity()
            owner = self.ec2.describe_vpcs()["Vpcs"][0]["OwnerId"]
            self.assertEqual(me["Account"], owner)
            self.assertEqual(me["Arn"], "arn:aws:iam::%s:root" % owner)
            self.assertEqual(me["UserId"], owner)
        # the aws CLI too
        out = __import__("subprocess").run(["aws", "--endpoint-url", self.vpcd.endpoint, "--output", "json",
                                            "sts", "get-caller-identity"], capture_output=True, text=True,
                                           env=self.vpcd.cli_env(), timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["Account"], owner)
        # a wrong secret is refused for sts as for ec2
        bad = boto3.client("sts", region_name="us-east-1", endpoint_url=self.vpcd.endpoint,
                           aws_access_key_id=KEY_ID, aws_secret_access_key="wrong" * 8,
                           config=botocore.config.Config(retries={"max_attempts": 0}))
        with self.assertRaises(botocore.exceptions.ClientError):
            bad.get_caller_identity()


class TestRegionsRestart(VpcdTestCase):
    def test_regions_survive_a_restart(self):
        west = self.vpcd.client(region="us-west-2")
        vpc = west.create_vpc(CidrBlock="10.88.0.0/16")["Vpc"]["VpcId"]
        default = west.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        self.vpcd.restart()
        west = self.vpcd.client(region="us-west-2")
        self.assertEqual({v["VpcId"] for v in west.describe_vpcs()["Vpcs"]}, {vpc, default})
        self.assertNotIn(vpc, [v["VpcId"] for v in self.vpcd.client().describe_vpcs()["Vpcs"]])
        # a region's default VPC is made once: deleted, it stays deleted
        for s in west.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [default]}])["Subnets"]:
            west.delete_subnet(SubnetId=s["SubnetId"])
        for g in west.describe_internet_gateways(
                Filters=[{"Name": "attachment.vpc-id", "Values": [default]}])["InternetGateways"]:
            west.detach_internet_gateway(InternetGatewayId=g["InternetGatewayId"], VpcId=default)
            west.delete_internet_gateway(InternetGatewayId=g["InternetGatewayId"])
        west.delete_vpc(VpcId=default)
        self.vpcd.restart()
        west = self.vpcd.client(region="us-west-2")
        self.assertEqual([v["VpcId"] for v in west.describe_vpcs()["Vpcs"]], [vpc])


class TestRegionsShareTheHost(VpcdTestCase):
    """One host serves every region: its tunnel outside addresses and its
    public addresses are one pool, whatever the region of the resource."""
    vpcd_args = ("--vpn-outside-addresses", "203.0.113.1,203.0.113.2,203.0.113.3,203.0.113.4")

    def vpn_in(self, region, ip):
        ec2 = self.vpcd.client(region=region)
        cgw = ec2.create_customer_gateway(BgpAsn=65000, PublicIp=ip, Type="ipsec.1")["CustomerGateway"]
        vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]
        vpn = ec2.create_vpn_connection(CustomerGatewayId=cgw["CustomerGatewayId"], VpnGatewayId=vgw["VpnGatewayId"],
                                        Type="ipsec.1", Options={"StaticRoutesOnly": True})["VpnConnection"]
        return ec2, vpn

    def test_tunnels_and_addresses_across_regions(self):
        east, vpn_e = self.vpn_in("us-east-1", "198.51.100.10")
        west, vpn_w = self.vpn_in("us-west-2", "198.51.100.11")
        outside = [t["OutsideIpAddress"] for v in (vpn_e, vpn_w) for t in v["Options"]["TunnelOptions"]]
        self.assertEqual(sorted(outside), ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"])
        # the host's four addresses are taken, by connections of two regions
        third = self.vpcd.client(region="eu-west-1")
        c = third.create_customer_gateway(BgpAsn=65000, PublicIp="198.51.100.12", Type="ipsec.1")["CustomerGateway"]
        g = third.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]
        self.assertError("VpnConnectionLimitExceeded", third.create_vpn_connection,
                         CustomerGatewayId=c["CustomerGatewayId"], VpnGatewayId=g["VpnGatewayId"], Type="ipsec.1")
        # the engine reports each region's tunnels in its own region
        for ec2, vpn in ((east, vpn_e), (west, vpn_w)):
            d = ec2.describe_vpn_connections(VpnConnectionIds=[vpn["VpnConnectionId"]])["VpnConnections"][0]
            self.assertEqual(len(d["VgwTelemetry"]), 2)
        # Elastic IPs: one public pool
        a = east.allocate_address(Domain="vpc")["PublicIp"]
        b = west.allocate_address(Domain="vpc")["PublicIp"]
        self.assertNotEqual(a, b)
        self.assertEqual([x["PublicIp"] for x in west.describe_addresses()["Addresses"]], [b])
