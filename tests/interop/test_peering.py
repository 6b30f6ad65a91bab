"""VPC peering with real packets (vpcd --dataplane): instance a in VPC A
(10.98.0.0/16) and instance b in VPC B (10.99.0.0/16); b's group admits
ICMP and TCP 8000 from a's group, a group of the peer VPC
(UserIdGroupPairs naming it, allowed once the connection is active).

  - not peered: a cannot reach b (no route);
  - a connection requested, routes both ways to it: still nothing (the
    routes are blackholes until it is active);
  - accepted: a pings b and opens a TCP connection to it; b's answers
    reach a although a's group admits nothing from B (tracked flows);
  - B's route back removed: a's pings go unanswered; put back: answered;
  - c, in VPC A but not in a's group: b's group refuses it;
  - the connection deleted: nothing again.
  - across regions (test_ping_across_regions): VPC B in us-west-2, the
    connection requested from us-east-1 and accepted in us-west-2, b's
    group admitting ICMP from A's block: a and b ping each other.

Needs root; skipped otherwise."""
import os
import shutil

import boto3
import botocore.config

import vpcdtest
import tempfile
import time
import unittest

from interop import test_vpc_dataplane as dp
from interop import test_vpn_story as vs
from interop.netns import Namespaces, netns_executor

PORT = dp.PORT


