"""The console off localhost: a browser allows WebCrypto (the signing)
only in a secure context. With vpcd --tls the console at
https://console.test:PORT (a name Chromium maps to 127.0.0.1; nothing
leaves loopback) signs in and loads the dashboard; at
http://console.test:PORT it sends nothing and says why (open it over
https, or on 127.0.0.1/localhost)."""
import json
import os
import subprocess
import unittest

from vpcdtest import BUILD, KEY_ID, SECRET, Vpcd

HERE = os.path.dirname(os.path.abspath(__file__))
ARTIFACTS = os.path.join(os.path.abspath(BUILD), "console-artifacts-origins")


def run_origin(origin, expect):
    os.makedirs(ARTIFACTS, exist_ok=True)
    env = dict(os.environ, ORIGIN=origin, EXPECT=expect, KEY_ID=KEY_ID, SECRET=SECRET, ARTIFACTS=ARTIFACTS,
               PLAYWRIGHT_DIR=os.path.join(os.path.abspath(BUILD), "console-test"), CHROMIUM="/usr/bin/chromium")
    p = subprocess.run(["node", os.path.join(HERE, "origin.mjs")], env=env, capture_output=True, text=True, timeout=180)
    if p.returncode != 0:
        raise AssertionError("origin.mjs %s: %s%s" % (origin, p.stdout, p.stderr[-3000:]))
    return json.loads(p.stdout.strip().splitlines()[-1])


class TestOrigins(unittest.TestCase):
    def test_https_signs_anywhere(self):
        with Vpcd(("--tls",)) as v:
            got = run_origin("https://console.test:%d" % v.port, "signed")
        self.assertTrue(got["secure"])
        self.assertRegex(got["shown"], r"^\d+\s*Your VPCs$")
        self.assertGreater(got["calls"], 0)

    def test_plain_http_off_localhost_says_why(self):
        with Vpcd() as v:
            got = run_origin("http://console.test:%d" % v.port, "insecure")
        self.assertFalse(got["secure"])
        self.assertEqual(got["shown"], "Sign-in refused: WebCrypto is not available: open the console over https, "
                                       "or on http://127.0.0.1 or http://localhost")
        self.assertEqual(got["calls"], 0)


if __name__ == "__main__":
    unittest.main()
