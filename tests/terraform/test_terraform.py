"""Terraform (hashicorp/aws provider 5.x, from the image's filesystem
mirror, offline) drives vpcd unchanged. Each configuration under configs/
runs against its own vpcd: `apply`, then `plan -detailed-exitcode` must
show no change (a perpetual diff is a fidelity bug in vpcd), then
`destroy` must leave nothing behind (checked with boto3 against a snapshot
taken before the apply). The configurations run in parallel threads (the
provider mostly waits: its waiters poll every few seconds); each test
method then reports one configuration's result.

The provider is configured as a user pointing it at vpcd would:
skip_credentials_validation, skip_metadata_api_check, endpoints for ec2
and sts (and iam, so that the provider's first account lookup, IAM
GetUser, stays on loopback: vpcd refuses it and the provider asks STS).
The account id comes from STS GetCallerIdentity."""
import concurrent.futures
import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import botocore.exceptions

from vpcdtest import KEY_ID, REGION, SECRET, Vpcd

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = os.path.join(HERE, "configs")
TF_TIMEOUT_S = 900
PARALLEL_CONFIGS = 3
PROVIDER_ADDR = "registry.terraform.io/hashicorp/aws"


def find_provider_mirror():
    """The filesystem mirror holding hashicorp/aws (the directory above
    registry.terraform.io), or None."""
    roots = [os.environ.get("VPCD_TF_PLUGIN_DIR"), "/opt/tf-plugins",
             os.path.expanduser("~/.terraform.d/plugins"), "/usr/local/share/terraform/plugins",
             "/usr/share/terraform/plugins"]
    for root in filter(None, roots):
        if glob.glob(os.path.join(root, PROVIDER_ADDR, "*", "*", "terraform-provider-aws*")):
            return root
    return None


TERRAFORM = shutil.which("terraform")
MIRROR = find_provider_mirror()


def provider_block(endpoint, region, alias=None):
    alias_line = '  alias = "%s"\n' % alias if alias else ""
    return """provider "aws" {
%s  region                      = "%s"
  access_key                  = "%s"
  secret_key                  = "%s"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  endpoints {
    ec2 = "%s"
    sts = "%s"
    iam = "%s"
  }
}
""" % (alias_line, region, KEY_ID, SECRET, endpoint, endpoint, endpoint)


# configuration -> the regions its providers use (aliases named after them)
REGIONS = {"regions": {"east": "us-east-1", "west": "us-west-2"}}

# what must be gone after destroy: kind -> (action, list member, id member, "still there" test)
def _alive_state(key, dead):
    return lambda item: str(item.get(key, "")).lower() not in dead


SNAPSHOT_KINDS = [
    ("describe_vpcs", "Vpcs", "VpcId", None),
    ("describe_subnets", "Subnets", "SubnetId", None),
    ("describe_route_tables", "RouteTables", "RouteTableId", None),
    ("describe_internet_gateways", "InternetGateways", "InternetGatewayId", None),
    ("describe_network_acls", "NetworkAcls", "NetworkAclId", None),
    ("describe_security_groups", "SecurityGroups", "GroupId", None),
    ("describe_security_group_rules", "SecurityGroupRules", "SecurityGroupRuleId", None),
    ("describe_network_interfaces", "NetworkInterfaces", "NetworkInterfaceId", None),
    ("describe_addresses", "Addresses", "AllocationId", None),
    ("describe_customer_gateways", "CustomerGateways", "CustomerGatewayId", _alive_state("State", {"deleted"})),
    ("describe_vpn_gateways", "VpnGateways", "VpnGatewayId", _alive_state("State", {"deleted"})),
    ("describe_vpn_connections", "VpnConnections", "VpnConnectionId", _alive_state("State", {"deleted"})),
    ("describe_nat_gateways", "NatGateways", "NatGatewayId", _alive_state("State", {"deleted"})),
    ("describe_vpc_peering_connections", "VpcPeeringConnections", "VpcPeeringConnectionId",
     lambda i: i.get("Status", {}).get("Code") not in ("deleted", "rejected", "failed", "expired")),
    ("describe_dhcp_options", "DhcpOptions", "DhcpOptionsId", None),
    ("describe_managed_prefix_lists", "PrefixLists", "PrefixListId", lambda i: i.get("OwnerId") != "AWS"),
]


