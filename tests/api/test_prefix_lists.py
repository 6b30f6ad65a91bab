"""Managed prefix lists: Create/Modify/Describe/Delete, versions and
TargetVersion, MaxEntries, GetManagedPrefixListEntries (paging),
GetManagedPrefixListAssociations, the AWS-managed lists (DescribePrefixLists
and DescribeManagedPrefixLists), prefix lists as security group rule peers
(PrefixListIds) and route destinations (DestinationPrefixListId); and the
security group rule actions: IPv6 ranges kept and revoked,
ModifySecurityGroupRules, UpdateSecurityGroupRuleDescriptionsIngress/
Egress. boto3 and the aws CLI."""
import json

from api.test_vpcctl import vpcctl
from vpcdtest import VpcdTestCase, two_instance_vpc


def cidrs(entries):
    return [e["Cidr"] for e in entries]


class TestPrefixLists(VpcdTestCase):
    def create(self, name="office", entries=("192.0.2.0/24", "198.51.100.0/25"), max_entries=5, **kw):
        return self.ec2.create_managed_prefix_list(
            PrefixListName=name, AddressFamily="IPv4", MaxEntries=max_entries,
            Entries=[{"Cidr": c, "Description": "e%d" % i} for i, c in enumerate(entries)], **kw)["PrefixList"]

    def entries(self, pl, **kw):
        return self.ec2.get_managed_prefix_list_entries(PrefixListId=pl, **kw)["Entries"]

    def test_create_modify_versions(self):
        pl = self.create(TagSpecifications=[{"ResourceType": "prefix-list", "Tags": [{"Key": "Name", "Value": "o"}]}])
        pid = pl["PrefixListId"]
        self.assertRegex(pid, r"^pl-[0-9a-f]{17}$")
        self.assertEqual((pl["AddressFamily"], pl["MaxEntries"], pl["Version"], pl["PrefixListName"]),
                         ("IPv4", 5, 1, "office"))
        self.assertEqual(pl["State"], "create-in-progress")
        self.assertRegex(pl["PrefixListArn"], r"^arn:aws:ec2:us-east-1:\d{12}:prefix-list/" + pid + "$")
        self.assertEqual(pl["Tags"], [{"Key": "Name", "Value": "o"}])
        got = self.ec2.describe_managed_prefix_lists(PrefixListIds=[pid])["PrefixLists"][0]
        self.assertEqual(got["State"], "create-complete")
        self.assertEqual(got["OwnerId"], pl["OwnerId"])
        self.assertEqual(self.entries(pid), [{"Cidr": "192.0.2.0/24", "Description": "e0"},
                                             {"Cidr": "198.51.100.0/25", "Description": "e1"}])
        # removals first, then additions: one version more
        out = self.ec2.modify_managed_prefix_list(PrefixListId=pid, CurrentVersion=1,
                                                  RemoveEntries=[{"Cidr": "198.51.100.0/25"}],
                                                  AddEntries=[{"Cidr": "203.0.113.0/24"}, {"Cidr": "10.9.0.0/16"}])
        self.assertEqual(out["PrefixList"]["State"], "modify-in-progress")
        got = self.ec2.describe_managed_prefix_lists(PrefixListIds=[pid])["PrefixLists"][0]
        self.assertEqual((got["Version"], got["State"]), (2, "modify-complete"))
        self.assertEqual(cidrs(self.entries(pid)), ["10.9.0.0/16", "192.0.2.0/24", "203.0.113.0/24"])
        self.assertEqual(cidrs(self.entries(pid, TargetVersion=1)), ["192.0.2.0/24", "198.51.100.0/25"])
        msg = self.assertError("PrefixListVersionMismatch", self.ec2.modify_managed_prefix_list, PrefixListId=pid,
                               CurrentVersion=1, AddEntries=[{"Cidr": "10.8.0.0/16"}])
        self.assertEqual(msg, "The prefix list has the incorrect version number.")
        # renaming and resizing make no version; never together with entries
        self.ec2.modify_managed_prefix_list(PrefixListId=pid, PrefixListName="office2")
        self.ec2.modify_managed_prefix_list(PrefixListId=pid, MaxEntries=10)
        got = self.ec2.describe_managed_prefix_lists(PrefixListIds=[pid])["PrefixLists"][0]
        self.assertEqual((got["Version"], got["PrefixListName"], got["MaxEntries"]), (2, "office2", 10))
        msg = self.assertError("InvalidParameterCombination", self.ec2.modify_managed_prefix_list, PrefixListId=pid,
                               MaxEntries=20, AddEntries=[{"Cidr": "10.8.0.0/16"}])
        self.assertEqual(msg, "You cannot modify the entries and the maximum entries for the prefix list in the same request.")
        # paging
        page = self.ec2.get_managed_prefix_list_entries(PrefixListId=pid, MaxResults=2)
        self.assertEqual(len(page["Entries"]), 2)
        rest = self.ec2.get_managed_prefix_list_entries(PrefixListId=pid, MaxResults=2, NextToken=page["NextToken"])
        self.assertEqual(cidrs(page["Entries"] + rest["Entries"]), ["10.9.0.0/16", "192.0.2.0/24", "203.0.113.0/24"])
        self.assertNotIn("NextToken", rest)
        # filters
        got = self.ec2.describe_managed_prefix_lists(Filters=[{"Name": "prefix-list-name", "Values": ["office2"]}])
        self.assertEqual([p["PrefixListId"] for p in got["PrefixLists"]], [pid])
        out = self.ec2.delete_managed_prefix_list(PrefixListId=pid)["PrefixList"]
        self.assertEqual(out["State"], "delete-in-progress")
        msg = self.assertError("InvalidPrefixListID.NotFound", self.ec2.describe_managed_prefix_lists, PrefixListIds=[pid])
        self.assertEqual(msg, "The prefix list ID '%s' does not exist" % pid)
        self.assertError("InvalidPrefixListID.NotFound", self.ec2.get_managed_prefix_list_entries, PrefixListId=pid)

    def test_validation(self):
        msg = self.assertError("InvalidParameterValue", self.create, entries=("52.94.133.132/24",))
        self.assertEqual(msg, "The specified CIDR (52.94.133.132/24) is not valid. For example, specify a CIDR in "
                              "the following form: 10.0.0.0/16.")
        self.assertError("InvalidParameterValue", self.create, max_entries=1001)
        self.assertError("InvalidParameterValue", self.create, max_entries=1)          # 2 entries
        self.assertError("InvalidParameterValue", self.create, entries=("10.0.0.0/8", "10.0.0.0/8"))
        self.assertError("InvalidParameterValue", self.create, name="com.amazonaws.mine")
        pid = self.create(max_entries=2)["PrefixListId"]
        self.assertError("InvalidParameterValue", self.ec2.modify_managed_prefix_list, PrefixListId=pid,
                         AddEntries=[{"Cidr": "10.1.0.0/16"}])                         # a third entry
        self.assertError("InvalidParameterValue", self.ec2.modify_managed_prefix_list, PrefixListId=pid,
                         RemoveEntries=[{"Cidr": "10.1.0.0/16"}])                      # not in the list
        self.assertError("DryRunOperation", self.ec2.delete_managed_prefix_list, PrefixListId=pid, DryRun=True)

    def test_aws_managed(self):
        got = self.ec2.describe_prefix_lists()["PrefixLists"]
        by_name = {p["PrefixListName"]: p for p in got}
        self.assertEqual(sorted(by_name), ["com.amazonaws.us-east-1.dynamodb", "com.amazonaws.us-east-1.s3"])
        s3 = by_name["com.amazonaws.us-east-1.s3"]
        self.assertEqual(s3["PrefixListId"], "pl-63a5400a")
        self.assertIn("52.216.0.0/15", s3["Cidrs"])
        self.assertEqual(by_name["com.amazonaws.us-east-1.dynamodb"]["PrefixListId"], "pl-02cd2c6b")
        one = self.ec2.describe_prefix_lists(Filters=[{"Name": "prefix-list-name",
                                                       "Values": ["com.amazonaws.us-east-1.s3"]}])["PrefixLists"]
        self.assertEqual([p["PrefixListId"] for p in one], ["pl-63a5400a"])
        managed = self.ec2.describe_managed_prefix_lists(Filters=[{"Name": "owner-id", "Values": ["AWS"]}])["PrefixLists"]
        self.assertEqual(sorted(p["PrefixListId"] for p in managed), ["pl-02cd2c6b", "pl-63a5400a"])
        self.assertEqual(cidrs(self.entries("pl-63a5400a")), sorted(s3["Cidrs"], key=lambda c: [int(x) for x in c.replace("/", ".").split(".")]))
        self.assertError("UnauthorizedOperation", self.ec2.delete_managed_prefix_list, PrefixListId="pl-63a5400a")

    def test_security_group_peers_and_routes(self):
        pid = self.create(name="peers")["PrefixListId"]
        vpc = self.ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
        sg = self.ec2.create_security_group(GroupName="pl", Description="pl", VpcId=vpc)["GroupId"]
        rules = self.ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
             "PrefixListIds": [{"PrefixListId": pid, "Description": "office"}]}])["SecurityGroupRules"]
        self.assertEqual(rules[0]["PrefixListId"], pid)
        perms = self.ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["IpPermissions"]
        self.assertEqual(perms[0]["PrefixListIds"], [{"PrefixListId": pid, "Description": "office"}])
        got = self.ec2.describe_security_groups(Filters=[{"Name": "ip-permission.prefix-list-id", "Values": [pid]}])
        self.assertEqual([g["GroupId"] for g in got["SecurityGroups"]], [sg])
        self.assertError("InvalidPermission.Duplicate", self.ec2.authorize_security_group_ingress, GroupId=sg,
                         IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                         "PrefixListIds": [{"PrefixListId": pid}]}])
        self.assertError("InvalidPrefixListID.NotFound", self.ec2.authorize_security_group_ingress, GroupId=sg,
                         IpPermissions=[{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                                         "PrefixListIds": [{"PrefixListId": "pl-00000000000000000"}]}])
        # a route to the list
        rtb = self.ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        igw = self.ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        self.ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        self.ec2.create_route(RouteTableId=rtb, DestinationPrefixListId=pid, GatewayId=igw)
        routes = self.ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]["Routes"]
        route = [r for r in routes if r.get("DestinationPrefixListId") == pid][0]
        self.assertEqual((route["GatewayId"], route["State"], route["Origin"]), (igw, "active", "CreateRoute"))
        self.assertError("RouteAlreadyExists", self.ec2.create_route, RouteTableId=rtb, DestinationPrefixListId=pid,
                         GatewayId=igw)
        got = self.ec2.describe_route_tables(Filters=[{"Name": "route.destination-prefix-list-id", "Values": [pid]}])
        self.assertEqual([t["RouteTableId"] for t in got["RouteTables"]], [rtb])
        assoc = self.ec2.get_managed_prefix_list_associations(PrefixListId=pid)["PrefixListAssociations"]
        self.assertEqual(sorted(a["ResourceId"] for a in assoc), sorted([sg, rtb]))
        self.assertError("InvalidPrefixListModification", self.ec2.delete_managed_prefix_list, PrefixListId=pid)
        self.ec2.delete_route(RouteTableId=rtb, DestinationPrefixListId=pid)
        msg = self.assertError("InvalidRoute.NotFound", self.ec2.delete_route, RouteTableId=rtb,
                               DestinationPrefixListId=pid)
        self.assertEqual(msg, "no route with destination-prefix-list-id %s in route table %s" % (pid, rtb))
        self.ec2.revoke_security_group_ingress(GroupId=sg, SecurityGroupRuleIds=[rules[0]["SecurityGroupRuleId"]])
        self.assertEqual(self.ec2.get_managed_prefix_list_associations(PrefixListId=pid)["PrefixListAssociations"], [])
        self.ec2.delete_managed_prefix_list(PrefixListId=pid)

    def test_cli(self):
        pl = self.vpcd.cli("create-managed-prefix-list", "--prefix-list-name", "cli", "--address-family", "IPv4",
                           "--max-entries", "3", "--entries", "Cidr=192.0.2.0/24,Description=doc")["PrefixList"]
        self.vpcd.cli("modify-managed-prefix-list", "--prefix-list-id", pl["PrefixListId"], "--current-version", "1",
                      "--add-entries", "Cidr=198.51.100.0/24")
        got = self.vpcd.cli("get-managed-prefix-list-entries", "--prefix-list-id", pl["PrefixListId"])
        self.assertEqual(cidrs(got["Entries"]), ["192.0.2.0/24", "198.51.100.0/24"])
        got = self.vpcd.cli("describe-prefix-lists")
        self.assertEqual(len(got["PrefixLists"]), 2)
        self.vpcd.cli("delete-managed-prefix-list", "--prefix-list-id", pl["PrefixListId"])


