"""Least privilege (priv.h): as root, vpcd's network-facing process (the
PID started: HTTP, SigV4, the handlers, IKE, ESP, the virtual router) runs
as an unprivileged user with no capabilities and no_new_privs; a helper
child keeps root for namespaces, TAP/TUN devices, routes and the IKE/ESP
sockets, and nothing else.

  - API only: the one vpcd process is nobody (or vpcd), CapEff/CapPrm/
    CapBnd empty, NoNewPrivs 1, a seccomp filter, no helper; its data
    dir is the user's;
  - --dataplane --vpn-outside-addresses in a namespace of the test's own:
    the same for the started PID, plus a helper (uid 0, vpcd-priv) that
    holds no socket: UDP 500, UDP 4500 (a VPN connection's tunnels) and
    the API's TCP port are the network-facing process's; an instance's
    namespace is made (by the helper) and its TAP is held by the
    network-facing process; SIGTERM stops both, deleting the namespace;
  - SIGKILL of the network-facing process takes the helper with it.
Root only. The interop suite (tests/interop) is the end-to-end check that
tunnels and the data plane work through the helper."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import boto3
import botocore.config

import vpcdtest
from vpcdtest import Vpcd


def status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def alive(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            return not any(l.startswith("State:") and "Z" in l.split()[1] for l in f)
    except OSError:
        return False


@unittest.skipUnless(os.geteuid() == 0, "needs root: the point is what vpcd gives up")
class PrivilegeTest(unittest.TestCase):
    def assertUnprivileged(self, pid):
        st = status(pid)
        uids = st["Uid"].split()
        self.assertTrue(all(u != "0" for u in uids), st["Uid"])
        for cap in ("CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb"):
            self.assertEqual(int(st[cap], 16), 0, "%s %s" % (cap, st[cap]))
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2", "no seccomp filter")
        return int(uids[0])

    def test_api_only_drops_everything(self):
        with Vpcd() as v:
            v.client().describe_vpcs()
            uid = self.assertUnprivileged(v.proc.pid)
            self.assertEqual(children(v.proc.pid), [], "a helper though nothing needs root")
            self.assertEqual(os.stat(v.data_dir).st_uid, uid)
            for name in os.listdir(v.data_dir):
                if name != "vpcd.log":
                    self.assertEqual(os.lstat(os.path.join(v.data_dir, name)).st_uid, uid, name)
            self.assertIn("no capabilities, no_new_privs, seccomp (nothing needs root)", v.read_log())


@unittest.skipUnless(os.geteuid() == 0, "needs root: namespaces, vpcd's data plane and tunnels")
class SeparatedTest(unittest.TestCase):
    OUTSIDE = ("203.0.113.1", "203.0.113.2")

    def setUp(self):
        from interop.netns import Namespaces, netns_executor, wait_listening
        self.dir = tempfile.mkdtemp(prefix="vpcd-priv-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.ns = Namespaces("vpcdpriv", ("vpcd",))
        self.addCleanup(self.ns.remove)
        self.ns.make()
        for a in self.OUTSIDE:
            self.ns.ip("vpcd", "addr", "add", a + "/32", "dev", "lo")
        self.pool = netns_executor(self.ns["vpcd"])
        self.addCleanup(self.pool.shutdown)
        self.log_path = os.path.join(self.dir, "vpcd.log")
        env = dict(os.environ, VPCD_ACCESS_KEY_ID=vpcdtest.KEY_ID, VPCD_SECRET_ACCESS_KEY=vpcdtest.SECRET)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                ["nsenter", "--net=/run/netns/" + self.ns["vpcd"], vpcdtest.VPCD, "--listen", "127.0.0.1:8775",
                 "--data-dir", os.path.join(self.dir, "var"), "--dataplane",
                 "--vpn-outside-addresses", ",".join(self.OUTSIDE)], stdout=log, stderr=log, env=env)
        self.addCleanup(self.kill)
        self.instances = []
        self.addCleanup(self.remove_instances)
        wait_listening(self.pool, 8775, self.proc, 15, self.log)
        self.ec2 = self.pool.submit(
            boto3.client, "ec2", region_name=vpcdtest.REGION, endpoint_url="http://127.0.0.1:8775",
            aws_access_key_id=vpcdtest.KEY_ID, aws_secret_access_key=vpcdtest.SECRET,
            config=botocore.config.Config(retries={"max_attempts": 0})).result()

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def remove_instances(self):
        for iid in self.instances:
            if os.path.exists("/run/netns/" + iid):
                subprocess.run(["ip", "netns", "delete", iid], check=False)

    def call(self, name, **kw):
        return self.pool.submit(getattr(self.ec2, name), **kw).result()

    def wait(self, pred, timeout, what):
        end = time.time() + timeout
        while time.time() < end:
            if pred():
                return
            time.sleep(0.1)
        self.fail("%s; vpcd log:\n%s" % (what, self.log()[-3000:]))

    def socket_owners(self):
        """{'udp 203.0.113.1:500': {pids}, ...} of the namespace's listeners."""
        out = subprocess.run(["ip", "netns", "exec", self.ns["vpcd"], "ss", "-H", "-lnptu"],
                             capture_output=True, text=True, check=True).stdout
        owners = {}
        for line in out.splitlines():
            f = line.split()
            pids = {int(p) for p in re.findall(r"pid=(\d+)", line)}
            owners["%s %s" % (f[0], f[4])] = pids
        return owners

    def test_network_side_unprivileged_helper_narrow(self):
        pid = self.proc.pid
        PrivilegeTest.assertUnprivileged(self, pid)
        helpers = children(pid)
        self.assertEqual(len(helpers), 1, helpers)
        helper = helpers[0]
        hs = status(helper)
        self.assertEqual(hs["Name"], "vpcd-priv")
        self.assertEqual(hs["Uid"].split()[0], "0")
        self.assertIn("helper %d keeps root" % helper, self.log())

        # a VPN connection: its two tunnels' sockets, opened by the helper, held by vpcd
        cgw = self.call("create_customer_gateway", BgpAsn=65000, PublicIp="198.51.100.2",
                        Type="ipsec.1")["CustomerGateway"]["CustomerGatewayId"]
        vgw = self.call("create_vpn_gateway", Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
        self.call("create_vpn_connection", CustomerGatewayId=cgw, VpnGatewayId=vgw, Type="ipsec.1",
                  Options={"StaticRoutesOnly": True})
        want = ["udp %s:%d" % (a, p) for a in self.OUTSIDE for p in (500, 4500)]
        self.wait(lambda: all(w in self.socket_owners() for w in want), 15, "UDP 500/4500 not listening")
        owners = self.socket_owners()
        for w in want + ["tcp 127.0.0.1:8775"]:
            self.assertEqual(owners[w], {pid}, "%s held by %s (vpcd %d, helper %d)" % (w, owners[w], pid, helper))
        # UDP GRO set by vpcd itself (nobody, under seccomp) on the helper's sockets
        self.wait(lambda: "UDP 4500 (GRO)" in self.log(), 5, "no UDP GRO on 4500")
        self.assertNotIn("UDP GRO refused", self.log())

        # an instance: its namespace made by the helper, its TAP held by vpcd
        vpc = self.call("create_vpc", CidrBlock="10.78.0.0/16")["Vpc"]["VpcId"]
        sub = self.call("create_subnet", VpcId=vpc, CidrBlock="10.78.1.0/24")["Subnet"]["SubnetId"]
        iid = self.call("run_instances", ImageId=vpcdtest.IMAGE, MinCount=1, MaxCount=1,
                        SubnetId=sub)["Instances"][0]["InstanceId"]
        self.instances.append(iid)
        self.wait(lambda: os.path.exists("/run/netns/" + iid), 15, "no namespace for " + iid)

        def taps(p):
            n = 0
            for fd in os.listdir("/proc/%d/fd" % p):
                try:
                    n += os.readlink("/proc/%d/fd/%s" % (p, fd)) == "/dev/net/tun"
                except OSError:
                    pass
            return n
        self.wait(lambda: taps(pid) >= 1, 10, "vpcd holds no TAP")
        self.assertEqual(taps(helper), 0, "the helper kept a TAP")
        self.assertRegex(self.log(), r"priv|net: eni-")

        # SIGTERM: vpcd stops cleanly, the helper deleting the namespace on its behalf
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(30), 0, self.log()[-3000:])
        self.wait(lambda: not alive(helper), 5, "the helper outlived vpcd")
        self.assertFalse(os.path.exists("/run/netns/" + iid), "namespace left after a clean stop")
        self.assertRegex(self.log(), r"helper done: \d+ requests served, 0 refused")

    def test_helper_dies_with_vpcd(self):
        helpers = children(self.proc.pid)
        self.assertEqual(len(helpers), 1)
        self.proc.kill()
        self.proc.wait()
        self.wait(lambda: not alive(helpers[0]), 5, "the helper outlived a killed vpcd")