def snapshot(vpcd, regions):
    """{(region, kind): sorted ids} of everything that exists."""
    out = {}
    for region in regions:
        ec2 = vpcd.client(region=region)
        for action, member, key, alive in SNAPSHOT_KINDS:
            try:
                items = getattr(ec2, action)()[member]
            except botocore.exceptions.ClientError as e:
                if e.response["Error"]["Code"] == "InvalidAction":
                    continue	# an action this vpcd does not serve
                raise
            out[(region, action)] = sorted(i[key] for i in items if not alive or alive(i))
        insts = [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
                 if i["State"]["Name"] not in ("terminated", "shutting-down")]
        out[(region, "instances")] = sorted(insts)
    return out


class Run:
    """One configuration's life against its own vpcd."""

    def __init__(self, name):
        self.name = name
        self.steps = []		# (step, rc, seconds, output tail)
        self.outputs = {}
        self.error = None
        self.leftovers = None
        self.vpcd = None
        self.checks_error = None

    def tf(self, *args):
        env = dict(os.environ, TF_CLI_CONFIG_FILE=self.cli_config, TF_IN_AUTOMATION="1",
                   CHECKPOINT_DISABLE="1", TF_INPUT="0", HOME=self.dir)
        env.pop("TF_PLUGIN_CACHE_DIR", None)
        start = time.time()
        p = subprocess.run([TERRAFORM, "-chdir=" + self.dir] + list(args) + ["-no-color"], capture_output=True,
                           text=True, env=env, timeout=TF_TIMEOUT_S)
        self.steps.append((args[0], p.returncode, time.time() - start, (p.stdout + p.stderr)[-6000:]))
        return p

    def run(self, checks):
        self.dir = tempfile.mkdtemp(prefix="vpcd-tf-%s-" % self.name)
        try:
            self.vpcd = Vpcd(data_dir=os.path.join(self.dir, "vpcd"))
            os.makedirs(self.vpcd.data_dir)
            self.vpcd.start()
            self._run(checks)
        except Exception as e:	# reported by the test method
            self.error = "%s: %s" % (type(e).__name__, e)
        finally:
            if self.vpcd:
                try:
                    self.vpcd.stop()
                except AssertionError as e:
                    self.error = self.error or str(e)
            if not os.environ.get("VPCD_TF_KEEP"):	# set it to keep the logs and the state
                shutil.rmtree(self.dir, ignore_errors=True)
        return self

    def _run(self, checks):
        self.cli_config = os.path.join(self.dir, "terraform.rc")
        with open(self.cli_config, "w") as f:
            f.write('provider_installation {\n  filesystem_mirror {\n    path = "%s"\n    include = ["%s"]\n  }\n'
                    '  direct {\n    exclude = ["%s"]\n  }\n}\n' % (MIRROR, PROVIDER_ADDR, PROVIDER_ADDR))
        shutil.copy(os.path.join(CONFIGS, self.name, "main.tf"), self.dir)
        aliases = REGIONS.get(self.name)
        with open(os.path.join(self.dir, "provider.tf"), "w") as f:
            f.write('terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n')
            if aliases:
                for alias, region in aliases.items():
                    f.write(provider_block(self.vpcd.endpoint, region, alias))
            else:
                f.write(provider_block(self.vpcd.endpoint, REGION))
        regions = sorted(set(aliases.values())) if aliases else [REGION]
        before = snapshot(self.vpcd, regions)
        for step in (("init", "-input=false"),
                     ("apply", "-auto-approve", "-input=false", "-parallelism=20"),
                     ("plan", "-detailed-exitcode", "-input=false", "-parallelism=20")):
            if self.tf(*step).returncode != 0:
                break
        else:
            out = self.tf("output", "-json")
            if out.returncode == 0:
                self.outputs = {k: v["value"] for k, v in json.loads(out.stdout).items()}
            if checks:
                try:
                    checks(self.vpcd, self.outputs)
                except AssertionError as e:
                    self.checks_error = str(e)
        destroy = self.tf("destroy", "-auto-approve", "-input=false", "-parallelism=20")
        if destroy.returncode == 0:
            after = snapshot(self.vpcd, regions)
            self.leftovers = {k: sorted(set(after[k]) - set(before.get(k, []))) for k in after
                              if set(after[k]) - set(before.get(k, []))}

    def failure(self):
        """None when apply, a clean plan and destroy all passed."""
        if self.error:
            return self.error + self.log()
        for step, rc, secs, tail in self.steps:
            if rc != 0:
                what = "plan shows changes (a perpetual diff)" if step == "plan" and rc == 2 else "%s failed" % step
                return "%s (rc %d):\n%s" % (what, rc, tail)
        if self.checks_error:
            return "checks after apply: " + self.checks_error
        if self.leftovers:
            return "destroy left behind: %s" % self.leftovers
        if [s[0] for s in self.steps][-1:] != ["destroy"]:
            return "did not run to destroy: %s" % [s[:3] for s in self.steps]
        return None

    def log(self):
        return "\nsteps: %s\n%s" % ([s[:3] for s in self.steps], self.steps[-1][3] if self.steps else "")


