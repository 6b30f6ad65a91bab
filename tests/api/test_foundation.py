"""The foundation's API: VPCs, subnets, regions and zones, tags, filters,
paging and DryRun, driven with boto3 and the aws CLI."""
import xml.etree.ElementTree as ET

import botocore.exceptions

from vpcdtest import VpcdTestCase, signed_post


class TestRegionsAndZones(VpcdTestCase):
    def test_regions(self):
        names = [r["RegionName"] for r in self.ec2.describe_regions()["Regions"]]
        self.assertIn("us-east-1", names)
        one = self.ec2.describe_regions(RegionNames=["eu-west-1"])["Regions"]
        self.assertEqual([(r["RegionName"], r["Endpoint"]) for r in one], [("eu-west-1", "ec2.eu-west-1.amazonaws.com")])
        self.assertError("InvalidParameterValue", self.ec2.describe_regions, RegionNames=["mars-1"])

    def test_zones(self):
        zones = self.ec2.describe_availability_zones()["AvailabilityZones"]
        self.assertEqual([z["ZoneName"] for z in zones], ["us-east-1%s" % c for c in "abcdef"])
        self.assertTrue(all(z["ZoneId"].startswith("use1-az") and z["State"] == "available" for z in zones))
        self.assertEqual(len({z["ZoneId"] for z in zones}), 6)
        f = self.ec2.describe_availability_zones(Filters=[{"Name": "zone-name", "Values": ["us-east-1b"]}])
        self.assertEqual([z["ZoneName"] for z in f["AvailabilityZones"]], ["us-east-1b"])
        cli = self.vpcd.cli("describe-availability-zones", "--zone-names", "us-east-1c")
        self.assertEqual(cli["AvailabilityZones"][0]["ZoneName"], "us-east-1c")

    def test_account_attributes(self):
        attrs = {a["AttributeName"]: [v["AttributeValue"] for v in a["AttributeValues"]]
                 for a in self.ec2.describe_account_attributes()["AccountAttributes"]}
        self.assertEqual(attrs["supported-platforms"], ["VPC"])
        self.assertTrue(attrs["default-vpc"][0].startswith("vpc-"))


class TestDefaultVpc(VpcdTestCase):
    def test_default_vpc_and_subnets(self):
        vpcs = self.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
        self.assertEqual(len(vpcs), 1)
        self.assertEqual(vpcs[0]["CidrBlock"], "172.31.0.0/16")
        subnets = self.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}])["Subnets"]
        got = sorted((s["AvailabilityZone"], s["CidrBlock"], s["DefaultForAz"], s["AvailableIpAddressCount"]) for s in subnets)
        want = [("us-east-1%s" % c, "172.31.%d.0/20" % (16 * i), True, 4091) for i, c in enumerate("abcdef")]
        self.assertEqual(got, want)


