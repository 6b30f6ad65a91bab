"""State survives restarts and kill -9; generated credentials work."""
import configparser
import os
import stat
import subprocess
import threading

from vpcdtest import Vpcd, VpcdTestCase


class TestDurability(VpcdTestCase):
    def test_restart_keeps_everything(self):
        vid = self.ec2.create_vpc(CidrBlock="10.10.0.0/16",
                                  TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "keep"}]}])["Vpc"]["VpcId"]
        sid = self.ec2.create_subnet(VpcId=vid, CidrBlock="10.10.1.0/24")["Subnet"]["SubnetId"]
        self.ec2.modify_subnet_attribute(SubnetId=sid, MapPublicIpOnLaunch={"Value": True})
        before_vpcs = self.ec2.describe_vpcs()["Vpcs"]
        before_subnets = self.ec2.describe_subnets()["Subnets"]
        self.vpcd.restart()
        self.assertEqual(self.ec2.describe_vpcs()["Vpcs"], before_vpcs)
        self.assertEqual(self.ec2.describe_subnets()["Subnets"], before_subnets)
        # the default VPC is made once, not at every start
        self.assertEqual(len(self.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]), 1)

    def test_kill9_keeps_acknowledged_writes(self):
        vid = self.ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        acked, lock, stop = [], threading.Lock(), threading.Event()

        def writer(base):
            ec2 = self.vpcd.client()
            i = 0
            while not stop.is_set() and i < 64:
                try:
                    s = ec2.create_subnet(VpcId=vid, CidrBlock="10.20.%d.0/28" % (base + i))["Subnet"]["SubnetId"]
                except Exception:
                    return
                with lock:
                    acked.append(s)
                i += 1

        threads = [threading.Thread(target=writer, args=(b,)) for b in (0, 64, 128)]
        for t in threads:
            t.start()
        while True:
            with lock:
                if len(acked) >= 40:
                    break
        self.vpcd.kill9()
        stop.set()
        for t in threads:
            t.join()
        self.vpcd.start()
        have = {s["SubnetId"] for s in self.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vid]}])["Subnets"]}
        self.assertGreaterEqual(len(acked), 40)
        self.assertEqual(set(acked) - have, set())


class TestDurabilitySyncNormal(TestDurability):
    """--sync normal keeps the kill -9 guarantee (not the power-loss one)."""
    vpcd_args = ("--sync", "normal")


class TestGeneratedCredentials(VpcdTestCase):
    def test_credentials_file(self):
        with Vpcd(env_keys=False) as v:
            path = os.path.join(v.data_dir, "credentials")
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
            cp = configparser.ConfigParser()
            cp.read(path)
            key, secret = cp["default"]["aws_access_key_id"], cp["default"]["aws_secret_access_key"]
            self.assertRegex(key, r"^AKIA[A-Z2-7]{16}$")
            env = dict(os.environ, AWS_SHARED_CREDENTIALS_FILE=path, AWS_CONFIG_FILE="/dev/null")
            for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
                env.pop(k, None)
            p = subprocess.run(["aws", "--region", "us-east-1", "--endpoint-url", v.endpoint, "ec2", "describe-vpcs",
                                "--output", "json"], capture_output=True, text=True, env=env, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("172.31.0.0/16", p.stdout)
            self.assertNotIn(secret, v.read_log())
            # the same key after a restart
            v.restart()
            cp2 = configparser.ConfigParser()
            cp2.read(path)
            self.assertEqual(cp2["default"]["aws_secret_access_key"], secret)
            self.assertEqual(v.client(key_id=key, secret=secret).describe_vpcs()["Vpcs"][0]["OwnerId"], "123456789012")


class TestPortInUse(VpcdTestCase):
    def test_second_vpcd_on_the_same_port_refuses(self):
        import tempfile
        from vpcdtest import VPCD
        with tempfile.TemporaryDirectory() as d:
            state = os.path.join(d, "state")
            p = subprocess.run([VPCD, "--listen", "127.0.0.1:%d" % self.vpcd.port, "--data-dir", state],
                               capture_output=True, text=True, timeout=20)
            # refused before it touched any state: no data dir, no key, no default VPC
            self.assertFalse(os.path.exists(state))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("cannot listen on 127.0.0.1:%d" % self.vpcd.port, p.stderr)
        self.assertIn("Address already in use", p.stderr)
        self.assertNotIn("default VPC", p.stderr)
        self.assertTrue(self.ec2.describe_vpcs()["Vpcs"])  # the first one still answers alone
        # the same vpcd's own data dir is not touched either
        before = os.path.getmtime(os.path.join(self.vpcd.data_dir, "vpcd.db"))
        p = subprocess.run([VPCD, "--listen", "127.0.0.1:%d" % self.vpcd.port, "--data-dir", self.vpcd.data_dir],
                           capture_output=True, text=True, timeout=20)
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(os.path.getmtime(os.path.join(self.vpcd.data_dir, "vpcd.db")), before)
