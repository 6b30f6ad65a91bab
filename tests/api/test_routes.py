"""Route tables, routes and associations: CreateRouteTable,
DescribeRouteTables (ids, filters, paging), DeleteRouteTable,
AssociateRouteTable, DisassociateRouteTable, ReplaceRouteTableAssociation,
CreateRoute, ReplaceRoute, DeleteRoute; AWS's error codes and messages;
blackhole routes when an internet gateway goes away. boto3 and the aws CLI."""
from vpcdtest import VpcdTestCase

NOPE = "00000000000000000"


def tag_spec(rtype, **tags):
    return [{"ResourceType": rtype, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]


class RouteCase(VpcdTestCase):
    def vpc(self, cidr="10.0.0.0/16"):
        return self.ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]

    def subnet(self, vid, cidr):
        return self.ec2.create_subnet(VpcId=vid, CidrBlock=cidr)["Subnet"]["SubnetId"]

    def rtb(self, vid, **tags):
        kw = {"TagSpecifications": tag_spec("route-table", **tags)} if tags else {}
        return self.ec2.create_route_table(VpcId=vid, **kw)["RouteTable"]["RouteTableId"]

    def attached_igw(self, vid):
        gid = self.ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        self.ec2.attach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
        return gid

    def table(self, rid):
        return self.ec2.describe_route_tables(RouteTableIds=[rid])["RouteTables"][0]

    def main_table(self, vid):
        f = [{"Name": "vpc-id", "Values": [vid]}, {"Name": "association.main", "Values": ["true"]}]
        tables = self.ec2.describe_route_tables(Filters=f)["RouteTables"]
        self.assertEqual(len(tables), 1)
        return tables[0]

    def routes(self, rid):
        return {r["DestinationCidrBlock"]: r for r in self.table(rid)["Routes"]}

    def cli_error(self, code, *args):
        p = self.vpcd.cli(*args, check=False)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("(%s)" % code, p.stderr)
        return p.stderr


class TestRouteTable(RouteCase):
    def test_create(self):
        vid = self.vpc("10.7.0.0/16")
        out = self.ec2.create_route_table(VpcId=vid, TagSpecifications=tag_spec("route-table", Name="pub"),
                                          ClientToken="tok-1")
        rt = out["RouteTable"]
        self.assertRegex(rt["RouteTableId"], r"^rtb-[0-9a-f]{17}$")
        self.assertEqual(out["ClientToken"], "tok-1")
        self.assertEqual(rt["VpcId"], vid)
        self.assertEqual(rt["Associations"], [])
        self.assertEqual(rt["PropagatingVgws"], [])
        self.assertEqual(rt["Tags"], [{"Key": "Name", "Value": "pub"}])
        self.assertEqual(rt["Routes"], [{"DestinationCidrBlock": "10.7.0.0/16", "GatewayId": "local",
                                         "Origin": "CreateRouteTable", "State": "active"}])
        self.assertEqual(self.table(rt["RouteTableId"]), rt)
        self.assertError("InvalidVpcID.NotFound", self.ec2.create_route_table, VpcId="vpc-" + NOPE)

    def test_delete(self):
        vid = self.vpc()
        main = self.main_table(vid)["RouteTableId"]
        msg = self.assertError("DependencyViolation", self.ec2.delete_route_table, RouteTableId=main)
        self.assertEqual(msg, "The routeTable '%s' has dependencies and cannot be deleted." % main)
        rid = self.rtb(vid)
        sid = self.subnet(vid, "10.0.1.0/24")
        assoc = self.ec2.associate_route_table(RouteTableId=rid, SubnetId=sid)["AssociationId"]
        self.assertError("DependencyViolation", self.ec2.delete_route_table, RouteTableId=rid)
        self.assertError("DependencyViolation", self.ec2.delete_vpc, VpcId=vid)
        self.ec2.disassociate_route_table(AssociationId=assoc)
        self.ec2.delete_route_table(RouteTableId=rid)
        msg = self.assertError("InvalidRouteTableID.NotFound", self.ec2.describe_route_tables, RouteTableIds=[rid])
        self.assertEqual(msg, "The routeTable ID '%s' does not exist" % rid)
        self.assertError("InvalidRouteTableID.NotFound", self.ec2.delete_route_table, RouteTableId=rid)
        self.ec2.delete_subnet(SubnetId=sid)
        self.ec2.delete_vpc(VpcId=vid)

    def test_default_vpc_main_table(self):
        vpc = self.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        main = self.main_table(vpc)
        igw = self.ec2.describe_internet_gateways(
            Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])["InternetGateways"][0]["InternetGatewayId"]
        routes = {r["DestinationCidrBlock"]: r for r in main["Routes"]}
        self.assertEqual(routes["172.31.0.0/16"]["GatewayId"], "local")
        self.assertEqual(routes["0.0.0.0/0"], {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw,
                                               "Origin": "CreateRoute", "State": "active"})

    def test_dry_run(self):
        vid = self.vpc()
        self.assertError("DryRunOperation", self.ec2.create_route_table, VpcId=vid, DryRun=True)


