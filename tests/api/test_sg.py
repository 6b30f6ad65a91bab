"""Security groups and their rules through boto3 and the aws CLI: the
default group of a new VPC, create/delete, authorize/revoke in both
directions (IpPermissions and the flat form), rule ids, filters, paging."""
from vpcdtest import VpcdTestCase

ACCOUNT = "123456789012"


def tcp(port, cidr="0.0.0.0/0", to=None, **kw):
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": to if to is not None else port,
            "IpRanges": [dict(CidrIp=cidr, **kw)]}


class T(VpcdTestCase):
    def setUp(self):
        self.vpc = self.ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]

    def group(self, gid):
        return self.ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]

    def new_group(self, name="web", vpc=None, **kw):
        return self.ec2.create_security_group(GroupName=name, Description="group " + name,
                                              VpcId=vpc or self.vpc, **kw)["GroupId"]

    def default_group(self, vpc=None):
        return self.ec2.describe_security_groups(Filters=[
            {"Name": "vpc-id", "Values": [vpc or self.vpc]}, {"Name": "group-name", "Values": ["default"]}])[
            "SecurityGroups"][0]

    def rules(self, gid):
        return self.ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [gid]}])[
            "SecurityGroupRules"]

    # --- default group ------------------------------------------------------------
    def test_default_group_of_new_vpc(self):
        g = self.default_group()
        gid = g["GroupId"]
        self.assertTrue(gid.startswith("sg-"))
        self.assertEqual(g["Description"], "default VPC security group")
        self.assertEqual(g["OwnerId"], ACCOUNT)
        self.assertEqual(g["IpPermissions"], [{
            "IpProtocol": "-1", "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [],
            "UserIdGroupPairs": [{"GroupId": gid, "UserId": ACCOUNT}]}])
        self.assertEqual(g["IpPermissionsEgress"], [{
            "IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [], "PrefixListIds": [],
            "UserIdGroupPairs": []}])
        rules = sorted(self.rules(gid), key=lambda r: r["IsEgress"])
        self.assertEqual(len(rules), 2)
        self.assertEqual(rules[0]["ReferencedGroupInfo"], {"GroupId": gid, "UserId": ACCOUNT})
        self.assertEqual((rules[0]["IpProtocol"], rules[0]["FromPort"], rules[0]["ToPort"]), ("-1", -1, -1))
        self.assertEqual(rules[1]["CidrIpv4"], "0.0.0.0/0")
        self.assertTrue(rules[1]["IsEgress"])
        for r in rules:
            self.assertTrue(r["SecurityGroupRuleId"].startswith("sgr-"))
            self.assertEqual(r["GroupOwnerId"], ACCOUNT)

    def test_default_group_cannot_be_deleted(self):
        gid = self.default_group()["GroupId"]
        msg = self.assertError("CannotDelete", self.ec2.delete_security_group, GroupId=gid)
        self.assertEqual(msg, 'the specified group: "%s" name: "default" cannot be deleted by a user' % gid)

    def test_vpc_delete_removes_default_group_and_its_rules(self):
        gid = self.default_group()["GroupId"]
        ids = [r["SecurityGroupRuleId"] for r in self.rules(gid)]
        self.ec2.delete_vpc(VpcId=self.vpc)
        self.assertError("InvalidGroup.NotFound", self.ec2.describe_security_groups, GroupIds=[gid])
        self.assertError("InvalidSecurityGroupRuleId.NotFound", self.ec2.describe_security_group_rules,
                         SecurityGroupRuleIds=ids[:1])

    # --- create / delete -------------------------------------------------------------
    def test_create_group(self):
        out = self.ec2.create_security_group(GroupName="web", Description="web tier", VpcId=self.vpc,
                                             TagSpecifications=[{"ResourceType": "security-group",
                                                                 "Tags": [{"Key": "Name", "Value": "w"}]}])
        gid = out["GroupId"]
        self.assertTrue(gid.startswith("sg-"))
        self.assertEqual(out["Tags"], [{"Key": "Name", "Value": "w"}])
        self.assertTrue(out["SecurityGroupArn"].endswith("security-group/" + gid))
        g = self.group(gid)
        self.assertEqual((g["GroupName"], g["Description"], g["VpcId"]), ("web", "web tier", self.vpc))
        self.assertEqual(g["IpPermissions"], [])
        self.assertEqual(g["IpPermissionsEgress"], [{
            "IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [], "PrefixListIds": [],
            "UserIdGroupPairs": []}])
        self.assertEqual(len(self.rules(gid)), 1)

    def test_create_group_in_default_vpc_when_no_vpc_given(self):
        default_vpc = self.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
        gid = self.ec2.create_security_group(GroupName="in-default", Description="d")["GroupId"]
        self.assertEqual(self.group(gid)["VpcId"], default_vpc["VpcId"])
        # by name in the default VPC
        g = self.ec2.describe_security_groups(GroupNames=["in-default"])["SecurityGroups"]
        self.assertEqual([x["GroupId"] for x in g], [gid])
        self.ec2.authorize_security_group_ingress(GroupName="in-default", IpProtocol="tcp", FromPort=22,
                                                  ToPort=22, CidrIp="192.0.2.0/24")
        self.ec2.revoke_security_group_ingress(GroupName="in-default", IpProtocol="tcp", FromPort=22,
                                               ToPort=22, CidrIp="192.0.2.0/24")
        self.ec2.delete_security_group(GroupName="in-default")
        self.assertError("InvalidGroup.NotFound", self.ec2.describe_security_groups, GroupNames=["in-default"])

    def test_create_group_errors(self):
        self.new_group("dup")
        msg = self.assertError("InvalidGroup.Duplicate", self.new_group, "dup")
        self.assertEqual(msg, "The security group 'dup' already exists for VPC '%s'" % self.vpc)
        other = self.ec2.create_vpc(CidrBlock="10.31.0.0/16")["Vpc"]["VpcId"]
        self.new_group("dup", vpc=other)  # names are per VPC
        self.assertError("InvalidParameterValue", self.new_group, "default")
        self.assertError("InvalidParameterValue", self.new_group, "sg-123")
        self.assertError("InvalidParameterValue", self.new_group, "x" * 256)
        self.assertError("InvalidVpcID.NotFound", self.new_group, "x", vpc="vpc-0000000000000000f")
        p = self.vpcd.cli("create-security-group", "--group-name", "nodesc", "--vpc-id", self.vpc, check=False)
        self.assertNotEqual(p.returncode, 0)  # the CLI insists on --description itself

    def test_delete_group(self):
        gid = self.new_group()
        rule_ids = [r["SecurityGroupRuleId"] for r in self.rules(gid)]
        out = self.ec2.delete_security_group(GroupId=gid)
        self.assertTrue(out["Return"])
        self.assertEqual(out["GroupId"], gid)
        msg = self.assertError("InvalidGroup.NotFound", self.ec2.describe_security_groups, GroupIds=[gid])
        self.assertEqual(msg, "The security group '%s' does not exist" % gid)
        self.assertError("InvalidGroup.NotFound", self.ec2.delete_security_group, GroupId=gid)
        self.assertError("InvalidSecurityGroupRuleId.NotFound", self.ec2.describe_security_group_rules,
                         SecurityGroupRuleIds=rule_ids)

    def test_delete_referenced_group_is_dependency_violation(self):
        app, db = self.new_group("app"), self.new_group("db")
        self.ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": app}]}])
        msg = self.assertError("DependencyViolation", self.ec2.delete_security_group, GroupId=app)
        self.assertEqual(msg, "resource %s has a dependent object" % app)
        self.ec2.delete_security_group(GroupId=db)  # db references app, not the other way
        self.ec2.delete_security_group(GroupId=app)

    def test_group_that_references_itself_can_be_deleted(self):
        gid = self.new_group()
        self.ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": gid}]}])
        self.ec2.delete_security_group(GroupId=gid)

    def test_vpc_with_group_cannot_be_deleted(self):
        gid = self.new_group()
        self.assertError("DependencyViolation", self.ec2.delete_vpc, VpcId=self.vpc)
        self.ec2.delete_security_group(GroupId=gid)
        self.ec2.delete_vpc(VpcId=self.vpc)

    # --- authorize -----------------------------------------------------------------------
    def test_authorize_ingress(self):
        gid = self.new_group()
        out = self.ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
            tcp(22, "10.0.0.0/8", Description="ssh"),
            {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53,
             "IpRanges": [{"CidrIp": "192.0.2.0/24"}, {"CidrIp": "198.51.100.9/24"}]},
            {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "6", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "203.0.113.0/24"}]},
            {"IpProtocol": "50", "IpRanges": [{"CidrIp": "203.0.113.0/24"}]},
        ])
        self.assertTrue(out["Return"])
        rules = out["SecurityGroupRules"]
        self.assertEqual(len(rules), 6)
        self.assertTrue(all(r["SecurityGroupRuleId"].startswith("sgr-") and r["GroupId"] == gid and
                            not r["IsEgress"] and r["GroupOwnerId"] == ACCOUNT for r in rules))
        self.assertEqual([(r["IpProtocol"], r["FromPort"], r["ToPort"], r["CidrIpv4"]) for r in rules], [
            ("tcp", 22, 22, "10.0.0.0/8"), ("udp", 53, 53, "192.0.2.0/24"), ("udp", 53, 53, "198.51.100.0/24"),
            ("icmp", 8, -1, "0.0.0.0/0"), ("tcp", 22, 22, "203.0.113.0/24"), ("50", -1, -1, "203.0.113.0/24")])
        self.assertEqual(rules[0]["Description"], "ssh")
        perms = self.group(gid)["IpPermissions"]
        self.assertEqual([(p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), [r["CidrIp"] for r in p["IpRanges"]])
                          for p in perms], [
            ("tcp", 22, 22, ["10.0.0.0/8", "203.0.113.0/24"]), ("udp", 53, 53, ["192.0.2.0/24", "198.51.100.0/24"]),
            ("icmp", 8, -1, ["0.0.0.0/0"]), ("50", None, None, ["203.0.113.0/24"])])
        self.assertEqual(perms[0]["IpRanges"][0], {"CidrIp": "10.0.0.0/8", "Description": "ssh"})
        # DescribeSecurityGroupRules agrees
        self.assertEqual(sorted(r["SecurityGroupRuleId"] for r in self.rules(gid) if not r["IsEgress"]),
                         sorted(r["SecurityGroupRuleId"] for r in rules))

    def test_authorize_group_reference(self):
        app, db = self.new_group("app"), self.new_group("db")
        out = self.ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
             "UserIdGroupPairs": [{"GroupId": app, "Description": "from app"}]}])
        r = out["SecurityGroupRules"][0]
        self.assertEqual(r["ReferencedGroupInfo"], {"GroupId": app, "UserId": ACCOUNT})
        self.assertNotIn("CidrIpv4", r)
        self.assertEqual(r["Description"], "from app")
        pair = self.group(db)["IpPermissions"][0]["UserIdGroupPairs"]
        self.assertEqual(pair, [{"GroupId": app, "UserId": ACCOUNT, "Description": "from app"}])
        # by name within the VPC
        self.ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379, "UserIdGroupPairs": [{"GroupName": "app"}]}])
        self.assertError("InvalidGroup.NotFound", self.ec2.authorize_security_group_ingress, GroupId=db,
                         IpPermissions=[{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1,
                                         "UserIdGroupPairs": [{"GroupId": "sg-0000000000000000f"}]}])
        other = self.ec2.create_vpc(CidrBlock="10.32.0.0/16")["Vpc"]["VpcId"]
        foreign = self.new_group("foreign", vpc=other)
        msg = self.assertError("InvalidGroup.NotFound", self.ec2.authorize_security_group_ingress, GroupId=db,
                               IpPermissions=[{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1,
                                               "UserIdGroupPairs": [{"GroupId": foreign}]}])
        self.assertIn("different networks", msg)

    def test_authorize_flat_form(self):
        gid = self.new_group()
        out = self.ec2.authorize_security_group_ingress(GroupId=gid, IpProtocol="tcp", FromPort=443, ToPort=443,
                                                        CidrIp="0.0.0.0/0")
        self.assertEqual([(r["IpProtocol"], r["FromPort"], r["CidrIpv4"]) for r in out["SecurityGroupRules"]],
                         [("tcp", 443, "0.0.0.0/0")])
        src = self.new_group("src")
        out = self.ec2.authorize_security_group_ingress(GroupId=gid, SourceSecurityGroupName="src")
        self.assertEqual(sorted((r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in out["SecurityGroupRules"]),
                         [("icmp", -1, -1), ("tcp", 0, 65535), ("udp", 0, 65535)])
        self.assertTrue(all(r["ReferencedGroupInfo"]["GroupId"] == src for r in out["SecurityGroupRules"]))

    def test_authorize_egress(self):
        gid = self.new_group()
        out = self.ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=[tcp(443, "192.0.2.0/24")])
        r = out["SecurityGroupRules"][0]
        self.assertTrue(r["IsEgress"])
        g = self.group(gid)
        self.assertEqual(g["IpPermissions"], [])
        self.assertEqual([p["IpProtocol"] for p in g["IpPermissionsEgress"]], ["-1", "tcp"])
        self.assertError("InvalidPermission.Duplicate", self.ec2.authorize_security_group_egress, GroupId=gid,
                         IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])

    def test_authorize_duplicate(self):
        gid = self.new_group()
        self.ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[tcp(22, "203.0.113.0/24")])
        msg = self.assertError("InvalidPermission.Duplicate", self.ec2.authorize_security_group_ingress,
                               GroupId=gid, IpPermissions=[tcp(22, "203.0.113.0/24", Description="again")])
        self.assertEqual(msg, 'the specified rule "peer: 203.0.113.0/24, TCP, from port: 22, to port: 22, ALLOW" '
                              'already exists')
        # a duplicate inside one request, and an all-or-nothing request
        self.assertError("InvalidPermission.Duplicate", self.ec2.authorize_security_group_ingress, GroupId=gid,
                         IpPermissions=[tcp(80), tcp(80)])
        self.assertEqual(len(self.group(gid)["IpPermissions"]), 1)
        # the same range in the other direction is not a duplicate
        self.ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=[tcp(22, "203.0.113.0/24")])

    def test_authorize_validation(self):
        gid = self.new_group()
        auth = self.ec2.authorize_security_group_ingress
        self.assertError("InvalidParameterValue", auth, GroupId=gid, IpPermissions=[
            {"IpProtocol": "tcp", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        self.assertError("InvalidParameterValue", auth, GroupId=gid, IpPermissions=[tcp(90, to=80)])
        self.assertError("InvalidParameterValue", auth, GroupId=gid, IpPermissions=[tcp(1, to=65536)])
        self.assertError("InvalidParameterValue", auth, GroupId=gid, IpPermissions=[tcp(22, "10.0.0.0/40")])
        self.assertError("InvalidParameterValue", auth, GroupId=gid, IpPermissions=[
            {"IpProtocol": "bogus", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        self.assertError("InvalidParameterValue", auth, GroupId=gid, IpPermissions=[
            {"IpProtocol": "icmp", "FromPort": 300, "ToPort": 0, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        self.assertError("MissingParameter", auth, GroupId=gid, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1}])
        self.assertError("MissingParameter", auth, GroupId=gid)
        self.assertError("InvalidGroup.NotFound", auth, GroupId="sg-0000000000000000f", IpPermissions=[tcp(22)])
        self.assertEqual(self.group(gid)["IpPermissions"], [])

    def test_rules_per_direction_limit(self):
        gid = self.new_group()
        perms = [tcp(1000 + i) for i in range(60)]
        self.ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=perms[:30])
        self.ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=perms[30:])
        msg = self.assertError("RulesPerSecurityGroupLimitExceeded", self.ec2.authorize_security_group_ingress,
                               GroupId=gid, IpPermissions=[tcp(2000)])
        self.assertEqual(msg, "The maximum number of rules per security group has been reached.")
        # egress already holds one rule (all outbound): 59 more fit, not 60
        self.assertError("RulesPerSecurityGroupLimitExceeded", self.ec2.authorize_security_group_egress,
                         GroupId=gid, IpPermissions=perms)
        self.ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=perms[:59])

    def test_rule_tags(self):
        gid = self.new_group()
        out = self.ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[tcp(22), tcp(80)],
                                                        TagSpecifications=[{"ResourceType": "security-group-rule",
                                                                            "Tags": [{"Key": "app", "Value": "x"}]}])
        ids = [r["SecurityGroupRuleId"] for r in out["SecurityGroupRules"]]
        self.assertEqual(out["SecurityGroupRules"][0]["Tags"], [{"Key": "app", "Value": "x"}])
        self.ec2.create_tags(Resources=[ids[0]], Tags=[{"Key": "only", "Value": "first"}])
        got = self.ec2.describe_security_group_rules(Filters=[{"Name": "tag:only", "Values": ["first"]}])
        self.assertEqual([r["SecurityGroupRuleId"] for r in got["SecurityGroupRules"]], [ids[0]])
        got = self.ec2.describe_security_group_rules(Filters=[{"Name": "tag-key", "Values": ["app"]},
                                                              {"Name": "group-id", "Values": [gid]}])
        self.assertEqual(sorted(r["SecurityGroupRuleId"] for r in got["SecurityGroupRules"]), sorted(ids))

    # --- revoke ------------------------------------------------------------------------
    def test_revoke_by_permission(self):
        gid = self.new_group()
        added = self.ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
            tcp(22, "10.0.0.0/8", Description="ssh"), tcp(80)])["SecurityGroupRules"]
        out = self.ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=[tcp(22, "10.0.0.0/8")])
        self.assertTrue(out["Return"])
        self.assertEqual([r["SecurityGroupRuleId"] for r in out["RevokedSecurityGroupRules"]],
                         [added[0]["SecurityGroupRuleId"]])
        self.assertEqual([p["FromPort"] for p in self.group(gid)["IpPermissions"]], [80])
        msg = self.assertError("InvalidPermission.NotFound", self.ec2.revoke_security_group_ingress, GroupId=gid,
                               IpPermissions=[tcp(22, "10.0.0.0/8")])
        self.assertEqual(msg, "The specified rule does not exist in this security group.")
        # all or nothing: one missing rule keeps the other
        self.assertError("InvalidPermission.NotFound", self.ec2.revoke_security_group_ingress, GroupId=gid,
                         IpPermissions=[tcp(80), tcp(81)])
        self.assertEqual(len(self.group(gid)["IpPermissions"]), 1)
        # flat form
        self.ec2.revoke_security_group_ingress(GroupId=gid, IpProtocol="tcp", FromPort=80, ToPort=80,
                                               CidrIp="0.0.0.0/0")
        self.assertEqual(self.group(gid)["IpPermissions"], [])

    def test_revoke_by_rule_id(self):
        gid = self.new_group()
        ids = [r["SecurityGroupRuleId"] for r in self.ec2.authorize_security_group_ingress(
            GroupId=gid, IpPermissions=[tcp(22), tcp(80)])["SecurityGroupRules"]]
        out = self.ec2.revoke_security_group_ingress(GroupId=gid, SecurityGroupRuleIds=[ids[1]])
        self.assertEqual([r["SecurityGroupRuleId"] for r in out["RevokedSecurityGroupRules"]], [ids[1]])
        self.assertError("InvalidSecurityGroupRuleId.NotFound", self.ec2.revoke_security_group_ingress,
                         GroupId=gid, SecurityGroupRuleIds=[ids[1]])
        egress_id = [r["SecurityGroupRuleId"] for r in self.rules(gid) if r["IsEgress"]][0]
        # an egress rule is not an ingress rule
        self.assertError("InvalidSecurityGroupRuleId.NotFound", self.ec2.revoke_security_group_ingress,
                         GroupId=gid, SecurityGroupRuleIds=[egress_id])
        self.ec2.revoke_security_group_egress(GroupId=gid, SecurityGroupRuleIds=[egress_id])
        g = self.group(gid)
        self.assertEqual(g["IpPermissionsEgress"], [])
        self.assertEqual([p["FromPort"] for p in g["IpPermissions"]], [22])

    def test_revoke_egress_all(self):
        gid = self.new_group()
        self.ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        self.assertEqual(self.group(gid)["IpPermissionsEgress"], [])
        self.assertEqual(self.rules(gid), [])
        self.assertError("InvalidPermission.NotFound", self.ec2.revoke_security_group_egress, GroupId=gid,
                         IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])

    def test_revoke_default_ipv6_egress_not_found(self):
        # what Terraform sends right after CreateSecurityGroup: a VPC without
        # an IPv6 block gives a new group no ::/0 egress rule
        gid = self.new_group()
        self.assertError("InvalidPermission.NotFound", self.ec2.revoke_security_group_egress, GroupId=gid,
                         IpPermissions=[{"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
        self.assertEqual(len(self.rules(gid)), 1)

    def test_ipv6_ranges(self):
        gid = self.new_group()
        out = self.ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
             "Ipv6Ranges": [{"CidrIpv6": "2001:DB8:0:0::1/64", "Description": "v6 web"}],
             "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])["SecurityGroupRules"]
        v6 = [r for r in out if "CidrIpv6" in r]
        self.assertEqual([(r["CidrIpv6"], r["Description"]) for r in v6], [("2001:db8::/64", "v6 web")])
        self.assertNotIn("CidrIpv4", v6[0])
        perm = self.group(gid)["IpPermissions"]
        self.assertEqual(perm, [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                 "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
                                 "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/64", "Description": "v6 web"}],
                                 "PrefixListIds": [], "UserIdGroupPairs": []}])
        f = self.ec2.describe_security_groups(Filters=[{"Name": "ip-permission.ipv6-cidr",
                                                        "Values": ["2001:db8::/64"]}])["SecurityGroups"]
        self.assertEqual([g["GroupId"] for g in f], [gid])
        self.assertError("InvalidPermission.Duplicate", self.ec2.authorize_security_group_ingress, GroupId=gid,
                         IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                         "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/64"}]}])
        self.assertError("InvalidParameterValue", self.ec2.authorize_security_group_ingress, GroupId=gid,
                         IpPermissions=[{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1,
                                         "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/129"}]}])
        self.assertError("InvalidParameterValue", self.ec2.authorize_security_group_ingress, GroupId=gid,
                         IpPermissions=[{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1,
                                         "Ipv6Ranges": [{"CidrIpv6": "10.0.0.0/8"}]}])
        # egress ::/0 added, then revoked by permission; the ingress one by rule id
        self.ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
        self.assertEqual(self.group(gid)["IpPermissionsEgress"][-1]["Ipv6Ranges"], [{"CidrIpv6": "::/0"}])
        gone = self.ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])["RevokedSecurityGroupRules"]
        self.assertEqual([r["CidrIpv6"] for r in gone], ["::/0"])
        self.ec2.revoke_security_group_ingress(GroupId=gid, SecurityGroupRuleIds=[v6[0]["SecurityGroupRuleId"]])
        self.assertEqual(self.group(gid)["IpPermissions"][0]["Ipv6Ranges"], [])
        self.assertEqual(len(self.rules(gid)), 2)

    def test_revoke_in_default_vpc_reports_unknown(self):
        gid = self.ec2.create_security_group(GroupName="lenient", Description="d")["GroupId"]
        out = self.ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=[tcp(9999)])
        self.assertTrue(out["Return"])
        self.assertEqual(out["UnknownIpPermissions"][0]["IpProtocol"], "tcp")
        self.assertEqual(out["UnknownIpPermissions"][0]["FromPort"], 9999)
        self.ec2.delete_security_group(GroupId=gid)

    # --- describe ------------------------------------------------------------------
    def test_describe_groups_filters(self):
        web = self.new_group("web")
        db = self.new_group("db", TagSpecifications=[{"ResourceType": "security-group",
                                                      "Tags": [{"Key": "tier", "Value": "data"}]}])
        default = self.default_group()["GroupId"]
        self.ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[tcp(443, "203.0.113.0/24")])
        self.ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": web}]}])
        self.ec2.authorize_security_group_egress(GroupId=web, IpPermissions=[
            {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "10.30.0.2/32"}]}])

        def ids(*filters):
            fs = [{"Name": n, "Values": v if isinstance(v, list) else [v]} for n, v in filters]
            fs.append({"Name": "vpc-id", "Values": [self.vpc]})
            return [g["GroupId"] for g in self.ec2.describe_security_groups(Filters=fs)["SecurityGroups"]]

        self.assertEqual(ids(), [default, web, db])
        self.assertEqual(ids(("group-name", "web")), [web])
        self.assertEqual(ids(("group-name", "d*")), [default, db])
        self.assertEqual(ids(("group-id", db)), [db])
        self.assertEqual(ids(("description", "group web")), [web])
        self.assertEqual(ids(("owner-id", ACCOUNT)), [default, web, db])
        self.assertEqual(ids(("tag:tier", "data")), [db])
        self.assertEqual(ids(("tag-key", "tier")), [db])
        self.assertEqual(ids(("ip-permission.cidr", "203.0.113.0/24")), [web])
        self.assertEqual(ids(("ip-permission.from-port", "5432")), [db])
        self.assertEqual(ids(("ip-permission.to-port", "443")), [web])
        self.assertEqual(ids(("ip-permission.protocol", "tcp")), [web, db])
        self.assertEqual(ids(("ip-permission.protocol", "6")), [web, db])
        self.assertEqual(ids(("ip-permission.protocol", "-1")), [default])
        self.assertEqual(ids(("ip-permission.group-id", web)), [db])
        self.assertEqual(ids(("ip-permission.group-name", "web")), [db])
        self.assertEqual(ids(("ip-permission.user-id", ACCOUNT)), [default, db])
        self.assertEqual(ids(("egress.ip-permission.cidr", "10.30.0.2/32")), [web])
        self.assertEqual(ids(("egress.ip-permission.protocol", "udp")), [web])
        self.assertEqual(ids(("egress.ip-permission.from-port", "53")), [web])
        self.assertEqual(ids(("egress.ip-permission.to-port", "53")), [web])
        self.assertEqual(ids(("egress.ip-permission.cidr", "0.0.0.0/0")), [default, web, db])
        self.assertEqual(ids(("ip-permission.cidr", "0.0.0.0/0")), [])
        self.assertError("InvalidParameterValue", self.ec2.describe_security_groups,
                         Filters=[{"Name": "no-such-filter", "Values": ["x"]}])
        self.assertError("InvalidGroup.NotFound", self.ec2.describe_security_groups,
                         GroupIds=[web, "sg-0000000000000000f"])

    def test_describe_groups_paging(self):
        made = [self.new_group("g%d" % i) for i in range(6)]
        seen, token = [], None
        while True:
            kw = {"Filters": [{"Name": "vpc-id", "Values": [self.vpc]}], "MaxResults": 5}
            if token:
                kw["NextToken"] = token
            out = self.ec2.describe_security_groups(**kw)
            self.assertLessEqual(len(out["SecurityGroups"]), 5)
            seen += [g["GroupId"] for g in out["SecurityGroups"]]
            token = out.get("NextToken")
            if not token:
                break
        self.assertEqual(seen, [self.default_group()["GroupId"]] + made)

    def test_describe_rules(self):
        gid = self.new_group()
        added = self.ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
            tcp(p) for p in range(1, 8)])["SecurityGroupRules"]
        by_id = self.ec2.describe_security_group_rules(SecurityGroupRuleIds=[added[3]["SecurityGroupRuleId"]])
        self.assertEqual(by_id["SecurityGroupRules"][0]["FromPort"], 4)
        r = self.ec2.describe_security_group_rules(Filters=[
            {"Name": "security-group-rule-id", "Values": [added[0]["SecurityGroupRuleId"]]}])["SecurityGroupRules"]
        self.assertEqual([x["SecurityGroupRuleId"] for x in r], [added[0]["SecurityGroupRuleId"]])
        self.assertEqual({k: r[0][k] for k in ("GroupId", "GroupOwnerId", "IsEgress", "IpProtocol", "FromPort",
                                               "ToPort", "CidrIpv4")},
                         {"GroupId": gid, "GroupOwnerId": ACCOUNT, "IsEgress": False, "IpProtocol": "tcp",
                          "FromPort": 1, "ToPort": 1, "CidrIpv4": "0.0.0.0/0"})
        seen, token = [], None
        while True:
            kw = {"Filters": [{"Name": "group-id", "Values": [gid]}], "MaxResults": 5}
            if token:
                kw["NextToken"] = token
            out = self.ec2.describe_security_group_rules(**kw)
            seen += [x["SecurityGroupRuleId"] for x in out["SecurityGroupRules"]]
            token = out.get("NextToken")
            if not token:
                break
        self.assertEqual(len(seen), 8)  # 7 ingress + the egress default
        self.assertEqual(len(set(seen)), 8)
        self.assertError("InvalidSecurityGroupRuleId.NotFound", self.ec2.describe_security_group_rules,
                         SecurityGroupRuleIds=["sgr-0000000000000000f"])

    # --- the aws CLI ------------------------------------------------------------------
    def test_cli(self):
        v = self.vpcd
        gid = v.cli("create-security-group", "--group-name", "cli", "--description", "from the cli",
                    "--vpc-id", self.vpc)["GroupId"]
        src = v.cli("create-security-group", "--group-name", "cli-src", "--description", "src",
                    "--vpc-id", self.vpc)["GroupId"]
        out = v.cli("authorize-security-group-ingress", "--group-id", gid, "--protocol", "tcp", "--port", "22",
                    "--cidr", "203.0.113.0/24")
        self.assertTrue(out["Return"])
        rid = out["SecurityGroupRules"][0]["SecurityGroupRuleId"]
        v.cli("authorize-security-group-ingress", "--group-id", gid, "--ip-permissions",
              "IpProtocol=tcp,FromPort=8000,ToPort=8080,UserIdGroupPairs=[{GroupId=%s}]" % src)
        v.cli("authorize-security-group-egress", "--group-id", gid, "--ip-permissions",
              "IpProtocol=udp,FromPort=123,ToPort=123,IpRanges=[{CidrIp=192.0.2.1/32,Description=ntp}]")
        p = v.cli("authorize-security-group-ingress", "--group-id", gid, "--protocol", "tcp", "--port", "22",
                  "--cidr", "203.0.113.0/24", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("InvalidPermission.Duplicate", p.stderr)
        g = v.cli("describe-security-groups", "--group-ids", gid)["SecurityGroups"][0]
        self.assertEqual(sorted(p["FromPort"] for p in g["IpPermissions"]), [22, 8000])
        self.assertEqual(g["IpPermissionsEgress"][1]["IpRanges"], [{"CidrIp": "192.0.2.1/32", "Description": "ntp"}])
        rules = v.cli("describe-security-group-rules", "--filters", "Name=group-id,Values=" + gid)[
            "SecurityGroupRules"]
        self.assertEqual(len(rules), 4)
        v.cli("revoke-security-group-ingress", "--group-id", gid, "--security-group-rule-ids", rid)
        v.cli("revoke-security-group-ingress", "--group-id", gid, "--ip-permissions",
              "IpProtocol=tcp,FromPort=8000,ToPort=8080,UserIdGroupPairs=[{GroupId=%s}]" % src)
        v.cli("revoke-security-group-egress", "--group-id", gid, "--ip-permissions",
              "IpProtocol=udp,FromPort=123,ToPort=123,IpRanges=[{CidrIp=192.0.2.1/32}]")
        p = v.cli("revoke-security-group-ingress", "--group-id", gid, "--protocol", "tcp", "--port", "22",
                  "--cidr", "203.0.113.0/24", check=False)
        self.assertIn("InvalidPermission.NotFound", p.stderr)
        p = v.cli("delete-security-group", "--group-id", self.default_group()["GroupId"], check=False)
        self.assertIn("CannotDelete", p.stderr)
        v.cli("delete-security-group", "--group-id", src)
        v.cli("delete-security-group", "--group-id", gid)
        self.assertEqual(v.cli("describe-security-groups", "--filters", "Name=vpc-id,Values=" + self.vpc)[
            "SecurityGroups"][0]["GroupName"], "default")