@unittest.skipUnless(os.geteuid() == 0, "needs root: creates network namespaces, runs vpcd's data plane")
class PeeringTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(vs.VPCD):
            raise unittest.SkipTest("%s is missing (make all)" % vs.VPCD)
        cls.dir = tempfile.mkdtemp(prefix="pcx-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.ns = Namespaces("pcx", ("vpcd",))
        cls.addClassCleanup(cls.ns.remove)
        cls.ns.make()
        cls.vpcd_ns = cls.ns["vpcd"]
        cls.pool = netns_executor(cls.vpcd_ns)
        cls.addClassCleanup(cls.pool.shutdown)

    vpcd_args = ()
    setUp = dp.VpcDataplaneTest.setUp
    start_vpcd = dp.VpcDataplaneTest.start_vpcd
    stop_vpcd = dp.VpcDataplaneTest.stop_vpcd
    stop_servers = dp.VpcDataplaneTest.stop_servers
    cleanup_instances = dp.VpcDataplaneTest.cleanup_instances
    log = dp.VpcDataplaneTest.log
    call = dp.VpcDataplaneTest.call
    ping = dp.VpcDataplaneTest.ping
    launch = dp.VpcDataplaneTest.launch
    serve = dp.VpcDataplaneTest.serve
    tcp = dp.VpcDataplaneTest.tcp

    def settle(self):
        time.sleep(0.5)     # the router's new snapshot

    def test_ping_and_tcp_between_peered_vpcs(self):
        self.start_vpcd()
        va = self.call("create_vpc", CidrBlock="10.98.0.0/16")["Vpc"]["VpcId"]
        vb = self.call("create_vpc", CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
        sa = self.call("create_subnet", VpcId=va, CidrBlock="10.98.1.0/24")["Subnet"]["SubnetId"]
        sb = self.call("create_subnet", VpcId=vb, CidrBlock="10.99.1.0/24")["Subnet"]["SubnetId"]
        ga = self.call("create_security_group", GroupName="a", Description="a", VpcId=va)["GroupId"]
        gc = self.call("create_security_group", GroupName="c", Description="c", VpcId=va)["GroupId"]
        gb = self.call("create_security_group", GroupName="b", Description="b", VpcId=vb)["GroupId"]
        image = self.call("describe_images", Filters=[{"Name": "name", "Values": ["vpcd-linux"]}]
                          )["Images"][0]["ImageId"]
        a, _ = self.launch(sa, ga, image)
        c, _ = self.launch(sa, gc, image)
        b, addr_b = self.launch(sb, gb, image)
        self.serve(b)
        rtb_a = self.call("describe_route_tables", Filters=[{"Name": "vpc-id", "Values": [va]}]
                          )["RouteTables"][0]["RouteTableId"]
        rtb_b = self.call("describe_route_tables", Filters=[{"Name": "vpc-id", "Values": [vb]}]
                          )["RouteTables"][0]["RouteTableId"]

        # not peered: no route
        self.ping(a, addr_b, expect=False, count=2)

        pcx = self.call("create_vpc_peering_connection", VpcId=va, PeerVpcId=vb
                        )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
        self.call("create_route", RouteTableId=rtb_a, DestinationCidrBlock="10.99.0.0/16", VpcPeeringConnectionId=pcx)
        self.call("create_route", RouteTableId=rtb_b, DestinationCidrBlock="10.98.0.0/16", VpcPeeringConnectionId=pcx)
        self.settle()
        self.ping(a, addr_b, expect=False, count=2)     # pending: blackhole routes

        self.call("accept_vpc_peering_connection", VpcPeeringConnectionId=pcx)
        perm = [{"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "UserIdGroupPairs": [{"GroupId": ga}]},
                {"IpProtocol": "tcp", "FromPort": PORT, "ToPort": PORT, "UserIdGroupPairs": [{"GroupId": ga}]}]
        self.call("authorize_security_group_ingress", GroupId=gb, IpPermissions=perm)
        self.settle()
        self.ping(a, addr_b)
        self.tcp(a, addr_b)
        # c is in VPC A but not in a's group
        self.ping(c, addr_b, expect=False, count=2)
        self.tcp(c, addr_b, expect=False)

        # routes both ways are needed
        self.call("delete_route", RouteTableId=rtb_b, DestinationCidrBlock="10.98.0.0/16")
        self.settle()
        self.ping(a, addr_b, expect=False, count=2)
        self.call("create_route", RouteTableId=rtb_b, DestinationCidrBlock="10.98.0.0/16", VpcPeeringConnectionId=pcx)
        self.settle()
        self.ping(a, addr_b)

        self.call("delete_vpc_peering_connection", VpcPeeringConnectionId=pcx)
        self.settle()
        self.ping(a, addr_b, expect=False, count=2)
        self.assertNotIn("ERROR", self.log())

    def test_ping_across_regions(self):
        self.start_vpcd()
        west = self.pool.submit(
            boto3.client, "ec2", region_name="us-west-2", endpoint_url=dp.API,
            aws_access_key_id=vpcdtest.KEY_ID, aws_secret_access_key=vpcdtest.SECRET,
            config=botocore.config.Config(retries={"max_attempts": 0})).result()

        def w(name, **kw):
            return self.pool.submit(getattr(west, name), **kw).result()
        va = self.call("create_vpc", CidrBlock="10.98.0.0/16")["Vpc"]["VpcId"]
        vb = w("create_vpc", CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
        sa = self.call("create_subnet", VpcId=va, CidrBlock="10.98.1.0/24")["Subnet"]["SubnetId"]
        sb = w("create_subnet", VpcId=vb, CidrBlock="10.99.1.0/24")["Subnet"]["SubnetId"]
        ga = self.call("create_security_group", GroupName="a", Description="a", VpcId=va)["GroupId"]
        gb = w("create_security_group", GroupName="b", Description="b", VpcId=vb)["GroupId"]
        for call, g, cidr in ((self.call, ga, "10.99.0.0/16"), (w, gb, "10.98.0.0/16")):
            call("authorize_security_group_ingress", GroupId=g, IpPermissions=[
                {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": cidr}]}])
        image = self.call("describe_images", Filters=[{"Name": "name", "Values": ["vpcd-linux"]}]
                          )["Images"][0]["ImageId"]
        a, addr_a = self.launch(sa, ga, image)
        image_w = w("describe_images", Filters=[{"Name": "name", "Values": ["vpcd-linux"]}])["Images"][0]["ImageId"]
        inst = w("run_instances", ImageId=image_w, MinCount=1, MaxCount=1, SubnetId=sb,
                 SecurityGroupIds=[gb])["Instances"][0]
        b, addr_b = inst["InstanceId"], inst["PrivateIpAddress"]
        self.instances.append(b)
        dp.wait_for(lambda: os.path.exists("/run/netns/" + b), 10, "%s's namespace" % b)
        pcx = self.call("create_vpc_peering_connection", VpcId=va, PeerVpcId=vb, PeerRegion="us-west-2"
                        )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
        w("accept_vpc_peering_connection", VpcPeeringConnectionId=pcx)
        rtb_a = self.call("describe_route_tables", Filters=[{"Name": "vpc-id", "Values": [va]}]
                          )["RouteTables"][0]["RouteTableId"]
        rtb_b = w("describe_route_tables", Filters=[{"Name": "vpc-id", "Values": [vb]}])["RouteTables"][0]["RouteTableId"]
        self.call("create_route", RouteTableId=rtb_a, DestinationCidrBlock="10.99.0.0/16", VpcPeeringConnectionId=pcx)
        self.settle()
        self.ping(a, addr_b, expect=False, count=2)     # no route back yet
        w("create_route", RouteTableId=rtb_b, DestinationCidrBlock="10.98.0.0/16", VpcPeeringConnectionId=pcx)
        self.settle()
        self.ping(a, addr_b)
        self.ping(b, addr_a)
        self.assertNotIn("ERROR", self.log())


if __name__ == "__main__":
    unittest.main()
