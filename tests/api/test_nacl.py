"""Network ACLs through boto3 and the aws CLI: the default ACL of a new VPC,
custom ACLs, entries (validation, order, duplicates), associations, filters
and paging."""
import json
import os
import sqlite3

from vpcdtest import VpcdTestCase


def entries(acl, egress):
    return [(e["RuleNumber"], e["Protocol"], e["RuleAction"], e["CidrBlock"])
            for e in acl["Entries"] if e["Egress"] == egress]


class T(VpcdTestCase):
    def setUp(self):
        self.vpc = self.ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]

    def acl(self, acl_id):
        return self.ec2.describe_network_acls(NetworkAclIds=[acl_id])["NetworkAcls"][0]

    def default_acl(self, vpc=None):
        return self.ec2.describe_network_acls(Filters=[
            {"Name": "vpc-id", "Values": [vpc or self.vpc]}, {"Name": "default", "Values": ["true"]}])["NetworkAcls"][0]

    def entry(self, acl, number, egress=False, protocol="6", action="allow", cidr="0.0.0.0/0", **kw):
        return self.ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=number, Protocol=protocol,
                                                 RuleAction=action, Egress=egress, CidrBlock=cidr, **kw)

    # --- the default ACL ---------------------------------------------------------
    def test_default_acl_of_new_vpc(self):
        acl = self.default_acl()
        self.assertTrue(acl["IsDefault"])
        self.assertEqual(acl["OwnerId"], "123456789012")
        for egress in (True, False):
            self.assertEqual(entries(acl, egress), [(100, "-1", "allow", "0.0.0.0/0"),
                                                    (32767, "-1", "deny", "0.0.0.0/0")])
        self.assertTrue(acl["Entries"][0]["Egress"], "AWS lists egress entries first")
        self.assertEqual(acl["Associations"], [])

    def test_new_subnet_is_associated_with_default_acl(self):
        sub = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
        acl = self.default_acl()
        self.assertEqual([a["SubnetId"] for a in acl["Associations"]], [sub])
        a = acl["Associations"][0]
        self.assertTrue(a["NetworkAclAssociationId"].startswith("aclassoc-"))
        self.assertEqual(a["NetworkAclId"], acl["NetworkAclId"])

    def test_delete_default_acl_refused(self):
        acl = self.default_acl()["NetworkAclId"]
        msg = self.assertError("InvalidParameterValue", self.ec2.delete_network_acl, NetworkAclId=acl)
        self.assertEqual(msg, "cannot delete default network ACL %s" % acl)

    # --- create / delete ------------------------------------------------------------
    def test_create_custom_acl_denies_all(self):
        out = self.ec2.create_network_acl(VpcId=self.vpc, TagSpecifications=[
            {"ResourceType": "network-acl", "Tags": [{"Key": "Name", "Value": "private"}]}])["NetworkAcl"]
        self.assertTrue(out["NetworkAclId"].startswith("acl-"))
        self.assertFalse(out["IsDefault"])
        self.assertEqual(out["VpcId"], self.vpc)
        self.assertEqual(out["Tags"], [{"Key": "Name", "Value": "private"}])
        self.assertEqual(entries(out, True), [(32767, "-1", "deny", "0.0.0.0/0")])
        self.assertEqual(entries(out, False), [(32767, "-1", "deny", "0.0.0.0/0")])
        self.assertEqual(self.acl(out["NetworkAclId"])["Entries"], out["Entries"])

    def test_create_acl_errors(self):
        self.assertError("InvalidVpcID.NotFound", self.ec2.create_network_acl, VpcId="vpc-0000000000000000f")

    def test_create_acl_client_token_is_idempotent(self):
        a = self.ec2.create_network_acl(VpcId=self.vpc, ClientToken="tok-1")
        b = self.ec2.create_network_acl(VpcId=self.vpc, ClientToken="tok-1")
        self.assertEqual(a["NetworkAcl"]["NetworkAclId"], b["NetworkAcl"]["NetworkAclId"])
        self.assertEqual(b["ClientToken"], "tok-1")

    def test_delete_acl(self):
        acl = self.ec2.create_network_acl(VpcId=self.vpc)["NetworkAcl"]["NetworkAclId"]
        self.ec2.delete_network_acl(NetworkAclId=acl)
        self.assertError("InvalidNetworkAclID.NotFound", self.ec2.describe_network_acls, NetworkAclIds=[acl])
        self.assertError("InvalidNetworkAclID.NotFound", self.ec2.delete_network_acl, NetworkAclId=acl)

    def test_delete_associated_acl_is_dependency_violation(self):
        sub = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.20.2.0/24")["Subnet"]["SubnetId"]
        acl = self.ec2.create_network_acl(VpcId=self.vpc)["NetworkAcl"]["NetworkAclId"]
        assoc = self.default_acl()["Associations"][0]["NetworkAclAssociationId"]
        self.ec2.replace_network_acl_association(AssociationId=assoc, NetworkAclId=acl)
        self.assertError("DependencyViolation", self.ec2.delete_network_acl, NetworkAclId=acl)
        # deleting the subnet frees the ACL
        self.ec2.delete_subnet(SubnetId=sub)
        self.ec2.delete_network_acl(NetworkAclId=acl)

    def test_vpc_with_custom_acl_cannot_be_deleted(self):
        acl = self.ec2.create_network_acl(VpcId=self.vpc)["NetworkAcl"]["NetworkAclId"]
        self.assertError("DependencyViolation", self.ec2.delete_vpc, VpcId=self.vpc)
        self.ec2.delete_network_acl(NetworkAclId=acl)
        default = self.default_acl()["NetworkAclId"]
        self.ec2.delete_vpc(VpcId=self.vpc)
        self.assertError("InvalidNetworkAclID.NotFound", self.ec2.describe_network_acls, NetworkAclIds=[default])

    # --- entries ------------------------------------------------------------------------
    def test_entries_sorted_and_protocols_normalised(self):
        acl = self.ec2.create_network_acl(VpcId=self.vpc)["NetworkAcl"]["NetworkAclId"]
        self.entry(acl, 200, protocol="tcp", PortRange={"From": 443, "To": 443})
        self.entry(acl, 100, protocol="udp", action="deny", cidr="10.9.0.0/16", PortRange={"From": 53, "To": 53})
        self.entry(acl, 150, protocol="icmp", IcmpTypeCode={"Type": 8, "Code": -1})
        self.entry(acl, 120, egress=True, protocol="all")
        self.entry(acl, 110, egress=True, protocol="50", cidr="192.0.2.0/24")
        self.entry(acl, 130, protocol="-1", action="DENY", cidr="198.51.100.7/24")
        got = self.acl(acl)["Entries"]
        self.assertEqual([(e["Egress"], e["RuleNumber"]) for e in got],
                         [(True, 110), (True, 120), (True, 32767),
                          (False, 100), (False, 130), (False, 150), (False, 200), (False, 32767)])
        by = {(e["Egress"], e["RuleNumber"]): e for e in got}
        self.assertEqual(by[(False, 200)]["Protocol"], "6")
        self.assertEqual(by[(False, 200)]["PortRange"], {"From": 443, "To": 443})
        self.assertEqual(by[(False, 100)]["Protocol"], "17")
        self.assertEqual(by[(False, 100)]["RuleAction"], "deny")
        self.assertEqual(by[(False, 150)]["Protocol"], "1")
        self.assertEqual(by[(False, 150)]["IcmpTypeCode"], {"Type": 8, "Code": -1})
        self.assertNotIn("PortRange", by[(False, 150)])
        self.assertEqual(by[(True, 120)]["Protocol"], "-1")
        self.assertEqual(by[(True, 110)]["Protocol"], "50")
        self.assertEqual(by[(False, 130)]["CidrBlock"], "198.51.100.0/24")
        self.assertEqual(by[(False, 130)]["RuleAction"], "deny")

    def test_entry_duplicate_number_per_direction(self):
        acl = self.ec2.create_network_acl(VpcId=self.vpc)["NetworkAcl"]["NetworkAclId"]
        self.entry(acl, 100, protocol="-1")
        msg = self.assertError("NetworkAclEntryAlreadyExists", self.entry, acl, 100, protocol="-1")
        self.assertIn("100", msg)
        self.entry(acl, 100, egress=True, protocol="-1")  # the other direction is free

    def test_entry_validation(self):
        acl = self.ec2.create_network_acl(VpcId=self.vpc)["NetworkAcl"]["NetworkAclId"]
        for n in (0, 32767, 32768):
            self.assertError("InvalidParameterValue", self.entry, acl, n, protocol="-1")
        self.assertError("InvalidParameterValue", self.entry, acl, 10, protocol="tcp")  # no PortRange
        self.assertError("InvalidParameterValue", self.entry, acl, 10, protocol="udp", PortRange={"From": 9, "To": 1})
        self.assertError("InvalidParameterValue", self.entry, acl, 10, protocol="tcp",
                         PortRange={"From": 1, "To": 70000})
        self.assertError("InvalidParameterValue", self.entry, acl, 10, protocol="icmp")  # no IcmpTypeCode
        self.assertError("InvalidParameterValue", self.entry, acl, 10, protocol="bogus")
        self.assertError("InvalidParameterValue", self.entry, acl, 10, protocol="256")
        self.assertError("InvalidParameterValue", self.entry, acl, 10, protocol="-1", action="maybe")
        self.assertError("InvalidParameterValue", self.entry, acl, 10, protocol="-1", cidr="10.0.0.0/33")
        self.assertError("MissingParameter", self.ec2.create_network_acl_entry, NetworkAclId=acl, RuleNumber=10,
                         Protocol="-1", RuleAction="allow", Egress=False)
        self.assertError("InvalidNetworkAclID.NotFound", self.entry, "acl-0000000000000000f", 10, protocol="-1")
        self.assertEqual(len(self.acl(acl)["Entries"]), 2)

    def test_entry_limit_per_direction(self):
        acl = self.ec2.create_network_acl(VpcId=self.vpc)["NetworkAcl"]["NetworkAclId"]
        for n in range(1, 21):
            self.entry(acl, n, protocol="-1")
        self.assertError("NetworkAclEntryLimitExceeded", self.entry, acl, 21, protocol="-1")
        self.entry(acl, 21, egress=True, protocol="-1")

    def test_replace_entry(self):
        acl = self.ec2.create_network_acl(VpcId=self.vpc)["NetworkAcl"]["NetworkAclId"]
        self.entry(acl, 100, protocol="tcp", PortRange={"From": 22, "To": 22})
        self.ec2.replace_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="udp", RuleAction="deny",
                                           Egress=False, CidrBlock="10.0.0.0/8", PortRange={"From": 1, "To": 2})
        e = [x for x in self.acl(acl)["Entries"] if x["RuleNumber"] == 100][0]
        self.assertEqual((e["Protocol"], e["RuleAction"], e["CidrBlock"], e["PortRange"]),
                         ("17", "deny", "10.0.0.0/8", {"From": 1, "To": 2}))
        self.assertError("InvalidNetworkAclEntry.NotFound", self.ec2.replace_network_acl_entry, NetworkAclId=acl,
                         RuleNumber=101, Protocol="-1", RuleAction="deny", Egress=False, CidrBlock="0.0.0.0/0")
        self.assertError("InvalidNetworkAclEntry.NotFound", self.ec2.replace_network_acl_entry, NetworkAclId=acl,
                         RuleNumber=100, Protocol="-1", RuleAction="deny", Egress=True, CidrBlock="0.0.0.0/0")
        self.assertError("InvalidParameterValue", self.ec2.replace_network_acl_entry, NetworkAclId=acl,
                         RuleNumber=32767, Protocol="-1", RuleAction="allow", Egress=False, CidrBlock="0.0.0.0/0")

    def test_default_acl_rule_100_can_be_replaced_and_deleted(self):
        acl = self.default_acl()["NetworkAclId"]
        self.ec2.replace_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="-1", RuleAction="deny",
                                           Egress=True, CidrBlock="0.0.0.0/0")
        self.ec2.delete_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Egress=False)
        got = self.acl(acl)
        self.assertEqual(entries(got, True), [(100, "-1", "deny", "0.0.0.0/0"), (32767, "-1", "deny", "0.0.0.0/0")])
        self.assertEqual(entries(got, False), [(32767, "-1", "deny", "0.0.0.0/0")])

    def test_delete_entry(self):
        acl = self.ec2.create_network_acl(VpcId=self.vpc)["NetworkAcl"]["NetworkAclId"]
        self.entry(acl, 100, protocol="-1")
        self.entry(acl, 100, egress=True, protocol="-1")
        self.ec2.delete_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Egress=True)
        self.assertEqual([(e["Egress"], e["RuleNumber"]) for e in self.acl(acl)["Entries"]],
                         [(True, 32767), (False, 100), (False, 32767)])
        self.assertError("InvalidNetworkAclEntry.NotFound", self.ec2.delete_network_acl_entry, NetworkAclId=acl,
                         RuleNumber=100, Egress=True)
        self.assertError("InvalidParameterValue", self.ec2.delete_network_acl_entry, NetworkAclId=acl,
                         RuleNumber=32767, Egress=True)

    # --- associations -----------------------------------------------------------------
    def test_replace_association_moves_subnet(self):
        sub = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.20.3.0/24")["Subnet"]["SubnetId"]
        default = self.default_acl()
        old_assoc = default["Associations"][0]["NetworkAclAssociationId"]
        acl = self.ec2.create_network_acl(VpcId=self.vpc)["NetworkAcl"]["NetworkAclId"]
        new_assoc = self.ec2.replace_network_acl_association(AssociationId=old_assoc,
                                                             NetworkAclId=acl)["NewAssociationId"]
        self.assertTrue(new_assoc.startswith("aclassoc-"))
        self.assertNotEqual(new_assoc, old_assoc)
        self.assertEqual(self.acl(default["NetworkAclId"])["Associations"], [])
        self.assertEqual(self.acl(acl)["Associations"],
                         [{"NetworkAclAssociationId": new_assoc, "NetworkAclId": acl, "SubnetId": sub}])
        # the old association id is gone; the new one moves the subnet back
        self.assertError("InvalidAssociationID.NotFound", self.ec2.replace_network_acl_association,
                         AssociationId=old_assoc, NetworkAclId=acl)
        back = self.ec2.replace_network_acl_association(AssociationId=new_assoc,
                                                        NetworkAclId=default["NetworkAclId"])["NewAssociationId"]
        self.assertEqual(self.default_acl()["Associations"][0]["NetworkAclAssociationId"], back)

    def test_replace_association_errors(self):
        self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.20.4.0/24")
        assoc = self.default_acl()["Associations"][0]["NetworkAclAssociationId"]
        other_vpc = self.ec2.create_vpc(CidrBlock="10.21.0.0/16")["Vpc"]["VpcId"]
        other_acl = self.ec2.create_network_acl(VpcId=other_vpc)["NetworkAcl"]["NetworkAclId"]
        self.assertError("InvalidParameterValue", self.ec2.replace_network_acl_association, AssociationId=assoc,
                         NetworkAclId=other_acl)
        self.assertError("InvalidNetworkAclID.NotFound", self.ec2.replace_network_acl_association,
                         AssociationId=assoc, NetworkAclId="acl-0000000000000000f")
        self.assertError("InvalidAssociationID.NotFound", self.ec2.replace_network_acl_association,
                         AssociationId="aclassoc-0000000000000000f", NetworkAclId=other_acl)
        self.assertEqual(self.default_acl()["Associations"][0]["NetworkAclAssociationId"], assoc)

    def test_many_subnets_one_association_each(self):
        """300 subnets: the default ACL lists each exactly once (kept in the
        subnets, built when described), association.subnet-id finds one,
        a replace moves it, and all of it survives a restart."""
        subs = [self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.20.%d.%d/28" % (i // 16, i % 16 * 16))
                ["Subnet"]["SubnetId"] for i in range(300)]
        default = self.default_acl()
        assocs = default["Associations"]
        self.assertEqual(sorted(a["SubnetId"] for a in assocs), sorted(subs))
        self.assertEqual(len({a["NetworkAclAssociationId"] for a in assocs}), 300)
        self.assertTrue(all(a["NetworkAclId"] == default["NetworkAclId"] for a in assocs))
        for s in self.ec2.describe_subnets(SubnetIds=subs[:5])["Subnets"]:
            self.assertFalse([k for k in s if k.startswith("_") or "NetworkAcl" in k])
        pick = subs[137]
        found = self.ec2.describe_network_acls(Filters=[
            {"Name": "association.subnet-id", "Values": [pick]}])["NetworkAcls"]
        self.assertEqual([a["NetworkAclId"] for a in found], [default["NetworkAclId"]])
        assoc = [a for a in found[0]["Associations"] if a["SubnetId"] == pick][0]["NetworkAclAssociationId"]
        acl = self.ec2.create_network_acl(VpcId=self.vpc)["NetworkAcl"]["NetworkAclId"]
        new_assoc = self.ec2.replace_network_acl_association(AssociationId=assoc,
                                                             NetworkAclId=acl)["NewAssociationId"]
        moved = [{"NetworkAclAssociationId": new_assoc, "NetworkAclId": acl, "SubnetId": pick}]
        self.assertEqual(self.acl(acl)["Associations"], moved)
        self.assertEqual(self.ec2.describe_network_acls(Filters=[
            {"Name": "association.association-id", "Values": [new_assoc]}])["NetworkAcls"][0]["NetworkAclId"], acl)
        self.assertError("DependencyViolation", self.ec2.delete_network_acl, NetworkAclId=acl)
        before = self.default_acl()
        self.assertEqual(len(before["Associations"]), 299)
        self.assertNotIn(pick, [a["SubnetId"] for a in before["Associations"]])
        self.vpcd.restart()
        self.assertEqual(self.default_acl(), before)
        self.assertEqual(self.acl(acl)["Associations"], moved)
        self.assertEqual([a["NetworkAclId"] for a in self.ec2.describe_network_acls(Filters=[
            {"Name": "association.subnet-id", "Values": [pick, subs[0]]}])["NetworkAcls"]],
                         [default["NetworkAclId"], acl])
        # deleting a subnet drops its association with it
        self.ec2.delete_subnet(SubnetId=pick)
        self.assertEqual(self.acl(acl)["Associations"], [])
        self.ec2.delete_network_acl(NetworkAclId=acl)

    def test_old_layout_state_is_migrated(self):
        """State stored when the ACL docs listed their Associations (and the
        subnets named no ACL) loads as before: associations, ids, filters."""
        subs = [self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.20.%d.0/24" % i)["Subnet"]["SubnetId"]
                for i in (40, 41, 42)]
        custom = self.ec2.create_network_acl(VpcId=self.vpc)["NetworkAcl"]["NetworkAclId"]
        assoc = [a for a in self.default_acl()["Associations"] if a["SubnetId"] == subs[2]][0]
        self.ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"], NetworkAclId=custom)
        before = self.ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [self.vpc]}])["NetworkAcls"]
        self.vpcd.stop()
        db = sqlite3.connect(os.path.join(self.vpcd.data_dir, "vpcd.db"))
        with db:
            for acl in before:
                db.execute("UPDATE resources SET body = ? WHERE id = ?",
                           (json.dumps(dict(json.loads(db.execute("SELECT body FROM resources WHERE id = ?",
                                                                  (acl["NetworkAclId"],)).fetchone()[0]),
                                            Associations=acl["Associations"])), acl["NetworkAclId"]))
            for sid in subs:
                body = json.loads(db.execute("SELECT body FROM resources WHERE id = ?", (sid,)).fetchone()[0])
                self.assertIn("_NetworkAclId", body)
                body = {k: v for k, v in body.items() if not k.startswith("_NetworkAcl")}
                db.execute("UPDATE resources SET body = ? WHERE id = ?", (json.dumps(body), sid))
        db.close()
        self.vpcd.start()
        self.assertEqual(self.ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [self.vpc]}])
                         ["NetworkAcls"], before)
        self.assertEqual([a["NetworkAclId"] for a in self.ec2.describe_network_acls(Filters=[
            {"Name": "association.subnet-id", "Values": [subs[2]]}])["NetworkAcls"]], [custom])
        self.assertError("DependencyViolation", self.ec2.delete_network_acl, NetworkAclId=custom)
        self.assertIn("moved the network ACL associations", self.vpcd.read_log())

    # --- describe: filters and paging ---------------------------------------------------
    def test_filters(self):
        sub = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.20.5.0/24")["Subnet"]["SubnetId"]
        default = self.default_acl()
        acl = self.ec2.create_network_acl(VpcId=self.vpc, TagSpecifications=[
            {"ResourceType": "network-acl", "Tags": [{"Key": "tier", "Value": "db"}]}])["NetworkAcl"]["NetworkAclId"]
        self.entry(acl, 300, protocol="tcp", cidr="10.77.0.0/16", PortRange={"From": 5432, "To": 5433})
        self.entry(acl, 310, egress=True, protocol="icmp", action="deny", IcmpTypeCode={"Type": 3, "Code": 4})
        assoc = self.ec2.replace_network_acl_association(
            AssociationId=default["Associations"][0]["NetworkAclAssociationId"], NetworkAclId=acl)["NewAssociationId"]

        def ids(*filters):
            fs = [{"Name": n, "Values": v if isinstance(v, list) else [v]} for n, v in filters]
            fs.append({"Name": "vpc-id", "Values": [self.vpc]})
            return [a["NetworkAclId"] for a in self.ec2.describe_network_acls(Filters=fs)["NetworkAcls"]]

        d = default["NetworkAclId"]
        self.assertEqual(ids(), [d, acl])
        self.assertEqual(ids(("default", "true")), [d])
        self.assertEqual(ids(("default", "false")), [acl])
        self.assertEqual(ids(("association.subnet-id", sub)), [acl])
        self.assertEqual(ids(("association.association-id", assoc)), [acl])
        self.assertEqual(ids(("association.network-acl-id", acl)), [acl])
        self.assertEqual(ids(("entry.cidr", "10.77.0.0/16")), [acl])
        self.assertEqual(ids(("entry.port-range.from", "5432")), [acl])
        self.assertEqual(ids(("entry.port-range.to", "5433")), [acl])
        self.assertEqual(ids(("entry.icmp.type", "3")), [acl])
        self.assertEqual(ids(("entry.icmp.code", "4")), [acl])
        self.assertEqual(ids(("entry.protocol", "tcp")), [acl])
        self.assertEqual(ids(("entry.protocol", "6")), [acl])
        self.assertEqual(ids(("entry.protocol", "-1")), [d, acl])
        self.assertEqual(ids(("entry.rule-action", "allow")), [d, acl])
        self.assertEqual(ids(("entry.rule-number", "100")), [d])
        self.assertEqual(ids(("entry.rule-number", "310"), ("entry.egress", "true")), [acl])
        self.assertEqual(ids(("entry.egress", "false")), [d, acl])
        self.assertEqual(ids(("network-acl-id", acl)), [acl])
        self.assertEqual(ids(("owner-id", "123456789012")), [d, acl])
        self.assertEqual(ids(("tag:tier", "db")), [acl])
        self.assertEqual(ids(("tag-key", "tier")), [acl])
        self.assertEqual(ids(("tag-key", "nope")), [])
        self.assertError("InvalidParameterValue", self.ec2.describe_network_acls,
                         Filters=[{"Name": "no-such-filter", "Values": ["x"]}])

    def test_paging(self):
        made = [self.ec2.create_network_acl(VpcId=self.vpc)["NetworkAcl"]["NetworkAclId"] for _ in range(6)]
        seen, token = [], None
        while True:
            kw = {"Filters": [{"Name": "vpc-id", "Values": [self.vpc]}], "MaxResults": 5}
            if token:
                kw["NextToken"] = token
            out = self.ec2.describe_network_acls(**kw)
            self.assertLessEqual(len(out["NetworkAcls"]), 5)
            seen += [a["NetworkAclId"] for a in out["NetworkAcls"]]
            token = out.get("NextToken")
            if not token:
                break
        self.assertEqual(seen, [self.default_acl()["NetworkAclId"]] + made)

    # --- the aws CLI ------------------------------------------------------------------
    def test_cli(self):
        v = self.vpcd
        sub = v.cli("create-subnet", "--vpc-id", self.vpc, "--cidr-block", "10.20.9.0/24")["Subnet"]["SubnetId"]
        acl = v.cli("create-network-acl", "--vpc-id", self.vpc)["NetworkAcl"]["NetworkAclId"]
        v.cli("create-network-acl-entry", "--network-acl-id", acl, "--ingress", "--rule-number", "100",
              "--protocol", "tcp", "--port-range", "From=22,To=22", "--cidr-block", "203.0.113.0/24",
              "--rule-action", "allow")
        v.cli("create-network-acl-entry", "--network-acl-id", acl, "--egress", "--rule-number", "100",
              "--protocol", "icmp", "--icmp-type-code", "Type=-1,Code=-1", "--cidr-block", "0.0.0.0/0",
              "--rule-action", "allow")
        v.cli("replace-network-acl-entry", "--network-acl-id", acl, "--ingress", "--rule-number", "100",
              "--protocol", "tcp", "--port-range", "From=22,To=23", "--cidr-block", "203.0.113.0/24",
              "--rule-action", "deny")
        out = v.cli("describe-network-acls", "--network-acl-ids", acl)["NetworkAcls"][0]
        e = [x for x in out["Entries"] if x["RuleNumber"] == 100 and not x["Egress"]][0]
        self.assertEqual((e["Protocol"], e["RuleAction"], e["PortRange"]), ("6", "deny", {"From": 22, "To": 23}))
        v.cli("delete-network-acl-entry", "--network-acl-id", acl, "--egress", "--rule-number", "100")
        assoc = v.cli("describe-network-acls", "--filters", "Name=association.subnet-id,Values=" + sub)[
            "NetworkAcls"][0]["Associations"][0]["NetworkAclAssociationId"]
        new = v.cli("replace-network-acl-association", "--association-id", assoc, "--network-acl-id", acl)
        self.assertTrue(new["NewAssociationId"].startswith("aclassoc-"))
        p = v.cli("delete-network-acl", "--network-acl-id", acl, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("DependencyViolation", p.stderr)
        v.cli("delete-subnet", "--subnet-id", sub)
        v.cli("delete-network-acl", "--network-acl-id", acl)