# --- what each configuration's result must show, read back with boto3 ---------

def check_network(vpcd, out):
    c = out["checks"]
    ec2 = vpcd.client()
    assert c["vpc_cidr"] == "10.20.0.0/16", c
    assert c["subnet_count"] == 3, c
    assert len(c["tagged_vpcs"]) == 1, c
    assert c["rtb_of_a"] == c["pub_rtb"], c
    assert c["default_vpc"] == "172.31.0.0/16" and c["default_subnet"].startswith("172.31."), c
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    assert c["zones"] == zones, (c["zones"], zones)
    web = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["web"]}])["SecurityGroups"][0]
    https = [p for p in web["IpPermissions"] if p.get("FromPort") == 443][0]
    assert https["Ipv6Ranges"] == [{"CidrIpv6": "2001:db8::/32"}], https
    # the provider revoked the default egress rule and put its own back
    assert [p["IpRanges"] for p in web["IpPermissionsEgress"]] == [[{"CidrIp": "0.0.0.0/0"}]], web


def check_regions(vpcd, out):
    c = out["checks"]
    assert c["east_zone"] == "us-east-1a" and c["west_zone"] == "us-west-2a", c
    assert ":us-east-1:" in c["east_arn"] and ":us-west-2:" in c["west_arn"], c
    east, west = vpcd.client(region="us-east-1"), vpcd.client(region="us-west-2")
    west_id = c["west_arn"].rsplit("/", 1)[1]
    assert [v["VpcId"] for v in west.describe_vpcs(VpcIds=[west_id])["Vpcs"]] == [west_id]
    try:
        east.describe_vpcs(VpcIds=[west_id])
        raise AssertionError("the us-west-2 VPC is visible from us-east-1")
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "InvalidVpcID.NotFound", e


def check_compute(vpcd, out):
    c = out["checks"]
    assert c["private_ip"] == "10.40.1.10", c
    assert c["public_ip"] == c["eip"], c
    ec2 = vpcd.client()
    inst = ec2.describe_instances()["Reservations"][0]["Instances"][0]
    assert inst["State"]["Name"] == "running", inst["State"]
    assert sorted(n["Attachment"]["DeviceIndex"] for n in inst["NetworkInterfaces"]) == [0, 1], inst


def check_vpn(vpcd, out):
    c = out["checks"]
    assert c["vgw_asn"] == "64512" and c["vgw_vpc"].startswith("vpc-") and c["cgw_ip"] == "198.51.100.7", c
    ec2 = vpcd.client()
    vpns = {v["Tags"][0]["Value"] if v.get("Tags") else "tuned": v
            for v in ec2.describe_vpn_connections()["VpnConnections"] if v["State"] != "deleted"}
    tuned = vpns["tuned"]["Options"]["TunnelOptions"]
    t1 = [t for t in tuned if t["TunnelInsideCidr"] == "169.254.10.0/30"][0]
    assert t1["DpdTimeoutSeconds"] == 40 and t1["Phase1LifetimeSeconds"] == 14400, t1
    assert [v["Value"] for v in t1["Phase1DHGroupNumbers"]] == [2, 14], t1
    # options never set are absent, not filled in with AWS's defaults
    plain = vpns["tf-vpn"]["Options"]["TunnelOptions"]
    for t in plain:
        assert "DpdTimeoutSeconds" not in t and "Phase1EncryptionAlgorithms" not in t, t
    assert vpns["tf-vpn"]["Routes"][0]["DestinationCidrBlock"] == "192.168.10.0/24", vpns["tf-vpn"]["Routes"]


def check_extras(vpcd, out):
    c = out["checks"]
    assert c["pcx_status"] == "active", c
    assert c["nat_public_ip"], c


def check_prefixlist(vpcd, out):
    c = out["checks"]
    assert sorted(e["cidr"] for e in c["entries"]) == ["192.0.2.0/24", "198.51.100.0/24"], c


