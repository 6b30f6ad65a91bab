"""Internet gateways: create, attach, detach, delete, describe (ids,
filters, paging), AWS's error codes and messages, with boto3 and the aws
CLI."""
from vpcdtest import VpcdTestCase


def tag_spec(rtype, **tags):
    return [{"ResourceType": rtype, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]


class IgwCase(VpcdTestCase):
    def vpc(self, cidr="10.0.0.0/16"):
        return self.ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]

    def igw(self, **tags):
        kw = {"TagSpecifications": tag_spec("internet-gateway", **tags)} if tags else {}
        return self.ec2.create_internet_gateway(**kw)["InternetGateway"]["InternetGatewayId"]

    def describe(self, igw_id):
        return self.ec2.describe_internet_gateways(InternetGatewayIds=[igw_id])["InternetGateways"][0]

    def cli_error(self, code, *args):
        p = self.vpcd.cli(*args, check=False)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("(%s)" % code, p.stderr)
        return p.stderr


class TestInternetGateway(IgwCase):
    def test_create_and_describe(self):
        out = self.ec2.create_internet_gateway(TagSpecifications=tag_spec("internet-gateway", Name="gw"))
        igw = out["InternetGateway"]
        self.assertRegex(igw["InternetGatewayId"], r"^igw-[0-9a-f]{17}$")
        self.assertEqual(igw["Attachments"], [])
        self.assertEqual(igw["Tags"], [{"Key": "Name", "Value": "gw"}])
        self.assertRegex(igw["OwnerId"], r"^\d{12}$")
        self.assertEqual(self.describe(igw["InternetGatewayId"]), igw)

    def test_attach_detach_delete(self):
        vid, gid = self.vpc(), self.igw()
        self.ec2.attach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
        # AWS shows "available" for an attached internet gateway
        self.assertEqual(self.describe(gid)["Attachments"], [{"State": "available", "VpcId": vid}])
        msg = self.assertError("DependencyViolation", self.ec2.delete_internet_gateway, InternetGatewayId=gid)
        self.assertEqual(msg, "The internetGateway '%s' has dependencies and cannot be deleted." % gid)
        self.assertError("DependencyViolation", self.ec2.delete_vpc, VpcId=vid)
        self.ec2.detach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
        self.assertEqual(self.describe(gid)["Attachments"], [])
        self.ec2.delete_internet_gateway(InternetGatewayId=gid)
        msg = self.assertError("InvalidInternetGatewayID.NotFound", self.ec2.describe_internet_gateways,
                               InternetGatewayIds=[gid])
        self.assertEqual(msg, "The internetGateway ID '%s' does not exist" % gid)
        self.assertError("InvalidInternetGatewayID.NotFound", self.ec2.delete_internet_gateway, InternetGatewayId=gid)
        self.ec2.delete_vpc(VpcId=vid)

    def test_attach_errors(self):
        vid, gid, other = self.vpc(), self.igw(), self.igw()
        self.assertError("InvalidVpcID.NotFound", self.ec2.attach_internet_gateway, InternetGatewayId=gid,
                         VpcId="vpc-00000000000000000")
        msg = self.assertError("InvalidInternetGatewayID.NotFound", self.ec2.attach_internet_gateway,
                               InternetGatewayId="igw-00000000000000000", VpcId=vid)
        self.assertEqual(msg, "The internetGateway ID 'igw-00000000000000000' does not exist")
        self.ec2.attach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
        msg = self.assertError("Resource.AlreadyAssociated", self.ec2.attach_internet_gateway,
                               InternetGatewayId=gid, VpcId=vid)
        self.assertEqual(msg, "resource %s is already attached to network %s" % (gid, vid))
        vid2 = self.vpc("10.1.0.0/16")
        self.assertError("Resource.AlreadyAssociated", self.ec2.attach_internet_gateway,
                         InternetGatewayId=gid, VpcId=vid2)
        msg = self.assertError("InvalidParameterValue", self.ec2.attach_internet_gateway,
                               InternetGatewayId=other, VpcId=vid)
        self.assertEqual(msg, "Network %s already has an internet gateway attached" % vid)
        self.assertEqual(self.describe(other)["Attachments"], [])
        self.assertError("MissingParameter", self.ec2.attach_internet_gateway, InternetGatewayId=gid, VpcId="")

    def test_detach_errors(self):
        vid, vid2, gid = self.vpc(), self.vpc("10.1.0.0/16"), self.igw()
        msg = self.assertError("Gateway.NotAttached", self.ec2.detach_internet_gateway, InternetGatewayId=gid,
                               VpcId=vid)
        self.assertEqual(msg, "resource %s is not attached to network %s" % (gid, vid))
        self.ec2.attach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
        self.assertError("Gateway.NotAttached", self.ec2.detach_internet_gateway, InternetGatewayId=gid, VpcId=vid2)
        self.assertError("InvalidVpcID.NotFound", self.ec2.detach_internet_gateway, InternetGatewayId=gid,
                         VpcId="vpc-00000000000000000")
        self.assertEqual(self.describe(gid)["Attachments"], [{"State": "available", "VpcId": vid}])
        # after a detach it attaches elsewhere
        self.ec2.detach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
        self.ec2.attach_internet_gateway(InternetGatewayId=gid, VpcId=vid2)
        self.assertEqual(self.describe(gid)["Attachments"], [{"State": "available", "VpcId": vid2}])

    def test_dry_run(self):
        self.assertError("DryRunOperation", self.ec2.create_internet_gateway, DryRun=True)


