"""vpcd serves the console's files (src/console/www, built into the binary)
at /console/, byte for byte with their types and security headers,
redirects a browser's unsigned GET / there, and leaves every other
request to the EC2 API: signed and presigned calls at / are answered as
before, an unsigned non-browser GET / is still refused, and nothing but
GET and HEAD reaches the console."""
import http.client
import os
import unittest

import botocore.auth
import botocore.awsrequest
import botocore.credentials

from vpcdtest import KEY_ID, REGION, SECRET, VpcdTestCase

WWW = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "console", "www")
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".mjs": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}


class TestServing(VpcdTestCase):
    def request(self, method, path, headers=None, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.vpcd.port, timeout=10)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def test_every_file_byte_for_byte(self):
        files = []
        for d, _, names in os.walk(WWW):
            files += [os.path.relpath(os.path.join(d, n), WWW) for n in names]
        self.assertIn("index.html", files)
        self.assertIn(os.path.join("js", "sigv4.mjs"), files)
        for rel in files:
            status, h, body = self.request("GET", "/console/" + rel.replace(os.sep, "/"))
            self.assertEqual(status, 200, rel)
            with open(os.path.join(WWW, rel), "rb") as f:
                self.assertEqual(body, f.read(), rel)
            self.assertEqual(h["content-type"], TYPES[os.path.splitext(rel)[1]], rel)
            self.assertIn("script-src 'self'", h["content-security-policy"])
            self.assertIn("frame-ancestors 'none'", h["content-security-policy"])
            self.assertEqual(h["x-content-type-options"], "nosniff")
        status, h, body = self.request("GET", "/console/")
        with open(os.path.join(WWW, "index.html"), "rb") as f:
            self.assertEqual(body, f.read())
        status, h, body = self.request("HEAD", "/console/js/app.mjs")
        self.assertEqual((status, body), (200, b""))

    def test_redirects(self):
        status, h, _ = self.request("GET", "/", {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        self.assertEqual((status, h["location"]), (302, "/console/"))
        status, h, _ = self.request("GET", "/console")
        self.assertEqual((status, h["location"]), (302, "/console/"))

    def test_not_found(self):
        for path in ("/console/nope.html", "/console/js/", "/console/../README.md", "/console/js/../../etc/passwd",
                     "/consolex", "/console/index.html/"):
            status, h, body = self.request("GET", path)
            self.assertIn(status, (404,), path)

    def test_api_untouched(self):
        # an unsigned GET / that is no browser's: the API's refusal as before
        status, _, body = self.request("GET", "/")
        self.assertEqual(status, 401)
        self.assertIn(b"<Code>MissingAuthenticationToken</Code>", body)
        # an unsigned GET / naming an action, even from a browser, goes to the API
        status, _, body = self.request("GET", "/?Action=DescribeVpcs&Version=2016-11-15", {"Accept": "text/html"})
        self.assertEqual(status, 401)
        # anything but GET/HEAD at /console is not the console's
        status, _, body = self.request("POST", "/console/", {"Content-Type": "application/x-www-form-urlencoded"},
                                       "Action=DescribeVpcs&Version=2016-11-15")
        self.assertEqual(status, 404)
        self.assertIn(b"<Code>InvalidAction</Code>", body)
        # signed calls as always, with a browser's Accept header too
        self.assertEqual(len(self.ec2.describe_regions()["Regions"]) > 0, True)
        req = botocore.awsrequest.AWSRequest(method="GET", url="%s/?Action=DescribeRegions&Version=2016-11-15"
                                             % self.vpcd.endpoint, headers={"Accept": "text/html"})
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(KEY_ID, SECRET), "ec2", REGION).add_auth(req)
        status, _, body = self.request("GET", "/?Action=DescribeRegions&Version=2016-11-15", dict(req.headers.items()))
        self.assertEqual(status, 200, body)
        self.assertIn(b"<regionName>", body)


if __name__ == "__main__":
    unittest.main()