def check_more(vpcd, out):
    c = out["checks"]
    ec2 = vpcd.client()
    owner = ec2.describe_vpcs()["Vpcs"][0]["OwnerId"]
    assert c["account"] == owner and c["caller_arn"] == "arn:aws:iam::%s:root" % owner, c
    assert c["region"] == "us-east-1" and c["region_count"] == len(ec2.describe_regions()["Regions"]), c
    assert c["zone_id"] == [z["ZoneId"] for z in ec2.describe_availability_zones(ZoneNames=["us-east-1b"])[
        "AvailabilityZones"]][0], c
    assert c["micro_vcpus"] == 2 and c["s3_cidrs"], c
    assert c["eni_groups"] == sorted([c["lb_id"], c["svc_id"]]), c
    assert (c["eni_count"], c["acl_count"], c["rtb_count"], c["sg_count"]) == (1, 1, 2, 3), c
    assert c["pcx_status"] == "active" and c["endpoint_state"] == "available", c
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [c["default_vpc_id"]]}])["Tags"]
    assert [(t["Key"], t["Value"]) for t in tags] == [("owner", "network-team")], tags
    svc = ec2.describe_security_groups(GroupIds=[c["svc_id"]])["SecurityGroups"][0]
    pairs = [g["GroupId"] for p in svc["IpPermissions"] for g in p["UserIdGroupPairs"]]
    assert sorted(pairs) == sorted([c["lb_id"], c["svc_id"]]), svc


CHECKS = {"network": check_network, "more": check_more, "regions": check_regions, "compute": check_compute, "vpn": check_vpn,
          "extras": check_extras, "prefixlist": check_prefixlist}

# configurations that need actions vpcd may not serve yet run only once it
# serves them all (their test is then skipped, saying which are missing)
REQUIRES = {
    "extras": ("CreateNatGateway", "CreateVpcPeeringConnection", "AcceptVpcPeeringConnection",
               "CreateDhcpOptions", "AssociateDhcpOptions", "AssociateVpcCidrBlock"),
    "prefixlist": ("CreateManagedPrefixList", "GetManagedPrefixListEntries", "ModifyManagedPrefixList"),
    "more": ("CreateEgressOnlyInternetGateway", "CreateVpcEndpoint", "CreateSubnetCidrReservation",
             "DescribePrefixLists", "DescribeInstanceTypes", "ModifyVpcPeeringConnectionOptions"),
}


def served(action):
    """Whether this build's vpcd serves action (its handler table)."""
    path = os.path.join(HERE, "..", "..", "src", "api", "handlers.h")
    with open(path) as f:
        return "X(%s)" % action in f.read()


@unittest.skipUnless(TERRAFORM and MIRROR, "terraform or the hashicorp/aws filesystem mirror is missing")
class TestTerraform(unittest.TestCase):
    results = {}
    missing = {}

    @classmethod
    def setUpClass(cls):
        names = sorted(os.listdir(CONFIGS))
        only = os.environ.get("VPCD_TF_ONLY")
        if only:
            names = [n for n in names if n in only.split(",")]
        cls.missing = {n: [a for a in REQUIRES.get(n, ()) if not served(a)] for n in names}
        names = [n for n in names if not cls.missing[n]]
        with concurrent.futures.ThreadPoolExecutor(PARALLEL_CONFIGS) as pool:
            futures = {n: pool.submit(Run(n).run, CHECKS.get(n)) for n in names}
            cls.results = {n: f.result() for n, f in futures.items()}

    def result(self, name):
        if self.missing.get(name):
            self.skipTest("vpcd does not serve %s yet" % ", ".join(self.missing[name]))
        if name not in self.results:
            self.skipTest("configuration %s not run" % name)
        r = self.results[name]
        print("\n%s: %s" % (name, ", ".join("%s %.0fs" % (s[0], s[2]) for s in r.steps)))
        return r

    def check(self, name):
        r = self.result(name)
        self.assertIsNone(r.failure(), "configuration %s" % name)

    def test_network(self):
        self.check("network")

    def test_compute(self):
        self.check("compute")

    def test_vpn(self):
        self.check("vpn")

    def test_regions(self):
        self.check("regions")

    def test_extras(self):
        self.check("extras")

    def test_prefixlist(self):
        self.check("prefixlist")

    def test_more(self):
        self.check("more")