class TestSecurityGroupRuleActions(VpcdTestCase):
    def setUp(self):
        self.vpc = self.ec2.create_vpc(CidrBlock="10.61.0.0/16")["Vpc"]["VpcId"]
        self.sg = self.ec2.create_security_group(GroupName="g%d" % id(self), Description="d", VpcId=self.vpc)["GroupId"]

    def test_ipv6_ranges_kept_and_revoked(self):
        # what Terraform does right after CreateSecurityGroup: the group has no ::/0 egress rule
        msg = self.assertError("InvalidPermission.NotFound", self.ec2.revoke_security_group_egress, GroupId=self.sg,
                               IpPermissions=[{"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
        self.assertEqual(msg, "The specified rule does not exist in this security group.")
        rules = self.ec2.authorize_security_group_ingress(GroupId=self.sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
             "Ipv6Ranges": [{"CidrIpv6": "2001:DB8::/32", "Description": "v6"}]}])["SecurityGroupRules"]
        self.assertEqual(rules[0]["CidrIpv6"], "2001:db8::/32")
        perm = self.ec2.describe_security_groups(GroupIds=[self.sg])["SecurityGroups"][0]["IpPermissions"][0]
        self.assertEqual(perm["Ipv6Ranges"], [{"CidrIpv6": "2001:db8::/32", "Description": "v6"}])
        self.assertError("InvalidPermission.Duplicate", self.ec2.authorize_security_group_ingress, GroupId=self.sg,
                         IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                         "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/32"}]}])
        self.assertError("InvalidParameterValue", self.ec2.authorize_security_group_ingress, GroupId=self.sg,
                         IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                         "Ipv6Ranges": [{"CidrIpv6": "2001:zz8::/32"}]}])
        out = self.ec2.revoke_security_group_ingress(GroupId=self.sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/32"}]}])
        self.assertEqual(out["RevokedSecurityGroupRules"][0]["CidrIpv6"], "2001:db8::/32")
        perms = self.ec2.describe_security_groups(GroupIds=[self.sg])["SecurityGroups"][0]["IpPermissions"]
        self.assertEqual(perms, [])

    def test_modify_security_group_rules(self):
        rule = self.ec2.authorize_security_group_ingress(GroupId=self.sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]
        )["SecurityGroupRules"][0]
        rid = rule["SecurityGroupRuleId"]
        self.ec2.create_tags(Resources=[rid], Tags=[{"Key": "k", "Value": "v"}])
        self.assertTrue(self.ec2.modify_security_group_rules(GroupId=self.sg, SecurityGroupRules=[
            {"SecurityGroupRuleId": rid, "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                                                "CidrIpv4": "192.0.2.0/24", "Description": "https"}}]
        )["Return"])
        got = self.ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"][0]
        self.assertEqual((got["FromPort"], got["ToPort"], got["CidrIpv4"], got["Description"], got["IsEgress"]),
                         (443, 443, "192.0.2.0/24", "https", False))
        self.assertEqual(got["Tags"], [{"Key": "k", "Value": "v"}])
        perm = self.ec2.describe_security_groups(GroupIds=[self.sg])["SecurityGroups"][0]["IpPermissions"][0]
        self.assertEqual((perm["FromPort"], perm["IpRanges"]), (443, [{"CidrIp": "192.0.2.0/24", "Description": "https"}]))
        # to a referenced group
        self.ec2.modify_security_group_rules(GroupId=self.sg, SecurityGroupRules=[
            {"SecurityGroupRuleId": rid, "SecurityGroupRule": {"IpProtocol": "-1", "ReferencedGroupId": self.sg}}])
        got = self.ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"][0]
        self.assertEqual(got["ReferencedGroupInfo"]["GroupId"], self.sg)
        self.assertNotIn("CidrIpv4", got)
        self.assertError("InvalidSecurityGroupRuleId.NotFound", self.ec2.modify_security_group_rules, GroupId=self.sg,
                         SecurityGroupRules=[{"SecurityGroupRuleId": "sgr-00000000000000000",
                                              "SecurityGroupRule": {"IpProtocol": "-1", "CidrIpv4": "10.0.0.0/8"}}])
        self.assertError("InvalidParameterCombination", self.ec2.modify_security_group_rules, GroupId=self.sg,
                         SecurityGroupRules=[{"SecurityGroupRuleId": rid, "SecurityGroupRule": {
                             "IpProtocol": "-1", "CidrIpv4": "10.0.0.0/8", "CidrIpv6": "::/0"}}])

    def test_update_descriptions(self):
        self.ec2.authorize_security_group_ingress(GroupId=self.sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "a"}]}])
        self.ec2.update_security_group_rule_descriptions_ingress(GroupId=self.sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "b"}]}])
        perm = self.ec2.describe_security_groups(GroupIds=[self.sg])["SecurityGroups"][0]["IpPermissions"][0]
        self.assertEqual(perm["IpRanges"], [{"CidrIp": "0.0.0.0/0", "Description": "b"}])
        egress = self.ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [self.sg]}])
        eid = [r for r in egress["SecurityGroupRules"] if r["IsEgress"]][0]["SecurityGroupRuleId"]
        self.ec2.update_security_group_rule_descriptions_egress(GroupId=self.sg, SecurityGroupRuleDescriptions=[
            {"SecurityGroupRuleId": eid, "Description": "out"}])
        got = self.ec2.describe_security_group_rules(SecurityGroupRuleIds=[eid])["SecurityGroupRules"][0]
        self.assertEqual(got["Description"], "out")
        self.assertError("InvalidPermission.NotFound", self.ec2.update_security_group_rule_descriptions_ingress,
                         GroupId=self.sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 81, "ToPort": 81,
                                                          "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "x"}]}])
        # an egress rule id is not an ingress rule
        self.assertError("InvalidSecurityGroupRuleId.NotFound", self.ec2.update_security_group_rule_descriptions_ingress,
                         GroupId=self.sg, SecurityGroupRuleDescriptions=[{"SecurityGroupRuleId": eid, "Description": "x"}])
        p = self.vpcd.cli("update-security-group-rule-descriptions-ingress", "--group-id", self.sg, "--ip-permissions",
                          "IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=0.0.0.0/0,Description=cli}]")
        self.assertTrue(p["Return"])


class TestPrefixListTrace(VpcdTestCase):
    """`vpcctl trace` sees prefix lists as the data plane does: a group rule
    whose peer is a prefix list admits the list's CIDRs, and a route to a
    prefix list carries its CIDRs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        two_instance_vpc(cls, 21)

    def trace(self, *args):
        p = vpcctl(self.vpcd, "--output", "json", "trace", *args)
        return p.returncode, json.loads(p.stdout) if p.stdout else None, p.stderr

    def test_rule_and_route(self):
        pl = self.ec2.create_managed_prefix_list(PrefixListName="a-side", AddressFamily="IPv4", MaxEntries=3,
                                                 Entries=[{"Cidr": "10.21.1.0/24"}])["PrefixList"]["PrefixListId"]
        rule = self.ec2.authorize_security_group_ingress(GroupId=self.sg_b, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "PrefixListIds": [{"PrefixListId": pl}]}]
        )["SecurityGroupRules"][0]["SecurityGroupRuleId"]
        rc, r, err = self.trace("--from", self.a, "--to", self.b, "--proto", "tcp", "--port", "443")
        self.assertEqual(rc, 0, err)
        steps = {s["Step"]: s for s in r["Steps"]}
        self.assertEqual(steps["security-group-ingress"]["Rule"], rule)
        self.ec2.modify_managed_prefix_list(PrefixListId=pl, RemoveEntries=[{"Cidr": "10.21.1.0/24"}],
                                            AddEntries=[{"Cidr": "192.0.2.0/24"}])
        rc, r, err = self.trace("--from", self.a, "--to", self.b, "--proto", "tcp", "--port", "443")
        self.assertEqual(rc, 1, err)
        self.assertEqual(r["Cause"], "sg-ingress")
        # a route to the list (192.0.2.0/24) through b's interface
        self.ec2.create_route(RouteTableId=self.rtb, DestinationPrefixListId=pl, NetworkInterfaceId=self.eni_b)
        rc, r, err = self.trace("--from", self.a, "--to", "192.0.2.9", "--proto", "icmp")
        steps = {s["Step"]: s for s in r["Steps"]}
        self.assertEqual(steps["route"]["Component"], self.rtb)
        self.assertIn(self.eni_b, json.dumps(steps["route"]))
