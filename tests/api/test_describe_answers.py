"""Describe answers written from the cached docs: named ids answered once
each in creation order, pages that add up to the whole listing, and each
item's kept XML (its memo, src/api/wire.c) following every change that
the API makes to the resource, read back through boto3 and as raw XML."""
import re

from vpcdtest import VpcdTestCase


class TestDescribeAnswers(VpcdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vpc = cls.ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
        cls.subnets = [cls.ec2.create_subnet(VpcId=cls.vpc, CidrBlock="10.77.%d.0/28" % i)["Subnet"]["SubnetId"]
                       for i in range(40)]

    def ours(self, **kwargs):
        f = [{"Name": "vpc-id", "Values": [self.vpc]}]
        return self.ec2.describe_subnets(Filters=f, **kwargs)["Subnets"]

    def raw_subnets_xml(self):
        """The answer's bytes, without the request id that changes."""
        seen = {}

        def grab(http_response, **_):
            seen["body"] = http_response.content
        self.ec2.meta.events.register("after-call.ec2.DescribeSubnets", grab)
        try:
            self.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [self.vpc]}])
        finally:
            self.ec2.meta.events.unregister("after-call.ec2.DescribeSubnets", grab)
        return re.sub(rb"<requestId>[^<]*</requestId>", b"", seen["body"])

    def test_ids_once_each_in_creation_order(self):
        named = [self.subnets[7], self.subnets[3], self.subnets[7], self.subnets[20], self.subnets[3]]
        got = [s["SubnetId"] for s in self.ec2.describe_subnets(SubnetIds=named)["Subnets"]]
        self.assertEqual(got, [self.subnets[3], self.subnets[7], self.subnets[20]])
        got = self.ec2.describe_subnets(SubnetIds=named, Filters=[{"Name": "cidr-block", "Values": ["10.77.7.0/28"]}])
        self.assertEqual([s["SubnetId"] for s in got["Subnets"]], [self.subnets[7]])
        self.assertError("InvalidSubnetID.NotFound", self.ec2.describe_subnets,
                         SubnetIds=[self.subnets[1], "subnet-0123456789abcdef0"])
        self.assertError("InvalidSubnetID.NotFound", self.ec2.describe_subnets, SubnetIds=[self.vpc])

    def test_pages_add_up_to_the_listing(self):
        whole = self.ec2.describe_subnets()["Subnets"]
        paged, token = [], None
        while True:
            page = self.ec2.describe_subnets(MaxResults=7, **({"NextToken": token} if token else {}))
            paged += page["Subnets"]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(paged, whole)

    def test_answers_follow_changes(self):
        sid = self.subnets[11]
        first = self.raw_subnets_xml()
        self.assertEqual(self.raw_subnets_xml(), first)    # kept XML: the same bytes
        self.assertIn(sid.encode(), first)

        self.ec2.modify_subnet_attribute(SubnetId=sid, MapPublicIpOnLaunch={"Value": True})
        one = self.ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]
        self.assertTrue(one["MapPublicIpOnLaunch"])
        self.assertNotEqual(self.raw_subnets_xml(), first)

        self.ec2.create_tags(Resources=[sid], Tags=[{"Key": "Name", "Value": "a<b & 'c'"}])
        tags = {t["Key"]: t["Value"] for t in self.ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]["Tags"]}
        self.assertEqual(tags, {"Name": "a<b & 'c'"})
        self.assertIn(b"<value>a&lt;b &amp; &apos;c&apos;</value>", self.raw_subnets_xml())
        listed = [s for s in self.ours() if s["SubnetId"] == sid][0]
        self.assertEqual(listed["Tags"], [{"Key": "Name", "Value": "a<b & 'c'"}])

        self.ec2.delete_tags(Resources=[sid], Tags=[{"Key": "Name"}])
        self.assertEqual(self.ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0].get("Tags", []), [])
        self.ec2.modify_subnet_attribute(SubnetId=sid, MapPublicIpOnLaunch={"Value": False})
        self.assertEqual(self.raw_subnets_xml(), first)    # back as it was, byte for byte

        gone = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.77.200.0/28")["Subnet"]["SubnetId"]
        self.assertIn(gone, [s["SubnetId"] for s in self.ours()])
        self.ec2.delete_subnet(SubnetId=gone)
        self.assertNotIn(gone, [s["SubnetId"] for s in self.ours()])
        self.assertEqual(self.raw_subnets_xml(), first)

    def test_answers_survive_a_restart(self):
        before = self.raw_subnets_xml()
        self.vpcd.restart()
        self.__class__.ec2 = self.vpcd.client()
        self.assertEqual(self.raw_subnets_xml(), before)
