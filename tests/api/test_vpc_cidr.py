"""Secondary IPv4 CIDR blocks: AssociateVpcCidrBlock and
DisassociateVpcCidrBlock with AWS's restrictions (block size, the quota of
5, overlaps, the restriction table by primary range, routes), the
CidrBlockAssociationSet and its states, subnets in a secondary block, the
local route of each block in every route table of the VPC, with boto3 and
the aws CLI."""
from vpcdtest import VpcdTestCase


def local_routes(rtb):
    return sorted(r["DestinationCidrBlock"] for r in rtb["Routes"] if r.get("GatewayId") == "local")


class TestVpcCidrBlocks(VpcdTestCase):
    def vpc(self, cidr):
        return self.ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]

    def blocks(self, vid):
        v = self.ec2.describe_vpcs(VpcIds=[vid])["Vpcs"][0]
        return [(a["CidrBlock"], a["CidrBlockState"]["State"]) for a in v["CidrBlockAssociationSet"]]

    def tables(self, vid):
        return self.ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vid]}])["RouteTables"]

    def test_associate_subnet_routes_disassociate(self):
        vid = self.vpc("10.20.0.0/16")
        custom = self.ec2.create_route_table(VpcId=vid)["RouteTable"]["RouteTableId"]
        out = self.ec2.associate_vpc_cidr_block(VpcId=vid, CidrBlock="10.21.0.7/16")
        self.assertEqual(out["VpcId"], vid)
        a = out["CidrBlockAssociation"]
        self.assertRegex(a["AssociationId"], r"^vpc-cidr-assoc-[0-9a-f]{17}$")
        self.assertEqual(a["CidrBlock"], "10.21.0.0/16")        # host bits cleared
        self.assertEqual(a["CidrBlockState"]["State"], "associating")
        self.assertEqual(self.blocks(vid), [("10.20.0.0/16", "associated"), ("10.21.0.0/16", "associated")])
        got = self.ec2.describe_vpcs(Filters=[{"Name": "cidr-block-association.cidr-block",
                                               "Values": ["10.21.0.0/16"]}])["Vpcs"]
        self.assertEqual([v["VpcId"] for v in got], [vid])
        # the local route of the new block in every table, old and new
        later = self.ec2.create_route_table(VpcId=vid)["RouteTable"]
        self.assertEqual(local_routes(later), ["10.20.0.0/16", "10.21.0.0/16"])
        for t in self.tables(vid):
            self.assertEqual(local_routes(t), ["10.20.0.0/16", "10.21.0.0/16"], t["RouteTableId"])
            r = [r for r in t["Routes"] if r["DestinationCidrBlock"] == "10.21.0.0/16"][0]
            self.assertEqual((r["Origin"], r["State"]), ("CreateRouteTable", "active"))
        self.assertIn(custom, [t["RouteTableId"] for t in self.tables(vid)])
        # a subnet in the secondary block; one outside every block is refused
        sub = self.ec2.create_subnet(VpcId=vid, CidrBlock="10.21.1.0/24")["Subnet"]["SubnetId"]
        msg = self.assertError("InvalidSubnet.Range", self.ec2.create_subnet, VpcId=vid, CidrBlock="10.22.1.0/24")
        self.assertEqual(msg, "The CIDR '10.22.1.0/24' is invalid.")
        # the local route cannot be removed
        self.assertError("InvalidParameterValue", self.ec2.delete_route, RouteTableId=custom,
                         DestinationCidrBlock="10.21.0.0/16")
        # not while a subnet is in it; never the primary
        self.assertError("DependencyViolation", self.ec2.disassociate_vpc_cidr_block, AssociationId=a["AssociationId"])
        primary = self.ec2.describe_vpcs(VpcIds=[vid])["Vpcs"][0]["CidrBlockAssociationSet"][0]["AssociationId"]
        msg = self.assertError("OperationNotPermitted", self.ec2.disassociate_vpc_cidr_block, AssociationId=primary)
        self.assertEqual(msg, "The vpc CIDR block with association ID %s may not be disassociated. "
                              "It is the primary IPv4 CIDR block of the VPC" % primary)
        self.ec2.delete_subnet(SubnetId=sub)
        out = self.ec2.disassociate_vpc_cidr_block(AssociationId=a["AssociationId"])
        self.assertEqual(out["CidrBlockAssociation"]["CidrBlockState"]["State"], "disassociating")
        self.assertEqual(out["CidrBlockAssociation"]["CidrBlock"], "10.21.0.0/16")
        self.assertEqual(self.blocks(vid), [("10.20.0.0/16", "associated")])
        for t in self.tables(vid):
            self.assertEqual(local_routes(t), ["10.20.0.0/16"])
        msg = self.assertError("InvalidVpcCidrBlockAssociationID.NotFound", self.ec2.disassociate_vpc_cidr_block,
                               AssociationId=a["AssociationId"])
        self.assertEqual(msg, "The vpc CIDR block association ID '%s' does not exist" % a["AssociationId"])

    def test_restrictions(self):
        vid = self.vpc("10.30.0.0/16")

        def refused(code, cidr, vpc=vid):
            return self.assertError(code, self.ec2.associate_vpc_cidr_block, VpcId=vpc, CidrBlock=cidr)
        msg = refused("InvalidVpc.Range", "10.31.0.0/29")
        self.assertEqual(msg, "The CIDR '10.31.0.0/29' is invalid.")
        refused("InvalidVpc.Range", "10.31.0.0/15")
        refused("InvalidVpc.Range", "10.30.128.0/17")           # overlaps the primary
        msg = refused("InvalidVpc.Range", "192.168.0.0/16")       # another RFC 1918 range
        self.assertTrue(msg.startswith("The CIDR '192.168.0.0/16' is restricted. Use a CIDR from the same private "
                                       "address range as the current VPC CIDR, or use a publicly-routable CIDR."), msg)
        refused("InvalidVpc.Range", "172.16.0.0/16")
        refused("InvalidVpc.Range", "198.19.0.0/16")
        refused("InvalidParameterValue", "not-a-cidr")
        refused("InvalidVpcID.NotFound", "10.31.0.0/16", vpc="vpc-00000000000000000")
        # permitted: 100.64.0.0/10 and publicly routable blocks
        self.ec2.associate_vpc_cidr_block(VpcId=vid, CidrBlock="100.64.0.0/16")
        self.ec2.associate_vpc_cidr_block(VpcId=vid, CidrBlock="203.0.113.0/24")
        # a route to a block holds it: that block and larger are refused, smaller is fine
        vgw = self.ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
        self.ec2.attach_vpn_gateway(VpcId=vid, VpnGatewayId=vgw)
        main = [t for t in self.tables(vid) if any(a.get("Main") for a in t["Associations"])][0]["RouteTableId"]
        self.ec2.create_route(RouteTableId=main, DestinationCidrBlock="10.40.0.0/24", GatewayId=vgw)
        refused("InvalidVpc.Range", "10.40.0.0/24")
        refused("InvalidVpc.Range", "10.40.0.0/16")
        self.ec2.associate_vpc_cidr_block(VpcId=vid, CidrBlock="10.40.0.0/25")
        # 5 blocks in all
        self.ec2.associate_vpc_cidr_block(VpcId=vid, CidrBlock="10.41.0.0/16")
        msg = refused("CidrLimitExceeded", "10.42.0.0/16")
        self.assertIn("has met its maximum number of allowed CIDRs: 5", msg)

        # primary in 172.16.0.0/12: not 172.31.0.0/16, not 10.0.0.0/8
        v172 = self.vpc("172.20.0.0/16")
        refused("InvalidVpc.Range", "172.31.0.0/16", vpc=v172)
        refused("InvalidVpc.Range", "10.0.0.0/16", vpc=v172)
        self.ec2.associate_vpc_cidr_block(VpcId=v172, CidrBlock="172.21.0.0/16")
        # primary in 10.0.0.0/15: not 10.0.0.0/16
        v10 = self.vpc("10.1.0.0/16")
        refused("InvalidVpc.Range", "10.0.0.0/16", vpc=v10)
        # publicly routable primary: no RFC 1918 block
        vpub = self.vpc("198.51.100.0/24")
        refused("InvalidVpc.Range", "10.9.0.0/16", vpc=vpub)
        self.ec2.associate_vpc_cidr_block(VpcId=vpub, CidrBlock="100.65.0.0/16")

    def test_cli(self):
        vid = self.vpc("10.50.0.0/16")
        out = self.vpcd.cli("associate-vpc-cidr-block", "--vpc-id", vid, "--cidr-block", "10.51.0.0/20")
        assoc = out["CidrBlockAssociation"]["AssociationId"]
        self.assertEqual(self.blocks(vid)[1], ("10.51.0.0/20", "associated"))
        self.vpcd.cli("disassociate-vpc-cidr-block", "--association-id", assoc)
        self.assertEqual(len(self.blocks(vid)), 1)
        p = self.vpcd.cli("associate-vpc-cidr-block", "--vpc-id", vid, "--cidr-block", "192.168.0.0/16", check=False)
        self.assertIn("(InvalidVpc.Range)", p.stderr)
