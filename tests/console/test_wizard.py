"""The console's VPC wizard (runWizard in src/console/www/js/wizard.mjs,
run by node through wizard_cli.mjs with the console's own client and
signer) makes what `vpcctl wizard` makes: for each of the four patterns,
static routes and BGP (public-private with its NAT gateway), the same EC2 calls in the same order with the same
details (ids aside), each resource tagged; on a failure the same step
fails with the same error, the same changes are rolled back newest first
and nothing is left; an identical customer gateway that existed is used
and kept. vpcctl runs in one region and the console's code in another of
the same vpcd, so neither sees the other's resources."""
import json
import os
import re
import subprocess
import unittest

from vpcdtest import KEY_ID, SECRET, VPCCTL, VpcdTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
OUTSIDE = tuple("203.0.113.%d" % i for i in range(1, 17))	# two per VPN connection made here
CLI_REGION, JS_REGION = "us-west-2", "eu-central-1"
ID = re.compile(r"\b(vpc|subnet|rtb|rtbassoc|igw|vgw|cgw|vpn|eipalloc|nat)-[0-9a-f]{8,17}\b")


def normalise(steps):
    """(step, action, id, detail) with each id replaced by its type and order
    of first appearance, and the public address an Elastic IP got (the pool
    is shared by both runs) by ELASTIC-IP."""
    seen = {}
    steps = [s[:3] + ("ELASTIC-IP" if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", s[3] or "") else s[3],)
             if len(s) == 4 and s[1] == "AllocateAddress" else s for s in steps]

    def sub(text):
        def one(m):
            return seen.setdefault(m.group(0), "%s-#%d" % (m.group(1), sum(1 for k in seen if k.startswith(m.group(1) + "-")) + 1))
        return ID.sub(one, text or "")
    return [tuple(sub(x) for x in s) for s in steps]


class TestWizardSameAsVpcctl(VpcdTestCase):
    vpcd_args = ("--vpn-outside-addresses", ",".join(OUTSIDE))

    def vpcctl(self, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        return subprocess.run([VPCCTL, "--endpoint-url", self.vpcd.endpoint, "--region", CLI_REGION, "--output", "json",
                               "wizard"] + list(args), capture_output=True, text=True, env=env, timeout=120)

    def console(self, **inp):
        req = {"endpoint": self.vpcd.endpoint, "accessKeyId": KEY_ID, "secretAccessKey": SECRET, "region": JS_REGION,
               "input": inp}
        p = subprocess.run(["node", os.path.join(HERE, "wizard_cli.mjs")], input=json.dumps(req), capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def compare(self, args, inp):
        cli = self.vpcctl(*args)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        made = json.loads(cli.stdout)
        js = self.console(**inp)
        self.assertTrue(js["ok"], js)
        want = normalise([(s["Step"], s["Action"], s.get("Id"), s.get("Detail")) for s in made["Steps"]])
        got = normalise([(s["what"], s["action"], s.get("id"), s.get("detail")) for s in js["steps"]])
        self.assertEqual(got, want)
        ids = {k: v for k, v in made.items() if k not in ("Name", "Pattern", "Steps")}
        self.assertEqual(sorted(js["ids"]), sorted(ids))
        # everything made is tagged with the name, in the console's region
        ec2 = self.vpcd.client(region=JS_REGION)
        name = inp["name"]
        tagged = {t["ResourceId"] for t in ec2.describe_tags(Filters=[{"Name": "value", "Values": [name]}])["Tags"]}
        for key, rid in js["ids"].items():
            if key != "CustomerGatewayId" or "existed" not in json.dumps(js["steps"]):
                self.assertIn(rid, tagged, key)
        return js

    def test_public(self):
        self.compare(["--pattern", "public", "--name", "w1", "--vpc-cidr", "10.61.0.0/16", "--public-subnet", "10.61.0.0/24"],
                     dict(pattern="public", name="w1", vpcCidr="10.61.0.0/16", tenancy="default", publicSubnet="10.61.0.0/24"))

    def test_public_private(self):
        self.compare(["--pattern", "public-private", "--name", "w2", "--vpc-cidr", "10.62.0.0/16",
                      "--public-subnet", "10.62.0.0/24", "--private-subnet", "10.62.1.0/24"],
                     dict(pattern="public-private", name="w2", vpcCidr="10.62.0.0/16", tenancy="default",
                          publicSubnet="10.62.0.0/24", privateSubnet="10.62.1.0/24"))

    def test_public_private_vpn_static(self):
        self.compare(["--pattern", "public-private-vpn", "--name", "w3", "--vpc-cidr", "10.63.0.0/16",
                      "--public-subnet", "10.63.0.0/24", "--private-subnet", "10.63.1.0/24", "--tenancy", "dedicated",
                      "--customer-gateway-ip", "198.51.100.31", "--static-route", "10.0.0.0/24", "--static-route", "10.0.1.0/24"],
                     dict(pattern="public-private-vpn", name="w3", vpcCidr="10.63.0.0/16", tenancy="dedicated",
                          publicSubnet="10.63.0.0/24", privateSubnet="10.63.1.0/24", cgwIp="198.51.100.31",
                          routes=["10.0.0.0/24", "10.0.1.0/24"]))

    def test_private_vpn_bgp(self):
        js = self.compare(["--pattern", "private-vpn", "--name", "w4", "--vpc-cidr", "10.64.0.0/16",
                           "--private-subnet", "10.64.1.0/24", "--customer-gateway-ip", "198.51.100.32", "--bgp-asn", "65010"],
                          dict(pattern="private-vpn", name="w4", vpcCidr="10.64.0.0/16", tenancy="default",
                               privateSubnet="10.64.1.0/24", cgwIp="198.51.100.32", bgpAsn="65010", routes=[]))
        vpn = self.vpcd.client(region=JS_REGION).describe_vpn_connections(
            VpnConnectionIds=[js["ids"]["VpnConnectionId"]])["VpnConnections"][0]
        self.assertFalse(vpn["Options"]["StaticRoutesOnly"])

    def test_existing_customer_gateway_kept(self):
        for region in (CLI_REGION, JS_REGION):
            self.vpcd.client(region=region).create_customer_gateway(Type="ipsec.1", PublicIp="198.51.100.33", BgpAsn=65000)
        js = self.compare(["--pattern", "private-vpn", "--name", "w5", "--vpc-cidr", "10.65.0.0/16",
                           "--private-subnet", "10.65.1.0/24", "--customer-gateway-ip", "198.51.100.33"],
                          dict(pattern="private-vpn", name="w5", vpcCidr="10.65.0.0/16", tenancy="default",
                               privateSubnet="10.65.1.0/24", cgwIp="198.51.100.33", routes=[]))
        self.assertIn("existed already: used, not tagged", json.dumps(js["steps"]))

    def test_rollback(self):
        ec2 = self.vpcd.client(region=JS_REGION)
        before = sorted(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"])
        cli = self.vpcctl("--pattern", "private-vpn", "--name", "w6", "--vpc-cidr", "10.66.0.0/16",
                          "--private-subnet", "10.66.1.0/24", "--customer-gateway-ip", "203.0.113.300")
        self.assertEqual(cli.returncode, 1, cli.stderr)
        js = self.console(pattern="private-vpn", name="w6", vpcCidr="10.66.0.0/16", tenancy="default",
                          privateSubnet="10.66.1.0/24", cgwIp="203.0.113.300", routes=[])
        self.assertFalse(js["ok"])
        code = cli.stderr.splitlines()[0].split(":")[0]
        self.assertEqual(js["error"]["code"], code)
        failed = re.search(r"step \d+ \((.*)\) failed", cli.stderr).group(1)
        self.assertEqual(js["failed"], failed)
        undone = [l.strip()[len("rolled back: "):] for l in cli.stderr.splitlines() if l.strip().startswith("rolled back: ")]
        self.assertEqual(normalise([(r["what"],) for r in js["rolledBack"]]), normalise([(u,) for u in undone]))
        self.assertEqual([r["error"] for r in js["rolledBack"]], [None] * len(undone))
        self.assertEqual(len(undone), 5)
        self.assertEqual(sorted(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]), before)
        self.assertEqual([g for g in ec2.describe_vpn_gateways()["VpnGateways"] if g["State"] != "deleted"
                          and any(t["Value"] == "w6" for t in g.get("Tags", []))], [])


if __name__ == "__main__":
    unittest.main()
