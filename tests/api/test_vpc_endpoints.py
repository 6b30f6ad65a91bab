"""Gateway VPC endpoints (Create/Describe/Modify/DeleteVpcEndpoints: the
service's prefix-list route in each associated route table), egress-only
internet gateways (API only), subnet CIDR reservations (Create/Delete/
GetSubnetCidrReservations; explicit ones kept out of automatic address
assignment). boto3 and the aws CLI."""
from vpcdtest import IMAGE, VpcdTestCase

S3 = "com.amazonaws.us-east-1.s3"
S3_PL = "pl-63a5400a"


class TestVpcEndpoints(VpcdTestCase):
    def setUp(self):
        self.vpc = self.ec2.create_vpc(CidrBlock="10.90.0.0/16")["Vpc"]["VpcId"]
        self.rtb1 = self.ec2.create_route_table(VpcId=self.vpc)["RouteTable"]["RouteTableId"]
        self.rtb2 = self.ec2.create_route_table(VpcId=self.vpc)["RouteTable"]["RouteTableId"]

    def routes(self, rtb):
        return [r for r in self.ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]["Routes"]
                if r.get("DestinationPrefixListId")]

    def test_gateway_endpoint_routes(self):
        out = self.ec2.create_vpc_endpoint(VpcId=self.vpc, ServiceName=S3, RouteTableIds=[self.rtb1],
                                           TagSpecifications=[{"ResourceType": "vpc-endpoint",
                                                               "Tags": [{"Key": "Name", "Value": "s3"}]}])
        e = out["VpcEndpoint"]
        eid = e["VpcEndpointId"]
        self.assertRegex(eid, r"^vpce-[0-9a-f]{17}$")
        self.assertEqual((e["VpcEndpointType"], e["State"], e["ServiceName"], e["RouteTableIds"]),
                         ("Gateway", "available", S3, [self.rtb1]))
        self.assertIn('"Effect":"Allow"', e["PolicyDocument"])
        self.assertEqual(e["Tags"], [{"Key": "Name", "Value": "s3"}])
        self.assertEqual(self.routes(self.rtb1), [{"DestinationPrefixListId": S3_PL, "GatewayId": eid,
                                                   "Origin": "CreateRoute", "State": "active"}])
        self.assertEqual(self.routes(self.rtb2), [])
        got = self.ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [self.vpc]},
                                                       {"Name": "service-name", "Values": [S3]}])["VpcEndpoints"]
        self.assertEqual([x["VpcEndpointId"] for x in got], [eid])
        # move it from table 1 to table 2
        self.assertTrue(self.ec2.modify_vpc_endpoint(VpcEndpointId=eid, AddRouteTableIds=[self.rtb2],
                                                     RemoveRouteTableIds=[self.rtb1],
                                                     PolicyDocument='{"Statement":[]}')["Return"])
        self.assertEqual(self.routes(self.rtb1), [])
        self.assertEqual([r["GatewayId"] for r in self.routes(self.rtb2)], [eid])
        got = self.ec2.describe_vpc_endpoints(VpcEndpointIds=[eid])["VpcEndpoints"][0]
        self.assertEqual((got["RouteTableIds"], got["PolicyDocument"]), ([self.rtb2], '{"Statement":[]}'))
        # the VPC cannot go while the endpoint is there
        self.assertError("DependencyViolation", self.ec2.delete_vpc, VpcId=self.vpc)
        out = self.ec2.delete_vpc_endpoints(VpcEndpointIds=[eid, "vpce-00000000000000000"])
        self.assertEqual([u["ResourceId"] for u in out["Unsuccessful"]], ["vpce-00000000000000000"])
        self.assertEqual(out["Unsuccessful"][0]["Error"]["Code"], "InvalidVpcEndpointId.NotFound")
        self.assertEqual(self.routes(self.rtb2), [])
        self.assertError("InvalidVpcEndpointId.NotFound", self.ec2.describe_vpc_endpoints, VpcEndpointIds=[eid])

    def test_errors(self):
        self.assertError("InvalidServiceName", self.ec2.create_vpc_endpoint, VpcId=self.vpc,
                         ServiceName="com.amazonaws.us-east-1.sqs")
        self.assertError("InvalidParameterValue", self.ec2.create_vpc_endpoint, VpcId=self.vpc, ServiceName=S3,
                         VpcEndpointType="Interface")
        self.assertError("InvalidRouteTableId.NotFound", self.ec2.create_vpc_endpoint, VpcId=self.vpc, ServiceName=S3,
                         RouteTableIds=["rtb-00000000000000000"])
        self.assertError("InvalidVpcID.NotFound", self.ec2.create_vpc_endpoint, VpcId="vpc-00000000000000000",
                         ServiceName=S3)

    def test_cli(self):
        e = self.vpcd.cli("create-vpc-endpoint", "--vpc-id", self.vpc, "--service-name",
                          "com.amazonaws.us-east-1.dynamodb", "--route-table-ids", self.rtb1)["VpcEndpoint"]
        self.assertEqual(self.routes(self.rtb1)[0]["DestinationPrefixListId"], "pl-02cd2c6b")
        self.vpcd.cli("delete-vpc-endpoints", "--vpc-endpoint-ids", e["VpcEndpointId"])
        self.assertEqual(self.routes(self.rtb1), [])


