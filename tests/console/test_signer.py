"""The console's SigV4 signer (src/console/www/js/sigv4.mjs, run by node
through sign_cli.mjs) against botocore's SigV4Auth: for the same request
and time both must produce the same Authorization header, for POST bodies
the console encodes, bodies botocore's EC2 serializer encodes, GET query
strings, secrets shorter and longer than an HMAC block, other regions and
non-ASCII values. Then against a real vpcd: a signed call is answered,
one signed with a wrong secret is refused."""
import datetime
import json
import os
import subprocess
import unittest
from unittest import mock

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.serialize
import botocore.session

from vpcdtest import KEY_ID, SECRET, Vpcd

HERE = os.path.dirname(os.path.abspath(__file__))
FORM = "application/x-www-form-urlencoded; charset=utf-8"
TIME = "2026-12-07T06:30:00Z"


def node_sign(cases):
    p = subprocess.run(["node", os.path.join(HERE, "sign_cli.mjs")], input=json.dumps(cases),
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("sign_cli.mjs failed: %s" % p.stderr)
    return json.loads(p.stdout)


def botocore_sign(case, body):
    host, path = case["host"], case["path"]
    req = botocore.awsrequest.AWSRequest(method=case["method"], url="http://%s%s" % (host, path),
                                         data=body if body else None, headers=dict(case["headers"]))
    creds = botocore.credentials.Credentials(case["accessKeyId"], case["secretAccessKey"])
    when = datetime.datetime.strptime(case["time"], "%Y-%m-%dT%H:%M:%SZ")
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        botocore.auth.SigV4Auth(creds, "ec2", case["region"]).add_auth(req)
    return req.headers["Authorization"], req.headers["X-Amz-Date"]


def case(**kw):
    c = {"method": "POST", "path": "/", "host": "127.0.0.1:8775", "headers": {"Content-Type": FORM},
         "accessKeyId": KEY_ID, "secretAccessKey": SECRET, "region": "us-east-1", "time": TIME}
    c.update(kw)
    return c


def serialized_body(op, params):
    """The body botocore's EC2 serializer sends for op(params)."""
    model = botocore.session.get_session().get_service_model("ec2")
    req = botocore.serialize.create_serializer("ec2").serialize_to_request(params, model.operation_model(op))
    aws = botocore.awsrequest.AWSRequest(method="POST", url="http://x/", data=req["body"]).prepare()
    return aws.body if isinstance(aws.body, str) else aws.body.decode()


class TestSigner(unittest.TestCase):
    def check(self, cases):
        got = node_sign(cases)
        self.assertEqual(len(got), len(cases))
        for c, g in zip(cases, got):
            auth, date = botocore_sign(c, g["body"])
            self.assertEqual(g["headers"]["X-Amz-Date"], date)
            self.assertEqual(g["headers"]["Authorization"], auth, "canonical request:\n" + g["canonical"])

    def test_console_bodies(self):
        self.check([
            case(form=[["Action", "DescribeVpcs"], ["Version", "2016-11-15"]]),
            case(form=[["Action", "CreateTags"], ["Version", "2016-11-15"], ["ResourceId.1", "vpc-0123"],
                       ["Tag.1.Key", "Name"], ["Tag.1.Value", "office VPC: a+b/c ~*'()! é 東京"]]),
            case(form=[["Action", "DescribeSubnets"], ["Version", "2016-11-15"],
                       ["Filter.1.Name", "cidr-block"], ["Filter.1.Value.1", "10.0.0.0/24"]],
                 region="ap-northeast-1", time="2027-01-01T00:00:00Z"),
        ])

    def test_secrets_and_keys(self):
        body = [["Action", "DescribeRegions"], ["Version", "2016-11-15"]]
        self.check([case(form=body, secretAccessKey="x"),
                    case(form=body, secretAccessKey="k" * 60),
                    case(form=body, secretAccessKey="K/+=" * 40),
                    case(form=body, accessKeyId="AKIAEXAMPLE0000000ZZ", region="eu-central-1")])

    def test_botocore_serialized_bodies(self):
        """Bodies as botocore encodes them (spaces as '+'), signed by the console."""
        bodies = [
            serialized_body("DescribeVpcs", {"Filters": [{"Name": "tag:Name", "Values": ["my office vpc"]}],
                                             "MaxResults": 5}),
            serialized_body("AuthorizeSecurityGroupIngress", {
                "GroupId": "sg-1", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                                      "IpRanges": [{"CidrIp": "10.0.0.0/24",
                                                                    "Description": "ssh from the office"}]}]}),
        ]
        self.check([case(body=b) for b in bodies])

    def test_get_query(self):
        self.check([
            case(method="GET", headers={}, path="/?Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=vpc-id"),
            case(method="GET", headers={}, path="/?Version=2016-11-15&Action=DescribeTags&Filter.1.Value.1=a%20b"),
        ])

    def test_against_vpcd(self):
        with Vpcd() as v:
            host = "127.0.0.1:%d" % v.port
            body = [["Action", "DescribeRegions"], ["Version", "2016-11-15"]]
            good, bad = node_sign([case(form=body, host=host, send=True, time=now()),
                                   case(form=body, host=host, send=True, time=now(),
                                        secretAccessKey=SECRET + "x")])
            self.assertEqual(good["status"], 200, good["text"])
            self.assertIn("<regionName>us-east-1</regionName>", good["text"])
            self.assertEqual(bad["status"], 401)
            self.assertIn("<Code>AuthFailure</Code>", bad["text"])


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


if __name__ == "__main__":
    unittest.main()
