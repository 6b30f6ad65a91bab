"""The internet gateway's port (vpcd --dataplane --uplink IFNAME): public
addresses are a 1:1 NAT at the igw, answered on the uplink only while the
instance's subnet routes 0.0.0.0/0 to the VPC's attached internet gateway.

Topology (namespaces with per-run unique names, always deleted; the
instance's namespace is vpcd's):

    internet 203.0.113.10 (eth0; 198.51.100.0/24, vpcd's public pool, on-link)
        |
    up0 (no address) vpcd --dataplane --uplink up0
                       instance i-… 10.96.0.x, public 198.51.100.y

Steps: `vpcctl instance exec` runs commands inside the instance (its
exit status passes through; an unknown instance is an error); the instance
(AssociatePublicIpAddress) pings the internet host
(vpcd asks by ARP for it: the first may be lost); the internet host pings
the instance's public address and is answered; the 0.0.0.0/0 route removed:
no answer (and no proxy ARP); put back: answered; an Elastic IP associated
with the instance: answered at the Elastic IP; disassociated: no answer there.
TCP both ways (test_tcp_through_uplink): the internet host fetches a page
of 200 KB (many segments, checksums the veth leaves partial, GSO) from
`python3 -m http.server` in the instance at its public address, and the
instance fetches one from a server on the internet host.
Needs root; skipped otherwise."""
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import unittest


import vpcdtest
from interop import test_vpc_dataplane as dp
from interop import test_vpn_story as vs
from interop.netns import Namespaces, netns_executor, run, wait_for

INET_IP = "203.0.113.10"


