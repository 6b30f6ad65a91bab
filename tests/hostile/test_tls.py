"""vpcd --tls: HTTPS on the --listen port, with real clients.

  - a self-signed certificate generated into the data dir on first start
    (tls.crt, tls.key, 0600), kept across restarts;
  - the aws CLI with --ca-bundle, boto3 with verify=PATH, vpcctl with
    --ca-bundle, with AWS_CA_BUNDLE and with --data-dir's tls.crt all
    work over it; each refuses it when verified against the system's CAs;
  - a certificate and key given with --tls-cert/--tls-key (made by the
    openssl tool) serve the same way; a key of another certificate is
    refused at start with a message saying so;
  - plain HTTP to the TLS port gets its connection closed at once (no
    answer, no hang) and vpcd goes on serving HTTPS;
  - vpcd warns when it listens beyond loopback without TLS (not with it),
    in a namespace of the test's own (root only).
"""
import http.client
import os
import shutil
import socket
import ssl
import stat
import subprocess
import tempfile
import time
import unittest

import boto3
import botocore.config
import botocore.exceptions

import vpcdtest
from vpcdtest import Vpcd

SYSTEM_CAS = "/etc/ssl/certs/ca-certificates.crt"


class TlsVpcd(Vpcd):
    """A Vpcd whose endpoint is https://; start() waits for the TCP port as usual."""

    def __init__(self, extra_args=(), **kw):
        super().__init__(["--tls"] + list(extra_args), **kw)
        self.endpoint = "https://127.0.0.1:%d" % self.port
        self.crt = os.path.join(self.data_dir, "tls.crt")

    def tls_client(self, verify):
        return boto3.client("ec2", region_name=vpcdtest.REGION, endpoint_url=self.endpoint,
                            aws_access_key_id=vpcdtest.KEY_ID, aws_secret_access_key=vpcdtest.SECRET,
                            verify=verify, config=botocore.config.Config(retries={"max_attempts": 0}))


