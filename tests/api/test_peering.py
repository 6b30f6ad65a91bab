"""VPC peering connections through boto3 and the aws CLI: create
(initiating-request -> pending-acceptance), accept (active, peering
options), reject, delete (still describable), overlapping CIDRs (failed),
routes with VpcPeeringConnectionId (blackhole until active and after
delete), ModifyVpcPeeringConnectionOptions, tags, filters, paging, DryRun,
waiters and AWS's errors; peer security groups; a connection to another
region, seen from both, accepted in the accepter's."""
from vpcdtest import VpcdTestCase, REGION

ACCOUNT = "123456789012"


class T(VpcdTestCase):
    octet = 60

    def setUp(self):
        T.octet += 2
        self.a = self.ec2.create_vpc(CidrBlock="10.%d.0.0/16" % T.octet)["Vpc"]["VpcId"]
        self.b = self.ec2.create_vpc(CidrBlock="10.%d.0.0/16" % (T.octet + 1))["Vpc"]["VpcId"]

    def create(self, **kw):
        args = dict(VpcId=self.a, PeerVpcId=self.b)
        args.update(kw)
        return self.ec2.create_vpc_peering_connection(**args)["VpcPeeringConnection"]

    def get(self, pcx):
        return self.ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx])["VpcPeeringConnections"][0]

    def route(self, rtb, dest):
        return [r for r in self.ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]["Routes"]
                if r["DestinationCidrBlock"] == dest][0]

    def test_lifecycle_and_routes(self):
        p = self.create(TagSpecifications=[{"ResourceType": "vpc-peering-connection",
                                            "Tags": [{"Key": "Name", "Value": "a-b"}]}])
        pcx = p["VpcPeeringConnectionId"]
        self.assertRegex(pcx, r"^pcx-[0-9a-f]{17}$")
        self.assertEqual(p["Status"], {"Code": "initiating-request", "Message": "Initiating Request to " + ACCOUNT})
        self.assertEqual(p["RequesterVpcInfo"]["VpcId"], self.a)
        self.assertEqual(p["RequesterVpcInfo"]["CidrBlock"], "10.%d.0.0/16" % T.octet)
        self.assertEqual(p["RequesterVpcInfo"]["OwnerId"], ACCOUNT)
        self.assertEqual(p["RequesterVpcInfo"]["Region"], REGION)
        self.assertEqual(p["AccepterVpcInfo"]["VpcId"], self.b)
        self.assertEqual(p["Tags"], [{"Key": "Name", "Value": "a-b"}])
        self.ec2.get_waiter("vpc_peering_connection_exists").wait(VpcPeeringConnectionIds=[pcx])
        g = self.get(pcx)
        self.assertEqual(g["Status"], {"Code": "pending-acceptance", "Message": "Pending Acceptance by " + ACCOUNT})
        self.assertIn("ExpirationTime", g)
        self.assertEqual(g["AccepterVpcInfo"]["CidrBlock"], "10.%d.0.0/16" % (T.octet + 1))
        self.assertEqual(g["AccepterVpcInfo"]["CidrBlockSet"], [{"CidrBlock": "10.%d.0.0/16" % (T.octet + 1)}])
        # a route to it may exist before it is active, as a blackhole
        rtb = self.ec2.create_route_table(VpcId=self.a)["RouteTable"]["RouteTableId"]
        dest = "10.%d.0.0/16" % (T.octet + 1)
        self.ec2.create_route(RouteTableId=rtb, DestinationCidrBlock=dest, VpcPeeringConnectionId=pcx)
        self.assertEqual(self.route(rtb, dest)["State"], "blackhole")
        acc = self.ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)["VpcPeeringConnection"]
        self.assertEqual(acc["Status"]["Code"], "provisioning")
        g = self.get(pcx)
        self.assertEqual(g["Status"], {"Code": "active", "Message": "Active"})
        self.assertNotIn("ExpirationTime", g)
        self.assertEqual(g["RequesterVpcInfo"]["PeeringOptions"],
                         {"AllowDnsResolutionFromRemoteVpc": False, "AllowEgressFromLocalClassicLinkToRemoteVpc": False,
                          "AllowEgressFromLocalVpcToRemoteClassicLink": False})
        self.assertEqual(self.route(rtb, dest)["State"], "active")
        self.assertEqual(self.route(rtb, dest)["VpcPeeringConnectionId"], pcx)
        # the accepter's side routes back
        rtb_b = self.ec2.create_route_table(VpcId=self.b)["RouteTable"]["RouteTableId"]
        self.ec2.create_route(RouteTableId=rtb_b, DestinationCidrBlock="10.%d.0.0/16" % T.octet,
                              VpcPeeringConnectionId=pcx)
        self.assertEqual(self.route(rtb_b, "10.%d.0.0/16" % T.octet)["State"], "active")
        found = self.ec2.describe_route_tables(Filters=[{"Name": "route.vpc-peering-connection-id", "Values": [pcx]}])
        self.assertEqual(sorted(t["RouteTableId"] for t in found["RouteTables"]), sorted([rtb, rtb_b]))
        # a third VPC's table cannot use it
        c = self.ec2.create_vpc(CidrBlock="172.20.0.0/16")["Vpc"]["VpcId"]
        rtb_c = self.ec2.create_route_table(VpcId=c)["RouteTable"]["RouteTableId"]
        self.assertIn("belong to different networks", self.assertError(
            "InvalidParameterValue", self.ec2.create_route, RouteTableId=rtb_c, DestinationCidrBlock=dest,
            VpcPeeringConnectionId=pcx))
        self.assertError("InvalidStateTransition", self.ec2.accept_vpc_peering_connection, VpcPeeringConnectionId=pcx)
        self.assertError("InvalidStateTransition", self.ec2.reject_vpc_peering_connection, VpcPeeringConnectionId=pcx)
        self.assertTrue(self.ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=pcx)["Return"])
        g = self.get(pcx)
        self.assertEqual(g["Status"], {"Code": "deleted", "Message": "Deleted by " + ACCOUNT})
        self.assertNotIn("PeeringOptions", g["RequesterVpcInfo"])
        self.assertEqual(self.route(rtb, dest)["State"], "blackhole")
        self.ec2.get_waiter("vpc_peering_connection_deleted").wait(VpcPeeringConnectionIds=[pcx])
        self.assertError("InvalidStateTransition", self.ec2.delete_vpc_peering_connection, VpcPeeringConnectionId=pcx)

    def test_reject(self):
        pcx = self.create()["VpcPeeringConnectionId"]
        self.assertTrue(self.ec2.reject_vpc_peering_connection(VpcPeeringConnectionId=pcx)["Return"])
        self.assertEqual(self.get(pcx)["Status"], {"Code": "rejected", "Message": "Rejected by " + ACCOUNT})
        self.assertError("InvalidStateTransition", self.ec2.accept_vpc_peering_connection, VpcPeeringConnectionId=pcx)
        # a rejected request does not block a new one
        self.create()

    def test_overlap_fails(self):
        c = self.ec2.create_vpc(CidrBlock="10.%d.128.0/17" % T.octet)["Vpc"]["VpcId"]
        p = self.create(PeerVpcId=c)
        g = self.get(p["VpcPeeringConnectionId"])
        self.assertEqual(g["Status"]["Code"], "failed")
        self.assertEqual(g["Status"]["Message"], "Overlapping CIDR range")
        self.assertError("InvalidStateTransition", self.ec2.accept_vpc_peering_connection,
                         VpcPeeringConnectionId=p["VpcPeeringConnectionId"])

    def test_errors(self):
        self.assertError("InvalidVpcID.NotFound", self.create, PeerVpcId="vpc-0123456789abcdef0")
        self.assertError("InvalidVpcID.NotFound", self.create, VpcId="vpc-0123456789abcdef0")
        self.assertError("MissingParameter", self.ec2.create_vpc_peering_connection, VpcId=self.a)
        self.assertError("InvalidVpcPeeringConnection.Duplicate", self.create, PeerVpcId=self.a)
        self.assertError("InvalidRegion", self.create, PeerRegion="xx-nowhere-1")
        self.assertEqual(self.create(PeerRegion=REGION, PeerOwnerId=ACCOUNT)["AccepterVpcInfo"]["Region"], REGION)
        self.assertError("VpcPeeringConnectionAlreadyExists", self.create, VpcId=self.b, PeerVpcId=self.a)
        for fn in (self.ec2.accept_vpc_peering_connection, self.ec2.reject_vpc_peering_connection,
                   self.ec2.delete_vpc_peering_connection):
            self.assertError("InvalidVpcPeeringConnectionID.NotFound", fn, VpcPeeringConnectionId="pcx-0123456789abcdef0")
        msg = self.assertError("InvalidVpcPeeringConnectionID.NotFound", self.ec2.describe_vpc_peering_connections,
                               VpcPeeringConnectionIds=["pcx-0123456789abcdef0"])
        self.assertEqual(msg, "The vpcPeeringConnection ID 'pcx-0123456789abcdef0' does not exist")
        n = len(self.ec2.describe_vpc_peering_connections()["VpcPeeringConnections"])
        self.assertError("DryRunOperation", self.create, VpcId=self.b, PeerVpcId=self.a, DryRun=True)
        self.assertEqual(len(self.ec2.describe_vpc_peering_connections()["VpcPeeringConnections"]), n)

    def test_modify_options(self):
        pcx = self.create()["VpcPeeringConnectionId"]
        self.assertError("OperationNotPermitted", self.ec2.modify_vpc_peering_connection_options,
                         VpcPeeringConnectionId=pcx,
                         RequesterPeeringConnectionOptions={"AllowDnsResolutionFromRemoteVpc": True})
        self.ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
        out = self.ec2.modify_vpc_peering_connection_options(
            VpcPeeringConnectionId=pcx, RequesterPeeringConnectionOptions={"AllowDnsResolutionFromRemoteVpc": True})
        self.assertTrue(out["RequesterPeeringConnectionOptions"]["AllowDnsResolutionFromRemoteVpc"])
        self.assertNotIn("AccepterPeeringConnectionOptions", out)
        g = self.get(pcx)
        self.assertTrue(g["RequesterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"])
        self.assertFalse(g["AccepterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"])
        self.assertError("InvalidParameterValue", self.ec2.modify_vpc_peering_connection_options,
                         VpcPeeringConnectionId=pcx,
                         AccepterPeeringConnectionOptions={"AllowEgressFromLocalVpcToRemoteClassicLink": True})
        self.assertError("MissingParameter", self.ec2.modify_vpc_peering_connection_options, VpcPeeringConnectionId=pcx)

    def test_filters_paging_and_cli(self):
        p1 = self.create()["VpcPeeringConnectionId"]
        c = self.ec2.create_vpc(CidrBlock="172.%d.0.0/16" % (T.octet % 16 + 16))["Vpc"]["VpcId"]
        p2 = self.create(PeerVpcId=c)["VpcPeeringConnectionId"]
        self.ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=p2)

        def ids(*filters):
            f = [{"Name": n, "Values": v} for n, v in filters] + [{"Name": "requester-vpc-info.vpc-id", "Values": [self.a]}]
            return sorted(x["VpcPeeringConnectionId"] for x in
                          self.ec2.describe_vpc_peering_connections(Filters=f)["VpcPeeringConnections"])

        self.assertEqual(ids(), sorted([p1, p2]))
        self.assertEqual(ids(("status-code", ["active"])), [p2])
        self.assertEqual(ids(("status-code", ["pending-acceptance"])), [p1])
        self.assertEqual(ids(("accepter-vpc-info.vpc-id", [c])), [p2])
        self.assertEqual(ids(("accepter-vpc-info.cidr-block", ["10.%d.0.0/16" % (T.octet + 1)])), [p1])
        self.assertEqual(ids(("vpc-peering-connection-id", [p1])), [p1])
        self.assertEqual(ids(("status-message", ["Active"])), [p2])
        self.ec2.create_tags(Resources=[p1], Tags=[{"Key": "env", "Value": "test"}])
        self.assertEqual(ids(("tag:env", ["test"])), [p1])
        self.assertEqual(ids(("tag-key", ["env"])), [p1])
        page = self.ec2.describe_vpc_peering_connections(MaxResults=5)
        self.assertLessEqual(len(page["VpcPeeringConnections"]), 5)
        total = sum(len(p["VpcPeeringConnections"]) for p in
                    self.ec2.get_paginator("describe_vpc_peering_connections").paginate(PaginationConfig={"PageSize": 5}))
        self.assertEqual(total, len(self.ec2.describe_vpc_peering_connections()["VpcPeeringConnections"]))
        # the aws CLI
        d = self.ec2.create_vpc(CidrBlock="192.168.%d.0/24" % T.octet)["Vpc"]["VpcId"]
        out = self.vpcd.cli("create-vpc-peering-connection", "--vpc-id", self.a, "--peer-vpc-id", d)
        pcx = out["VpcPeeringConnection"]["VpcPeeringConnectionId"]
        self.vpcd.cli("wait", "vpc-peering-connection-exists", "--vpc-peering-connection-ids", pcx)
        self.vpcd.cli("accept-vpc-peering-connection", "--vpc-peering-connection-id", pcx)
        got = self.vpcd.cli("describe-vpc-peering-connections", "--vpc-peering-connection-ids", pcx)
        self.assertEqual(got["VpcPeeringConnections"][0]["Status"]["Code"], "active")
        self.assertEqual(self.vpcd.cli("delete-vpc-peering-connection", "--vpc-peering-connection-id", pcx),
                         {"Return": True})
        self.vpcd.cli("wait", "vpc-peering-connection-deleted", "--vpc-peering-connection-ids", pcx)

    def test_security_group_references_peer_group(self):
        sa = self.ec2.create_security_group(GroupName="a", Description="a", VpcId=self.a)["GroupId"]
        sb = self.ec2.create_security_group(GroupName="b", Description="b", VpcId=self.b)["GroupId"]
        perm = [{"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "UserIdGroupPairs": [{"GroupId": sa}]}]
        # not peered: two networks
        self.assertError("InvalidGroup.NotFound", self.ec2.authorize_security_group_ingress, GroupId=sb,
                         IpPermissions=perm)
        pcx = self.create()["VpcPeeringConnectionId"]
        self.assertError("InvalidGroup.NotFound", self.ec2.authorize_security_group_ingress, GroupId=sb,
                         IpPermissions=perm)      # pending is not enough
        self.ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
        [rule] = self.ec2.authorize_security_group_ingress(GroupId=sb, IpPermissions=perm)["SecurityGroupRules"]
        self.assertEqual(rule["ReferencedGroupInfo"]["GroupId"], sa)
        self.assertEqual(rule["ReferencedGroupInfo"]["VpcPeeringConnectionId"], pcx)
        g = self.ec2.describe_security_groups(GroupIds=[sb])["SecurityGroups"][0]
        [pair] = [p for perm in g["IpPermissions"] for p in perm["UserIdGroupPairs"]]
        self.assertEqual((pair["GroupId"], pair["VpcId"], pair["VpcPeeringConnectionId"], pair["PeeringStatus"]),
                         (sa, self.a, pcx, "active"))
        self.ec2.revoke_security_group_ingress(GroupId=sb, IpPermissions=perm)
        g = self.ec2.describe_security_groups(GroupIds=[sb])["SecurityGroups"][0]
        self.assertEqual([p for perm in g["IpPermissions"] for p in perm["UserIdGroupPairs"]], [])

    def test_cross_region(self):
        west = self.vpcd.client(region="us-west-2")
        eu = self.vpcd.client(region="eu-west-1")
        vw = west.create_vpc(CidrBlock="10.200.0.0/16")["Vpc"]["VpcId"]
        # the peer VPC is looked up in PeerRegion
        self.assertError("InvalidVpcID.NotFound", self.create, PeerVpcId=vw)
        self.assertError("InvalidVpcID.NotFound", self.create, PeerVpcId=vw, PeerRegion="eu-west-1")
        p = self.create(PeerVpcId=vw, PeerRegion="us-west-2")
        pcx = p["VpcPeeringConnectionId"]
        self.assertEqual(p["AccepterVpcInfo"]["Region"], "us-west-2")
        self.assertEqual(p["RequesterVpcInfo"]["Region"], REGION)
        # seen from both regions, not from a third
        self.assertEqual(self.get(pcx)["Status"]["Code"], "pending-acceptance")
        got = west.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx])["VpcPeeringConnections"]
        self.assertEqual(got[0]["AccepterVpcInfo"]["VpcId"], vw)
        self.assertIn(pcx, [x["VpcPeeringConnectionId"] for x in
                            west.describe_vpc_peering_connections()["VpcPeeringConnections"]])
        self.assertError("InvalidVpcPeeringConnectionID.NotFound", eu.describe_vpc_peering_connections,
                         VpcPeeringConnectionIds=[pcx])
        self.assertNotIn(pcx, [x["VpcPeeringConnectionId"] for x in
                               eu.describe_vpc_peering_connections()["VpcPeeringConnections"]])
        # accepted in the accepter's region only
        self.assertError("OperationNotPermitted", self.ec2.accept_vpc_peering_connection, VpcPeeringConnectionId=pcx)
        rtb_w = west.create_route_table(VpcId=vw)["RouteTable"]["RouteTableId"]
        rtb_a = self.ec2.create_route_table(VpcId=self.a)["RouteTable"]["RouteTableId"]
        west.create_route(RouteTableId=rtb_w, DestinationCidrBlock="10.%d.0.0/16" % T.octet, VpcPeeringConnectionId=pcx)
        self.ec2.create_route(RouteTableId=rtb_a, DestinationCidrBlock="10.200.0.0/16", VpcPeeringConnectionId=pcx)

        def state(client, rtb):
            return [r for r in client.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]["Routes"]
                    if r.get("VpcPeeringConnectionId") == pcx][0]["State"]

        self.assertEqual((state(west, rtb_w), state(self.ec2, rtb_a)), ("blackhole", "blackhole"))
        self.assertEqual(west.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
                         ["VpcPeeringConnection"]["Status"]["Code"], "provisioning")
        self.assertEqual(self.get(pcx)["Status"]["Code"], "active")
        # both regions' routes follow
        self.assertEqual((state(west, rtb_w), state(self.ec2, rtb_a)), ("active", "active"))
        self.assertTrue(west.delete_vpc_peering_connection(VpcPeeringConnectionId=pcx)["Return"])
        self.assertEqual((state(west, rtb_w), state(self.ec2, rtb_a)), ("blackhole", "blackhole"))
        self.assertEqual(self.get(pcx)["Status"]["Code"], "deleted")

    def test_deleting_a_vpc_deletes_its_connections(self):
        pcx = self.create()["VpcPeeringConnectionId"]
        self.ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
        rtb = self.ec2.create_route_table(VpcId=self.a)["RouteTable"]["RouteTableId"]
        self.ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="10.%d.0.0/16" % (T.octet + 1),
                              VpcPeeringConnectionId=pcx)
        pending = self.create(VpcId=self.b, PeerVpcId=self.ec2.create_vpc(
            CidrBlock="172.31.200.0/24")["Vpc"]["VpcId"])["VpcPeeringConnectionId"]
        self.ec2.delete_vpc(VpcId=self.b)
        for p in (pcx, pending):
            self.assertEqual(self.get(p)["Status"], {"Code": "deleted", "Message": "Deleted by " + ACCOUNT})
        self.assertEqual(self.route(rtb, "10.%d.0.0/16" % (T.octet + 1))["State"], "blackhole")
