"""DHCP option sets: the region's default set (AmazonProvidedDNS,
ec2.internal) that every VPC starts with, CreateDhcpOptions (values split
at commas, validation, tags), AssociateDhcpOptions (a set, `default` for
none), DescribeDhcpOptions (ids, filters, paging), DeleteDhcpOptions (not
while a VPC uses it), DryRun, with boto3 and the aws CLI; and the migration of a store whose
VPCs said "default" before vpcd had option sets."""
import os
import sqlite3
import unittest

from vpcdtest import Vpcd, VpcdTestCase


def configs(dopt):
    return {c["Key"]: [v["Value"] for v in c["Values"]] for c in dopt["DhcpConfigurations"]}


class TestDhcpOptions(VpcdTestCase):
    def vpc(self, cidr="10.0.0.0/16"):
        return self.ec2.create_vpc(CidrBlock=cidr)["Vpc"]

    def test_default_set(self):
        vpc = self.vpc()
        default_vpc = self.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
        self.assertRegex(vpc["DhcpOptionsId"], r"^dopt-[0-9a-f]{17}$")
        # every VPC of the region starts with the one default set
        self.assertEqual(vpc["DhcpOptionsId"], default_vpc["DhcpOptionsId"])
        d = self.ec2.describe_dhcp_options(DhcpOptionsIds=[vpc["DhcpOptionsId"]])["DhcpOptions"][0]
        self.assertEqual(configs(d), {"domain-name": ["ec2.internal"], "domain-name-servers": ["AmazonProvidedDNS"]})
        self.assertRegex(d["OwnerId"], r"^\d{12}$")
        self.assertEqual(d["Tags"], [])
        msg = self.assertError("DependencyViolation", self.ec2.delete_dhcp_options, DhcpOptionsId=d["DhcpOptionsId"])
        self.assertEqual(msg, "The dhcpOptions '%s' has dependencies and cannot be deleted." % d["DhcpOptionsId"])

    def test_create_associate_delete(self):
        vpc = self.vpc("10.1.0.0/16")
        out = self.ec2.create_dhcp_options(
            DhcpConfigurations=[{"Key": "domain-name", "Values": ["corp.example"]},
                                {"Key": "domain-name-servers", "Values": ["10.1.0.10, 10.1.0.11", "AmazonProvidedDNS"]},
                                {"Key": "ntp-servers", "Values": ["10.1.0.12"]},
                                {"Key": "netbios-node-type", "Values": ["2"]}],
            TagSpecifications=[{"ResourceType": "dhcp-options", "Tags": [{"Key": "Name", "Value": "corp"}]}])
        d = out["DhcpOptions"]
        did = d["DhcpOptionsId"]
        self.assertRegex(did, r"^dopt-[0-9a-f]{17}$")
        self.assertEqual(configs(d), {"domain-name": ["corp.example"],
                                      "domain-name-servers": ["10.1.0.10", "10.1.0.11", "AmazonProvidedDNS"],
                                      "ntp-servers": ["10.1.0.12"], "netbios-node-type": ["2"]})
        self.assertEqual(d["Tags"], [{"Key": "Name", "Value": "corp"}])
        self.assertEqual(self.ec2.describe_dhcp_options(DhcpOptionsIds=[did])["DhcpOptions"][0], d)

        self.ec2.associate_dhcp_options(DhcpOptionsId=did, VpcId=vpc["VpcId"])
        got = self.ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]
        self.assertEqual(got["DhcpOptionsId"], did)
        by_filter = self.ec2.describe_vpcs(Filters=[{"Name": "dhcp-options-id", "Values": [did]}])["Vpcs"]
        self.assertEqual([v["VpcId"] for v in by_filter], [vpc["VpcId"]])
        self.assertError("DependencyViolation", self.ec2.delete_dhcp_options, DhcpOptionsId=did)

        # "default": no set at all
        self.ec2.associate_dhcp_options(DhcpOptionsId="default", VpcId=vpc["VpcId"])
        self.assertEqual(self.ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]["DhcpOptionsId"], "default")
        self.assertEqual(self.ec2.delete_dhcp_options(DhcpOptionsId=did)["ResponseMetadata"]["HTTPStatusCode"], 200)
        msg = self.assertError("InvalidDhcpOptionID.NotFound", self.ec2.describe_dhcp_options, DhcpOptionsIds=[did])
        self.assertEqual(msg, "The dhcpOptions ID '%s' does not exist" % did)
        msg = self.assertError("InvalidDhcpOptionsID.NotFound", self.ec2.delete_dhcp_options, DhcpOptionsId=did)
        self.assertEqual(msg, "The dhcpOptions ID '%s' does not exist" % did)
        self.assertError("InvalidDhcpOptionID.NotFound", self.ec2.associate_dhcp_options,
                         DhcpOptionsId=did, VpcId=vpc["VpcId"])
        self.assertError("InvalidVpcID.NotFound", self.ec2.associate_dhcp_options,
                         DhcpOptionsId="default", VpcId="vpc-00000000000000000")

    def test_validation(self):
        def bad(*cfg):
            return self.assertError("InvalidParameterValue", self.ec2.create_dhcp_options,
                                    DhcpConfigurations=[{"Key": k, "Values": v} for k, v in cfg])
        bad(("domain-nam", ["x"]))
        bad(("domain-name-servers", ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"]))
        bad(("domain-name-servers", ["not-an-address"]))
        bad(("netbios-node-type", ["3"]))
        bad(("ntp-servers", ["AmazonProvidedDNS"]))
        bad(("domain-name", ["a"]), ("domain-name", ["b"]))
        self.assertError("MissingParameter", self.vpcd.client(validate=False).create_dhcp_options,
                         DhcpConfigurations=[])

    def test_filters_paging_tags_dryrun(self):
        ids = [self.ec2.create_dhcp_options(DhcpConfigurations=[{"Key": "domain-name", "Values": ["p%d.example" % i]}])
               ["DhcpOptions"]["DhcpOptionsId"] for i in range(6)]
        got = self.ec2.describe_dhcp_options(Filters=[{"Name": "value", "Values": ["p3.example"]}])["DhcpOptions"]
        self.assertEqual([d["DhcpOptionsId"] for d in got], [ids[3]])
        got = self.ec2.describe_dhcp_options(Filters=[{"Name": "key", "Values": ["domain-name"]},
                                                      {"Name": "dhcp-options-id", "Values": ids[:2]}])["DhcpOptions"]
        self.assertEqual(sorted(d["DhcpOptionsId"] for d in got), sorted(ids[:2]))
        seen, token = [], None
        while True:
            kw = {"NextToken": token} if token else {}
            page = self.ec2.describe_dhcp_options(MaxResults=5, **kw)
            self.assertLessEqual(len(page["DhcpOptions"]), 5)
            seen += [d["DhcpOptionsId"] for d in page["DhcpOptions"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertTrue(set(ids) <= set(seen))
        self.assertEqual(len(seen), len(set(seen)))
        self.ec2.create_tags(Resources=[ids[0]], Tags=[{"Key": "team", "Value": "net"}])
        got = self.ec2.describe_dhcp_options(Filters=[{"Name": "tag:team", "Values": ["net"]}])["DhcpOptions"]
        self.assertEqual([d["DhcpOptionsId"] for d in got], [ids[0]])
        tags = self.ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": ["dhcp-options"]},
                                               {"Name": "key", "Values": ["team"]}])["Tags"]
        self.assertEqual([(t["ResourceId"], t["ResourceType"], t["Value"]) for t in tags],
                         [(ids[0], "dhcp-options", "net")])
        self.assertError("DryRunOperation", self.ec2.create_dhcp_options, DryRun=True,
                         DhcpConfigurations=[{"Key": "domain-name", "Values": ["x.example"]}])
        self.assertError("DryRunOperation", self.ec2.delete_dhcp_options, DryRun=True, DhcpOptionsId=ids[0])

    def test_cli(self):
        vpc = self.vpc("10.2.0.0/16")
        d = self.vpcd.cli("create-dhcp-options", "--dhcp-configurations",
                          "Key=domain-name,Values=cli.example", "Key=domain-name-servers,Values=10.2.0.5")["DhcpOptions"]
        self.assertEqual(configs(d), {"domain-name": ["cli.example"], "domain-name-servers": ["10.2.0.5"]})
        self.vpcd.cli("associate-dhcp-options", "--dhcp-options-id", d["DhcpOptionsId"], "--vpc-id", vpc["VpcId"])
        got = self.vpcd.cli("describe-dhcp-options", "--filters", "Name=dhcp-options-id,Values=" + d["DhcpOptionsId"])
        self.assertEqual(got["DhcpOptions"][0]["DhcpOptionsId"], d["DhcpOptionsId"])
        p = self.vpcd.cli("delete-dhcp-options", "--dhcp-options-id", d["DhcpOptionsId"], check=False)
        self.assertIn("(DependencyViolation)", p.stderr)
        self.vpcd.cli("associate-dhcp-options", "--dhcp-options-id", "default", "--vpc-id", vpc["VpcId"])
        self.vpcd.cli("delete-dhcp-options", "--dhcp-options-id", d["DhcpOptionsId"])


class TestDhcpLegacyStore(unittest.TestCase):
    """A store written before vpcd had DHCP option sets: its VPCs said
    "default"; at start they get their region's default set, once (a
    later association with "default" stays)."""

    def test_migration(self):
        with Vpcd() as v:
            ec2 = v.client()
            vid = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
            later = ec2.create_vpc(CidrBlock="10.4.0.0/16")["Vpc"]["VpcId"]
            ec2.associate_dhcp_options(DhcpOptionsId="default", VpcId=vid)
            v.stop()
            # what an older vpcd left: no migration mark
            db = sqlite3.connect(os.path.join(v.data_dir, "vpcd.db"))
            with db:
                db.execute("DELETE FROM meta WHERE key = 'dhcp-default-sets'")
            db.close()
            v.start()
            ec2 = v.client()
            got = {x["VpcId"]: x["DhcpOptionsId"] for x in ec2.describe_vpcs(VpcIds=[vid, later])["Vpcs"]}
            self.assertEqual(got[vid], got[later])
            self.assertRegex(got[vid], r"^dopt-")
            ec2.associate_dhcp_options(DhcpOptionsId="default", VpcId=vid)
            v.restart()
            ec2 = v.client()
            self.assertEqual(ec2.describe_vpcs(VpcIds=[vid])["Vpcs"][0]["DhcpOptionsId"], "default")
