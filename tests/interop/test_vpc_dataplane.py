"""vpcd --dataplane between instances (vpcd itself, not net-harness): three
instances, each a namespace vpcd made, in a VPC 10.96.0.0/16 whose subnets
are A 10.96.0.0/24 (a: group client, c: group other) and B 10.96.1.0/24
(b: group server, TCP 8000 and ICMP from members of client only).

  - instance to instance across subnets: a pings b and opens a TCP
    connection to it, through vpcd's router;
  - security groups referencing security groups: c (not a member of client)
    reaches b neither by ping nor TCP;
  - connection tracking of replies: client has no ingress rule, yet b's
    replies reach a; a new ping b -> a is refused;
  - NACL ephemeral-port rules: B gets a NACL allowing TCP 8000 in from A and
    TCP 1024-65535 out to A: a -> b:8000 works; the outbound rule narrowed to
    port 8000 drops the replies (stateless) and the connection fails; the
    ephemeral range back: it works again.
  - secondary ENIs (test_secondary_eni): an ENI of subnet B attached to an
    instance of A (AttachNetworkInterface, DeviceIndex 1), and one given at
    RunInstances (NetworkInterface.2, DeviceIndex 1), are eth1 in the
    instance's namespace with the ENI's MAC and address; each reaches an
    instance of B through eth1 (ping -I eth1); after
    DetachNetworkInterface eth1 is gone and eth0 still works.
  - dropped packets counted per cause: `vpcctl dataplane --output json`
    (VpcdDescribeDataPlane through the API) shows sg-ingress grown after the security-group cases,
    nacl-in after the ping the NACL has no rule for, nacl-out after the
    narrowed outbound rule (vpcd writes them at most every 5 s).

Needs root; skipped otherwise. Namespaces have per-run unique names (the
instances' are vpcd's, named after their ids) and are always deleted."""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

import boto3
import botocore.config

import vpcdtest
from interop import netns
from interop import test_vpn_story as vs
from interop.netns import Namespaces, netns_executor, run, stop_process, wait_for
from interop.test_seed_story import SERVER, CLIENT

API_PORT = 8775
API = "http://127.0.0.1:%d" % API_PORT
PORT = 8000


