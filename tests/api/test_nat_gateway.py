"""NAT gateways through boto3 and the aws CLI: public (Elastic IP) and
private, the requester-managed interface and its address, pending ->
available (waiters), delete -> deleting -> deleted (still describable),
routes with NatGatewayId turning blackhole, ClientToken, tags, filters,
paging, DryRun, and AWS's errors and failed states."""
import time

import botocore.exceptions

from vpcdtest import VpcdTestCase


class T(VpcdTestCase):
    def setUp(self):
        self.vpc = self.ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
        self.pub = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.50.0.0/24")["Subnet"]["SubnetId"]
        self.priv = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.50.1.0/24")["Subnet"]["SubnetId"]
        self.igw = self.ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        self.ec2.attach_internet_gateway(InternetGatewayId=self.igw, VpcId=self.vpc)
        self.eip = self.ec2.allocate_address(Domain="vpc")

    def tearDown(self):
        for n in self.mine():
            if n["State"] in ("pending", "available"):
                self.ec2.delete_nat_gateway(NatGatewayId=n["NatGatewayId"])
        for a in self.ec2.describe_addresses()["Addresses"]:
            if "AssociationId" not in a:
                self.ec2.release_address(AllocationId=a["AllocationId"])

    def mine(self, **kw):
        """This test's gateways (the class shares one vpcd; deleted ones stay)."""
        return self.ec2.describe_nat_gateways(Filter=[{"Name": "vpc-id", "Values": [self.vpc]}], **kw)["NatGateways"]

    def create(self, **kw):
        args = dict(SubnetId=self.pub, AllocationId=self.eip["AllocationId"])
        args.update(kw)
        return self.ec2.create_nat_gateway(**args)["NatGateway"]

    def get(self, nat_id):
        return self.ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]

    def wait_available(self, nat_id):
        self.ec2.get_waiter("nat_gateway_available").wait(
            NatGatewayIds=[nat_id], WaiterConfig={"Delay": 1, "MaxAttempts": 20})
        return self.get(nat_id)

    def test_public_shape_and_interface(self):
        n = self.create(TagSpecifications=[{"ResourceType": "natgateway", "Tags": [{"Key": "Name", "Value": "ngw"}]}])
        self.assertRegex(n["NatGatewayId"], r"^nat-[0-9a-f]{17}$")
        self.assertEqual(n["State"], "pending")
        self.assertEqual(n["SubnetId"], self.pub)
        self.assertEqual(n["VpcId"], self.vpc)
        self.assertEqual(n["ConnectivityType"], "public")
        self.assertEqual(n["Tags"], [{"Key": "Name", "Value": "ngw"}])
        self.assertIn("CreateTime", n)
        [a] = n["NatGatewayAddresses"]
        self.assertEqual(a["AllocationId"], self.eip["AllocationId"])
        self.assertEqual(a["PublicIp"], self.eip["PublicIp"])
        self.assertEqual(a["PrivateIp"], "10.50.0.4")      # the first free address, like an ENI's
        self.assertTrue(a["IsPrimary"])
        self.assertEqual(a["Status"], "succeeded")
        # the interface: requester-managed, in the subnet, the Elastic IP on it
        eni = self.ec2.describe_network_interfaces(NetworkInterfaceIds=[a["NetworkInterfaceId"]])["NetworkInterfaces"][0]
        self.assertEqual(eni["InterfaceType"], "nat_gateway")
        self.assertTrue(eni["RequesterManaged"])
        self.assertEqual(eni["SubnetId"], self.pub)
        self.assertEqual(eni["PrivateIpAddress"], "10.50.0.4")
        self.assertEqual(eni["Description"], "Interface for NAT Gateway " + n["NatGatewayId"])
        self.assertEqual(eni["Association"]["PublicIp"], self.eip["PublicIp"])
        addr = self.ec2.describe_addresses(AllocationIds=[self.eip["AllocationId"]])["Addresses"][0]
        self.assertEqual(addr["NetworkInterfaceId"], a["NetworkInterfaceId"])
        self.assertEqual(addr["PrivateIpAddress"], "10.50.0.4")
        self.assertEqual(addr["AssociationId"], a["AssociationId"])
        sub = self.ec2.describe_subnets(SubnetIds=[self.pub])["Subnets"][0]
        self.assertEqual(sub["AvailableIpAddressCount"], 250)
        # its interface and address go only with the gateway
        self.assertError("InvalidNetworkInterface.InUse", self.ec2.delete_network_interface,
                         NetworkInterfaceId=a["NetworkInterfaceId"])
        self.assertError("InvalidIPAddress.InUse", self.ec2.release_address, AllocationId=self.eip["AllocationId"])

    def test_pending_then_available_waiter(self):
        n = self.create()
        self.assertEqual(self.get(n["NatGatewayId"])["State"], "pending")
        self.assertEqual(self.wait_available(n["NatGatewayId"])["State"], "available")

    def test_cli_and_cli_waiter(self):
        out = self.vpcd.cli("create-nat-gateway", "--subnet-id", self.pub, "--allocation-id", self.eip["AllocationId"],
                            "--tag-specifications", "ResourceType=natgateway,Tags=[{Key=team,Value=net}]")
        nat = out["NatGateway"]["NatGatewayId"]
        self.assertEqual(out["NatGateway"]["State"], "pending")
        t0 = time.time()
        self.vpcd.cli("wait", "nat-gateway-available", "--nat-gateway-ids", nat)
        self.assertLess(time.time() - t0, 40)
        got = self.vpcd.cli("describe-nat-gateways", "--filter", "Name=tag:team,Values=net")["NatGateways"]
        self.assertEqual([g["NatGatewayId"] for g in got], [nat])
        self.assertEqual(got[0]["State"], "available")
        self.assertEqual(self.vpcd.cli("delete-nat-gateway", "--nat-gateway-id", nat), {"NatGatewayId": nat})
        self.vpcd.cli("wait", "nat-gateway-deleted", "--nat-gateway-ids", nat)

    def test_private(self):
        n = self.ec2.create_nat_gateway(SubnetId=self.priv, ConnectivityType="private",
                                        PrivateIpAddress="10.50.1.20")["NatGateway"]
        self.assertEqual(n["ConnectivityType"], "private")
        [a] = n["NatGatewayAddresses"]
        self.assertEqual(a["PrivateIp"], "10.50.1.20")
        self.assertNotIn("PublicIp", a)
        self.assertNotIn("AllocationId", a)
        self.assertEqual(self.wait_available(n["NatGatewayId"])["State"], "available")

    def test_delete_keeps_record_and_blackholes_routes(self):
        n = self.create()
        nat = n["NatGatewayId"]
        eni = n["NatGatewayAddresses"][0]["NetworkInterfaceId"]
        self.wait_available(nat)
        rtb = self.ec2.create_route_table(VpcId=self.vpc)["RouteTable"]["RouteTableId"]
        self.assertTrue(self.ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0",
                                              NatGatewayId=nat)["Return"])
        routes = self.ec2.describe_route_tables(Filters=[{"Name": "route.nat-gateway-id", "Values": [nat]}])["RouteTables"]
        self.assertEqual([r["RouteTableId"] for r in routes], [rtb])
        [route] = [r for r in routes[0]["Routes"] if r.get("NatGatewayId") == nat]
        self.assertEqual(route["State"], "active")
        # deleting a gateway still routed to is allowed: the route becomes a blackhole
        self.assertEqual(self.ec2.delete_nat_gateway(NatGatewayId=nat)["NatGatewayId"], nat)
        g = self.get(nat)
        self.assertEqual(g["State"], "deleting")
        self.assertIn("DeleteTime", g)
        route = [r for r in self.ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]["Routes"]
                 if r.get("NatGatewayId") == nat][0]
        self.assertEqual(route["State"], "blackhole")
        # the interface is gone, the Elastic IP free again
        self.assertError("InvalidNetworkInterfaceID.NotFound", self.ec2.describe_network_interfaces,
                         NetworkInterfaceIds=[eni])
        self.assertNotIn("AssociationId", self.ec2.describe_addresses(
            AllocationIds=[self.eip["AllocationId"]])["Addresses"][0])
        self.ec2.get_waiter("nat_gateway_deleted").wait(NatGatewayIds=[nat], WaiterConfig={"Delay": 1, "MaxAttempts": 20})
        self.assertEqual(self.get(nat)["State"], "deleted")      # still describable
        self.assertIn(nat, [g["NatGatewayId"] for g in self.mine()])
        self.assertError("NatGatewayNotFound", self.ec2.delete_nat_gateway, NatGatewayId=nat)
        # a route to a deleted gateway cannot be made; ReplaceRoute moves the blackhole on
        self.assertError("InvalidNatGatewayID.NotFound", self.ec2.create_route, RouteTableId=rtb,
                         DestinationCidrBlock="10.9.0.0/16", NatGatewayId=nat)
        self.ec2.replace_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=self.igw)

    def test_replace_route_to_nat(self):
        nat = self.create()["NatGatewayId"]
        main = self.ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [self.vpc]},
                                                       {"Name": "association.main", "Values": ["true"]}]
                                              )["RouteTables"][0]["RouteTableId"]
        self.ec2.create_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0", GatewayId=self.igw)
        self.ec2.replace_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
        [route] = [r for r in self.ec2.describe_route_tables(RouteTableIds=[main])["RouteTables"][0]["Routes"]
                   if r["DestinationCidrBlock"] == "0.0.0.0/0"]
        self.assertEqual(route["NatGatewayId"], nat)
        self.assertNotIn("GatewayId", route)
        self.assertEqual(route["State"], "active")
        # a NAT gateway of another VPC
        other = self.ec2.create_vpc(CidrBlock="10.51.0.0/16")["Vpc"]["VpcId"]
        ortb = self.ec2.create_route_table(VpcId=other)["RouteTable"]["RouteTableId"]
        msg = self.assertError("InvalidParameterValue", self.ec2.create_route, RouteTableId=ortb,
                               DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
        self.assertIn("belong to different networks", msg)
        self.assertError("InvalidNatGatewayID.NotFound", self.ec2.create_route, RouteTableId=ortb,
                         DestinationCidrBlock="0.0.0.0/0", NatGatewayId="nat-0123456789abcdef0")

    def test_client_token(self):
        a = self.create(ClientToken="tok-1")
        b = self.ec2.create_nat_gateway(SubnetId=self.pub, AllocationId=self.eip["AllocationId"], ClientToken="tok-1")
        self.assertEqual(b["ClientToken"], "tok-1")
        self.assertEqual(b["NatGateway"]["NatGatewayId"], a["NatGatewayId"])
        self.assertEqual(len(self.mine()), 1)

    def test_failed_states(self):
        # an Elastic IP already in use: the gateway fails, as on AWS
        first = self.create()
        second = self.create()
        self.assertEqual(second["State"], "failed")
        self.assertEqual(second["FailureCode"], "Resource.AlreadyAssociated")
        self.assertEqual(second["FailureMessage"],
                         "Elastic IP address %s is already associated" % self.eip["AllocationId"])
        self.assertNotIn("NetworkInterfaceId", second["NatGatewayAddresses"][0])
        self.assertEqual(self.get(second["NatGatewayId"])["State"], "failed")
        self.assertEqual(self.get(first["NatGatewayId"])["State"] in ("pending", "available"), True)
        # a public gateway in a VPC without an internet gateway
        vpc = self.ec2.create_vpc(CidrBlock="10.52.0.0/16")["Vpc"]["VpcId"]
        sub = self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.52.0.0/28")["Subnet"]["SubnetId"]
        eip2 = self.ec2.allocate_address(Domain="vpc")["AllocationId"]
        f = self.ec2.create_nat_gateway(SubnetId=sub, AllocationId=eip2)["NatGateway"]
        self.assertEqual((f["State"], f["FailureCode"]), ("failed", "Gateway.NotAttached"))
        self.assertEqual(f["FailureMessage"], "Network %s has no Internet gateway attached" % vpc)
        # a full subnet (a /28 has 11 addresses)
        for _ in range(11):
            self.ec2.create_network_interface(SubnetId=sub)
        p = self.ec2.create_nat_gateway(SubnetId=sub, ConnectivityType="private")["NatGateway"]
        self.assertEqual((p["State"], p["FailureCode"]), ("failed", "InsufficientFreeAddressesInSubnet"))
        # the waiter stops at a failed gateway
        with self.assertRaises(botocore.exceptions.WaiterError):
            self.ec2.get_waiter("nat_gateway_available").wait(
                NatGatewayIds=[f["NatGatewayId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 3})

    def test_errors(self):
        self.assertError("InvalidAllocationID.NotFound", self.create, AllocationId="eipalloc-0123456789abcdef0")
        self.assertError("InvalidSubnetID.NotFound", self.create, SubnetId="subnet-0123456789abcdef0")
        self.assertError("MissingParameter", self.ec2.create_nat_gateway, SubnetId=self.pub)
        self.assertError("InvalidParameterCombination", self.ec2.create_nat_gateway, SubnetId=self.pub,
                         ConnectivityType="private", AllocationId=self.eip["AllocationId"])
        self.assertError("NatGatewayNotFound", self.ec2.delete_nat_gateway, NatGatewayId="nat-0123456789abcdef0")
        self.assertError("NatGatewayNotFound", self.ec2.describe_nat_gateways, NatGatewayIds=["nat-0123456789abcdef0"])
        self.assertError("InvalidParameterValue", self.ec2.describe_nat_gateways,
                         Filter=[{"Name": "bogus", "Values": ["x"]}])
        # DryRun changes nothing
        self.assertError("DryRunOperation", self.create, DryRun=True)
        self.assertEqual(self.mine(), [])
        self.assertEqual(self.ec2.describe_network_interfaces(
            Filters=[{"Name": "subnet-id", "Values": [self.pub]}])["NetworkInterfaces"], [])

    def test_filters_and_paging(self):
        a = self.create()["NatGatewayId"]
        b = self.ec2.create_nat_gateway(SubnetId=self.priv, ConnectivityType="private",
                                        TagSpecifications=[{"ResourceType": "natgateway",
                                                            "Tags": [{"Key": "tier", "Value": "private"}]}]
                                        )["NatGateway"]["NatGatewayId"]

        def ids(**kw):
            if "Filters" in kw:
                kw["Filters"].append({"Name": "vpc-id", "Values": [self.vpc]})
            return sorted(g["NatGatewayId"] for g in self.ec2.describe_nat_gateways(**kw)["NatGateways"])

        self.assertEqual(ids(Filters=[{"Name": "subnet-id", "Values": [self.priv]}]), [b])
        self.assertEqual(ids(Filters=[{"Name": "vpc-id", "Values": [self.vpc]}]), sorted([a, b]))
        self.assertEqual(ids(Filters=[{"Name": "nat-gateway-id", "Values": [a]}]), [a])
        self.assertEqual(ids(Filters=[{"Name": "tag:tier", "Values": ["private"]}]), [b])
        self.assertEqual(ids(Filters=[{"Name": "tag-key", "Values": ["tier"]}]), [b])
        self.assertEqual(ids(Filters=[{"Name": "state", "Values": ["pending", "available"]}]), sorted([a, b]))
        self.assertEqual(ids(Filters=[{"Name": "state", "Values": ["deleted"]}]), [])
        self.assertEqual(ids(NatGatewayIds=[b, a]), sorted([a, b]))
        self.assertNotIn("NextToken", self.ec2.describe_nat_gateways(
            MaxResults=5, Filter=[{"Name": "vpc-id", "Values": [self.vpc]}]))
        for i in range(4):
            self.ec2.create_nat_gateway(SubnetId=self.priv, ConnectivityType="private")
        mine = [{"Name": "vpc-id", "Values": [self.vpc]}]
        p1 = self.ec2.describe_nat_gateways(MaxResults=5, Filter=mine)
        self.assertEqual(len(p1["NatGateways"]), 5)
        p2 = self.ec2.describe_nat_gateways(MaxResults=5, NextToken=p1["NextToken"], Filter=mine)
        self.assertEqual(len(p2["NatGateways"]), 1)
        self.assertNotIn("NextToken", p2)
        paginator = self.ec2.get_paginator("describe_nat_gateways")
        self.assertEqual(sum(len(p["NatGateways"]) for p in paginator.paginate(
            Filter=mine, PaginationConfig={"PageSize": 5})), 6)
        self.assertError("InvalidParameterValue", self.ec2.describe_nat_gateways, MaxResults=1001)
        # tags later, through CreateTags
        self.ec2.create_tags(Resources=[a], Tags=[{"Key": "later", "Value": "1"}])
        self.assertEqual(ids(Filters=[{"Name": "tag:later", "Values": ["1"]}]), [a])
        tags = self.ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": ["natgateway"]}])["Tags"]
        self.assertIn({"Key": "later", "ResourceId": a, "ResourceType": "natgateway", "Value": "1"}, tags)

    def test_survives_restart(self):
        n = self.create()
        self.vpcd.restart()
        g = self.get(n["NatGatewayId"])
        self.assertEqual(g["NatGatewayAddresses"], self.get(n["NatGatewayId"])["NatGatewayAddresses"])
        self.assertEqual(g["NatGatewayAddresses"][0]["PublicIp"], self.eip["PublicIp"])

    def test_dependencies(self):
        # as on AWS: the gateway's interface keeps its subnet, its Elastic IP keeps the internet gateway
        nat = self.create()["NatGatewayId"]
        self.assertError("DependencyViolation", self.ec2.delete_subnet, SubnetId=self.pub)
        msg = self.assertError("DependencyViolation", self.ec2.detach_internet_gateway,
                               InternetGatewayId=self.igw, VpcId=self.vpc)
        self.assertIn("mapped public address", msg)
        self.assertError("DependencyViolation", self.ec2.delete_vpc, VpcId=self.vpc)
        self.ec2.delete_nat_gateway(NatGatewayId=nat)
        self.ec2.detach_internet_gateway(InternetGatewayId=self.igw, VpcId=self.vpc)
        self.ec2.delete_subnet(SubnetId=self.pub)