class TestVpc(VpcdTestCase):
    def test_create_normalises_and_makes_defaults(self):
        vpc = self.ec2.create_vpc(CidrBlock="10.96.5.7/16")["Vpc"]
        self.assertRegex(vpc["VpcId"], r"^vpc-[0-9a-f]{17}$")
        self.assertEqual(vpc["CidrBlock"], "10.96.0.0/16")
        vid = vpc["VpcId"]
        d = self.ec2.describe_vpcs(VpcIds=[vid])["Vpcs"][0]
        self.assertEqual((d["State"], d["IsDefault"], d["InstanceTenancy"]), ("available", False, "default"))
        rtbs = self.ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vid]}])["RouteTables"]
        self.assertEqual(len(rtbs), 1)
        self.assertTrue(rtbs[0]["Associations"][0]["Main"])
        self.assertEqual(rtbs[0]["Routes"], [{"DestinationCidrBlock": "10.96.0.0/16", "GatewayId": "local",
                                              "Origin": "CreateRouteTable", "State": "active"}])
        acls = self.ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vid]}])["NetworkAcls"]
        self.assertEqual([a["IsDefault"] for a in acls], [True])
        groups = self.ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vid]}])["SecurityGroups"]
        self.assertEqual([g["GroupName"] for g in groups], ["default"])

    def test_cidr_rules(self):
        self.assertError("InvalidVpc.Range", self.ec2.create_vpc, CidrBlock="10.0.0.0/15")
        self.assertError("InvalidVpc.Range", self.ec2.create_vpc, CidrBlock="10.0.0.0/29")
        self.assertError("InvalidParameterValue", self.ec2.create_vpc, CidrBlock="10.0.0.300/16")
        self.assertError("InvalidParameterValue", self.ec2.create_vpc, CidrBlock="banana")
        self.assertError("InvalidParameterValue", self.ec2.create_vpc, CidrBlock="10.0.0.0/16", InstanceTenancy="host")
        ok = self.ec2.create_vpc(CidrBlock="10.1.0.0/28")["Vpc"]
        self.assertEqual(ok["CidrBlock"], "10.1.0.0/28")

    def test_delete_and_not_found(self):
        vid = self.ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
        sub = self.ec2.create_subnet(VpcId=vid, CidrBlock="10.2.1.0/24")["Subnet"]["SubnetId"]
        msg = self.assertError("DependencyViolation", self.ec2.delete_vpc, VpcId=vid)
        self.assertIn(vid, msg)
        self.ec2.delete_subnet(SubnetId=sub)
        self.ec2.delete_vpc(VpcId=vid)
        msg = self.assertError("InvalidVpcID.NotFound", self.ec2.describe_vpcs, VpcIds=[vid])
        self.assertIn(vid, msg)
        self.assertError("InvalidVpcID.NotFound", self.ec2.delete_vpc, VpcId=vid)
        self.assertError("InvalidVpcID.NotFound", self.ec2.create_subnet, VpcId=vid, CidrBlock="10.2.1.0/24")

    def test_attributes(self):
        vid = self.ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
        a = self.ec2.describe_vpc_attribute(VpcId=vid, Attribute="enableDnsSupport")
        self.assertEqual(a["EnableDnsSupport"]["Value"], True)
        self.assertFalse(self.ec2.describe_vpc_attribute(VpcId=vid, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"])
        self.ec2.modify_vpc_attribute(VpcId=vid, EnableDnsHostnames={"Value": True})
        self.assertTrue(self.ec2.describe_vpc_attribute(VpcId=vid, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"])
        self.assertError("InvalidParameterValue", self.ec2.modify_vpc_attribute, VpcId=vid, EnableDnsSupport={"Value": False})
        self.assertError("InvalidParameterValue", self.ec2.describe_vpc_attribute, VpcId=vid, Attribute="colour")
        self.vpcd.cli("modify-vpc-attribute", "--vpc-id", vid, "--no-enable-dns-hostnames")
        out = self.vpcd.cli("describe-vpc-attribute", "--vpc-id", vid, "--attribute", "enableDnsHostnames")
        self.assertEqual(out["EnableDnsHostnames"]["Value"], False)

    def test_dry_run(self):
        msg = self.assertError("DryRunOperation", self.ec2.create_vpc, CidrBlock="10.4.0.0/16", DryRun=True)
        self.assertIn("DryRun", msg)
        self.assertEqual(self.ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.4.0.0/16"]}])["Vpcs"], [])

    def test_cli(self):
        out = self.vpcd.cli("create-vpc", "--cidr-block", "10.5.0.0/16",
                            "--tag-specifications", "ResourceType=vpc,Tags=[{Key=Name,Value=cli}]")
        vid = out["Vpc"]["VpcId"]
        got = self.vpcd.cli("describe-vpcs", "--filters", "Name=tag:Name,Values=cli")["Vpcs"]
        self.assertEqual([v["VpcId"] for v in got], [vid])
        p = self.vpcd.cli("delete-vpc", "--vpc-id", "vpc-00000000000000000", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("InvalidVpcID.NotFound", p.stderr)
        self.vpcd.cli("delete-vpc", "--vpc-id", vid)


class TestSubnet(VpcdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vpc = cls.ec2.create_vpc(CidrBlock="10.96.0.0/16")["Vpc"]["VpcId"]

    def test_create_and_reserved(self):
        s = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.96.1.0/24", AvailabilityZone="us-east-1c")["Subnet"]
        self.assertRegex(s["SubnetId"], r"^subnet-[0-9a-f]{17}$")
        self.assertEqual((s["AvailableIpAddressCount"], s["AvailabilityZone"], s["AvailabilityZoneId"], s["MapPublicIpOnLaunch"]),
                         (251, "us-east-1c", "use1-az2", False))
        s28 = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.96.2.0/28")["Subnet"]
        self.assertEqual(s28["AvailableIpAddressCount"], 11)

    def test_range_and_conflict(self):
        self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.96.16.0/20")
        self.assertError("InvalidSubnet.Conflict", self.ec2.create_subnet, VpcId=self.vpc, CidrBlock="10.96.17.0/24")
        self.assertError("InvalidSubnet.Conflict", self.ec2.create_subnet, VpcId=self.vpc, CidrBlock="10.96.0.0/16")
        self.assertError("InvalidSubnet.Range", self.ec2.create_subnet, VpcId=self.vpc, CidrBlock="10.97.0.0/24")
        self.assertError("InvalidSubnet.Range", self.ec2.create_subnet, VpcId=self.vpc, CidrBlock="10.96.3.0/29")
        self.assertError("InvalidParameterValue", self.ec2.create_subnet, VpcId=self.vpc, CidrBlock="10.96.4.0/24",
                         AvailabilityZone="us-east-1z")
        self.assertError("MissingParameter", self.ec2.create_subnet, VpcId=self.vpc, CidrBlock="")

    def test_conflict_follows_deletes_vpcs_and_restarts(self):
        # a freed block can be taken again; the same block in another VPC is no conflict
        a = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.96.64.0/22")["Subnet"]["SubnetId"]
        for cidr in ("10.96.64.0/22", "10.96.65.0/24", "10.96.67.240/28", "10.96.0.0/17"):
            self.assertError("InvalidSubnet.Conflict", self.ec2.create_subnet, VpcId=self.vpc, CidrBlock=cidr)
        for cidr in ("10.96.63.240/28", "10.96.68.0/28"):   # just outside, either side
            self.ec2.delete_subnet(SubnetId=self.ec2.create_subnet(VpcId=self.vpc, CidrBlock=cidr)["Subnet"]["SubnetId"])
        other = self.ec2.create_vpc(CidrBlock="10.96.0.0/16")["Vpc"]["VpcId"]
        b = self.ec2.create_subnet(VpcId=other, CidrBlock="10.96.64.0/22")["Subnet"]["SubnetId"]
        self.ec2.delete_subnet(SubnetId=a)
        c = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.96.65.0/24")["Subnet"]["SubnetId"]
        # the blocks are known again after a restart
        self.vpcd.restart()
        ec2 = self.vpcd.client()
        self.assertError("InvalidSubnet.Conflict", ec2.create_subnet, VpcId=self.vpc, CidrBlock="10.96.65.128/25")
        self.assertError("InvalidSubnet.Conflict", ec2.create_subnet, VpcId=other, CidrBlock="10.96.66.0/24")
        ec2.delete_subnet(SubnetId=b)
        ec2.delete_vpc(VpcId=other)
        ec2.delete_subnet(SubnetId=c)
        ec2.delete_subnet(SubnetId=ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.96.64.0/22")["Subnet"]["SubnetId"])

    def test_modify_and_filters(self):
        sid = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.96.40.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
        self.ec2.modify_subnet_attribute(SubnetId=sid, MapPublicIpOnLaunch={"Value": True})
        f = [{"Name": "map-public-ip-on-launch", "Values": ["true"]}, {"Name": "vpc-id", "Values": [self.vpc]}]
        self.assertEqual([s["SubnetId"] for s in self.ec2.describe_subnets(Filters=f)["Subnets"]], [sid])
        f = [{"Name": "cidr-block", "Values": ["10.96.4?.0/24"]}, {"Name": "availability-zone", "Values": ["us-east-1b", "x"]}]
        self.assertEqual([s["SubnetId"] for s in self.ec2.describe_subnets(Filters=f)["Subnets"]], [sid])
        self.assertError("InvalidParameterValue", self.ec2.describe_subnets, Filters=[{"Name": "colour", "Values": ["red"]}])
        self.assertError("InvalidSubnetID.NotFound", self.ec2.describe_subnets, SubnetIds=["subnet-0123456789abcdef0"])
        out = self.vpcd.cli("modify-subnet-attribute", "--subnet-id", sid, "--no-map-public-ip-on-launch")
        self.assertEqual(out, {})
        self.assertFalse(self.ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]["MapPublicIpOnLaunch"])

    def test_paging(self):
        vid = self.ec2.create_vpc(CidrBlock="10.200.0.0/16")["Vpc"]["VpcId"]
        made = [self.ec2.create_subnet(VpcId=vid, CidrBlock="10.200.%d.0/24" % i)["Subnet"]["SubnetId"] for i in range(12)]
        seen, token, pages = [], None, 0
        while True:
            kw = {"Filters": [{"Name": "vpc-id", "Values": [vid]}], "MaxResults": 5}
            if token:
                kw["NextToken"] = token
            page = self.ec2.describe_subnets(**kw)
            pages += 1
            seen += [s["SubnetId"] for s in page["Subnets"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual((seen, pages), (made, 3))
        paginated = [s["SubnetId"] for p in self.ec2.get_paginator("describe_subnets").paginate(
            Filters=[{"Name": "vpc-id", "Values": [vid]}], PaginationConfig={"PageSize": 5}) for s in p["Subnets"]]
        self.assertEqual(paginated, made)
        raw = self.vpcd.client(validate=False)
        self.assertError("InvalidParameterValue", raw.describe_subnets, MaxResults=3)
        self.assertError("InvalidParameterValue", raw.describe_subnets, MaxResults=1001)
        self.assertError("InvalidNextToken", self.ec2.describe_subnets, MaxResults=5, NextToken="garbage")
        self.assertError("InvalidParameterCombination", self.ec2.describe_subnets, MaxResults=5, SubnetIds=[made[0]])
        cli = self.vpcd.cli("describe-subnets", "--filters", "Name=vpc-id,Values=" + vid, "--page-size", "5")
        self.assertEqual([s["SubnetId"] for s in cli["Subnets"]], made)


class TestTags(VpcdTestCase):
    def test_tags(self):
        vid = self.ec2.create_vpc(CidrBlock="10.9.0.0/16",
                                  TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "a"}]}])["Vpc"]["VpcId"]
        sid = self.ec2.create_subnet(VpcId=vid, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
        self.ec2.create_tags(Resources=[vid, sid], Tags=[{"Key": "env", "Value": "prod"}, {"Key": "Name", "Value": "b"}])
        tags = {t["Key"]: t["Value"] for t in self.ec2.describe_vpcs(VpcIds=[vid])["Vpcs"][0]["Tags"]}
        self.assertEqual(tags, {"Name": "b", "env": "prod"})
        d = self.ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [sid]}])["Tags"]
        self.assertEqual(sorted((t["Key"], t["Value"], t["ResourceType"]) for t in d),
                         [("Name", "b", "subnet"), ("env", "prod", "subnet")])
        self.ec2.delete_tags(Resources=[sid], Tags=[{"Key": "env", "Value": "dev"}])   # value differs: kept
        self.assertEqual(len(self.ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]["Tags"]), 2)
        self.ec2.delete_tags(Resources=[sid], Tags=[{"Key": "env"}])
        self.assertEqual([t["Key"] for t in self.ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]["Tags"]], ["Name"])
        f = self.ec2.describe_vpcs(Filters=[{"Name": "tag-key", "Values": ["env"]}])["Vpcs"]
        self.assertEqual([v["VpcId"] for v in f], [vid])
        self.assertError("InvalidVpcID.NotFound", self.ec2.create_tags, Resources=["vpc-0000000000000000a"], Tags=[{"Key": "k", "Value": "v"}])
        self.assertError("InvalidParameterValue", self.ec2.create_tags, Resources=[vid], Tags=[{"Key": "aws:x", "Value": "v"}])
        self.vpcd.cli("create-tags", "--resources", vid, "--tags", "Key=team,Value=net")
        out = self.vpcd.cli("describe-tags", "--filters", "Name=key,Values=team")
        self.assertEqual([(t["ResourceId"], t["Value"]) for t in out["Tags"]], [(vid, "net")])

    def test_describe_tags_rules_addresses_images(self):
        """Security group rules, Elastic IPs and images are listed too, with
        AWS's resource-type names."""
        vid = self.ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        gid = self.ec2.create_security_group(GroupName="web", Description="web", VpcId=vid)["GroupId"]
        rule = self.ec2.authorize_security_group_ingress(
            GroupId=gid, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                         "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
            TagSpecifications=[{"ResourceType": "security-group-rule",
                                "Tags": [{"Key": "why", "Value": "https"}]}])
        sgr = rule["SecurityGroupRules"][0]["SecurityGroupRuleId"]
        alloc = self.ec2.allocate_address(Domain="vpc")["AllocationId"]
        ami = self.ec2.describe_images()["Images"][0]["ImageId"]
        self.ec2.create_tags(Resources=[alloc, ami], Tags=[{"Key": "kind", "Value": "other"}])
        want = {sgr: ("why", "https", "security-group-rule"),
                alloc: ("kind", "other", "elastic-ip"),
                ami: ("kind", "other", "image")}
        for rid, (k, v, rtype) in want.items():
            d = self.ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [rid]}])["Tags"]
            self.assertEqual([(t["Key"], t["Value"], t["ResourceType"]) for t in d], [(k, v, rtype)], rid)
        for rid, (k, v, rtype) in want.items():
            d = self.ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": [rtype]},
                                                {"Name": "key", "Values": [k]}])["Tags"]
            self.assertEqual([t["ResourceId"] for t in d], [rid], rtype)
        everything = {t["ResourceId"] for t in self.ec2.describe_tags()["Tags"]}
        self.assertTrue({sgr, alloc, ami} <= everything, everything)
        # unknown ids of these kinds: their own error codes
        self.assertError("InvalidAllocationID.NotFound", self.ec2.create_tags,
                         Resources=["eipalloc-0000000000000000a"], Tags=[{"Key": "k", "Value": "v"}])
        self.assertError("InvalidAMIID.NotFound", self.ec2.create_tags,
                         Resources=["ami-0000000000000000a"], Tags=[{"Key": "k", "Value": "v"}])