@unittest.skipUnless(os.geteuid() == 0, "needs root: creates network namespaces, runs vpcd's data plane")
class VpcDataplaneTest(unittest.TestCase):
    vpcd_args = ()   # beyond --dataplane; test_igw adds its uplink

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(vs.VPCD):
            raise unittest.SkipTest("%s is missing (make all)" % vs.VPCD)
        cls.dir = tempfile.mkdtemp(prefix="vpc-dp-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.ns = Namespaces("vpcdp", ("vpcd",))
        cls.addClassCleanup(cls.ns.remove)
        cls.ns.make()
        cls.vpcd_ns = cls.ns["vpcd"]
        cls.pool = netns_executor(cls.vpcd_ns)
        cls.addClassCleanup(cls.pool.shutdown)

    def setUp(self):
        self.data_dir = os.path.join(self.dir, "vpcd-data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.vpcd_log = os.path.join(self.dir, "vpcd.log")
        self.vpcd = None
        self.instances = []
        self.servers = []
        self.addCleanup(self.cleanup_instances)
        self.addCleanup(self.stop_vpcd)
        self.addCleanup(self.stop_servers)

    def start_vpcd(self):
        env = dict(os.environ, VPCD_ACCESS_KEY_ID=vpcdtest.KEY_ID, VPCD_SECRET_ACCESS_KEY=vpcdtest.SECRET)
        with open(self.vpcd_log, "ab") as log:
            # at nice 0 whatever this runs at (nice -n 19 make test): the
            # router's nice value outside shedding is the one it starts with
            self.vpcd = subprocess.Popen(
                ["nice", "-n", str(-os.nice(0)), "nsenter", "--net=/run/netns/" + self.vpcd_ns, vs.VPCD, "--listen", "127.0.0.1:%d" % API_PORT,
                 "--data-dir", self.data_dir, "--dataplane"] + list(self.vpcd_args), stdout=log, stderr=log, env=env)
        netns.wait_listening(self.pool, API_PORT, self.vpcd, 10, lambda: self.log()[-3000:])
        self.ec2 = self.pool.submit(
            boto3.client, "ec2", region_name=vpcdtest.REGION, endpoint_url=API,
            aws_access_key_id=vpcdtest.KEY_ID, aws_secret_access_key=vpcdtest.SECRET,
            config=botocore.config.Config(retries={"max_attempts": 0})).result()

    def stop_vpcd(self):
        p, self.vpcd = self.vpcd, None
        stop_process(p, 20)

    def stop_servers(self):
        for p in self.servers:
            if p.poll() is None:
                p.kill()
                p.wait()

    def cleanup_instances(self):
        for iid in self.instances:
            netns.remove_instance_netns(iid)

    def log(self):
        with open(self.vpcd_log, errors="replace") as f:
            return f.read()

    def call(self, name, **kw):
        return self.pool.submit(getattr(self.ec2, name), **kw).result()

    def launch(self, subnet, sg, image):
        inst = self.call("run_instances", ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet,
                         SecurityGroupIds=[sg])["Instances"][0]
        iid, addr = inst["InstanceId"], inst["PrivateIpAddress"]
        self.instances.append(iid)
        # the address and then the default route are set by separate `ip`
        # runs: wait for both, or a ping between them finds no route
        wait_for(lambda: os.path.exists("/run/netns/" + iid) and
                    addr in run(["ip", "-n", iid, "-4", "addr", "show", "eth0"], check=False).stdout and
                    "default via" in run(["ip", "-n", iid, "-4", "route", "show"], check=False).stdout,
                    10, "%s's eth0 with %s and its default route" % (iid, addr))
        return iid, addr

    def ping(self, ns, dst, expect=True, count=3, iface=None):
        _, got, out = netns.ping(ns, dst, count, iface=iface)
        if expect:
            self.assertGreaterEqual(got, count - 1, "ping %s from %s:\n%s\nvpcd log tail:\n%s" % (
                dst, ns, out, self.log()[-2000:]))
        else:
            self.assertEqual(got, 0, "ping %s from %s still answered:\n%s" % (dst, ns, out))

    def serve(self, ns):
        p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", SERVER, str(PORT)],
                             stdout=subprocess.PIPE, text=True)
        self.servers.append(p)
        self.assertEqual(p.stdout.readline().strip(), "listening")

    def tcp(self, ns, dst, expect=True, timeout=3):
        p = run(["ip", "netns", "exec", ns, sys.executable, "-c", CLIENT, dst, str(PORT), str(timeout)],
                   check=False, timeout=timeout + 15)
        if expect:
            self.assertEqual(p.stdout.strip(), "ok", "TCP %s -> %s:%d" % (ns, dst, PORT))
        else:
            self.assertTrue(p.stdout.startswith("fail"), "TCP %s -> %s:%d still works: %s" % (ns, dst, PORT, p.stdout))

    def dataplane(self, *args):
        # through vpcd's API (VpcdDescribeDataPlane), keys from the environment
        env = dict(os.environ, AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                   AWS_ACCESS_KEY_ID=vpcdtest.KEY_ID, AWS_SECRET_ACCESS_KEY=vpcdtest.SECRET)
        p = subprocess.run(["nsenter", "--net=/run/netns/" + self.vpcd_ns, vs.VPCCTL, "--endpoint-url", API,
                            "--region", vpcdtest.REGION, "dataplane"] + list(args),
                           capture_output=True, text=True, timeout=10, env=env)
        self.assertEqual(p.returncode, 0, "vpcctl dataplane: %s%s" % (p.stdout, p.stderr))
        return p.stdout

    def drops(self):
        dp = json.loads(self.dataplane("--output", "json"))["DataPlane"]
        self.assertEqual(dp["State"], "running", dp)
        return dp["Drops"]

    def wait_drops(self, cause, above):
        wait_for(lambda: self.drops()[cause] > above, 15,
                    "vpcctl dataplane: %s drops above %d" % (cause, above))

    def test_instances_groups_conntrack_nacl(self):
        self.start_vpcd()
        vpc = self.call("create_vpc", CidrBlock="10.96.0.0/16")["Vpc"]["VpcId"]
        sub_a = self.call("create_subnet", VpcId=vpc, CidrBlock="10.96.0.0/24")["Subnet"]["SubnetId"]
        sub_b = self.call("create_subnet", VpcId=vpc, CidrBlock="10.96.1.0/24")["Subnet"]["SubnetId"]

        def group(name):
            return self.call("create_security_group", GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        client, other, server = group("client"), group("other"), group("server")
        self.call("authorize_security_group_ingress", GroupId=server, IpPermissions=[
            {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "UserIdGroupPairs": [{"GroupId": client}]},
            {"IpProtocol": "tcp", "FromPort": PORT, "ToPort": PORT, "UserIdGroupPairs": [{"GroupId": client}]}])
        image = self.call("describe_images", Filters=[{"Name": "name", "Values": ["vpcd-linux"]}]
                          )["Images"][0]["ImageId"]
        a, a_ip = self.launch(sub_a, client, image)
        c, _ = self.launch(sub_a, other, image)
        b, b_ip = self.launch(sub_b, server, image)
        self.serve(b)
        self.serve(a)

        # across subnets, through vpcd
        self.ping(a, b_ip)
        self.tcp(a, b_ip)
        # groups referencing groups: c is not in client
        sg_in = self.drops()["sg-ingress"]
        self.ping(c, b_ip, expect=False, count=2)
        self.tcp(c, b_ip, expect=False, timeout=2)
        # connection tracking: client admits nothing, yet b's replies reached a;
        # b's own new connections to a are refused
        self.ping(b, a_ip, expect=False, count=2)
        self.tcp(b, a_ip, expect=False, timeout=2)
        # each counted as dropped by a security group's ingress
        self.wait_drops("sg-ingress", sg_in)
        self.assertRegex(self.dataplane(), r"drops\s+sg-ingress\s+[1-9]")

        # NACL on B with ephemeral-port rules (stateless: the replies need theirs)
        nacl = self.call("create_network_acl", VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        self.call("create_network_acl_entry", NetworkAclId=nacl, RuleNumber=100, Protocol="6", RuleAction="allow",
                  Egress=False, CidrBlock="10.96.0.0/24", PortRange={"From": PORT, "To": PORT})
        self.call("create_network_acl_entry", NetworkAclId=nacl, RuleNumber=100, Protocol="6", RuleAction="allow",
                  Egress=True, CidrBlock="10.96.0.0/24", PortRange={"From": 1024, "To": 65535})
        assoc = [x for n in self.call("describe_network_acls", Filters=[
            {"Name": "association.subnet-id", "Values": [sub_b]}])["NetworkAcls"]
            for x in n["Associations"] if x["SubnetId"] == sub_b][0]["NetworkAclAssociationId"]
        self.call("replace_network_acl_association", AssociationId=assoc, NetworkAclId=nacl)
        time.sleep(0.3)
        self.tcp(a, b_ip)
        nacl_in = self.drops()["nacl-in"]
        self.ping(a, b_ip, expect=False, count=2)     # ICMP: no NACL rule
        self.wait_drops("nacl-in", nacl_in)
        nacl_out = self.drops()["nacl-out"]
        self.call("replace_network_acl_entry", NetworkAclId=nacl, RuleNumber=100, Protocol="6",
                  RuleAction="allow", Egress=True, CidrBlock="10.96.0.0/24", PortRange={"From": PORT, "To": PORT})
        time.sleep(0.3)
        self.tcp(a, b_ip, expect=False, timeout=2)
        self.wait_drops("nacl-out", nacl_out)         # b's replies, out of B
        self.call("replace_network_acl_entry", NetworkAclId=nacl, RuleNumber=100, Protocol="6",
                  RuleAction="allow", Egress=True, CidrBlock="10.96.0.0/24", PortRange={"From": 1024, "To": 65535})
        time.sleep(0.3)
        self.tcp(a, b_ip)
        self.assertNotIn("ERROR", self.log())

    def eth1(self, ns):
        return run(["ip", "-n", ns, "-4", "-o", "addr", "show", "dev", "eth1"], check=False)

    def test_secondary_eni(self):
        self.data_dir = os.path.join(self.dir, "vpcd-data-eni")
        self.start_vpcd()
        vpc = self.call("create_vpc", CidrBlock="10.97.0.0/16")["Vpc"]["VpcId"]
        sub_a = self.call("create_subnet", VpcId=vpc, CidrBlock="10.97.0.0/24")["Subnet"]["SubnetId"]
        sub_b = self.call("create_subnet", VpcId=vpc, CidrBlock="10.97.1.0/24")["Subnet"]["SubnetId"]
        sg = self.call("create_security_group", GroupName="eni", Description="eni", VpcId=vpc)["GroupId"]
        self.call("authorize_security_group_ingress", GroupId=sg, IpPermissions=[
            {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "10.97.0.0/16"}]}])
        image = self.call("describe_images", Filters=[{"Name": "name", "Values": ["vpcd-linux"]}]
                          )["Images"][0]["ImageId"]
        a, _ = self.launch(sub_a, sg, image)
        b, b_ip = self.launch(sub_b, sg, image)
        self.ping(a, b_ip)

        # AttachNetworkInterface to a running instance: eth1
        eni = self.call("create_network_interface", SubnetId=sub_b, Groups=[sg])["NetworkInterface"]
        att = self.call("attach_network_interface", NetworkInterfaceId=eni["NetworkInterfaceId"], InstanceId=a,
                        DeviceIndex=1)["AttachmentId"]
        wait_for(lambda: eni["PrivateIpAddress"] + "/24" in self.eth1(a).stdout, 10,
                    "%s's eth1 with %s" % (a, eni["PrivateIpAddress"]))
        link = run(["ip", "-n", a, "link", "show", "dev", "eth1"]).stdout
        self.assertIn(eni["MacAddress"].lower(), link.lower())
        # the route follows the address (another ip command): wait for it too
        wait_for(lambda: "10.97.1.0/24 via 10.97.1.1" in run(["ip", "-n", a, "-4", "route", "show", "dev",
                                                               "eth1"]).stdout, 10, "%s's route via eth1" % a)
        routes = run(["ip", "-n", a, "-4", "route", "show", "dev", "eth1"]).stdout
        self.assertNotIn("default", routes)
        self.ping(a, b_ip, iface="eth1")

        # DetachNetworkInterface: eth1 goes, eth0 stays
        self.call("detach_network_interface", AttachmentId=att)
        wait_for(lambda: self.eth1(a).returncode != 0, 10, "%s's eth1 gone" % a)
        self.ping(a, b_ip)

        # RunInstances with a second network interface (DeviceIndex 1)
        inst = self.call("run_instances", ImageId=image, MinCount=1, MaxCount=1, NetworkInterfaces=[
            {"DeviceIndex": 0, "SubnetId": sub_a, "Groups": [sg]},
            {"DeviceIndex": 1, "SubnetId": sub_b, "Groups": [sg]}])["Instances"][0]
        c = inst["InstanceId"]
        self.instances.append(c)
        c_b = [n["PrivateIpAddress"] for n in inst["NetworkInterfaces"] if n["Attachment"]["DeviceIndex"] == 1][0]
        wait_for(lambda: os.path.exists("/run/netns/" + c) and c_b + "/24" in self.eth1(c).stdout, 10,
                    "%s's eth1 with %s" % (c, c_b))
        self.ping(c, b_ip, iface="eth1")
        self.ping(b, c_b)
        self.assertNotIn("ERROR", self.log())

    def forwarded(self):
        dp = json.loads(self.dataplane("--output", "json"))["DataPlane"]
        self.assertEqual(dp["State"], "running", dp)
        return dp["Forwarded"]

    def two_instances(self, data_dir, port, protos):
        """vpcd started on a data dir of its own; a VPC, a subnet, a group
        letting protos in on port from the VPC, two instances in it:
        (first's id, second's id, second's address)."""
        self.data_dir = os.path.join(self.dir, data_dir)
        self.start_vpcd()
        vpc = self.call("create_vpc", CidrBlock="10.98.0.0/16")["Vpc"]["VpcId"]
        sub = self.call("create_subnet", VpcId=vpc, CidrBlock="10.98.0.0/24")["Subnet"]["SubnetId"]
        sg = self.call("create_security_group", GroupName="g%d" % port, Description="two instances",
                       VpcId=vpc)["GroupId"]
        self.call("authorize_security_group_ingress", GroupId=sg, IpPermissions=[
            {"IpProtocol": p, "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "10.98.0.0/16"}]}
            for p in protos])
        image = self.call("describe_images", Filters=[{"Name": "name", "Values": ["vpcd-linux"]}]
                          )["Images"][0]["ImageId"]
        a, _ = self.launch(sub, sg, image)
        b, b_ip = self.launch(sub, sg, image)
        return a, b, b_ip

    def test_udp_trains_counted(self):
        """Bursts of one UDP flow between two instances leave vpcd's router
        as UDP trains (one GSO frame per run of datagrams), every datagram
        arrives whole and in order, and VpcdDescribeDataPlane (vpcctl
        dataplane) counts the trains and the datagrams in them: if the
        trains silently stopped inside vpcd, or their counters stopped
        reaching the API, this fails. Before Linux 6.2 (TAPs refuse UDP GSO
        frames) it asserts that no train is written."""
        from interop.test_dataplane import UDP_SINK, UDP_SOURCE
        a, b, b_ip = self.two_instances("vpcd-data-trains", 9100, ("udp",))
        sink = subprocess.Popen(["ip", "netns", "exec", b, sys.executable, "-c", UDP_SINK, "9100"],
                                stdout=subprocess.PIPE, text=True)
        self.servers.append(sink)
        self.assertEqual(sink.stdout.readline().strip(), "listening")
        bursts = 200
        run(["ip", "netns", "exec", a, sys.executable, "-c", UDP_SOURCE, b_ip, "9100", str(bursts)],
            timeout=60)
        got, bad, disorder = (int(x) for x in sink.stdout.readline().split())
        self.assertEqual((got, bad, disorder), (bursts * 50, 0, 0), "every datagram, whole and in order")
        major, minor = (int(x) for x in re.match(r"(\d+)\.(\d+)", os.uname().release).groups())
        if (major, minor) < (6, 2):
            wait_for(lambda: self.forwarded()["TxFrames"] >= bursts * 50, 15, "the datagrams counted")
            self.assertEqual(self.forwarded()["UdpTrains"], 0)
            return
        # vpcd writes its counters at most every 5 s
        wait_for(lambda: self.forwarded()["UdpTrains"] > 0, 15,
                 "vpcctl dataplane: UdpTrains above 0 after %d bursts" % bursts)
        fw = self.forwarded()
        self.assertGreater(fw["UdpTrainFrames"], 2 * fw["UdpTrains"], fw)
        self.assertLessEqual(fw["UdpTrainFrames"], bursts * 50 + 1, fw)
        self.assertGreater(fw["TapBatches"], 0, fw)
        self.assertIn("TcpTrains", fw)
        self.assertIn("TcpTrainSegments", fw)
        self.assertNotIn("ERROR", self.log())

    def shedding(self):
        dp = json.loads(self.dataplane("--output", "json"))["DataPlane"]
        self.assertEqual(dp["State"], "running", dp)
        return dp["Shedding"]

    def test_overload_sheds(self):
        """vpcd's router, running as vpcd's unprivileged user, sheds a
        flood of small datagrams it cannot keep up with: its thread
        (vpcd-router) goes to nice 10 (--router-shed-nice's default) while
        the flood lasts and takes nice 0 back after it (which an
        unprivileged thread may not: the privileged helper does it, asked
        by vpcd-nicer; without it the router would stay at 10, or never
        shed), and vpcctl dataplane (VpcdDescribeDataPlane) shows the
        spell."""
        from interop.test_dataplane import flood, router_thread
        a, b, b_ip = self.two_instances("vpcd-data-shed", 9101, ("tcp", "udp"))
        self.assertEqual(self.shedding()["Nice"], 10, self.log()[-3000:])
        nice = lambda: router_thread(self.vpcd.pid)[1]
        self.assertEqual(nice(), 0)
        seen = flood(self, self.vpcd.pid, a, b, b_ip, 9101, 3, self.servers)
        self.assertIn(10, seen, "vpcd-router's nice values during the flood: %s" % sorted(seen))
        wait_for(lambda: nice() == 0, 10, "vpcd-router back at nice 0 after the flood")
        # vpcd writes its counters at most every 5 s
        wait_for(lambda: self.shedding()["Spells"] >= 1 and self.shedding()["Active"] == 0, 15,
                 "vpcctl dataplane: a shedding spell, ended")
        self.assertGreater(self.shedding()["Milliseconds"], 0)
        # (Withdrawn may count spells here: on a machine busy with other
        # work the router starves at nice 10, and withdrawing is right)
        self.assertIn("Withdrawn", self.shedding())
        self.assertNotIn("ERROR", self.log())
        self.assertNotIn("no overload shedding", self.log())

    def test_feed_from_another_writer(self):
        """The engine runs what the change feed says, not what the API's
        cache holds: an ENI and a running instance written into vpcd.db by
        another writer (not through the API, so never in its cache) get a
        namespace with that address once any batch commits, and an
        instance launched through the API reaches it through the router.
        Removed by that writer with the change log pruned past the
        engine's cursor, they are gone after the engine's whole read."""
        self.data_dir = os.path.join(self.dir, "vpcd-data-feed")
        self.start_vpcd()
        vpc = self.call("create_vpc", CidrBlock="10.98.0.0/16")["Vpc"]["VpcId"]
        sub = self.call("create_subnet", VpcId=vpc, CidrBlock="10.98.0.0/24")["Subnet"]["SubnetId"]
        sg = self.call("create_security_group", GroupName="feed", Description="feed", VpcId=vpc)["GroupId"]
        self.call("authorize_security_group_ingress", GroupId=sg, IpPermissions=[
            {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "10.98.0.0/16"}]}])
        image = self.call("describe_images", Filters=[{"Name": "name", "Values": ["vpcd-linux"]}]
                          )["Images"][0]["ImageId"]
        a, _ = self.launch(sub, sg, image)

        iid, eni, ip = "i-0feed0000000000a1", "eni-0feed0000000000a1", "10.98.0.200"
        self.instances.append(iid)
        db = sqlite3.connect(os.path.join(self.data_dir, "vpcd.db"), timeout=10, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            # the next sequence number as the API would give it (the API
            # gives its next commit the same one: both come in one read);
            # creation orders far above the API's
            seq = db.execute("SELECT MAX(COALESCE((SELECT MAX(seq) FROM resources), 0),"
                             " COALESCE((SELECT MAX(seq) FROM deleted), 0))").fetchone()[0] + 1
            ord_ = db.execute("SELECT MAX(ord) FROM resources").fetchone()[0] + 100000
            rows = [
                ("network-interface", eni, {
                    "NetworkInterfaceId": eni, "SubnetId": sub, "VpcId": vpc, "PrivateIpAddress": ip,
                    "MacAddress": "02:fe:ed:00:00:01", "SourceDestCheck": True, "Status": "in-use",
                    "Groups": [{"GroupId": sg, "GroupName": "feed"}], "_Region": vpcdtest.REGION,
                    "Attachment": {"InstanceId": iid, "DeviceIndex": 0, "Status": "attached"}}),
                ("instance", iid, {"InstanceId": iid, "ImageId": image, "SubnetId": sub, "VpcId": vpc,
                                   "State": {"Code": 16, "Name": "running"}, "_Region": vpcdtest.REGION}),
            ]
            for k, (typ, rid, body) in enumerate(rows):
                db.execute("INSERT INTO resources(ord, type, id, seq, body) VALUES(?, ?, ?, ?, ?)",
                           (ord_ + k, typ, rid, seq, json.dumps(body)))
            db.execute("COMMIT")
        finally:
            db.close()
        # nothing rings the engine's doorbell until the API commits a batch
        self.call("create_tags", Resources=[vpc], Tags=[{"Key": "Name", "Value": "feed"}])
        wait_for(lambda: os.path.exists("/run/netns/" + iid) and
                 ip in run(["ip", "-n", iid, "-4", "addr", "show", "eth0"], check=False).stdout and
                 "default via" in run(["ip", "-n", iid, "-4", "route", "show"], check=False).stdout,
                 10, "%s's eth0 with %s, from the feed alone" % (iid, ip))
        self.ping(a, ip)
        # never in the API's cache
        enis = self.call("describe_network_interfaces")["NetworkInterfaces"]
        self.assertNotIn(eni, [n["NetworkInterfaceId"] for n in enis])

        # the other writer removes both with their deletions already
        # forgotten (a pruned change log: the horizon past the engine's
        # cursor): only a whole read tells the engine, which then deletes
        # the namespace
        db = sqlite3.connect(os.path.join(self.data_dir, "vpcd.db"), timeout=10, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            horizon = db.execute("SELECT MAX(COALESCE((SELECT MAX(seq) FROM resources), 0),"
                                 " COALESCE((SELECT MAX(seq) FROM deleted), 0))").fetchone()[0] + 1
            db.execute("DELETE FROM resources WHERE id IN (?, ?)", (eni, iid))
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('changes_horizon', ?)", (str(horizon),))
            db.execute("COMMIT")
        finally:
            db.close()
        self.call("create_tags", Resources=[vpc], Tags=[{"Key": "Name", "Value": "feed-2"}])
        wait_for(lambda: not os.path.exists("/run/netns/" + iid), 10, "%s's namespace deleted after a resync" % iid)
        self.assertIn("behind what the feed keeps: it reads the whole state", self.log())
        self.ping(a, ip, expect=False, count=1)
        self.assertNotIn("ERROR", self.log())


if __name__ == "__main__":
    unittest.main()


class JoinNamespaceTest(VpcDataplaneTest):
    """An ENI attached to a namespace that already exists (a container's):
    RunInstances with the vpcd-join-netns image and the tag vpcd:netns gives
    that namespace an eth0 with the ENI's address, through which it reaches
    an instance of another subnet; vpcd never removes the namespace."""

    # only the test below: the inherited ones already ran in VpcDataplaneTest
    test_instances_groups_conntrack_nacl = None
    test_secondary_eni = None
    test_feed_from_another_writer = None

    def test_join_existing_namespace(self):
        boxes = Namespaces("vpcdp", ("box",))
        self.addCleanup(boxes.remove)
        boxes.make()
        container = boxes["box"]
        self.start_vpcd()
        vpc = self.call("create_vpc", CidrBlock="10.96.0.0/16")["Vpc"]["VpcId"]
        sub_a = self.call("create_subnet", VpcId=vpc, CidrBlock="10.96.0.0/24")["Subnet"]["SubnetId"]
        sub_b = self.call("create_subnet", VpcId=vpc, CidrBlock="10.96.1.0/24")["Subnet"]["SubnetId"]
        sg = self.call("create_security_group", GroupName="open", Description="open", VpcId=vpc)["GroupId"]
        self.call("authorize_security_group_ingress", GroupId=sg, IpPermissions=[
            {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "10.96.0.0/16"}]}])

        def image(name):
            return self.call("describe_images", Filters=[{"Name": "name", "Values": [name]}])["Images"][0]["ImageId"]
        b, b_ip = self.launch(sub_b, sg, image("vpcd-linux"))
        inst = self.call("run_instances", ImageId=image("vpcd-join-netns"), MinCount=1, MaxCount=1,
                         SubnetId=sub_a, SecurityGroupIds=[sg], TagSpecifications=[
                             {"ResourceType": "instance", "Tags": [{"Key": "vpcd:netns", "Value": container}]}]
                         )["Instances"][0]
        addr = inst["PrivateIpAddress"]
        self.assertEqual(addr, "10.96.0.4")
        wait_for(lambda: addr in run(["ip", "-n", container, "-4", "addr", "show"], check=False).stdout and
                    "default via" in run(["ip", "-n", container, "-4", "route", "show"], check=False).stdout,
                    10, "the container's interface with %s and its default route" % addr)
        self.ping(container, b_ip)
        self.ping(b, addr)
        self.call("terminate_instances", InstanceIds=[inst["InstanceId"]])
        wait_for(lambda: addr not in run(["ip", "-n", container, "-4", "addr", "show"], check=False).stdout,
                    10, "the container's interface gone after TerminateInstances")
        self.assertTrue(os.path.exists("/run/netns/" + container), "vpcd removed a namespace it did not make")
