"""Hostile requests to the API's parser, replayed against a real vpcd: each
is refused with its own error, quickly, and vpcd stays up and answering.
Names of 300,000 dotted parts (once a stack overflow), a 248 KB
CreateVpnConnection of nested lists (once 2.9 s and 460 MB on the API
thread), more parameters than accepted in the body or in the URL (once
silently dropped or misnamed), a SignedHeaders naming x-ghost instead of
host (once taken for host)."""
import http.client
import socket
import unittest

from hostile import apiraw
import vpcdtest

BASE = [("Action", "DescribeVpcs"), ("Version", "2016-11-15")]


class ParserAttacks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.v = vpcdtest.Vpcd().__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.v.__exit__(None, None, None)

    def test_deep_name(self):
        body = apiraw.form(BASE) + b"&" + b"a." * 300000 + b"a=1"
        self.assertLess(len(body), 1 << 20)
        a = apiraw.post(self.v, body)
        self.assertEqual((a.status, a.code), (400, "InvalidParameterValue"), a.body[:300])
        self.assertIn("more than 16 parts", a.message)
        self.assertLess(a.seconds, 2)
        apiraw.alive(self, self.v)

    def test_nested_lists(self):
        lists = ("Phase1EncryptionAlgorithm", "Phase2EncryptionAlgorithm", "Phase1IntegrityAlgorithm",
                 "Phase2IntegrityAlgorithm", "Phase1DHGroupNumber", "Phase2DHGroupNumber", "IKEVersion")
        params = [("Action", "CreateVpnConnection"), ("Version", "2016-11-15"),
                  ("CustomerGatewayId", "cgw-12345678"), ("Type", "ipsec.1"), ("VpnGatewayId", "vgw-12345678")]
        params += [("Options.TunnelOptions.%d.%s.1000.Value" % (t, l), "2")
                   for t in range(1, 586) for l in lists[:6]]
        body = apiraw.form(params)
        self.assertGreater(len(body), 200000)
        a = apiraw.post(self.v, body)
        self.assertEqual((a.status, a.code), (400, "InvalidParameterValue"), a.body[:300])
        self.assertIn("Options.TunnelOptions.", a.message)
        self.assertLess(a.seconds, 1)
        # a million empty items asked for by gaps in nested lists
        params = [("Action", "CreateVpc"), ("Version", "2016-11-15"), ("CidrBlock", "10.9.0.0/16")]
        params += [("TagSpecification.%d.Tag.1000.Key" % t, "k") for t in range(1, 1001)]
        a = apiraw.post(self.v, apiraw.form(params))
        self.assertEqual((a.status, a.code), (400, "InvalidParameterValue"), a.body[:300])
        self.assertIn("parameter elements", a.message)
        self.assertLess(a.seconds, 1)
        apiraw.alive(self, self.v)

    def test_too_many_parameters(self):
        body = apiraw.form(BASE + [("VpcId.%d" % i, "vpc-%d" % i) for i in range(1, 4095)])
        a = apiraw.post(self.v, body)
        self.assertEqual((a.status, a.code), (400, "InvalidVpcID.NotFound"), a.body[:300])
        body = apiraw.form(BASE + [("VpcId.%d" % i, "vpc-%d" % i) for i in range(1, 4096)])
        a = apiraw.post(self.v, body)
        self.assertEqual((a.status, a.code), (400, "InvalidParameterValue"), a.body[:300])
        self.assertEqual(a.message, "The request has more than 4,096 parameters")
        # in the URL: libmicrohttpd's per-connection memory (32 KB) holds a
        # few hundred arguments; beyond, the request is refused (431) and
        # the connection closed, never served with arguments left out
        try:
            a = apiraw.get(self.v, "&".join("a" for i in range(4097)))
            self.assertNotEqual(a.status, 200, a.body[:300])
        except (ConnectionError, http.client.HTTPException):
            pass
        apiraw.alive(self, self.v)

    def test_heads_too_large(self):
        # 200 heads larger than a connection's memory: libmicrohttpd refuses
        # each (and says so); its messages go through a log limit
        before = len(self.v.read_log().splitlines())
        head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 40000 + b"\r\n\r\n"
        for i in range(200):
            s = socket.create_connection(("127.0.0.1", self.v.port), timeout=5)
            try:
                s.sendall(head)
                s.recv(100)
            except OSError:
                pass
            finally:
                s.close()
        self.assertLess(len(self.v.read_log().splitlines()) - before, 60)
        apiraw.alive(self, self.v)

    def test_signed_headers_token_by_token(self):
        body = apiraw.form(BASE)
        host = "127.0.0.1:%d" % self.v.port
        ok = apiraw.post(self.v, body, headers=apiraw.sign(host, body))
        self.assertEqual(ok.status, 200, ok.body[:300])
        # validly signed, but over x-ghost instead of host: the host is not covered
        hdrs = apiraw.sign(host, body, headers={"x-ghost": "boo"}, signed=("x-amz-date", "x-ghost"))
        a = apiraw.post(self.v, body, headers=hdrs)
        self.assertEqual((a.status, a.code), (401, "SignatureDoesNotMatch"), a.body[:300])
        self.assertEqual(a.message, "SignedHeaders must include host")

    def test_garbage_next_token(self):
        body = apiraw.form(BASE + [("MaxResults", "5")]) + b"&NextToken=%FF%01%3C%1B"
        a = apiraw.post(self.v, body)
        # the token is no UTF-8 text: refused by the parser, no byte echoed
        self.assertEqual((a.status, a.code), (400, "InvalidParameterValue"), a.body[:300])
        self.assertNotIn(b"\xff", a.body)
        for token, shown in (("garbage", "'garbage'"), ("vpcd1.fffffffffffffffff", "'vpcd1.fffffffffffffffff'"),
                             ("vpcd1.ffffffffffffffff", "'vpcd1.ffffffffffffffff'"),
                             ("<x>&" + "\u00e9" * 3, "The token is invalid")):
            body = apiraw.form(BASE + [("MaxResults", "5"), ("NextToken", token)])
            a = apiraw.post(self.v, body)
            self.assertEqual((a.status, a.code), (400, "InvalidNextToken"), (token, a.body[:300]))
            self.assertIn(shown, a.message)


if __name__ == "__main__":
    unittest.main()
