"""Many clients at once: every answer is whole, is its own request's, and
reads that ran beside changes see either all of a change or none of it.

vpcd hands the answers of reads out while the rest of their batch still
runs (src/api/server.c, answer_early), and builds large answers in buffers
it keeps and reuses once libmicrohttpd has sent them (the answer pool).
A buffer reused too early, or an answer handed to the wrong connection,
shows here as a page of subnets that differs from the one every other
client got, or as a body whose requestId is another request's."""
import http.client
import re
import threading

import botocore.auth
import botocore.awsrequest
import botocore.credentials

from vpcdtest import KEY_ID, REGION, SECRET, VpcdTestCase

REQUEST_ID = re.compile(rb"<requestId>([^<]*)</requestId>")


class TestConcurrentAnswers(VpcdTestCase):
    SUBNETS = 300       # a page of them is about 290 KB: pool-sized

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vpc = cls.ec2.create_vpc(CidrBlock="10.61.0.0/16")["Vpc"]["VpcId"]
        for i in range(cls.SUBNETS):
            cls.ec2.create_subnet(VpcId=cls.vpc, CidrBlock="10.61.%d.%d/28" % (i // 16, (i % 16) * 16))
        cls.page = ("Action=DescribeSubnets&Version=2016-11-15&MaxResults=1000"
                    "&Filter.1.Name=vpc-id&Filter.1.Value.1=" + cls.vpc)

    def post(self, conn, body):
        """One signed POST on a kept-alive connection: (status, the
        x-amzn-RequestId header, the body)."""
        req = botocore.awsrequest.AWSRequest(
            method="POST", url=self.vpcd.endpoint + "/", data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(KEY_ID, SECRET), "ec2", REGION).add_auth(req)
        conn.request("POST", "/", body=body.encode(), headers=dict(req.prepare().headers))
        resp = conn.getresponse()
        return resp.status, resp.getheader("x-amzn-RequestId"), resp.read()

    def test_pages_whole_and_each_its_own(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.vpcd.port, timeout=30)
        status, _, first = self.post(conn, self.page)
        conn.close()
        self.assertEqual(status, 200)
        self.assertEqual(first.count(b"<subnetId>"), self.SUBNETS)
        expected = REQUEST_ID.sub(b"", first)
        failures = []

        def reader(n):
            c = http.client.HTTPConnection("127.0.0.1", self.vpcd.port, timeout=30)
            try:
                for _ in range(n):
                    status, rid, body = self.post(c, self.page)
                    m = REQUEST_ID.search(body)
                    if status != 200 or not m or m.group(1).decode() != rid:
                        failures.append("status %s, header id %s, body id %s" % (status, rid, m and m.group(1)))
                    elif REQUEST_ID.sub(b"", body) != expected:
                        failures.append("a page of %d bytes differs from the first (%d bytes)"
                                        % (len(body), len(first)))
            finally:
                c.close()

        def small(n):
            # small answers between the large ones: written in a kept buffer
            # and moved out of it
            c = http.client.HTTPConnection("127.0.0.1", self.vpcd.port, timeout=30)
            try:
                for _ in range(n):
                    status, rid, body = self.post(c, "Action=DescribeVpcs&Version=2016-11-15&VpcId.1=" + self.vpc)
                    m = REQUEST_ID.search(body)
                    if status != 200 or not m or m.group(1).decode() != rid or self.vpc.encode() not in body:
                        failures.append("DescribeVpcs: status %s, header id %s, body %r" % (status, rid, body[:200]))
            finally:
                c.close()

        threads = [threading.Thread(target=reader, args=(12,)) for _ in range(12)]
        threads += [threading.Thread(target=small, args=(40,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(failures, [])

    def test_reads_beside_changes_see_whole_changes(self):
        """Tags added and removed in pairs while others read: a read sees a
        pair whole or not at all, and a writer reads its own change back."""
        # a VPC per writer: 20 pairs each stay under the 50 tags a resource may have
        vpcs = [self.ec2.create_vpc(CidrBlock="10.%d.0.0/16" % (62 + w))["Vpc"]["VpcId"] for w in range(4)]
        describe = "Action=DescribeVpcs&Version=2016-11-15" + "".join(
            "&VpcId.%d=%s" % (i + 1, v) for i, v in enumerate(vpcs))
        failures = []
        stop = threading.Event()

        def writer(w):
            c = http.client.HTTPConnection("127.0.0.1", self.vpcd.port, timeout=30)
            try:
                for i in range(20):
                    key = "w%d-%d" % (w, i)
                    body = ("Action=CreateTags&Version=2016-11-15&ResourceId.1=%s&Tag.1.Key=%s-a&Tag.1.Value=1"
                            "&Tag.2.Key=%s-b&Tag.2.Value=2" % (vpcs[w], key, key))
                    status, _, answer = self.post(c, body)
                    if status != 200:
                        failures.append("CreateTags: %s %r" % (status, answer[:200]))
                        return
                    status, _, answer = self.post(c, describe)
                    if (key + "-a").encode() not in answer or (key + "-b").encode() not in answer:
                        failures.append("%s: its own tags not read back" % key)
            finally:
                c.close()

        def reader():
            c = http.client.HTTPConnection("127.0.0.1", self.vpcd.port, timeout=30)
            try:
                while not stop.is_set():
                    status, _, answer = self.post(c, describe)
                    if status != 200:
                        failures.append("DescribeVpcs: %s" % status)
                        return
                    a = set(re.findall(rb"<key>(w\d+-\d+)-a</key>", answer))
                    b = set(re.findall(rb"<key>(w\d+-\d+)-b</key>", answer))
                    if a != b:
                        failures.append("half a change read: %r" % (a ^ b))
                        return
            finally:
                c.close()

        readers = [threading.Thread(target=reader) for _ in range(4)]
        writers = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        for t in readers + writers:
            t.start()
        for t in writers:
            t.join()
        stop.set()
        for t in readers:
            t.join()
        self.assertEqual(failures, [])
        tags = {t["Key"] for v in self.ec2.describe_vpcs(VpcIds=vpcs)["Vpcs"] for t in v["Tags"]}
        self.assertEqual(len(tags), 4 * 20 * 2)
