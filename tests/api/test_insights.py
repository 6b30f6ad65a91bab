"""Reachability Analyzer: CreateNetworkInsightsPath, DescribeNetworkInsightsPaths,
DeleteNetworkInsightsPath, StartNetworkInsightsAnalysis,
DescribeNetworkInsightsAnalyses, DeleteNetworkInsightsAnalysis, with boto3 and
once each with the aws CLI. A VPC with two subnets and an instance in each:
the second subnet's network ACL denies SSH (rule 90), its instance's security
group allows HTTP and SSH from the first subnet but not HTTPS, and the VPC has
no route to 192.0.2.0/24. Each analysis says whether the path is found, lists
the components it passed (security group rule, route, ACL rule) and, when it
is not, AWS's explanation code naming the route table, ACL rule or groups."""
from vpcdtest import VpcdTestCase, two_instance_vpc

NOPE = "00000000000000000"


def tag_spec(rtype, **tags):
    return [{"ResourceType": rtype, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]


class TestInsights(VpcdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        two_instance_vpc(cls, 30)

    def path(self, port, source=None, destination=None, **kw):
        kw.setdefault("Protocol", "tcp")
        if destination is None and "DestinationIp" not in kw:
            destination = self.b
        if destination is not None:
            kw["Destination"] = destination
        return self.ec2.create_network_insights_path(Source=source or self.a, DestinationPort=port,
                                                     **kw)["NetworkInsightsPath"]

    def analyse(self, port, **kw):
        pid = self.path(port, **kw)["NetworkInsightsPathId"]
        a = self.ec2.start_network_insights_analysis(NetworkInsightsPathId=pid)["NetworkInsightsAnalysis"]
        self.assertEqual(a["Status"], "succeeded", a.get("StatusMessage"))
        self.assertEqual(a["NetworkInsightsPathId"], pid)
        return a

    def test_reachable(self):
        a = self.analyse(80)
        self.assertTrue(a["NetworkPathFound"])
        self.assertEqual(a["Explanations"], [])
        comps = a["ForwardPathComponents"]
        self.assertEqual([c["SequenceNumber"] for c in comps], list(range(1, len(comps) + 1)))
        ids = [c["Component"]["Id"] for c in comps]
        self.assertEqual(ids[0], self.eni_a)
        self.assertEqual(ids[-1], self.eni_b)
        self.assertIn(self.rtb, ids)
        self.assertIn(self.acl, ids)
        self.assertIn(self.sg_b, ids)
        self.assertEqual(comps[0]["Subnet"]["Id"], self.sub_a)
        self.assertEqual(comps[0]["Vpc"]["Id"], self.vpc)
        route = [c for c in comps if c["Component"]["Id"] == self.rtb][0]["RouteTableRoute"]
        self.assertEqual(route, {"DestinationCidr": "10.30.0.0/16", "GatewayId": "local",
                                 "Origin": "CreateRouteTable", "State": "active"})
        acl_rule = [c for c in comps if c["Component"]["Id"] == self.acl][0]["AclRule"]
        self.assertEqual(acl_rule["RuleNumber"], 100)
        self.assertEqual(acl_rule["RuleAction"], "allow")
        self.assertFalse(acl_rule["Egress"])
        sg_rule = [c for c in comps if c["Component"]["Id"] == self.sg_b][0]["SecurityGroupRule"]
        self.assertEqual(sg_rule["Direction"], "ingress")
        self.assertEqual(sg_rule["SecurityGroupId"], self.sg_b)
        self.assertEqual(sg_rule["Cidr"], "10.30.1.0/24")
        self.assertEqual(sg_rule["PortRange"], {"From": 80, "To": 80})
        self.assertTrue(a["NetworkInsightsAnalysisArn"].endswith(":network-insights-analysis/"
                                                                   + a["NetworkInsightsAnalysisId"]))
        # the reply's way through subnet b's ACL (outbound) and subnet a's (inbound)
        self.assertTrue(a["ReturnPathComponents"])

    def test_nacl_deny(self):
        a = self.analyse(22)
        self.assertFalse(a["NetworkPathFound"])
        [e] = a["Explanations"]
        self.assertEqual(e["ExplanationCode"], "SUBNET_ACL_RESTRICTION")
        self.assertEqual(e["Direction"], "ingress")
        self.assertEqual(e["Acl"]["Id"], self.acl)
        self.assertEqual(e["AclRule"]["RuleNumber"], 90)
        self.assertEqual(e["AclRule"]["RuleAction"], "deny")
        self.assertEqual(e["AclRule"]["PortRange"], {"From": 22, "To": 22})
        self.assertNotIn(self.acl, [c["Component"]["Id"] for c in a["ForwardPathComponents"]])

    def test_security_group(self):
        a = self.analyse(443)
        self.assertFalse(a["NetworkPathFound"])
        [e] = a["Explanations"]
        self.assertEqual(e["ExplanationCode"], "ENI_SG_RULES_MISMATCH")
        self.assertEqual(e["Direction"], "ingress")
        self.assertEqual(e["NetworkInterface"]["Id"], self.eni_b)
        self.assertEqual([g["Id"] for g in e["SecurityGroups"]], [self.sg_b])
        self.assertEqual(e["SecurityGroup"]["Id"], self.sg_b)

    def test_no_route(self):
        a = self.analyse(80, destination=None, DestinationIp="192.0.2.7")
        self.assertFalse(a["NetworkPathFound"])
        [e] = a["Explanations"]
        self.assertEqual(e["ExplanationCode"], "NO_ROUTE_TO_DESTINATION")
        self.assertEqual(e["RouteTable"]["Id"], self.rtb)

    def test_route_targets(self):
        """A route names its target in the member AWS uses for it (a peering
        connection: VpcPeeringConnectionId), and a route to a prefix list its
        list, as the router matched one CIDR of it."""
        ec2 = self.ec2
        peer = ec2.create_vpc(CidrBlock="10.131.0.0/16")["Vpc"]["VpcId"]
        pcx = ec2.create_vpc_peering_connection(VpcId=self.vpc, PeerVpcId=peer)["VpcPeeringConnection"]
        pcx = pcx["VpcPeeringConnectionId"]
        ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
        pl = ec2.create_managed_prefix_list(PrefixListName="far", MaxEntries=2, AddressFamily="IPv4",
                                            Entries=[{"Cidr": "192.168.50.0/24"}])["PrefixList"]["PrefixListId"]
        ec2.create_route(RouteTableId=self.rtb, DestinationCidrBlock="10.131.0.0/16", VpcPeeringConnectionId=pcx)
        ec2.create_route(RouteTableId=self.rtb, DestinationPrefixListId=pl, VpcPeeringConnectionId=pcx)
        self.addCleanup(ec2.delete_route, RouteTableId=self.rtb, DestinationCidrBlock="10.131.0.0/16")
        self.addCleanup(ec2.delete_route, RouteTableId=self.rtb, DestinationPrefixListId=pl)
        for ip, want in (("10.131.0.5", {"DestinationCidr": "10.131.0.0/16"}),
                         ("192.168.50.9", {"DestinationCidr": "192.168.50.0/24", "DestinationPrefixListId": pl})):
            a = self.analyse(80, destination=None, DestinationIp=ip)
            # no interface has the address in the peer VPC
            self.assertFalse(a["NetworkPathFound"])
            [route] = [c["RouteTableRoute"] for c in a["ForwardPathComponents"] if c["Component"]["Id"] == self.rtb]
            self.assertEqual(route, dict(want, VpcPeeringConnectionId=pcx, Origin="CreateRoute", State="active"))

    def test_path_crud(self):
        p = self.path(80, Protocol="TCP", TagSpecifications=tag_spec("network-insights-path", Name="web"),
                      FilterAtSource={"SourcePortRange": {"FromPort": 40000, "ToPort": 40000}})
        pid = p["NetworkInsightsPathId"]
        self.assertRegex(pid, r"^nip-[0-9a-f]{17}$")
        self.assertEqual(p["Source"], self.a)
        self.assertEqual(p["Destination"], self.b)
        self.assertEqual(p["Protocol"], "tcp")
        self.assertEqual(p["DestinationPort"], 80)
        self.assertTrue(p["SourceArn"].endswith(":instance/" + self.a))
        self.assertEqual(p["Tags"], [{"Key": "Name", "Value": "web"}])
        self.assertEqual(p["FilterAtSource"]["SourcePortRange"], {"FromPort": 40000, "ToPort": 40000})
        got = self.ec2.describe_network_insights_paths(NetworkInsightsPathIds=[pid])["NetworkInsightsPaths"]
        self.assertEqual(got, [p])
        by_tag = self.ec2.describe_network_insights_paths(
            Filters=[{"Name": "tag:Name", "Values": ["web"]}])["NetworkInsightsPaths"]
        self.assertEqual([x["NetworkInsightsPathId"] for x in by_tag], [pid])
        aid = self.ec2.start_network_insights_analysis(
            NetworkInsightsPathId=pid)["NetworkInsightsAnalysis"]["NetworkInsightsAnalysisId"]
        self.assertRegex(aid, r"^nia-[0-9a-f]{17}$")
        listed = self.ec2.describe_network_insights_analyses(NetworkInsightsPathId=pid)["NetworkInsightsAnalyses"]
        self.assertEqual([x["NetworkInsightsAnalysisId"] for x in listed], [aid])
        found = self.ec2.describe_network_insights_analyses(
            NetworkInsightsAnalysisIds=[aid], Filters=[{"Name": "path-found", "Values": ["true"]}])
        self.assertEqual(len(found["NetworkInsightsAnalyses"]), 1)
        self.ec2.delete_network_insights_analysis(NetworkInsightsAnalysisId=aid)
        self.assertError("InvalidNetworkInsightsAnalysisId.NotFound", self.ec2.delete_network_insights_analysis,
                         NetworkInsightsAnalysisId=aid)
        # deleting a path takes its analyses with it
        aid2 = self.ec2.start_network_insights_analysis(
            NetworkInsightsPathId=pid)["NetworkInsightsAnalysis"]["NetworkInsightsAnalysisId"]
        out = self.ec2.delete_network_insights_path(NetworkInsightsPathId=pid)
        self.assertEqual(out["NetworkInsightsPathId"], pid)
        self.assertError("InvalidNetworkInsightsAnalysisId.NotFound", self.ec2.describe_network_insights_analyses,
                         NetworkInsightsAnalysisIds=[aid2])
        self.assertError("InvalidNetworkInsightsPathId.NotFound", self.ec2.describe_network_insights_paths,
                         NetworkInsightsPathIds=[pid])

    def test_errors(self):
        nip = "nip-" + NOPE
        self.assertError("InvalidNetworkInsightsPathId.NotFound", self.ec2.start_network_insights_analysis,
                         NetworkInsightsPathId=nip)
        self.assertError("InvalidNetworkInsightsPathId.NotFound", self.ec2.delete_network_insights_path,
                         NetworkInsightsPathId=nip)
        self.assertError("InvalidNetworkInsightsPathId.NotFound", self.ec2.describe_network_insights_analyses,
                         NetworkInsightsPathId=nip)
        self.assertError("InvalidParameterValue", self.ec2.create_network_insights_path,
                         Source=self.a, Destination=self.b, Protocol="icmp")
        self.assertError("InvalidInstanceID.NotFound", self.ec2.create_network_insights_path,
                         Source="i-" + NOPE, Destination=self.b, Protocol="tcp")
        self.assertError("InvalidParameterValue", self.ec2.create_network_insights_path,
                         Source=self.sg_a, Destination=self.b, Protocol="tcp")
        self.assertError("MissingParameter", self.ec2.create_network_insights_path,
                         Source=self.a, Protocol="tcp")
        # a tcp path without a port: vpcd analyses one port, the analysis says so
        pid = self.ec2.create_network_insights_path(Source=self.a, Destination=self.b,
                                                    Protocol="tcp")["NetworkInsightsPath"]["NetworkInsightsPathId"]
        a = self.ec2.start_network_insights_analysis(NetworkInsightsPathId=pid)["NetworkInsightsAnalysis"]
        self.assertEqual(a["Status"], "failed")
        self.assertIn("DestinationPort", a["StatusMessage"])

    def test_cli(self):
        p = self.vpcd.cli("create-network-insights-path", "--source", self.eni_a, "--destination", self.eni_b,
                          "--protocol", "tcp", "--destination-port", "22")["NetworkInsightsPath"]
        pid = p["NetworkInsightsPathId"]
        self.assertEqual(self.vpcd.cli("describe-network-insights-paths", "--network-insights-path-ids", pid)
                         ["NetworkInsightsPaths"][0]["Source"], self.eni_a)
        a = self.vpcd.cli("start-network-insights-analysis", "--network-insights-path-id",
                          pid)["NetworkInsightsAnalysis"]
        self.assertFalse(a["NetworkPathFound"])
        self.assertEqual(a["Explanations"][0]["AclRule"]["RuleNumber"], 90)
        aid = a["NetworkInsightsAnalysisId"]
        got = self.vpcd.cli("describe-network-insights-analyses", "--network-insights-analysis-ids", aid)
        self.assertEqual(got["NetworkInsightsAnalyses"][0]["Explanations"][0]["ExplanationCode"],
                         "SUBNET_ACL_RESTRICTION")
        self.assertEqual(self.vpcd.cli("delete-network-insights-analysis", "--network-insights-analysis-id", aid),
                         {"NetworkInsightsAnalysisId": aid})
        self.assertEqual(self.vpcd.cli("delete-network-insights-path", "--network-insights-path-id", pid),
                         {"NetworkInsightsPathId": pid})
        p = self.vpcd.cli("start-network-insights-analysis", "--network-insights-path-id", pid, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("(InvalidNetworkInsightsPathId.NotFound)", p.stderr)
