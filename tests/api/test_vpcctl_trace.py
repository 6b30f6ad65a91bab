"""`vpcctl trace` against a vpcd started for the test, through vpcd's own
action VpcdTracePacket (SigV4-signed; no --data-dir, no access to vpcd's
files: the keys come from the environment): a VPC with two subnets and an instance in each; the
second subnet's network ACL denies SSH (rule 90), its instance's security
group allows HTTP only, and the VPC has no route to the internet. Each
trace names the component and rule of the step that drops (NACL rule
number, security group, route table) or, when delivered, the rules that
let it through (the sgr); exit 0 when delivered, 1 when dropped."""
import json
import re

from vpcdtest import IMAGE, VpcdTestCase, two_instance_vpc
from api.test_vpcctl import vpcctl



class TestVpcctlTrace(VpcdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        two_instance_vpc(cls, 20)

    def trace(self, *args, json_out=True):
        """(exit code, the JSON result or the text, stderr)."""
        p = vpcctl(self.vpcd, *(("--output", "json") if json_out else ()), "trace", *args)
        if json_out and p.stdout:
            return p.returncode, json.loads(p.stdout), p.stderr
        return p.returncode, p.stdout, p.stderr

    def dropped_at(self, result):
        """The step that drops: the last one, and the only one not Ok."""
        bad = [s for s in result["Steps"] if not s["Ok"]]
        self.assertEqual(len(bad), 1, result)
        self.assertIs(bad[0], result["Steps"][-1], result)
        return bad[0]

    def test_reachable(self):
        rc, r, err = self.trace("--from", self.a, "--to", self.b, "--proto", "tcp", "--port", "80")
        self.assertEqual(rc, 0, err)
        self.assertTrue(r["Reachable"], r)
        self.assertEqual(r["Cause"], "ok")
        self.assertTrue(all(s["Ok"] for s in r["Steps"]), r)
        steps = {s["Step"]: s for s in r["Steps"]}
        self.assertEqual((steps["security-group-ingress"]["Component"], steps["security-group-ingress"]["Rule"]),
                         (self.sg_b, self.sgr_http))
        self.assertEqual(steps["route"]["Component"], self.rtb)
        self.assertEqual((steps["network-acl-inbound"]["Component"], steps["network-acl-inbound"]["Rule"]),
                         (self.acl, "100"))
        # an ENI and an address name the same ends; the text form says so too
        rc, text, err = self.trace("--from", self.eni_a, "--to", self.ip_b, "--proto", "tcp", "--port", "80",
                                   json_out=False)
        self.assertEqual(rc, 0, err)
        self.assertIn(self.sgr_http, text)
        self.assertTrue(text.endswith("=> reachable\n"), text)

    def test_nacl_deny_rule(self):
        rc, r, err = self.trace("--from", self.a, "--to", self.b, "--proto", "tcp", "--port", "22")
        self.assertEqual(rc, 1, err)
        self.assertFalse(r["Reachable"])
        self.assertEqual(r["Cause"], "nacl-in")
        step = self.dropped_at(r)
        self.assertEqual((step["Step"], step["Component"], step["Rule"]), ("network-acl-inbound", self.acl, "90"))
        rc, text, _ = self.trace("--from", self.a, "--to", self.b, "--proto", "tcp", "--port", "22",
                                 json_out=False)
        self.assertEqual(rc, 1)
        last = [l for l in text.splitlines() if "DROP" in l]
        self.assertEqual(len(last), 1, text)
        self.assertIn("network-acl-inbound", last[0])
        self.assertIn(self.acl, last[0])
        self.assertRegex(last[0], r"\b90\b")
        self.assertTrue(text.endswith("=> dropped: nacl-in\n"), text)

    def test_security_group_without_the_rule(self):
        rc, r, err = self.trace("--from", self.a, "--to", self.b, "--proto", "tcp", "--port", "443")
        self.assertEqual(rc, 1, err)
        self.assertEqual(r["Cause"], "sg-ingress")
        step = self.dropped_at(r)
        # the interface is the component (its groups together refuse it);
        # the sentence names the group that has no such rule
        self.assertEqual((step["Step"], step["Component"], step["Rule"]), ("security-group-ingress", self.eni_b, ""))
        self.assertIn("no ingress rule", step["Detail"])
        self.assertIn(self.sg_b, step["Detail"])
        # the ACL let it in (rule 100) before the group refused it
        nacl = [s for s in r["Steps"] if s["Step"] == "network-acl-inbound"][0]
        self.assertEqual((nacl["Ok"], nacl["Rule"]), (True, "100"))

    def test_missing_route(self):
        rc, r, err = self.trace("--from", self.a, "--to", "198.51.100.9", "--proto", "icmp")
        self.assertEqual(rc, 1, err)
        self.assertEqual(r["Cause"], "no-route")
        step = self.dropped_at(r)
        self.assertEqual((step["Step"], step["Component"]), ("route", self.rtb))
        rc, text, _ = self.trace("--from", self.a, "--to", "198.51.100.9", "--proto", "icmp", json_out=False)
        self.assertEqual(rc, 1)
        self.assertIn(self.rtb, text)
        self.assertTrue(text.endswith("=> dropped: no-route\n"), text)

    def test_nat_gateway(self):
        """The trace runs on the router's own code, which follows a NAT
        gateway (the model it replaced stopped there: unsupported-target):
        an instance in a subnet routed to a NAT gateway reaches the
        internet through it and the internet gateway, and its answer,
        addressed to the gateway's mapping (the Elastic IP and a port of
        the gateway's), comes back: the gateway's subnet's ACL in on that
        port, translated back, its ACL out and the instance's subnet's ACL
        in on the instance's port. An inbound deny of the gateway's ports
        on its subnet's ACL drops the answer, and the trace names it."""
        ec2 = self.ec2
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=self.vpc)
        pub = ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.20.3.0/24")["Subnet"]["SubnetId"]
        rtb_pub = ec2.create_route_table(VpcId=self.vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=rtb_pub, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        ec2.associate_route_table(RouteTableId=rtb_pub, SubnetId=pub)
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=pub, AllocationId=eip)["NatGateway"]["NatGatewayId"]
        priv = ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.20.4.0/24")["Subnet"]["SubnetId"]
        rtb_priv = ec2.create_route_table(VpcId=self.vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=rtb_priv, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
        ec2.associate_route_table(RouteTableId=rtb_priv, SubnetId=priv)
        inst = ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1, SubnetId=priv,
                                 SecurityGroupIds=[self.sg_a])["Instances"][0]["InstanceId"]
        rc, r, err = self.trace("--from", inst, "--to", "203.0.113.7", "--proto", "udp", "--port", "53")
        self.assertEqual(rc, 0, (r, err))
        self.assertTrue(r["Reachable"], r)
        comps = [(s["Step"], s["Component"]) for s in r["Steps"]]
        self.assertIn(("gateway", nat), comps)
        self.assertIn(("gateway", igw), comps)
        routes = [(s["Component"], s["Rule"]) for s in r["Steps"] if s["Step"] == "route"]
        self.assertEqual(routes, [(rtb_priv, "0.0.0.0/0 -> " + nat), (rtb_pub, "0.0.0.0/0 -> " + igw)])
        # the NAT gateway's own subnet's ACL, in and out, decides it too
        self.assertEqual([s["Step"] for s in r["Steps"]].count("network-acl-outbound"), 2)
        # the answer: in to the gateway's port, back to the instance's
        fwd = [s for s in r["Steps"] if s["Component"] == nat]
        self.assertEqual(len(fwd), 2, fwd)
        m = re.search(r"translates the source to 10\.20\.3\.\d+, port (\d+)$", fwd[0]["Detail"])
        self.assertIsNotNone(m, fwd[0])
        port = m.group(1)
        self.assertRegex(fwd[1]["Detail"], r"translates the answer to \S+, port %s back to 10\.20\.4\.\d+, "
                         r"port 49152$" % port)
        replies = [(s["Step"], s["Detail"]) for s in r["Steps"] if s["Step"].startswith("reply-")]
        self.assertEqual([k for k, _ in replies], ["reply-network-acl-inbound", "reply-network-acl-outbound",
                                                   "reply-network-acl-inbound"], replies)
        self.assertIn("the answer udp/%s from 203.0.113.7" % port, replies[0][1])
        self.assertIn("the answer udp/49152 from 203.0.113.7", replies[2][1])
        # the gateway's subnet's ACL denies its ports inbound: the answer is dropped there
        acl = ec2.create_network_acl(VpcId=self.vpc)["NetworkAcl"]["NetworkAclId"]
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="-1", RuleAction="allow",
                                     Egress=True, CidrBlock="0.0.0.0/0")
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=90, Protocol="17", RuleAction="deny",
                                     Egress=False, CidrBlock="0.0.0.0/0", PortRange={"From": 1024, "To": 65535})
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="-1", RuleAction="allow",
                                     Egress=False, CidrBlock="0.0.0.0/0")
        assoc = [a for a in ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [pub]}])
                 ["NetworkAcls"][0]["Associations"] if a["SubnetId"] == pub][0]["NetworkAclAssociationId"]
        ec2.replace_network_acl_association(AssociationId=assoc, NetworkAclId=acl)
        rc, r, err = self.trace("--from", inst, "--to", "203.0.113.7", "--proto", "udp", "--port", "53")
        self.assertEqual(rc, 1, (r, err))
        self.assertFalse(r["Reachable"], r)
        step = self.dropped_at(r)
        self.assertEqual((step["Step"], step["Component"], step["Rule"]), ("reply-network-acl-inbound", acl, "90"))
        self.assertEqual(r["Cause"], "reply-nacl-in")

    def test_errors_and_usage(self):
        rc, out, err = self.trace("--from", "i-0000000000000000a", "--to", self.b, "--proto", "tcp",
                                  "--port", "80", json_out=False)
        self.assertEqual((rc, out), (1, ""))
        self.assertIn("i-0000000000000000a", err)
        rc, _, err = self.trace("--from", self.a, "--to", self.b, json_out=False)
        self.assertEqual(rc, 2)
        self.assertIn("--proto", err)
        # no vpcd there: the client's error, exit 1
        p = vpcctl(None, "--endpoint-url", "http://127.0.0.1:9", "trace", "--from", self.a, "--to", self.b,
                   "--proto", "icmp", endpoint=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("EndpointConnectionError", p.stderr)
        p = vpcctl(None, "trace", "--help", endpoint=False)
        self.assertEqual(p.returncode, 0)
        self.assertIn("VpcdTracePacket", p.stdout)