class TestInternetGatewayDescribe(IgwCase):
    def test_filters(self):
        vid = self.vpc()
        a, b = self.igw(Name="a", team="net"), self.igw(Name="b")
        self.ec2.attach_internet_gateway(InternetGatewayId=a, VpcId=vid)

        def ids(*filters):
            fs = [{"Name": n, "Values": v} for n, v in filters]
            return {g["InternetGatewayId"] for g in self.ec2.describe_internet_gateways(Filters=fs)["InternetGateways"]}

        self.assertEqual(ids(("attachment.vpc-id", [vid])), {a})
        self.assertIn(a, ids(("attachment.state", ["available"])))
        self.assertNotIn(b, ids(("attachment.state", ["available"])))
        self.assertEqual(ids(("internet-gateway-id", [a, b])), {a, b})
        self.assertEqual(ids(("tag:Name", ["b"])), {b})
        self.assertEqual(ids(("tag-key", ["team"])), {a})
        self.assertEqual(ids(("tag:Name", ["a", "b"]), ("attachment.vpc-id", [vid])), {a})
        self.assertIn(b, ids(("owner-id", [self.describe(b)["OwnerId"]])))
        self.assertEqual(ids(("internet-gateway-id", ["igw-*"]), ("tag:Name", ["?"])), {a, b})
        self.assertError("InvalidParameterValue", self.ec2.describe_internet_gateways,
                         Filters=[{"Name": "no-such-filter", "Values": ["x"]}])

    def test_paging(self):
        made = {self.igw(batch="p") for _ in range(7)}
        f = [{"Name": "tag:batch", "Values": ["p"]}]
        page = self.ec2.describe_internet_gateways(Filters=f, MaxResults=5)
        self.assertEqual(len(page["InternetGateways"]), 5)
        rest = self.ec2.describe_internet_gateways(Filters=f, MaxResults=5, NextToken=page["NextToken"])
        self.assertNotIn("NextToken", rest)
        got = [g["InternetGatewayId"] for g in page["InternetGateways"] + rest["InternetGateways"]]
        self.assertEqual(set(got), made)
        self.assertEqual(len(got), 7)
        self.assertError("InvalidParameterValue", self.ec2.describe_internet_gateways, MaxResults=1001)
        # the CLI pages through all of them by itself
        out = self.vpcd.cli("describe-internet-gateways", "--filters", "Name=tag:batch,Values=p", "--page-size", "5")
        self.assertEqual({g["InternetGatewayId"] for g in out["InternetGateways"]}, made)

    def test_default_vpc_gateway(self):
        vpc = self.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        gws = self.ec2.describe_internet_gateways(
            Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])["InternetGateways"]
        self.assertEqual(len(gws), 1)
        self.assertEqual(gws[0]["Attachments"], [{"State": "available", "VpcId": vpc}])
        self.assertError("Resource.AlreadyAssociated", self.ec2.attach_internet_gateway,
                         InternetGatewayId=gws[0]["InternetGatewayId"], VpcId=vpc)


class TestInternetGatewayCli(IgwCase):
    def test_cli_lifecycle(self):
        vid = self.vpc()
        igw = self.vpcd.cli("create-internet-gateway", "--tag-specifications",
                            "ResourceType=internet-gateway,Tags=[{Key=Name,Value=cli}]")["InternetGateway"]
        gid = igw["InternetGatewayId"]
        self.assertEqual(igw["Tags"], [{"Key": "Name", "Value": "cli"}])
        self.vpcd.cli("attach-internet-gateway", "--internet-gateway-id", gid, "--vpc-id", vid)
        out = self.vpcd.cli("describe-internet-gateways", "--internet-gateway-ids", gid)
        self.assertEqual(out["InternetGateways"][0]["Attachments"], [{"State": "available", "VpcId": vid}])
        out = self.vpcd.cli("describe-internet-gateways", "--filters", "Name=attachment.vpc-id,Values=" + vid)
        self.assertEqual([g["InternetGatewayId"] for g in out["InternetGateways"]], [gid])
        self.cli_error("Resource.AlreadyAssociated", "attach-internet-gateway", "--internet-gateway-id", gid,
                       "--vpc-id", vid)
        self.cli_error("DependencyViolation", "delete-internet-gateway", "--internet-gateway-id", gid)
        self.vpcd.cli("detach-internet-gateway", "--internet-gateway-id", gid, "--vpc-id", vid)
        self.cli_error("Gateway.NotAttached", "detach-internet-gateway", "--internet-gateway-id", gid,
                       "--vpc-id", vid)
        self.vpcd.cli("delete-internet-gateway", "--internet-gateway-id", gid)
        self.cli_error("InvalidInternetGatewayID.NotFound", "describe-internet-gateways",
                       "--internet-gateway-ids", gid)


if __name__ == "__main__":
    import unittest
    unittest.main()
