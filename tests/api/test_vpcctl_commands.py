"""vpcctl's other commands against a vpcd started for the test: `vpn
config` writes exactly what GetVpnConnectionDeviceSampleConfiguration
answers, `vpn devices`, `vpn status`, `show`, --output json everywhere,
--help on every command, keys found from each source the aws CLI uses
(and --data-dir), a wrong secret answered AuthFailure, and the wizard's
prompts on a terminal."""
import json
import os
import pty
import select
import shutil
import stat
import subprocess
import tempfile
import time

from vpcdtest import KEY_ID, REGION, SECRET, Vpcd, VpcdTestCase
from api.test_vpcctl import POOL, VPCCTL, clean_env, key_env, vpcctl

CISCO = ("--vendor", "Cisco Systems, Inc.", "--platform", "ISR Series Routers", "--software", "IOS 12.4+")


class TestVpcctlCommands(VpcdTestCase):
    vpcd_args = ("--vpn-outside-addresses", POOL)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        p = vpcctl(cls.vpcd, "--output", "json", "wizard", "--pattern", "public-private-vpn", "--name", "office",
                   "--customer-gateway-ip", "198.51.100.7", "--static-route", "192.168.0.0/24")
        if p.returncode != 0:
            raise AssertionError(p.stderr)
        cls.made = json.loads(p.stdout)
        cls.vpn = cls.made["VpnConnectionId"]
        cls.tmp = tempfile.mkdtemp(prefix="vpcctl-test-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def ok(self, *args, **kw):
        p = vpcctl(self.vpcd, *args, **kw)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def api_config(self, device, ike=None):
        kw = {"InternetKeyExchangeVersion": ike} if ike else {}
        return self.ec2.get_vpn_connection_device_sample_configuration(
            VpnConnectionId=self.vpn, VpnConnectionDeviceTypeId=device, **kw)["VpnConnectionDeviceSampleConfiguration"]

    # --- vpn ---------------------------------------------------------------

    def test_vpn_config_equals_the_api(self):
        types = self.ec2.get_vpn_connection_device_types()["VpnConnectionDeviceTypes"]
        for t in types:
            got = self.ok("vpn", "config", self.vpn, "--device-type", t["VpnConnectionDeviceTypeId"])
            self.assertEqual(got, self.api_config(t["VpnConnectionDeviceTypeId"]), t)
        # the console's three choices, to stdout and to a file
        self.assertEqual(self.ok("vpn", "config", self.vpn, *CISCO), self.api_config("b0adb196"))
        path = os.path.join(self.tmp, "router.conf")
        out = self.ok("vpn", "config", self.vpn, *CISCO, "--ike-version", "ikev2", "-o", path)
        self.assertIn(path, out)
        with open(path) as f:
            self.assertEqual(f.read(), self.api_config("b0adb196", "ikev2"))
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertIn("crypto isakmp", self.ok("vpn", "config", self.vpn, "--vendor", "cisco systems, inc.",
                                                "--platform", "isr series routers", "--software", "ios 12.4+"))
        # --output json prints the API's answer
        j = json.loads(self.ok("--output", "json", "vpn", "config", self.vpn, "--device-type", "b0adb196"))
        self.assertEqual(j["VpnConnectionDeviceSampleConfiguration"], self.api_config("b0adb196"))

    def test_vpn_config_errors(self):
        p = vpcctl(self.vpcd, "vpn", "config", self.vpn, "--vendor", "Cisco Systems, Inc.")
        self.assertEqual(p.returncode, 1)
        self.assertIn("AmbiguousDeviceType", p.stderr)
        self.assertIn("b0adb196", p.stderr)
        p = vpcctl(self.vpcd, "vpn", "config", self.vpn, "--vendor", "Nobody")
        self.assertEqual(p.returncode, 1)
        self.assertIn("InvalidDeviceType", p.stderr)
        p = vpcctl(self.vpcd, "vpn", "config", "vpn-00000000000000000", "--device-type", "b0adb196")
        self.assertEqual(p.returncode, 1)
        self.assertIn("InvalidVpnConnectionID.NotFound: ", p.stderr)
        for args in ((self.vpn,), ("--device-type", "b0adb196"), (self.vpn, "--device-type", "x", "--vendor", "y"),
                     (self.vpn, "--device-type", "b0adb196", "--ike-version", "ikev3")):
            p = vpcctl(self.vpcd, "vpn", "config", *args)
            self.assertEqual(p.returncode, 2, args)

    def test_vpn_devices(self):
        api = self.ec2.get_vpn_connection_device_types()["VpnConnectionDeviceTypes"]
        j = json.loads(self.ok("--output", "json", "vpn", "devices"))
        self.assertEqual(j["VpnConnectionDeviceTypes"], api)
        table = self.ok("vpn", "devices")
        self.assertEqual(table.splitlines()[0].split(), ["ID", "VENDOR", "PLATFORM", "SOFTWARE"])
        self.assertEqual(len(table.splitlines()), len(api) + 1)
        for t in api:
            self.assertIn(t["VpnConnectionDeviceTypeId"], table)
        yamaha = self.ok("vpn", "devices", "--vendor", "yamaha")
        self.assertEqual(len(yamaha.splitlines()), 1 + sum("Yamaha" in t["Vendor"] for t in api))

    def test_vpn_status(self):
        vpn = self.ec2.describe_vpn_connections(VpnConnectionIds=[self.vpn])["VpnConnections"][0]
        j = json.loads(self.ok("--output", "json", "vpn", "status", self.vpn))
        [v] = j["VpnConnections"]
        self.assertEqual(v["VpnConnectionId"], self.vpn)
        self.assertEqual([(t["OutsideIpAddress"], t["Status"], t.get("StatusMessage")) for t in v["VgwTelemetry"]],
                         [(t["OutsideIpAddress"], t["Status"], t.get("StatusMessage")) for t in vpn["VgwTelemetry"]])
        self.assertEqual(len(v["VgwTelemetry"]), 2)
        self.assertTrue(all(t["LastStatusChange"] for t in v["VgwTelemetry"]))
        table = self.ok("vpn", "status")
        self.assertIn("OUTSIDE ADDRESS", table)
        for t in vpn["VgwTelemetry"]:
            line = [l for l in table.splitlines() if t["OutsideIpAddress"] in l][0]
            self.assertIn(self.vpn, line)
            self.assertIn(t["Status"], line)
        p = vpcctl(self.vpcd, "vpn", "status", "vpn-00000000000000000")
        self.assertEqual(p.returncode, 1)
        self.assertIn("InvalidVpnConnectionID.NotFound", p.stderr)

    # --- show --------------------------------------------------------------

    def test_show(self):
        m = self.made
        table = self.ok("show")
        for title in ("VPCS", "SUBNETS", "ROUTE TABLES", "ROUTES", "INTERNET GATEWAYS", "VPN GATEWAYS",
                      "CUSTOMER GATEWAYS", "VPN CONNECTIONS", "VPN TUNNELS"):
            self.assertIn("\n" + title + "\n", "\n" + table)
        for key in ("VpcId", "PublicSubnetId", "PrivateSubnetId", "InternetGatewayId", "PublicRouteTableId",
                    "MainRouteTableId", "VpnGatewayId", "CustomerGatewayId", "VpnConnectionId"):
            self.assertIn(m[key], table)
        private = [l for l in table.splitlines() if m["PrivateSubnetId"] in l and "10.0.1.0/24" in l][0]
        self.assertIn(" 251 ", private)                     # available addresses of a /24
        self.assertIn(m["MainRouteTableId"], private)       # the route table in force
        route = [l for l in table.splitlines() if l.strip().startswith(m["MainRouteTableId"]) and "0.0.0.0/0" in l][0]
        self.assertIn(m["VpnGatewayId"], route)
        self.assertIn("192.168.0.0/24", table)
        j = json.loads(self.ok("--output", "json", "show", "--vpc-id", m["VpcId"]))
        self.assertEqual([v["VpcId"] for v in j["Vpcs"]], [m["VpcId"]])
        self.assertEqual(sorted(s["SubnetId"] for s in j["Subnets"]), sorted([m["PublicSubnetId"], m["PrivateSubnetId"]]))
        self.assertEqual([g["VpnGatewayId"] for g in j["VpnGateways"]], [m["VpnGatewayId"]])
        self.assertEqual([c["VpnConnectionId"] for c in j["VpnConnections"]], [m["VpnConnectionId"]])
        self.assertEqual([c["CustomerGatewayId"] for c in j["CustomerGateways"]], [m["CustomerGatewayId"]])
        self.assertNotIn("CustomerGatewayConfiguration", j["VpnConnections"][0])
        served = self.vpcd.cli("describe-instances", check=False).returncode == 0
        self.assertEqual("Instances" in j, served)
        self.assertEqual("\nINSTANCES\n" in table, served)
        p = vpcctl(self.vpcd, "show", "--vpc-id", "vpc-00000000000000000")
        self.assertEqual(p.returncode, 1)
        self.assertIn("InvalidVpcID.NotFound", p.stderr)

    # --- connection and keys -------------------------------------------------

    def test_keys_from_the_environment(self):
        self.ok("show")
        p = vpcctl(self.vpcd, "show", env=clean_env(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET,
                                                     AWS_REGION=REGION))
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_wrong_secret_is_auth_failure(self):
        for args in (("show",), ("vpn", "devices"), ("wizard", "--pattern", "public", "--name", "x")):
            p = vpcctl(self.vpcd, *args, env=clean_env(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY="wrong"))
            self.assertNotEqual(p.returncode, 0)
            self.assertTrue(p.stderr.startswith("AuthFailure: "), p.stderr)
        p = vpcctl(self.vpcd, "show", env=clean_env(AWS_ACCESS_KEY_ID="AKIAUNKNOWN00000000", AWS_SECRET_ACCESS_KEY=SECRET))
        self.assertIn("AuthFailure: ", p.stderr)

    def test_keys_from_a_shared_file_and_profile(self):
        path = os.path.join(self.tmp, "creds")
        with open(path, "w") as f:
            f.write("[default]\naws_access_key_id = AKIAWRONG\naws_secret_access_key = wrong\n\n"
                    "[lab]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (KEY_ID, SECRET))
        env = clean_env(AWS_SHARED_CREDENTIALS_FILE=path)
        p = vpcctl(self.vpcd, "show", env=env)
        self.assertIn("AuthFailure", p.stderr)
        self.assertEqual(vpcctl(self.vpcd, "--profile", "lab", "show", env=env).returncode, 0)
        self.assertEqual(vpcctl(self.vpcd, "show", "--profile=lab", env=env).returncode, 0)
        self.assertEqual(vpcctl(self.vpcd, "show", env=dict(env, AWS_PROFILE="lab")).returncode, 0)
        # --profile beats keys in the environment, AWS_PROFILE does not (as botocore)
        env_wrong = dict(env, AWS_ACCESS_KEY_ID="AKIAWRONG", AWS_SECRET_ACCESS_KEY="wrong")
        self.assertEqual(vpcctl(self.vpcd, "--profile", "lab", "show", env=env_wrong).returncode, 0)
        self.assertNotEqual(vpcctl(self.vpcd, "show", env=dict(env_wrong, AWS_PROFILE="lab")).returncode, 0)
        p = vpcctl(self.vpcd, "--profile", "nope", "show", env=env)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr.strip(), "ProfileNotFound: The config profile (nope) could not be found")

    def test_keys_from_home(self):
        home = os.path.join(self.tmp, "home")
        os.makedirs(os.path.join(home, ".aws"), exist_ok=True)
        with open(os.path.join(home, ".aws", "credentials"), "w") as f:
            f.write("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (KEY_ID, SECRET))
        with open(os.path.join(home, ".aws", "config"), "w") as f:
            f.write("[default]\nregion = %s\nendpoint_url = %s\n" % (REGION, self.vpcd.endpoint))
        env = clean_env(HOME=home)
        del env["AWS_CONFIG_FILE"], env["AWS_SHARED_CREDENTIALS_FILE"]
        # endpoint, region and keys all from ~/.aws
        p = vpcctl(None, "show", env=env, endpoint=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(self.made["VpcId"], p.stdout)
        # the region scopes what is seen: another region has its own state
        p = vpcctl(self.vpcd, "--region", "eu-west-1", "show", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn(self.made["VpcId"], p.stdout)
        # and a region AWS does not have is refused
        p = vpcctl(self.vpcd, "--region", "xx-nowhere-1", "show", env=env)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("SignatureDoesNotMatch", p.stderr)

    def test_endpoint_from_the_environment(self):
        p = vpcctl(None, "show", env=key_env(AWS_ENDPOINT_URL=self.vpcd.endpoint), endpoint=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = vpcctl(None, "show", env=key_env(AWS_ENDPOINT_URL="http://127.0.0.1:1",
                                             AWS_ENDPOINT_URL_EC2=self.vpcd.endpoint), endpoint=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = vpcctl(None, "show", env=key_env(AWS_ENDPOINT_URL="http://127.0.0.1:1"), endpoint=False)
        self.assertEqual(p.returncode, 1)
        self.assertTrue(p.stderr.startswith("EndpointConnectionError: "), p.stderr)
        p = vpcctl(None, "--endpoint-url", "ftp://127.0.0.1:1", "show", endpoint=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("InvalidEndpoint", p.stderr)
        p = vpcctl(None, "--endpoint-url", "https://127.0.0.1:1", "show", endpoint=False)
        self.assertEqual(p.returncode, 1)
        self.assertTrue(p.stderr.startswith("EndpointConnectionError: "), p.stderr)

    def test_one_connection_kept_alive(self):
        p = vpcctl(self.vpcd, "--debug", "show")
        self.assertEqual(p.returncode, 0, p.stderr)
        calls = [l for l in p.stderr.splitlines() if " -> HTTP " in l]
        self.assertGreaterEqual(len(calls), 8)      # one Describe per section
        self.assertTrue(all(l.endswith("connection #1") for l in calls), calls)
        self.assertNotIn(SECRET, p.stderr)

    def test_no_keys_at_all(self):
        p = vpcctl(self.vpcd, "show", env=clean_env(HOME=self.tmp))
        self.assertEqual(p.returncode, 1)
        self.assertTrue(p.stderr.startswith("NoCredentials: "), p.stderr)

    # --- help and usage ------------------------------------------------------

    def test_help_on_every_command(self):
        env = clean_env(HOME=self.tmp)      # no keys, no endpoint: help needs neither
        for cmd in ([], ["wizard"], ["vpn"], ["vpn", "devices"], ["vpn", "config"], ["vpn", "status"], ["show"],
                    ["version"]):
            for flag in ("--help", "-h"):
                p = subprocess.run([VPCCTL] + cmd + [flag], capture_output=True, text=True, env=env, timeout=10)
                self.assertEqual(p.returncode, 0, (cmd, p.stderr))
                self.assertTrue(p.stdout.startswith("usage: vpcctl"), (cmd, p.stdout))
                self.assertEqual(p.stderr, "")
            if cmd:
                p = subprocess.run([VPCCTL, "help"] + cmd, capture_output=True, text=True, env=env, timeout=10)
                self.assertEqual(p.returncode, 0, cmd)
                self.assertTrue(p.stdout.startswith("usage: vpcctl"))
        p = subprocess.run([VPCCTL, "--version"], capture_output=True, text=True, env=env, timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"^vpcctl \d+\.\d+\.\d+\n$")
        for bad in (["frob"], ["vpn", "frob"], ["--output", "xml", "show"], [], ["show", "extra"]):
            p = subprocess.run([VPCCTL] + bad, capture_output=True, text=True, env=env, timeout=10)
            self.assertEqual(p.returncode, 2, bad)
            self.assertNotEqual(p.stderr, "")


class TestVpcctlDataDir(VpcdTestCase):
    """--data-dir DIR: the keys vpcd wrote to DIR/credentials."""

    @classmethod
    def setUpClass(cls):
        cls.vpcd = Vpcd(env_keys=False).__enter__()

    def test_data_dir_keys(self):
        d = self.vpcd.data_dir
        self.assertTrue(os.path.exists(os.path.join(d, "credentials")))
        # the environment's (wrong) keys do not count when --data-dir is given
        env = clean_env(AWS_ACCESS_KEY_ID="AKIAWRONG", AWS_SECRET_ACCESS_KEY="wrong")
        p = vpcctl(self.vpcd, "--data-dir", d, "--output", "json", "show", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(json.loads(p.stdout)["Vpcs"]), 1)     # the default VPC
        p = vpcctl(self.vpcd, "show", env=env)
        self.assertIn("AuthFailure", p.stderr)
        p = vpcctl(self.vpcd, "--data-dir", "/nonexistent", "show", env=env)
        self.assertEqual(p.returncode, 1)
        self.assertIn("NoCredentials", p.stderr)


class TestWizardOnATerminal(VpcdTestCase):
    """Missing inputs are asked for when stdin and stdout are a terminal."""
    vpcd_args = ("--vpn-outside-addresses", POOL)

    def converse(self, args, answers, timeout=20):
        pid, fd = pty.fork()
        if pid == 0:
            env = key_env()
            os.execve(VPCCTL, [VPCCTL, "--endpoint-url", self.vpcd.endpoint] + args, env)
        out, pending, seen = b"", list(answers), 0
        deadline = time.time() + timeout
        try:
            while time.time() < deadline:
                r, _, _ = select.select([fd], [], [], 0.2)
                if r:
                    try:
                        chunk = os.read(fd, 4096)
                    except OSError:     # EIO: the child closed the terminal
                        break
                    if not chunk:
                        break
                    out += chunk
                # answer a prompt once it is fully written: "Question [default]: "
                fresh = out[seen:].decode(errors="replace")
                if pending and pending[0][0] in fresh and fresh.endswith(": "):
                    os.write(fd, pending.pop(0)[1].encode() + b"\n")
                    seen = len(out)
        finally:
            _, status = os.waitpid(pid, 0)
            os.close(fd)
        return os.waitstatus_to_exitcode(status), out.decode(errors="replace")

    def test_prompts_fill_what_is_missing(self):
        rc, out = self.converse(["wizard"], [
            ("Pattern", "private-vpn"),
            ("Name", "asked"),
            ("Customer gateway IP", "198.51.100.77"),
            ("Routing", "static"),
            ("Static routes", "192.168.5.0/24, 192.168.6.0/24"),
            ("VPC CIDR", "10.7.0.0/16"),
            ("Private subnet CIDR", "10.7.1.0/24"),
            ("Private subnet AZ", ""),
            ("Tenancy", ""),
        ])
        self.assertEqual(rc, 0, out)
        self.assertIn('Made VPC "asked" (pattern private-vpn)', out)
        vpcs = [v for v in self.ec2.describe_vpcs()["Vpcs"]
                if {t["Key"]: t["Value"] for t in v.get("Tags", [])}.get("Name") == "asked"]
        self.assertEqual([v["CidrBlock"] for v in vpcs], ["10.7.0.0/16"])
        vpn = [v for v in self.ec2.describe_vpn_connections()["VpnConnections"]
               if {t["Key"]: t["Value"] for t in v.get("Tags", [])}.get("Name") == "asked"][0]
        self.assertEqual(sorted(r["DestinationCidrBlock"] for r in vpn["Routes"]), ["192.168.5.0/24", "192.168.6.0/24"])