class TestDescribeRouteTables(RouteCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        e = cls.ec2
        cls.vid = e.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        cls.vid2 = e.create_vpc(CidrBlock="10.21.0.0/16")["Vpc"]["VpcId"]
        cls.igw = e.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        e.attach_internet_gateway(InternetGatewayId=cls.igw, VpcId=cls.vid)
        cls.pub = e.create_route_table(VpcId=cls.vid, TagSpecifications=tag_spec("route-table", Name="pub",
                                                                               tier="web"))["RouteTable"]["RouteTableId"]
        cls.priv = e.create_route_table(VpcId=cls.vid, TagSpecifications=tag_spec("route-table", Name="priv"))[
            "RouteTable"]["RouteTableId"]
        cls.sub = e.create_subnet(VpcId=cls.vid, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
        cls.assoc = e.associate_route_table(RouteTableId=cls.pub, SubnetId=cls.sub)["AssociationId"]
        e.create_route(RouteTableId=cls.pub, DestinationCidrBlock="0.0.0.0/0", GatewayId=cls.igw)
        cls.main = [t["RouteTableId"] for t in e.describe_route_tables(
            Filters=[{"Name": "vpc-id", "Values": [cls.vid]}])["RouteTables"]
            if any(a["Main"] for a in t["Associations"])][0]

    def ids(self, *filters):
        fs = [{"Name": n, "Values": v} for n, v in filters]
        return {t["RouteTableId"] for t in self.ec2.describe_route_tables(Filters=fs)["RouteTables"]}

    def test_ids(self):
        got = self.ec2.describe_route_tables(RouteTableIds=[self.pub, self.priv])["RouteTables"]
        self.assertEqual({t["RouteTableId"] for t in got}, {self.pub, self.priv})
        self.assertError("InvalidRouteTableID.NotFound", self.ec2.describe_route_tables,
                         RouteTableIds=[self.pub, "rtb-" + NOPE])

    def test_filters(self):
        everything = {self.pub, self.priv, self.main}
        self.assertEqual(self.ids(("vpc-id", [self.vid])), everything)
        self.assertEqual(self.ids(("route-table-id", [self.priv])), {self.priv})
        self.assertEqual(self.ids(("association.subnet-id", [self.sub])), {self.pub})
        self.assertEqual(self.ids(("association.route-table-association-id", [self.assoc])), {self.pub})
        self.assertEqual(self.ids(("association.route-table-id", [self.pub])), {self.pub})
        self.assertEqual(self.ids(("association.main", ["true"]), ("vpc-id", [self.vid])), {self.main})
        self.assertEqual(self.ids(("association.main", ["false"]), ("vpc-id", [self.vid])), {self.pub})
        self.assertEqual(self.ids(("association.gateway-id", [self.igw])), set())
        self.assertEqual(self.ids(("route.destination-cidr-block", ["0.0.0.0/0"]), ("vpc-id", [self.vid])),
                         {self.pub})
        self.assertEqual(self.ids(("route.destination-cidr-block", ["10.20.0.0/16"])), everything)
        self.assertEqual(self.ids(("route.gateway-id", [self.igw])), {self.pub})
        self.assertEqual(self.ids(("route.gateway-id", ["local"]), ("vpc-id", [self.vid])), everything)
        self.assertEqual(self.ids(("route.origin", ["CreateRoute"]), ("vpc-id", [self.vid])), {self.pub})
        self.assertEqual(self.ids(("route.origin", ["CreateRouteTable"]), ("vpc-id", [self.vid])), everything)
        self.assertEqual(self.ids(("route.state", ["active"]), ("vpc-id", [self.vid])), everything)
        self.assertEqual(self.ids(("route.state", ["blackhole"]), ("vpc-id", [self.vid])), set())
        for name in ("route.instance-id", "route.nat-gateway-id", "route.transit-gateway-id",
                     "route.vpc-peering-connection-id", "route.destination-ipv6-cidr-block",
                     "route.destination-prefix-list-id", "route.egress-only-internet-gateway-id"):
            self.assertEqual(self.ids((name, ["x-*"])), set(), name)
        self.assertEqual(self.ids(("tag:Name", ["pub", "priv"])), {self.pub, self.priv})
        self.assertEqual(self.ids(("tag-key", ["tier"])), {self.pub})
        self.assertEqual(self.ids(("tag:Name", ["p*"]), ("route.gateway-id", ["igw-*"])), {self.pub})
        owner = self.table(self.pub)["OwnerId"]
        self.assertIn(self.pub, self.ids(("owner-id", [owner])))
        self.assertError("InvalidParameterValue", self.ec2.describe_route_tables,
                         Filters=[{"Name": "route.bogus", "Values": ["x"]}])

    def test_paging(self):
        vid = self.vpc("10.30.0.0/16")
        made = {self.rtb(vid) for _ in range(6)}
        made.add(self.main_table(vid)["RouteTableId"])
        f = [{"Name": "vpc-id", "Values": [vid]}]
        page = self.ec2.describe_route_tables(Filters=f, MaxResults=5)
        self.assertEqual(len(page["RouteTables"]), 5)
        rest = self.ec2.describe_route_tables(Filters=f, MaxResults=5, NextToken=page["NextToken"])
        self.assertNotIn("NextToken", rest)
        got = [t["RouteTableId"] for t in page["RouteTables"] + rest["RouteTables"]]
        self.assertEqual(len(got), 7)
        self.assertEqual(set(got), made)
        self.assertError("InvalidParameterValue", self.ec2.describe_route_tables, MaxResults=101)
        self.assertError("InvalidNextToken", self.ec2.describe_route_tables, NextToken="garbage")
        out = self.vpcd.cli("describe-route-tables", "--filters", "Name=vpc-id,Values=" + vid, "--page-size", "5")
        self.assertEqual({t["RouteTableId"] for t in out["RouteTables"]}, made)

    def test_cli(self):
        out = self.vpcd.cli("describe-route-tables", "--filters", "Name=association.subnet-id,Values=" + self.sub)
        self.assertEqual([t["RouteTableId"] for t in out["RouteTables"]], [self.pub])
        out = self.vpcd.cli("describe-route-tables", "--route-table-ids", self.priv)
        self.assertEqual(out["RouteTables"][0]["Tags"], [{"Key": "Name", "Value": "priv"}])


class TestAssociations(RouteCase):
    def test_associate_and_disassociate(self):
        vid = self.vpc()
        rid, sid = self.rtb(vid), self.subnet(vid, "10.0.1.0/24")
        out = self.ec2.associate_route_table(RouteTableId=rid, SubnetId=sid)
        self.assertRegex(out["AssociationId"], r"^rtbassoc-[0-9a-f]{17}$")
        self.assertEqual(out["AssociationState"], {"State": "associated"})
        self.assertEqual(self.table(rid)["Associations"], [{
            "Main": False, "RouteTableAssociationId": out["AssociationId"], "RouteTableId": rid,
            "SubnetId": sid, "AssociationState": {"State": "associated"}}])
        # a subnet has one explicit association, whichever table asks
        other = self.rtb(vid)
        for table in (rid, other):
            msg = self.assertError("Resource.AlreadyAssociated", self.ec2.associate_route_table,
                                   RouteTableId=table, SubnetId=sid)
            self.assertEqual(msg, "the specified association for route table %s conflicts with an existing "
                                  "association" % table)
        self.ec2.disassociate_route_table(AssociationId=out["AssociationId"])
        self.assertEqual(self.table(rid)["Associations"], [])
        msg = self.assertError("InvalidAssociationID.NotFound", self.ec2.disassociate_route_table,
                               AssociationId=out["AssociationId"])
        self.assertEqual(msg, "The association ID '%s' does not exist" % out["AssociationId"])
        # back on the main table implicitly; now free to associate again
        self.ec2.associate_route_table(RouteTableId=other, SubnetId=sid)

    def test_associate_errors(self):
        vid, vid2 = self.vpc(), self.vpc("10.1.0.0/16")
        rid, sid2 = self.rtb(vid), self.subnet(vid2, "10.1.1.0/24")
        msg = self.assertError("InvalidParameterValue", self.ec2.associate_route_table, RouteTableId=rid,
                               SubnetId=sid2)
        self.assertEqual(msg, "Route table %s and subnet %s belong to different networks" % (rid, sid2))
        msg = self.assertError("InvalidSubnetID.NotFound", self.ec2.associate_route_table, RouteTableId=rid,
                               SubnetId="subnet-" + NOPE)
        self.assertEqual(msg, "The subnet ID 'subnet-%s' does not exist" % NOPE)
        self.assertError("InvalidRouteTableID.NotFound", self.ec2.associate_route_table,
                         RouteTableId="rtb-" + NOPE, SubnetId=sid2)
        self.assertError("MissingParameter", self.ec2.associate_route_table, RouteTableId=rid)
        gid = self.attached_igw(vid)
        self.assertError("InvalidParameterCombination", self.ec2.associate_route_table, RouteTableId=rid,
                         SubnetId=self.subnet(vid, "10.0.2.0/24"), GatewayId=gid)

    def test_gateway_association(self):
        vid, vid2 = self.vpc(), self.vpc("10.1.0.0/16")
        rid = self.rtb(vid)
        gid = self.attached_igw(vid)
        gid2 = self.attached_igw(vid2)
        msg = self.assertError("InvalidParameterValue", self.ec2.associate_route_table, RouteTableId=rid,
                               GatewayId=gid2)
        self.assertIn("belong to different networks", msg)
        self.assertError("InvalidGatewayID.NotFound", self.ec2.associate_route_table, RouteTableId=rid,
                         GatewayId="igw-" + NOPE)
        out = self.ec2.associate_route_table(RouteTableId=rid, GatewayId=gid)
        self.assertEqual(out["AssociationState"], {"State": "associated"})
        got = self.ec2.describe_route_tables(
            Filters=[{"Name": "association.gateway-id", "Values": [gid]}])["RouteTables"]
        self.assertEqual([t["RouteTableId"] for t in got], [rid])
        self.assertEqual(got[0]["Associations"][0]["GatewayId"], gid)
        self.assertError("Resource.AlreadyAssociated", self.ec2.associate_route_table, RouteTableId=rid,
                         GatewayId=gid)
        self.ec2.disassociate_route_table(AssociationId=out["AssociationId"])

    def test_main_association(self):
        vid = self.vpc()
        main = self.main_table(vid)
        main_assoc = main["Associations"][0]["RouteTableAssociationId"]
        msg = self.assertError("InvalidParameterValue", self.ec2.disassociate_route_table, AssociationId=main_assoc)
        self.assertEqual(msg, "cannot disassociate the main route table association %s" % main_assoc)
        # replacing the main association makes the new table the main one
        rid = self.rtb(vid)
        out = self.ec2.replace_route_table_association(AssociationId=main_assoc, RouteTableId=rid)
        self.assertRegex(out["NewAssociationId"], r"^rtbassoc-[0-9a-f]{17}$")
        self.assertEqual(out["AssociationState"], {"State": "associated"})
        self.assertEqual(self.main_table(vid)["RouteTableId"], rid)
        self.assertEqual(self.table(rid)["Associations"], [{
            "Main": True, "RouteTableAssociationId": out["NewAssociationId"], "RouteTableId": rid,
            "AssociationState": {"State": "associated"}}])
        self.assertEqual(self.table(main["RouteTableId"])["Associations"], [])
        self.assertError("InvalidAssociationID.NotFound", self.ec2.replace_route_table_association,
                         AssociationId=main_assoc, RouteTableId=rid)
        # the old main table is an ordinary table now; the new one cannot go
        self.ec2.delete_route_table(RouteTableId=main["RouteTableId"])
        self.assertError("DependencyViolation", self.ec2.delete_route_table, RouteTableId=rid)
        self.ec2.delete_vpc(VpcId=vid)

    def test_replace_subnet_association(self):
        vid, vid2 = self.vpc(), self.vpc("10.1.0.0/16")
        a, b, sid = self.rtb(vid), self.rtb(vid), self.subnet(vid, "10.0.1.0/24")
        first = self.ec2.associate_route_table(RouteTableId=a, SubnetId=sid)["AssociationId"]
        new = self.ec2.replace_route_table_association(AssociationId=first, RouteTableId=b)["NewAssociationId"]
        self.assertNotEqual(new, first)
        self.assertEqual(self.table(a)["Associations"], [])
        self.assertEqual([(x["SubnetId"], x["RouteTableAssociationId"], x["Main"]) for x in self.table(b)["Associations"]],
                         [(sid, new, False)])
        foreign = self.rtb(vid2)
        msg = self.assertError("InvalidParameterValue", self.ec2.replace_route_table_association,
                               AssociationId=new, RouteTableId=foreign)
        self.assertIn("belong to different networks", msg)
        self.assertError("InvalidRouteTableID.NotFound", self.ec2.replace_route_table_association,
                         AssociationId=new, RouteTableId="rtb-" + NOPE)
        self.assertError("InvalidAssociationID.NotFound", self.ec2.replace_route_table_association,
                         AssociationId="rtbassoc-" + NOPE, RouteTableId=a)

    def test_delete_subnet_drops_association(self):
        vid = self.vpc()
        rid, sid = self.rtb(vid), self.subnet(vid, "10.0.1.0/24")
        self.ec2.associate_route_table(RouteTableId=rid, SubnetId=sid)
        self.ec2.delete_subnet(SubnetId=sid)
        self.assertEqual(self.table(rid)["Associations"], [])
        self.ec2.delete_route_table(RouteTableId=rid)

    def test_cli(self):
        vid = self.vpc()
        rid = self.vpcd.cli("create-route-table", "--vpc-id", vid, "--tag-specifications",
                            "ResourceType=route-table,Tags=[{Key=Name,Value=cli}]")["RouteTable"]["RouteTableId"]
        other = self.rtb(vid)
        sid = self.subnet(vid, "10.0.1.0/24")
        out = self.vpcd.cli("associate-route-table", "--route-table-id", rid, "--subnet-id", sid)
        self.assertEqual(out["AssociationState"], {"State": "associated"})
        self.cli_error("Resource.AlreadyAssociated", "associate-route-table", "--route-table-id", rid,
                       "--subnet-id", sid)
        new = self.vpcd.cli("replace-route-table-association", "--association-id", out["AssociationId"],
                            "--route-table-id", other)["NewAssociationId"]
        self.cli_error("DependencyViolation", "delete-route-table", "--route-table-id", other)
        self.vpcd.cli("disassociate-route-table", "--association-id", new)
        self.cli_error("InvalidAssociationID.NotFound", "disassociate-route-table", "--association-id", new)
        main_assoc = self.main_table(vid)["Associations"][0]["RouteTableAssociationId"]
        self.cli_error("InvalidParameterValue", "disassociate-route-table", "--association-id", main_assoc)
        self.vpcd.cli("delete-route-table", "--route-table-id", rid)
        self.cli_error("InvalidRouteTableID.NotFound", "delete-route-table", "--route-table-id", rid)


class TestRoutes(RouteCase):
    def test_create_route(self):
        vid = self.vpc()
        rid, gid = self.rtb(vid), self.attached_igw(vid)
        out = self.ec2.create_route(RouteTableId=rid, DestinationCidrBlock="0.0.0.0/0", GatewayId=gid)
        self.assertTrue(out["Return"])
        # host bits are cleared, as AWS stores it
        self.ec2.create_route(RouteTableId=rid, DestinationCidrBlock="192.0.2.77/24", GatewayId=gid)
        routes = self.routes(rid)
        self.assertEqual(routes["0.0.0.0/0"], {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": gid,
                                               "Origin": "CreateRoute", "State": "active"})
        self.assertIn("192.0.2.0/24", routes)
        msg = self.assertError("RouteAlreadyExists", self.ec2.create_route, RouteTableId=rid,
                               DestinationCidrBlock="0.0.0.0/0", GatewayId=gid)
        self.assertEqual(msg, "The route identified by 0.0.0.0/0 already exists.")
        self.assertError("RouteAlreadyExists", self.ec2.create_route, RouteTableId=rid,
                         DestinationCidrBlock="192.0.2.0/24", GatewayId=gid)
        # the local route's destination is taken too
        self.assertError("RouteAlreadyExists", self.ec2.create_route, RouteTableId=rid,
                         DestinationCidrBlock="10.0.0.0/16", GatewayId=gid)

    def test_create_route_errors(self):
        vid, vid2 = self.vpc(), self.vpc("10.1.0.0/16")
        rid = self.rtb(vid)
        gid2 = self.attached_igw(vid2)
        loose = self.ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        for gw in (gid2, loose):
            msg = self.assertError("InvalidParameterValue", self.ec2.create_route, RouteTableId=rid,
                                   DestinationCidrBlock="0.0.0.0/0", GatewayId=gw)
            self.assertEqual(msg, "route table %s and network gateway %s belong to different networks" % (rid, gw))
        for gw in ("igw-" + NOPE, "vgw-" + NOPE, "i-" + NOPE):
            msg = self.assertError("InvalidGatewayID.NotFound", self.ec2.create_route, RouteTableId=rid,
                                   DestinationCidrBlock="0.0.0.0/0", GatewayId=gw)
            self.assertEqual(msg, "The gateway ID '%s' does not exist" % gw)
        not_found = [("NatGatewayId", "nat-", "InvalidNatGatewayID.NotFound"),
                     ("NetworkInterfaceId", "eni-", "InvalidNetworkInterfaceID.NotFound"),
                     ("InstanceId", "i-", "InvalidInstanceID.NotFound"),
                     ("VpcPeeringConnectionId", "pcx-", "InvalidVpcPeeringConnectionID.NotFound"),
                     ("TransitGatewayId", "tgw-", "InvalidTransitGatewayID.NotFound")]
        for member, prefix, code in not_found:
            msg = self.assertError(code, self.ec2.create_route, RouteTableId=rid, DestinationCidrBlock="0.0.0.0/0",
                                   **{member: prefix + NOPE})
            self.assertIn("'%s%s' does not exist" % (prefix, NOPE), msg)
        self.assertError("MissingParameter", self.ec2.create_route, RouteTableId=rid, DestinationCidrBlock="0.0.0.0/0")
        self.assertError("InvalidParameterCombination", self.ec2.create_route, RouteTableId=rid,
                         DestinationCidrBlock="0.0.0.0/0", GatewayId=gid2, NatGatewayId="nat-" + NOPE)
        msg = self.assertError("MissingParameter", self.ec2.create_route, RouteTableId=rid, GatewayId=gid2)
        self.assertEqual(msg, "The request must contain the parameter destinationCidrBlock or destinationIpv6CidrBlock")
        for bad in ("10.0.0.0/33", "300.0.0.0/8", "nonsense"):
            msg = self.assertError("InvalidParameterValue", self.ec2.create_route, RouteTableId=rid,
                                   DestinationCidrBlock=bad, GatewayId=gid2)
            self.assertEqual(msg, "Value (%s) for parameter destinationCidrBlock is invalid. "
                                  "This is not a valid CIDR block." % bad)
        msg = self.assertError("InvalidRouteTableID.NotFound", self.ec2.create_route, RouteTableId="rtb-" + NOPE,
                               DestinationCidrBlock="0.0.0.0/0", GatewayId=gid2)
        self.assertEqual(msg, "The routeTable ID 'rtb-%s' does not exist" % NOPE)
        self.assertEqual(list(self.routes(rid)), ["10.0.0.0/16"])

    def test_replace_route(self):
        vid = self.vpc()
        rid, gid = self.rtb(vid), self.attached_igw(vid)
        self.ec2.create_route(RouteTableId=rid, DestinationCidrBlock="0.0.0.0/0", GatewayId=gid)
        # the gateway goes away: the route stays, as a blackhole, until replaced
        self.ec2.detach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
        self.ec2.delete_internet_gateway(InternetGatewayId=gid)
        self.assertEqual(self.routes(rid)["0.0.0.0/0"]["State"], "blackhole")
        gid2 = self.attached_igw(vid)
        self.assertIsNone(self.ec2.replace_route(RouteTableId=rid, DestinationCidrBlock="0.0.0.0/0",
                                                 GatewayId=gid2).get("Return"))
        self.assertEqual(self.routes(rid)["0.0.0.0/0"], {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": gid2,
                                                         "Origin": "CreateRoute", "State": "active"})
        self.assertEqual([r["DestinationCidrBlock"] for r in self.table(rid)["Routes"]], ["10.0.0.0/16", "0.0.0.0/0"])
        msg = self.assertError("InvalidParameterValue", self.ec2.replace_route, RouteTableId=rid,
                               DestinationCidrBlock="198.51.100.0/24", GatewayId=gid2)
        self.assertEqual(msg, "There is no route defined for '198.51.100.0/24' in the route table. "
                              "Use CreateRoute instead.")
        msg = self.assertError("InvalidParameterValue", self.ec2.replace_route, RouteTableId=rid,
                               DestinationCidrBlock="10.0.0.0/16", GatewayId=gid2)
        self.assertIn("local route", msg)
        self.assertError("InvalidGatewayID.NotFound", self.ec2.replace_route, RouteTableId=rid,
                         DestinationCidrBlock="0.0.0.0/0", GatewayId="igw-" + NOPE)
        self.assertError("MissingParameter", self.ec2.replace_route, RouteTableId=rid, DestinationCidrBlock="0.0.0.0/0")
        self.assertEqual(self.routes(rid)["0.0.0.0/0"]["GatewayId"], gid2)

    def test_delete_route(self):
        vid = self.vpc()
        rid, gid = self.rtb(vid), self.attached_igw(vid)
        self.ec2.create_route(RouteTableId=rid, DestinationCidrBlock="203.0.113.0/24", GatewayId=gid)
        self.ec2.delete_route(RouteTableId=rid, DestinationCidrBlock="203.0.113.9/24")
        self.assertEqual(list(self.routes(rid)), ["10.0.0.0/16"])
        msg = self.assertError("InvalidRoute.NotFound", self.ec2.delete_route, RouteTableId=rid,
                               DestinationCidrBlock="203.0.113.0/24")
        self.assertEqual(msg, "no route with destination-cidr-block 203.0.113.0/24 in route table %s" % rid)
        msg = self.assertError("InvalidParameterValue", self.ec2.delete_route, RouteTableId=rid,
                               DestinationCidrBlock="10.0.0.0/16")
        self.assertEqual(msg, "cannot remove local route 10.0.0.0/16 in route table %s" % rid)
        self.assertError("InvalidRouteTableID.NotFound", self.ec2.delete_route, RouteTableId="rtb-" + NOPE,
                         DestinationCidrBlock="10.0.0.0/16")
        self.assertError("MissingParameter", self.ec2.delete_route, RouteTableId=rid)

    def test_vpn_gateway_target(self):
        vid = self.vpc()
        rid = self.rtb(vid)
        vgw = self.ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
        msg = self.assertError("InvalidParameterValue", self.ec2.create_route, RouteTableId=rid,
                               DestinationCidrBlock="192.168.0.0/16", GatewayId=vgw)
        self.assertEqual(msg, "route table %s and network gateway %s belong to different networks" % (rid, vgw))
        self.ec2.attach_vpn_gateway(VpnGatewayId=vgw, VpcId=vid)
        self.ec2.create_route(RouteTableId=rid, DestinationCidrBlock="192.168.0.0/16", GatewayId=vgw)
        self.assertEqual(self.routes(rid)["192.168.0.0/16"], {"DestinationCidrBlock": "192.168.0.0/16",
                                                              "GatewayId": vgw, "Origin": "CreateRoute",
                                                              "State": "active"})
        got = self.ec2.describe_route_tables(Filters=[{"Name": "route.gateway-id", "Values": [vgw]}])["RouteTables"]
        self.assertEqual([t["RouteTableId"] for t in got], [rid])

    def test_main_table_routes(self):
        vid = self.vpc()
        main = self.main_table(vid)["RouteTableId"]
        gid = self.attached_igw(vid)
        self.ec2.create_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0", GatewayId=gid)
        self.assertEqual(self.routes(main)["0.0.0.0/0"]["State"], "active")
        self.ec2.delete_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0")

    def test_blackhole_on_detach(self):
        vid = self.vpc()
        rid, gid = self.rtb(vid), self.attached_igw(vid)
        main = self.main_table(vid)["RouteTableId"]
        for table in (rid, main):
            self.ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gid)
        self.ec2.detach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
        for table in (rid, main):
            self.assertEqual(self.routes(table)["0.0.0.0/0"]["State"], "blackhole")
            self.assertEqual(self.routes(table)["10.0.0.0/16"]["State"], "active")
        got = self.ec2.describe_route_tables(Filters=[{"Name": "route.state", "Values": ["blackhole"]},
                                                      {"Name": "vpc-id", "Values": [vid]}])["RouteTables"]
        self.assertEqual({t["RouteTableId"] for t in got}, {rid, main})
        # a route to a detached gateway cannot be created, but the old ones come back with it
        rid2 = self.rtb(vid)
        self.assertError("InvalidParameterValue", self.ec2.create_route, RouteTableId=rid2,
                         DestinationCidrBlock="0.0.0.0/0", GatewayId=gid)
        self.ec2.attach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
        self.assertEqual(self.routes(rid)["0.0.0.0/0"]["State"], "active")
        # deleted: blackhole for good
        self.ec2.detach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
        self.ec2.delete_internet_gateway(InternetGatewayId=gid)
        self.assertEqual(self.routes(rid)["0.0.0.0/0"], {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": gid,
                                                         "Origin": "CreateRoute", "State": "blackhole"})
        # a blackhole route is still a route
        self.ec2.delete_route(RouteTableId=rid, DestinationCidrBlock="0.0.0.0/0")

    def test_blackhole_survives_restart(self):
        vid = self.vpc()
        rid, gid = self.rtb(vid), self.attached_igw(vid)
        self.ec2.create_route(RouteTableId=rid, DestinationCidrBlock="0.0.0.0/0", GatewayId=gid)
        self.ec2.detach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
        self.vpcd.restart()
        self.assertEqual(self.routes(rid)["0.0.0.0/0"]["State"], "blackhole")

    def test_cli(self):
        vid = self.vpc()
        rid, gid = self.rtb(vid), self.attached_igw(vid)
        out = self.vpcd.cli("create-route", "--route-table-id", rid, "--destination-cidr-block", "0.0.0.0/0",
                            "--gateway-id", gid)
        self.assertTrue(out["Return"])
        self.cli_error("RouteAlreadyExists", "create-route", "--route-table-id", rid, "--destination-cidr-block",
                       "0.0.0.0/0", "--gateway-id", gid)
        err = self.cli_error("InvalidGatewayID.NotFound", "create-route", "--route-table-id", rid,
                             "--destination-cidr-block", "192.0.2.0/24", "--gateway-id", "igw-" + NOPE)
        self.assertIn("The gateway ID 'igw-%s' does not exist" % NOPE, err)
        self.vpcd.cli("replace-route", "--route-table-id", rid, "--destination-cidr-block", "0.0.0.0/0",
                      "--gateway-id", gid)
        self.cli_error("InvalidParameterValue", "replace-route", "--route-table-id", rid,
                       "--destination-cidr-block", "10.0.0.0/16", "--gateway-id", gid)
        out = self.vpcd.cli("describe-route-tables", "--filters", "Name=route.gateway-id,Values=" + gid)
        self.assertEqual([t["RouteTableId"] for t in out["RouteTables"]], [rid])
        self.vpcd.cli("delete-route", "--route-table-id", rid, "--destination-cidr-block", "0.0.0.0/0")
        self.cli_error("InvalidRoute.NotFound", "delete-route", "--route-table-id", rid,
                       "--destination-cidr-block", "0.0.0.0/0")
        self.cli_error("InvalidParameterValue", "delete-route", "--route-table-id", rid,
                       "--destination-cidr-block", "10.0.0.0/16")


if __name__ == "__main__":
    import unittest
    unittest.main()
