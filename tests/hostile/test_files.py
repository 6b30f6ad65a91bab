"""vpcd's files and environment as an attacker on the same host sees them.

  - the data dir is 0700 and every file in it 0600 after a start: the
    database with its -wal and -shm, the generated credentials; also when
    a previous run (or an older vpcd) left the directory 0755 and the files
    0644, and a symbolic link planted in it is neither followed nor changed;
  - the credentials are written through an unguessable temporary (no
    credentials.tmp left, a planted credentials.tmp symlink not written to);
  - VPCD_SECRET_ACCESS_KEY is gone from vpcd's own /proc/PID/environ (the
    bytes overwritten) and from every vpcd process's;
  - as root with --dataplane, the `ip` programs vpcd runs for an instance
    get an environment without the secret (seen in strace's execve lines).
"""
import os
import shutil
import stat
import subprocess
import tempfile
import time
import unittest

import vpcdtest
from vpcdtest import Vpcd


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def vpcd_pids(pid):
    """pid and its descendants (a privilege-separated vpcd has two)."""
    out = [pid]
    for p in out:
        try:
            with open("/proc/%d/task/%d/children" % (p, p)) as f:
                out += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


class FileModesTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vpcd-files-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.data = os.path.join(self.dir, "var")

    def assertPrivate(self, expect_files):
        self.assertEqual(mode(self.data), 0o700, "data dir")
        names = os.listdir(self.data)
        for name in expect_files:
            self.assertIn(name, names)
        for name in names:
            path = os.path.join(self.data, name)
            if os.path.islink(path) or name == "vpcd.log":
                continue   # the planted link; the test's own log
            self.assertEqual(mode(path), 0o600, "%s is %o" % (name, mode(path)))

    def test_fresh_and_fixed_modes(self):
        os.makedirs(self.data)
        os.chmod(self.data, 0o755)
        v = Vpcd(env_keys=False, data_dir=self.data)
        v.start()
        try:
            v.client(*self.key()).create_vpc(CidrBlock="10.1.0.0/16")
            self.assertPrivate(["vpcd.db", "vpcd.db-wal", "vpcd.db-shm", "credentials"])
            self.assertFalse([n for n in os.listdir(self.data) if n.startswith("credentials.")],
                             "a temporary of the credentials is left")
        finally:
            v.stop()
        # as a careless earlier run would leave them, plus a link to a file outside
        outside = os.path.join(self.dir, "outside")
        with open(outside, "w") as f:
            f.write("not vpcd's")
        os.chmod(outside, 0o644)
        os.symlink(outside, os.path.join(self.data, "planted"))
        os.chmod(self.data, 0o755)
        for name in os.listdir(self.data):
            if not os.path.islink(os.path.join(self.data, name)):
                os.chmod(os.path.join(self.data, name), 0o644)
        with open(os.path.join(self.data, "vpcd.db-shm"), "ab"):
            pass
        v.start()
        try:
            self.assertEqual(len(v.client(*self.key()).describe_vpcs()["Vpcs"]), 2)   # default + ours
            self.assertPrivate(["vpcd.db", "vpcd.db-wal", "vpcd.db-shm", "credentials"])
            self.assertEqual(mode(outside), 0o644, "vpcd followed a link out of its data dir")
            self.assertIn("was mode 0644; now 0600", v.read_log())
        finally:
            v.stop()

    def test_credentials_not_written_through_a_planted_link(self):
        os.makedirs(self.data, mode=0o700)
        victim = os.path.join(self.dir, "victim")
        with open(victim, "w") as f:
            f.write("untouched")
        for name in ("credentials.tmp",):
            os.symlink(victim, os.path.join(self.data, name))
        with Vpcd(env_keys=False, data_dir=self.data) as v:
            v.client(*self.key()).describe_vpcs()
        with open(victim) as f:
            self.assertEqual(f.read(), "untouched")
        self.assertEqual(mode(os.path.join(self.data, "credentials")), 0o600)

    def key(self):
        kid = secret = None
        with open(os.path.join(self.data, "credentials")) as f:
            for line in f:
                k, _, val = line.partition("=")
                if k.strip() == "aws_access_key_id":
                    kid = val.strip()
                elif k.strip() == "aws_secret_access_key":
                    secret = val.strip()
        return kid, secret


class EnvironmentTest(unittest.TestCase):
    def test_secret_gone_from_own_environ(self):
        with Vpcd() as v:
            v.client().describe_vpcs()   # it serves with the key it took
            pids = vpcd_pids(v.proc.pid)
            for pid in pids:
                with open("/proc/%d/environ" % pid, "rb") as f:
                    env = f.read()
                self.assertNotIn(vpcdtest.SECRET.encode(), env, "pid %d" % pid)
                self.assertIn(b"VPCD_ACCESS_KEY_ID=", env)   # the rest is untouched

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("strace"), "needs root (--dataplane) and strace")
    def test_children_get_no_secret(self):
        trace = tempfile.NamedTemporaryFile(prefix="vpcd-strace-", delete=False)
        trace.close()
        self.addCleanup(os.unlink, trace.name)
        v = Vpcd(["--dataplane"])
        v.start()
        # every execve of every vpcd process with its environment (-v)
        pids = vpcd_pids(v.proc.pid)
        cmd = ["strace", "-f", "-qq", "-v", "-s", "512", "-e", "trace=execve", "-e", "signal=none",
               "-o", trace.name]
        for pid in pids:
            cmd += ["-p", str(pid)]
        tracer = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)

        def traced():
            with open("/proc/%d/status" % pids[-1]) as f:
                return any(l.startswith("TracerPid:") and l.split()[1] != "0" for l in f)
        deadline = time.time() + 10
        while time.time() < deadline and not traced():
            time.sleep(0.05)
        iid = None
        try:
            ec2 = v.client()
            vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
            sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.77.1.0/24")["Subnet"]["SubnetId"]
            iid = ec2.run_instances(ImageId=vpcdtest.IMAGE, MinCount=1, MaxCount=1,
                                    SubnetId=sub)["Instances"][0]["InstanceId"]
            deadline = time.time() + 15
            while time.time() < deadline and not os.path.exists("/run/netns/" + iid):
                time.sleep(0.1)
            self.assertTrue(os.path.exists("/run/netns/" + iid), v.read_log()[-2000:])
            time.sleep(0.5)
        finally:
            tracer.terminate()
            tracer.wait(10)
            v.stop()
            shutil.rmtree(v.data_dir, True)
            if iid and os.path.exists("/run/netns/" + iid):
                subprocess.run(["ip", "netns", "delete", iid], check=False)
            if iid:
                shutil.rmtree("/etc/netns/" + iid, True)     # its resolv.conf, if vpcd left it
        with open(trace.name) as f:
            lines = [l for l in f if "execve(" in l]
        ip_runs = [l for l in lines if l.split(",")[0].endswith('/ip"')]
        self.assertTrue(ip_runs, "vpcd ran no ip; strace saw:\n" + "".join(lines[:20]))
        for l in ip_runs:
            self.assertNotIn(vpcdtest.SECRET, l)
            self.assertNotIn("VPCD_", l)
            self.assertIn("PATH=", l)
