"""Test support: a vpcd started for a test, and real clients for it.

    with Vpcd() as v:                      # free port, temporary data dir
        ec2 = v.client()                   # boto3 EC2 client, SigV4-signed
        out = v.cli("describe-vpcs")       # the aws CLI, JSON decoded
        v.restart() / v.kill9()

VPCD_BUILD (set by tests/run.py) names the build directory."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import boto3
import botocore.config

BUILD = os.environ.get("VPCD_BUILD", os.path.join(os.path.dirname(__file__), "..", "build"))
VPCD = os.path.join(BUILD, "vpcd")
VPCCTL = os.path.join(BUILD, "vpcctl")
REGION = "us-east-1"
KEY_ID = "AKIAVPCDTEST00000001"
SECRET = "vpcd/test/secret/key/0123456789abcdefghij"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Vpcd:
    def __init__(self, extra_args=(), env_keys=True, data_dir=None):
        self.extra_args = list(extra_args)
        self.env_keys = env_keys
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="vpcd-test-")
        self.port = free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.proc = None
        self.log_path = os.path.join(self.data_dir, "vpcd.log")

    def start(self):
        env = dict(os.environ)
        if self.env_keys:
            env["VPCD_ACCESS_KEY_ID"] = KEY_ID
            env["VPCD_SECRET_ACCESS_KEY"] = SECRET
        else:
            env.pop("VPCD_ACCESS_KEY_ID", None)
            env.pop("VPCD_SECRET_ACCESS_KEY", None)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [VPCD, "--listen", "127.0.0.1:%d" % self.port, "--data-dir", self.data_dir] + self.extra_args,
            stdout=self.log, stderr=self.log, env=env)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("vpcd exited with %s; log:\n%s" % (self.proc.returncode, self.read_log()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("vpcd did not start listening; log:\n" + self.read_log())

    def stop(self):
        """SIGTERM; vpcd must exit 0 (under ASan that also means no leak)."""
        if not self.proc:
            return
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = "hung after SIGTERM"
        self.log.close()
        self.proc = None
        if rc != 0:
            raise AssertionError("vpcd did not stop cleanly (%s); log tail:\n%s" % (rc, self.read_log()[-4000:]))

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def client(self, key_id=KEY_ID, secret=SECRET, region=REGION, validate=True):
        """validate=False sends what botocore would refuse, to see vpcd refuse it."""
        return boto3.client("ec2", region_name=region, endpoint_url=self.endpoint,
                            aws_access_key_id=key_id, aws_secret_access_key=secret,
                            config=botocore.config.Config(retries={"max_attempts": 0},
                                                          parameter_validation=validate))

    def cli_env(self):
        env = dict(os.environ)
        env.update({"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
                    "AWS_DEFAULT_REGION": REGION, "AWS_MAX_ATTEMPTS": "1",
                    "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
        return env

    def cli(self, *args, check=True, env=None):
        """Runs `aws ec2 ARGS --output json`; returns decoded JSON (or the
        CompletedProcess when check=False)."""
        cmd = ["aws", "--endpoint-url", self.endpoint, "--output", "json", "ec2"] + list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, env=env or self.cli_env(), timeout=60)
        if not check:
            return p
        if p.returncode != 0:
            raise AssertionError("aws %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
        return json.loads(p.stdout) if p.stdout.strip() else {}


class VpcdTestCase(unittest.TestCase):
    """One vpcd per test class; self.ec2 is a boto3 client for it."""

    vpcd_args = ()

    @classmethod
    def setUpClass(cls):
        cls.vpcd = Vpcd(cls.vpcd_args)
        # Stopped (by its PID, then its data dir removed) also when setUpClass
        # raises after this, in a subclass's part or in the start itself:
        # unittest then skips tearDownClass but runs class cleanups. Once
        # tearDownClass stopped it, this finds nothing left to do.
        cls.addClassCleanup(cls.vpcd.__exit__, None, None, None)
        cls.vpcd.__enter__()
        cls.ec2 = cls.vpcd.client()

    @classmethod
    def tearDownClass(cls):
        cls.vpcd.__exit__(None, None, None)

    def assertError(self, code, fn, *args, **kwargs):
        """Asserts that the call fails with the AWS error code; returns the message."""
        import botocore.exceptions
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(*args, **kwargs)
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], code, err.get("Message"))
        return err["Message"]


IMAGE = "ami-0c0dd0e0a0b0c0d01"


def signed_post(endpoint, body, headers=None, sign=True, service="ec2", region=REGION):
    """POSTs a form body (signed with SigV4 unless sign is False), for what
    boto3 cannot send (malformed requests, vpcd's own actions): (HTTP status,
    the answer's text)."""
    import urllib.error
    import urllib.request
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    h = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    h.update(headers or {})
    req = botocore.awsrequest.AWSRequest(method="POST", url=endpoint + "/", data=body, headers=h)
    if sign:
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(KEY_ID, SECRET), service, region).add_auth(req)
    prepared = req.prepare()
    r = urllib.request.Request(prepared.url, data=body.encode(), headers=dict(prepared.headers), method="POST")
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def two_instance_vpc(cls, octet):
    """Sets on cls a VPC 10.OCTET.0.0/16 with subnets a (.1.0/24) and b
    (.2.0/24), one instance in each (groups sg_a, sg_b), where b allows
    HTTP and SSH from subnet a (cls.sgr_http the HTTP rule) and b's network
    ACL (cls.acl) denies SSH (rule 90) and allows the rest (rule 100); and
    cls.rtb, the main route table; a, b, eni_a, eni_b, ip_b. The fixture of the path analysis and
    trace tests."""
    ec2 = cls.ec2
    cls.vpc = ec2.create_vpc(CidrBlock="10.%d.0.0/16" % octet)["Vpc"]["VpcId"]
    cls.sub_a = ec2.create_subnet(VpcId=cls.vpc, CidrBlock="10.%d.1.0/24" % octet)["Subnet"]["SubnetId"]
    cls.sub_b = ec2.create_subnet(VpcId=cls.vpc, CidrBlock="10.%d.2.0/24" % octet)["Subnet"]["SubnetId"]
    cls.sg_a = ec2.create_security_group(GroupName="a", Description="a", VpcId=cls.vpc)["GroupId"]
    cls.sg_b = ec2.create_security_group(GroupName="b", Description="b", VpcId=cls.vpc)["GroupId"]
    # b: HTTP and SSH from subnet a; no HTTPS
    rules = ec2.authorize_security_group_ingress(GroupId=cls.sg_b, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
         "IpRanges": [{"CidrIp": "10.%d.1.0/24" % octet}]} for port in (80, 22)])["SecurityGroupRules"]
    cls.sgr_http = [r["SecurityGroupRuleId"] for r in rules if r["FromPort"] == 80][0]
    # subnet b's network ACL: rule 90 denies SSH, 100 allows the rest
    cls.acl = ec2.create_network_acl(VpcId=cls.vpc)["NetworkAcl"]["NetworkAclId"]
    for egress in (False, True):
        ec2.create_network_acl_entry(NetworkAclId=cls.acl, RuleNumber=100, Protocol="-1",
                                     RuleAction="allow", Egress=egress, CidrBlock="0.0.0.0/0")
    ec2.create_network_acl_entry(NetworkAclId=cls.acl, RuleNumber=90, Protocol="6",
                                 PortRange={"From": 22, "To": 22}, RuleAction="deny",
                                 Egress=False, CidrBlock="0.0.0.0/0")
    assoc = [a["NetworkAclAssociationId"]
             for n in ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [cls.vpc]}])["NetworkAcls"]
             for a in n["Associations"] if a["SubnetId"] == cls.sub_b][0]
    ec2.replace_network_acl_association(AssociationId=assoc, NetworkAclId=cls.acl)
    cls.rtb = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [cls.vpc]},
                                                 {"Name": "association.main", "Values": ["true"]}]
                                        )["RouteTables"][0]["RouteTableId"]
    a = ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1, SubnetId=cls.sub_a,
                          SecurityGroupIds=[cls.sg_a])["Instances"][0]
    b = ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1, SubnetId=cls.sub_b,
                          SecurityGroupIds=[cls.sg_b])["Instances"][0]
    cls.a, cls.b = a["InstanceId"], b["InstanceId"]
    cls.eni_a = a["NetworkInterfaces"][0]["NetworkInterfaceId"]
    cls.eni_b = b["NetworkInterfaces"][0]["NetworkInterfaceId"]
    cls.ip_b = b["PrivateIpAddress"]