class TestWire(VpcdTestCase):
    """What a real endpoint answers to malformed requests."""

    def raw(self, body, headers=None, sign=True):
        return signed_post(self.vpcd.endpoint, body, headers, sign)

    def code_of(self, xml):
        root = ET.fromstring(xml)
        return root.find("./Errors/Error/Code").text, root.find("./RequestID").text

    def test_unsigned(self):
        status, body = self.raw("Action=DescribeVpcs&Version=2016-11-15", sign=False)
        self.assertEqual((status, self.code_of(body)[0]), (401, "MissingAuthenticationToken"))

    def test_unknown_action_and_params(self):
        status, body = self.raw("Action=LaunchRockets&Version=2016-11-15")
        self.assertEqual((status, self.code_of(body)[0]), (400, "InvalidAction"))
        status, body = self.raw("Action=DescribeVpcs&Version=2016-11-15&Colour=red")
        self.assertEqual((status, self.code_of(body)[0]), (400, "UnknownParameter"))
        status, body = self.raw("Action=DescribeVpcs&Version=2016-11-15&MaxResults=many")
        self.assertEqual(self.code_of(body)[0], "InvalidParameterValue")
        status, body = self.raw("Action=CreateVpc&Version=2016-11-15&CidrBlock=%zz")
        self.assertEqual(self.code_of(body)[0], "InvalidParameterValue")
        status, body = self.raw("Version=2016-11-15")
        self.assertEqual(self.code_of(body)[0], "MissingAction")

    def test_success_shape(self):
        status, body = self.raw("Action=DescribeVpcs&Version=2016-11-15")
        self.assertEqual(status, 200)
        root = ET.fromstring(body)
        ns = "{http://ec2.amazonaws.com/doc/2016-11-15/}"
        self.assertEqual(root.tag, ns + "DescribeVpcsResponse")
        self.assertRegex(root.find(ns + "requestId").text, r"^[0-9a-f-]{36}$")
        self.assertIsNotNone(root.find("./%svpcSet/%sitem/%svpcId" % (ns, ns, ns)))

    def test_oversized(self):
        status, body = self.raw("Action=DescribeVpcs&Version=2016-11-15&" + "x" * (1024 * 1024 + 10))
        self.assertEqual(status, 413)

    def test_wrong_secret_and_key(self):
        bad = self.vpcd.client(secret="wrong-secret-wrong-secret-wrong-secret00")
        self.assertError("AuthFailure", bad.describe_vpcs)
        unknown = self.vpcd.client(key_id="AKIAUNKNOWN000000000")
        self.assertError("AuthFailure", unknown.describe_vpcs)
        # every region botocore knows is served; a made-up one is refused
        no_region = self.vpcd.client(region="xx-nowhere-1")
        self.assertError("SignatureDoesNotMatch", no_region.describe_vpcs)
        env = self.vpcd.cli_env()
        env["AWS_SECRET_ACCESS_KEY"] = "nope"
        p = self.vpcd.cli("describe-vpcs", check=False, env=env)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("AuthFailure", p.stderr)
        self.assertNotIn("nope", self.vpcd.read_log())
        from vpcdtest import SECRET
        self.assertNotIn(SECRET, self.vpcd.read_log())
