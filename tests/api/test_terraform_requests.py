"""Requests as Terraform's AWS provider sends them, which other clients
rarely do: empty AvailabilityZone members (CreateVpnGateway, RunInstances'
Placement), filters named after the attribute (isDefault,
availabilityZone) as aws_default_vpc and aws_default_subnet use them, and
the revoke of the default IPv6 egress rule. boto3 sends the same bytes."""
from vpcdtest import IMAGE, VpcdTestCase


class T(VpcdTestCase):
    def test_empty_availability_zone(self):
        vgw = self.ec2.create_vpn_gateway(Type="ipsec.1", AvailabilityZone="")["VpnGateway"]
        self.assertNotIn("AvailabilityZone", vgw)
        self.ec2.delete_vpn_gateway(VpnGatewayId=vgw["VpnGatewayId"])
        self.assertError("InvalidParameterValue", self.ec2.create_vpn_gateway, Type="ipsec.1",
                         AvailabilityZone="us-west-2a")
        vpc = self.ec2.create_vpc(CidrBlock="10.91.0.0/16")["Vpc"]["VpcId"]
        sub = self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.91.1.0/24", AvailabilityZone="us-east-1c")["Subnet"]
        inst = self.ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1, SubnetId=sub["SubnetId"],
                                      Placement={"AvailabilityZone": ""})["Instances"][0]
        self.assertEqual(inst["Placement"]["AvailabilityZone"], "us-east-1c")
        self.assertError("InvalidParameterValue", self.ec2.run_instances, ImageId=IMAGE, MinCount=1, MaxCount=1,
                         SubnetId=sub["SubnetId"], Placement={"AvailabilityZone": "us-east-1a"})
        self.ec2.terminate_instances(InstanceIds=[inst["InstanceId"]])

    def test_attribute_named_filters(self):
        default = self.ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
        self.assertEqual([v["CidrBlock"] for v in default], ["172.31.0.0/16"])
        subs = self.ec2.describe_subnets(Filters=[{"Name": "availabilityZone", "Values": ["us-east-1b"]},
                                                  {"Name": "defaultForAz", "Values": ["true"]}])["Subnets"]
        self.assertEqual([(s["AvailabilityZone"], s["VpcId"]) for s in subs],
                         [("us-east-1b", default[0]["VpcId"])])
        by_id = self.ec2.describe_subnets(Filters=[{"Name": "availabilityZoneId",
                                                    "Values": [subs[0]["AvailabilityZoneId"]]},
                                                   {"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
        self.assertEqual([s["SubnetId"] for s in by_id], [subs[0]["SubnetId"]])

    def test_describe_tags_of_every_taggable_kind(self):
        # DHCP options, prefix lists, VPC endpoints and egress-only gateways
        # too (Terraform's tag data sources and aws_ec2_tag read DescribeTags)
        vpc = self.ec2.create_vpc(CidrBlock="10.92.0.0/16")["Vpc"]["VpcId"]
        made = [
            self.ec2.create_dhcp_options(DhcpConfigurations=[{"Key": "domain-name", "Values": ["x.example"]}])[
                "DhcpOptions"]["DhcpOptionsId"],
            self.ec2.create_managed_prefix_list(PrefixListName="pl", MaxEntries=2, AddressFamily="IPv4")[
                "PrefixList"]["PrefixListId"],
            self.ec2.create_egress_only_internet_gateway(VpcId=vpc)["EgressOnlyInternetGateway"][
                "EgressOnlyInternetGatewayId"],
            self.ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3")["VpcEndpoint"][
                "VpcEndpointId"],
        ]
        self.ec2.create_tags(Resources=made, Tags=[{"Key": "team", "Value": "net"}])
        tags = self.ec2.describe_tags(Filters=[{"Name": "key", "Values": ["team"]}])["Tags"]
        self.assertEqual(sorted(t["ResourceId"] for t in tags), sorted(made))
        self.assertEqual(sorted(t["ResourceType"] for t in tags),
                         ["dhcp-options", "egress-only-internet-gateway", "prefix-list", "vpc-endpoint"])