@unittest.skipUnless(os.geteuid() == 0, "needs root: creates network namespaces, runs vpcd's data plane")
class IgwTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(vs.VPCD):
            raise unittest.SkipTest("%s is missing (make all)" % vs.VPCD)
        cls.dir = tempfile.mkdtemp(prefix="igw-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.ns = Namespaces("igw", ("inet", "vpcd"))
        cls.addClassCleanup(cls.ns.remove)
        cls.ns.make()
        cls.ns.veth("vpcd", "up0", "inet", "eth0")
        cls.ns.ip("inet", "addr", "add", INET_IP + "/24", "dev", "eth0")
        cls.ns.ip("inet", "route", "add", "198.51.100.0/24", "dev", "eth0")
        cls.vpcd_ns = cls.ns["vpcd"]
        cls.pool = netns_executor(cls.ns["vpcd"])
        cls.www = os.path.join(cls.dir, "www")
        os.makedirs(cls.www)
        cls.page = ("vpcd-%s\n" % secrets.token_hex(8)) * 8000
        with open(os.path.join(cls.www, "page.txt"), "w") as f:
            f.write(cls.page)
        cls.addClassCleanup(cls.pool.shutdown)

    # vpcd's life cycle, instances and API calls: the same as the data plane test's
    vpcd_args = ("--uplink", "up0", "--debug")
    setUp = dp.VpcDataplaneTest.setUp
    start_vpcd = dp.VpcDataplaneTest.start_vpcd
    stop_vpcd = dp.VpcDataplaneTest.stop_vpcd
    stop_servers = dp.VpcDataplaneTest.stop_servers
    cleanup_instances = dp.VpcDataplaneTest.cleanup_instances
    log = dp.VpcDataplaneTest.log
    call = dp.VpcDataplaneTest.call
    ping = dp.VpcDataplaneTest.ping

    def neigh_flush(self):
        run(["ip", "-n", self.ns["inet"], "neigh", "flush", "dev", "eth0"], check=False)

    def test_public_ip_through_uplink(self):
        self.start_vpcd()
        inet = self.ns["inet"]
        vpc = self.call("create_vpc", CidrBlock="10.96.0.0/16")["Vpc"]["VpcId"]
        subnet = self.call("create_subnet", VpcId=vpc, CidrBlock="10.96.0.0/24")["Subnet"]["SubnetId"]
        igw = self.call("create_internet_gateway")["InternetGateway"]["InternetGatewayId"]
        self.call("attach_internet_gateway", InternetGatewayId=igw, VpcId=vpc)
        rtb = self.call("create_route_table", VpcId=vpc)["RouteTable"]["RouteTableId"]
        self.call("create_route", RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        self.call("associate_route_table", RouteTableId=rtb, SubnetId=subnet)
        sg = self.call("create_security_group", GroupName="web", Description="ping from anywhere",
                       VpcId=vpc)["GroupId"]
        self.call("authorize_security_group_ingress", GroupId=sg, IpPermissions=[
            {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        image = self.call("describe_images", Filters=[{"Name": "name", "Values": ["vpcd-linux"]}]
                          )["Images"][0]["ImageId"]
        inst = self.call("run_instances", ImageId=image, MinCount=1, MaxCount=1, NetworkInterfaces=[
            {"DeviceIndex": 0, "SubnetId": subnet, "Groups": [sg], "AssociatePublicIpAddress": True}]
                         )["Instances"][0]
        iid = inst["InstanceId"]
        self.instances.append(iid)
        addr = inst["PrivateIpAddress"]
        desc = self.call("describe_instances", InstanceIds=[iid])["Reservations"][0]["Instances"][0]
        public = desc.get("PublicIpAddress")
        self.assertTrue(public and public.startswith("198.51.100."), desc)
        wait_for(lambda: addr in run(["ip", "-n", iid, "-4", "addr", "show", "eth0"], check=False).stdout,
                    10, "the instance's eth0")

        # vpcctl instance exec: a command inside the instance's namespace
        vpcctl = os.path.join(vpcdtest.BUILD, "vpcctl")
        p = run([vpcctl, "instance", "exec", iid, "--", "ip", "-4", "-br", "addr", "show", "eth0"])
        self.assertIn(addr + "/24", p.stdout)
        self.assertEqual(run([vpcctl, "instance", "exec", iid, "--", "sh", "-c", "exit 3"],
                                check=False).returncode, 3)
        p = run([vpcctl, "instance", "exec", "i-0123456789abcdef0", "--", "true"], check=False)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("has no network namespace", p.stdout)

        # out: the instance reaches the internet host (vpcd asks for its MAC by ARP)
        p = run([vpcctl, "instance", "exec", iid, "--", "ping", "-n", "-q", "-c", "3", "-i", "0.2", "-W", "1",
                    INET_IP], check=False, timeout=20)
        self.assertRegex(p.stdout, r"3 packets transmitted, [23] received", p.stdout)
        # in: the internet host reaches the public address
        self.ping(inet, public)
        self.assertIn("port on up0", self.log())

        # without 0.0.0.0/0 -> igw: neither proxy ARP nor an answer
        self.call("delete_route", RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0")
        time.sleep(0.3)
        self.neigh_flush()
        self.ping(inet, public, expect=False, count=2)
        self.call("create_route", RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        time.sleep(0.3)
        self.ping(inet, public)

        # an Elastic IP on the instance: answered there
        alloc = self.call("allocate_address", Domain="vpc")
        self.call("associate_address", AllocationId=alloc["AllocationId"], InstanceId=iid)
        eip = alloc["PublicIp"]
        time.sleep(0.3)
        self.ping(inet, eip)

        # the Elastic IP disassociated: no longer answered there
        assoc = self.call("describe_addresses", AllocationIds=[alloc["AllocationId"]])["Addresses"][0]
        self.call("disassociate_address", AssociationId=assoc["AssociationId"])
        time.sleep(0.3)
        self.neigh_flush()
        self.ping(inet, eip, expect=False, count=2)
        self.assertNotIn("ERROR", self.log())

    def test_tcp_through_uplink(self):
        self.data_dir = os.path.join(self.dir, "vpcd-data-tcp")
        self.start_vpcd()
        inet = self.ns["inet"]
        vpc = self.call("create_vpc", CidrBlock="10.96.0.0/16")["Vpc"]["VpcId"]
        subnet = self.call("create_subnet", VpcId=vpc, CidrBlock="10.96.0.0/24")["Subnet"]["SubnetId"]
        igw = self.call("create_internet_gateway")["InternetGateway"]["InternetGatewayId"]
        self.call("attach_internet_gateway", InternetGatewayId=igw, VpcId=vpc)
        rtb = self.call("create_route_table", VpcId=vpc)["RouteTable"]["RouteTableId"]
        self.call("create_route", RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        self.call("associate_route_table", RouteTableId=rtb, SubnetId=subnet)
        sg = self.call("create_security_group", GroupName="web", Description="http", VpcId=vpc)["GroupId"]
        self.call("authorize_security_group_ingress", GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        image = self.call("describe_images", Filters=[{"Name": "name", "Values": ["vpcd-linux"]}]
                          )["Images"][0]["ImageId"]
        inst = self.call("run_instances", ImageId=image, MinCount=1, MaxCount=1, NetworkInterfaces=[
            {"DeviceIndex": 0, "SubnetId": subnet, "Groups": [sg], "AssociatePublicIpAddress": True}]
                         )["Instances"][0]
        iid = inst["InstanceId"]
        self.instances.append(iid)
        addr = inst["PrivateIpAddress"]
        public = self.call("describe_instances", InstanceIds=[iid]
                           )["Reservations"][0]["Instances"][0]["PublicIpAddress"]
        wait_for(lambda: addr in run(["ip", "-n", iid, "-4", "addr", "show", "eth0"], check=False).stdout,
                    10, "the instance's eth0")
        fetch = ("import sys, urllib.request\n"
                 "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())\n")

        def serve(ns, bind):
            p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-m", "http.server", "8080",
                                  "--bind", bind, "--directory", self.www],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.servers.append(p)

        def get(ns, url):
            end = time.time() + 15
            while True:
                p = run(["ip", "netns", "exec", ns, sys.executable, "-c", fetch, url], check=False, timeout=30)
                if p.returncode == 0 or time.time() > end:
                    return p
                time.sleep(0.3)

        # in: the internet host fetches from the instance's public address
        serve(iid, addr)
        p = get(inet, "http://%s:8080/page.txt" % public)
        self.assertEqual(p.returncode, 0, p.stdout[-2000:] + "\nvpcd log tail:\n" + self.log()[-2000:])
        self.assertTrue(p.stdout == self.page, "page differs (%d bytes, want %d)" % (len(p.stdout), len(self.page)))
        # out: the instance fetches from the internet host
        serve(inet, INET_IP)
        p = get(iid, "http://%s:8080/page.txt" % INET_IP)
        self.assertEqual(p.returncode, 0, p.stdout[-2000:] + "\nvpcd log tail:\n" + self.log()[-2000:])
        self.assertTrue(p.stdout == self.page, "page differs (%d bytes, want %d)" % (len(p.stdout), len(self.page)))
        self.assertNotIn("ERROR", self.log())


if __name__ == "__main__":
    unittest.main()