def vpcctl(*args, env=None):
    e = dict(os.environ, AWS_ACCESS_KEY_ID=vpcdtest.KEY_ID, AWS_SECRET_ACCESS_KEY=vpcdtest.SECRET,
             AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    e.pop("AWS_CA_BUNDLE", None)
    e.update(env or {})
    return subprocess.run([vpcdtest.VPCCTL] + list(args), capture_output=True, text=True, env=e, timeout=60)


class SelfSignedTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.v = TlsVpcd().start()
        cls.vpc = cls.v.tls_client(cls.v.crt).create_vpc(CidrBlock="10.5.0.0/16")["Vpc"]["VpcId"]

    @classmethod
    def tearDownClass(cls):
        cls.v.__exit__(None, None, None)

    def test_generated_files(self):
        for name in ("tls.crt", "tls.key"):
            path = os.path.join(self.v.data_dir, name)
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600, name)
        with open(self.v.crt) as f:
            self.assertIn("BEGIN CERTIFICATE", f.read())
        log = self.v.read_log()
        self.assertIn("generated a self-signed certificate", log)
        self.assertIn("listening on https://", log)
        self.assertNotIn("PRIVATE KEY", log)

    def test_aws_cli_with_ca_bundle(self):
        out = self.v.cli("--ca-bundle", self.v.crt, "describe-vpcs")
        self.assertIn(self.vpc, [v["VpcId"] for v in out["Vpcs"]])
        env = dict(self.v.cli_env(), AWS_CA_BUNDLE=self.v.crt)
        self.assertIn(self.vpc, [v["VpcId"] for v in self.v.cli("describe-vpcs", env=env)["Vpcs"]])
        # verified against the system's CAs: refused
        env = dict(self.v.cli_env(), AWS_CA_BUNDLE=SYSTEM_CAS)
        p = self.v.cli("describe-vpcs", check=False, env=env)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("SSL validation failed", p.stderr)

    def test_boto3_verify_path(self):
        vpcs = self.v.tls_client(self.v.crt).describe_vpcs()["Vpcs"]
        self.assertIn(self.vpc, [v["VpcId"] for v in vpcs])
        with self.assertRaises(botocore.exceptions.SSLError):
            self.v.tls_client(SYSTEM_CAS).describe_vpcs()

    def test_vpcctl(self):
        for args, env in ((["--ca-bundle", self.v.crt], {}), ([], {"AWS_CA_BUNDLE": self.v.crt})):
            p = vpcctl("--endpoint-url", self.v.endpoint, *args, "show", "--output", "json", env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(self.vpc, p.stdout)
        p = vpcctl("--endpoint-url", self.v.endpoint, "--ca-bundle", SYSTEM_CAS, "show")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("SSL validation failed", p.stderr)
        self.assertIn("certificate verify failed", p.stderr)
        # by name: the generated certificate names localhost
        p = vpcctl("--endpoint-url", "https://localhost:%d" % self.v.port, "--ca-bundle", self.v.crt, "show")
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_plain_http_refused_cleanly(self):
        t0 = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.v.port, timeout=10)
        with self.assertRaises((ConnectionError, http.client.HTTPException, OSError)) as cm:
            conn.request("POST", "/", body="Action=DescribeVpcs&Version=2016-11-15",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            conn.getresponse().read()
        conn.close()
        self.assertNotIsInstance(cm.exception, socket.timeout)
        self.assertLess(time.monotonic() - t0, 5, "a plain HTTP request hung on the TLS port")
        # vpcd goes on serving HTTPS
        self.assertTrue(self.v.tls_client(self.v.crt).describe_vpcs()["Vpcs"])
        self.assertIsNone(self.v.proc.poll())

    def test_tls_only_modern(self):
        ctx = ssl.create_default_context(cafile=self.v.crt)
        with socket.create_connection(("127.0.0.1", self.v.port), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                self.assertIn(t.version(), ("TLSv1.2", "TLSv1.3"))


class RestartAndGivenCertTest(unittest.TestCase):
    def test_vpcctl_data_dir(self):
        """--data-dir: vpcd's own tls.crt and credentials, nothing else given."""
        with TlsVpcd(env_keys=False) as v:
            p = vpcctl("--endpoint-url", v.endpoint, "--data-dir", v.data_dir, "show", "--output", "json")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("172.31.0.0/16", p.stdout)   # the default VPC


    def test_certificate_kept_across_restarts(self):
        with TlsVpcd() as v:
            with open(v.crt) as f:
                first = f.read()
            v.restart()
            with open(v.crt) as f:
                self.assertEqual(f.read(), first)
            self.assertTrue(v.tls_client(v.crt).describe_vpcs()["Vpcs"])

    def make_pair(self, d, name):
        crt, key = os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=vpcd test",
                        "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
        return crt, key

    def test_given_certificate(self):
        d = tempfile.mkdtemp(prefix="vpcd-tls-")
        self.addCleanup(shutil.rmtree, d, True)
        crt, key = self.make_pair(d, "a")
        with TlsVpcd(["--tls-cert", crt, "--tls-key", key]) as v:
            out = v.cli("--ca-bundle", crt, "describe-vpcs")
            self.assertTrue(out["Vpcs"])
            self.assertTrue(v.tls_client(crt).describe_vpcs()["Vpcs"])
            self.assertFalse(os.path.exists(os.path.join(v.data_dir, "tls.key")), "generated one anyway")
            p = vpcctl("--endpoint-url", v.endpoint, "--ca-bundle", crt, "show")
            self.assertEqual(p.returncode, 0, p.stderr)
            # the name is checked too: this certificate names 127.0.0.1 only
            p = vpcctl("--endpoint-url", "https://localhost:%d" % v.port, "--ca-bundle", crt, "show")
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("SSL validation failed", p.stderr)
            self.assertIn("mismatch", p.stderr)

    def test_mismatched_key_refused(self):
        d = tempfile.mkdtemp(prefix="vpcd-tls-")
        self.addCleanup(shutil.rmtree, d, True)
        crt, _ = self.make_pair(d, "a")
        _, other_key = self.make_pair(d, "b")
        v = TlsVpcd(["--tls-cert", crt, "--tls-key", other_key])
        self.addCleanup(shutil.rmtree, v.data_dir, True)
        with self.assertRaises(RuntimeError) as cm:
            v.start()
        self.assertIn("the key does not belong to the certificate", str(cm.exception))
        v.log.close()
        v.proc = None


@unittest.skipUnless(os.geteuid() == 0, "needs root: listens on 0.0.0.0 only inside a namespace of its own")
class BeyondLoopbackWarningTest(unittest.TestCase):
    def start_in_ns(self, ns, extra):
        d = tempfile.mkdtemp(prefix="vpcd-tls-")
        self.addCleanup(shutil.rmtree, d, True)
        log_path = os.path.join(d, "vpcd.log")
        with open(log_path, "wb") as log:
            p = subprocess.Popen(["ip", "netns", "exec", ns, vpcdtest.VPCD, "--listen", "0.0.0.0:8775",
                                  "--data-dir", os.path.join(d, "var")] + extra, stdout=log, stderr=log)
        try:
            deadline = time.time() + 15
            while time.time() < deadline:
                with open(log_path) as f:
                    text = f.read()
                if "listening on" in text or p.poll() is not None:
                    break
                time.sleep(0.05)
        finally:
            p.terminate()
            p.wait(20)
        self.assertEqual(p.returncode, 0, text)
        return text

    def test_warning(self):
        from interop.netns import Namespaces
        ns = Namespaces("vpcdtls", ("api",))
        self.addCleanup(ns.remove)
        ns.make()
        text = self.start_in_ns(ns["api"], [])
        self.assertIn("beyond loopback, without TLS", text)
        text = self.start_in_ns(ns["api"], ["--tls"])
        self.assertIn("listening on https://0.0.0.0:8775", text)
        self.assertNotIn("without TLS", text)
