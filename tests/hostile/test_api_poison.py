"""Hostile strings: a tag of invalid UTF-8 (%FF%FE) or control characters
(%01) was once accepted and made every later DescribeVpcs/DescribeTags
unreadable to boto3 ("not well-formed"), across restarts. Now such text
is refused with InvalidParameterValue, and a value an older vpcd stored
still comes out as well-formed XML (each bad byte as U+FFFD)."""
import os
import sqlite3
import unittest

import botocore.exceptions

from hostile import apiraw
import vpcdtest


class BadText(vpcdtest.VpcdTestCase):
    def test_refused_and_describe_still_parses(self):
        vpc = self.ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        for raw in (b"%FF%FE", b"%01", b"a%1Bb", b"%7F", b"%C0%AF", b"%ED%A0%80"):
            body = (b"Action=CreateTags&Version=2016-11-15&ResourceId.1=" + vpc.encode() +
                    b"&Tag.1.Key=k&Tag.1.Value=" + raw)
            a = apiraw.post(self.vpcd, body)
            self.assertEqual((a.status, a.code), (400, "InvalidParameterValue"), (raw, a.body[:300]))
            self.assertIn("Tag.1.Value", a.message)
            body = (b"Action=CreateTags&Version=2016-11-15&ResourceId.1=" + vpc.encode() +
                    b"&Tag.1.Key=" + raw + b"&Tag.1.Value=v")
            a = apiraw.post(self.vpcd, body)
            self.assertEqual((a.status, a.code), (400, "InvalidParameterValue"), (raw, a.body[:300]))
        # what boto3 itself sends: control characters in a tag
        self.assertError("InvalidParameterValue", self.ec2.create_tags, Resources=[vpc],
                         Tags=[{"Key": "k", "Value": "a\x01b"}])
        # text that is fine: accents, CJK, emoji, tab and newline
        ok = "\u00e9t\u00e9 \u65e5\U0001F600\ta\nb"
        self.ec2.create_tags(Resources=[vpc], Tags=[{"Key": "ok", "Value": ok}])
        tags = self.ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [vpc]}])["Tags"]
        self.assertEqual([(t["Key"], t["Value"]) for t in tags], [("ok", ok)])
        self.assertEqual(len(self.ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"]), 1)


class OlderStore(unittest.TestCase):
    def test_bad_tag_in_store_still_well_formed(self):
        with vpcdtest.Vpcd() as v:
            ec2 = v.client()
            vpc = ec2.create_vpc(CidrBlock="10.41.0.0/16")["Vpc"]["VpcId"]
            ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "placeholder"}])
            v.stop()
            # as a vpcd that did not check the text would have stored it
            db = sqlite3.connect(os.path.join(v.data_dir, "vpcd.db"))
            (body,) = db.execute("SELECT body FROM resources WHERE id = ?", (vpc,)).fetchone()
            body = body.encode().replace(b'"placeholder"', b'"\xff\xfe\\u0001x\\r<&>"')
            body = body.replace(b'"Name"', b'"N\xc3\\u001b"')
            db.execute("UPDATE resources SET body = CAST(? AS TEXT) WHERE id = ?", (body, vpc))
            db.commit()
            db.close()
            v.start()
            ec2 = v.client()
            got = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["Tags"]
            self.assertEqual(got, [{"Key": "N\ufffd\ufffd", "Value": "\ufffd\ufffd\ufffdx\r<&>"}])
            tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [vpc]}])["Tags"]
            self.assertEqual([(t["Key"], t["Value"]) for t in tags], [("N\ufffd\ufffd", "\ufffd\ufffd\ufffdx\r<&>")])
            # every answer of the kind parses, also the raw one
            a = apiraw.post(v, b"Action=DescribeVpcs&Version=2016-11-15")
            self.assertEqual(a.status, 200)
            apiraw.alive(self, v)


if __name__ == "__main__":
    unittest.main()
