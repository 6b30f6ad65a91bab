"""CreateDefaultVpc and CreateDefaultSubnet (after the region's default VPC
or a default subnet was deleted), ModifyVpcTenancy,
DescribeAddressesAttribute; boto3 and the aws CLI."""
from vpcdtest import VpcdTestCase


class TestDefaultVpc(VpcdTestCase):
    def default_vpc(self):
        vpcs = self.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
        return vpcs[0] if vpcs else None

    def delete_default_vpc(self, vpc_id):
        for s in self.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]:
            self.ec2.delete_subnet(SubnetId=s["SubnetId"])
        for g in self.ec2.describe_internet_gateways(
                Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])["InternetGateways"]:
            self.ec2.detach_internet_gateway(InternetGatewayId=g["InternetGatewayId"], VpcId=vpc_id)
            self.ec2.delete_internet_gateway(InternetGatewayId=g["InternetGatewayId"])
        self.ec2.delete_vpc(VpcId=vpc_id)

    def test_default_vpc_and_subnets(self):
        vpc = self.default_vpc()
        msg = self.assertError("DefaultVpcAlreadyExists", self.ec2.create_default_vpc)
        self.assertEqual(msg, "A Default VPC already exists for this account in this region.")
        # a default subnet deleted, made again in its zone with a free /20
        subnets = self.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
        victim = [s for s in subnets if s["AvailabilityZone"] == "us-east-1b"][0]
        self.assertError("DefaultSubnetAlreadyExistsInAvailabilityZone", self.ec2.create_default_subnet,
                         AvailabilityZone="us-east-1b")
        self.ec2.delete_subnet(SubnetId=victim["SubnetId"])
        made = self.ec2.create_default_subnet(AvailabilityZone="us-east-1b")["Subnet"]
        self.assertEqual((made["CidrBlock"], made["AvailabilityZone"], made["DefaultForAz"], made["VpcId"]),
                         (victim["CidrBlock"], "us-east-1b", True, vpc["VpcId"]))
        self.assertTrue(made["MapPublicIpOnLaunch"])
        self.assertError("InvalidParameterValue", self.ec2.create_default_subnet, AvailabilityZone="us-east-1z")

        # the whole default VPC deleted, then made again
        self.delete_default_vpc(vpc["VpcId"])
        self.assertIsNone(self.default_vpc())
        msg = self.assertError("DefaultVpcDoesNotExist", self.ec2.create_default_subnet, AvailabilityZone="us-east-1a")
        out = self.ec2.create_default_vpc()["Vpc"]
        self.assertEqual((out["CidrBlock"], out["IsDefault"], out["State"]), ("172.31.0.0/16", True, "pending"))
        again = self.default_vpc()
        self.assertEqual(again["VpcId"], out["VpcId"])
        subnets = self.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [again["VpcId"]]},
                                                     {"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
        self.assertEqual(sorted(s["CidrBlock"] for s in subnets)[0], "172.31.0.0/20")
        self.assertEqual(len(subnets), len(self.ec2.describe_availability_zones()["AvailabilityZones"]))
        igws = self.ec2.describe_internet_gateways(
            Filters=[{"Name": "attachment.vpc-id", "Values": [again["VpcId"]]}])["InternetGateways"]
        self.assertEqual(len(igws), 1)
        main = self.ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [again["VpcId"]]}])["RouteTables"][0]
        self.assertIn({"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igws[0]["InternetGatewayId"],
                       "Origin": "CreateRoute", "State": "active"}, main["Routes"])
        got = self.vpcd.cli("create-default-vpc", check=False)
        self.assertIn("(DefaultVpcAlreadyExists)", got.stderr)

    def test_modify_vpc_tenancy(self):
        vid = self.ec2.create_vpc(CidrBlock="10.80.0.0/16", InstanceTenancy="dedicated")["Vpc"]["VpcId"]
        self.assertTrue(self.ec2.modify_vpc_tenancy(VpcId=vid, InstanceTenancy="default")["ReturnValue"])
        self.assertEqual(self.ec2.describe_vpcs(VpcIds=[vid])["Vpcs"][0]["InstanceTenancy"], "default")
        self.assertError("InvalidParameterValue", self.vpcd.client(validate=False).modify_vpc_tenancy, VpcId=vid,
                         InstanceTenancy="dedicated")
        self.assertError("InvalidVpcID.NotFound", self.ec2.modify_vpc_tenancy, VpcId="vpc-00000000000000000",
                         InstanceTenancy="default")

    def test_addresses_attribute(self):
        a = self.ec2.allocate_address(Domain="vpc")
        got = self.ec2.describe_addresses_attribute(AllocationIds=[a["AllocationId"]], Attribute="domain-name")
        rec = got["Addresses"][0]
        self.assertEqual((rec["AllocationId"], rec["PublicIp"]), (a["AllocationId"], a["PublicIp"]))
        self.assertEqual(rec["PtrRecord"], "ec2-%s.compute-1.amazonaws.com." % a["PublicIp"].replace(".", "-"))
        self.assertError("InvalidAllocationID.NotFound", self.ec2.describe_addresses_attribute,
                         AllocationIds=["eipalloc-00000000000000000"], Attribute="domain-name")
        every = self.vpcd.cli("describe-addresses-attribute", "--attribute", "domain-name")["Addresses"]
        self.assertIn(a["AllocationId"], [x["AllocationId"] for x in every])
        self.ec2.release_address(AllocationId=a["AllocationId"])
