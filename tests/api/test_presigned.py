"""Presigned URLs: SigV4 in the query string (X-Amz-Algorithm, -Credential,
-Date, -Expires, -SignedHeaders, -Signature), as botocore's
generate_presigned_url makes them, for GET and for a POST without a body.
A changed parameter or signature is AuthFailure, an expired URL is
RequestExpired, and the X-Amz-* parameters never reach the action."""
import datetime
import re
import unittest
import urllib.error
import urllib.request
from unittest import mock

from vpcdtest import VpcdTestCase


class TestPresigned(VpcdTestCase):
    def fetch(self, url, method="GET"):
        req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def code(self, body):
        m = re.search(r"<Code>([^<]+)</Code>", body)
        return m.group(1) if m else None

    def test_get_and_post(self):
        vpc = self.ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
        for method in ("GET", "POST"):
            url = self.ec2.generate_presigned_url("describe_vpcs", Params={"VpcIds": [vpc]}, ExpiresIn=300,
                                                  HttpMethod=method)
            self.assertIn("X-Amz-Signature=", url)
            status, body = self.fetch(url, method)
            self.assertEqual(status, 200, body)
            self.assertIn("<vpcId>%s</vpcId>" % vpc, body)
            self.assertEqual(body.count("<vpcId>"), 1)

    def test_tampered(self):
        url = self.ec2.generate_presigned_url("describe_vpcs", Params={}, ExpiresIn=300, HttpMethod="GET")
        status, body = self.fetch(url.replace("Action=DescribeVpcs", "Action=DescribeVpcs&VpcId.1=vpc-0"))
        self.assertEqual((status, self.code(body)), (401, "AuthFailure"))
        sig = re.search(r"X-Amz-Signature=([0-9a-f]{64})", url).group(1)
        flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
        status, body = self.fetch(url.replace(sig, flipped))
        self.assertEqual((status, self.code(body)), (401, "AuthFailure"))
        status, body = self.fetch(re.sub(r"&X-Amz-Signature=[0-9a-f]+", "", url))
        self.assertEqual((status, self.code(body)), (401, "IncompleteSignature"))
        status, body = self.fetch(url.replace("X-Amz-Expires=300", "X-Amz-Expires=0"))
        self.assertEqual((status, self.code(body)), (401, "IncompleteSignature"))
        wrong = self.vpcd.client(secret="not-the-secret")
        status, body = self.fetch(wrong.generate_presigned_url("describe_vpcs", Params={}, HttpMethod="GET"))
        self.assertEqual((status, self.code(body)), (401, "AuthFailure"))

    def test_expired(self):
        # signed two hours ago for one minute: past its expiry (and the 15 minutes' grace)
        past = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(hours=2)
        with mock.patch("botocore.auth.get_current_datetime", return_value=past):
            url = self.ec2.generate_presigned_url("describe_vpcs", Params={}, ExpiresIn=60, HttpMethod="GET")
        status, body = self.fetch(url)
        self.assertEqual((status, self.code(body)), (400, "RequestExpired"))
        # signed 20 minutes ago for an hour: still valid
        recent = past + datetime.timedelta(minutes=100)
        with mock.patch("botocore.auth.get_current_datetime", return_value=recent):
            url = self.ec2.generate_presigned_url("describe_vpcs", Params={}, ExpiresIn=3600, HttpMethod="GET")
        status, body = self.fetch(url)
        self.assertEqual(status, 200, body)


if __name__ == "__main__":
    unittest.main()