class TestEgressOnlyInternetGateways(VpcdTestCase):
    def test_lifecycle(self):
        vpc = self.ec2.create_vpc(CidrBlock="10.91.0.0/16")["Vpc"]["VpcId"]
        g = self.ec2.create_egress_only_internet_gateway(VpcId=vpc, TagSpecifications=[
            {"ResourceType": "egress-only-internet-gateway", "Tags": [{"Key": "Name", "Value": "v6out"}]}]
        )["EgressOnlyInternetGateway"]
        gid = g["EgressOnlyInternetGatewayId"]
        self.assertRegex(gid, r"^eigw-[0-9a-f]{17}$")
        self.assertEqual(g["Attachments"], [{"State": "attached", "VpcId": vpc}])
        got = self.ec2.describe_egress_only_internet_gateways(EgressOnlyInternetGatewayIds=[gid])
        self.assertEqual(got["EgressOnlyInternetGateways"][0], g)
        got = self.ec2.describe_egress_only_internet_gateways(Filters=[{"Name": "tag:Name", "Values": ["v6out"]}])
        self.assertEqual([x["EgressOnlyInternetGatewayId"] for x in got["EgressOnlyInternetGateways"]], [gid])
        self.assertError("DependencyViolation", self.ec2.delete_vpc, VpcId=vpc)
        self.assertTrue(self.ec2.delete_egress_only_internet_gateway(EgressOnlyInternetGatewayId=gid)["ReturnCode"])
        self.assertError("InvalidGatewayID.NotFound", self.ec2.delete_egress_only_internet_gateway,
                         EgressOnlyInternetGatewayId=gid)
        self.ec2.delete_vpc(VpcId=vpc)
        p = self.vpcd.cli("describe-egress-only-internet-gateways")
        self.assertEqual(p["EgressOnlyInternetGateways"], [])


class TestSubnetCidrReservations(VpcdTestCase):
    def test_reservations(self):
        vpc = self.ec2.create_vpc(CidrBlock="10.92.0.0/16")["Vpc"]["VpcId"]
        sub = self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.92.1.0/24")["Subnet"]["SubnetId"]
        r = self.ec2.create_subnet_cidr_reservation(SubnetId=sub, Cidr="10.92.1.0/28", ReservationType="explicit",
                                                    Description="by hand")["SubnetCidrReservation"]
        self.assertRegex(r["SubnetCidrReservationId"], r"^scr-[0-9a-f]{17}$")
        self.assertEqual((r["Cidr"], r["ReservationType"], r["Description"], r["SubnetId"]),
                         ("10.92.1.0/28", "explicit", "by hand", sub))
        p = self.ec2.create_subnet_cidr_reservation(SubnetId=sub, Cidr="10.92.1.64/26",
                                                    ReservationType="prefix")["SubnetCidrReservation"]
        got = self.ec2.get_subnet_cidr_reservations(SubnetId=sub)
        self.assertEqual(sorted(x["Cidr"] for x in got["SubnetIpv4CidrReservations"]), ["10.92.1.0/28", "10.92.1.64/26"])
        self.assertEqual(got["SubnetIpv6CidrReservations"], [])
        got = self.ec2.get_subnet_cidr_reservations(SubnetId=sub, Filters=[{"Name": "reservationType",
                                                                            "Values": ["prefix"]}])
        self.assertEqual([x["SubnetCidrReservationId"] for x in got["SubnetIpv4CidrReservations"]],
                         [p["SubnetCidrReservationId"]])
        self.assertError("InvalidSubnetCidrReservation.Conflict", self.ec2.create_subnet_cidr_reservation,
                         SubnetId=sub, Cidr="10.92.1.8/29", ReservationType="explicit")
        self.assertError("InvalidParameterValue", self.ec2.create_subnet_cidr_reservation, SubnetId=sub,
                         Cidr="10.92.2.0/28", ReservationType="explicit")
        self.assertError("InvalidParameterValue", self.ec2.create_subnet_cidr_reservation, SubnetId=sub,
                         Cidr="10.92.1.128/25", ReservationType="other")
        # automatic addresses pass over the explicit block (.0-.15): the first is .16
        inst = self.ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1, SubnetId=sub)["Instances"][0]
        self.assertEqual(inst["PrivateIpAddress"], "10.92.1.16")
        self.ec2.terminate_instances(InstanceIds=[inst["InstanceId"]])
        out = self.ec2.delete_subnet_cidr_reservation(SubnetCidrReservationId=r["SubnetCidrReservationId"])
        self.assertEqual(out["DeletedSubnetCidrReservation"]["Cidr"], "10.92.1.0/28")
        self.assertError("InvalidSubnetCidrReservationID.NotFound", self.ec2.delete_subnet_cidr_reservation,
                         SubnetCidrReservationId=r["SubnetCidrReservationId"])
        got = self.vpcd.cli("get-subnet-cidr-reservations", "--subnet-id", sub)
        self.assertEqual([x["Cidr"] for x in got["SubnetIpv4CidrReservations"]], ["10.92.1.64/26"])
