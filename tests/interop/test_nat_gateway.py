"""A NAT gateway with real packets (vpcd --dataplane --uplink up0): an
instance in a private subnet, whose table routes 0.0.0.0/0 to a NAT
gateway in the public subnet (whose table routes 0.0.0.0/0 to the internet
gateway), reaches the internet host of the uplink test through the
gateway's Elastic IP; unsolicited inbound does not reach it.

Topology (namespaces with per-run unique names, always deleted; the
instance's namespace is vpcd's):

    internet 203.0.113.10 (eth0; 198.51.100.0/24, vpcd's public pool, on-link)
        |
    up0 (no address) vpcd --dataplane --uplink up0
        public subnet 10.97.0.0/24: nat-… 10.97.0.4, Elastic IP 198.51.100.x
        private subnet 10.97.1.0/24: instance i-… (no public address)

Steps: the instance pings the internet host (answered: ICMP echo ids are
translated); opens TCP connections to a server on the internet host that
answers with the address and port it sees: the Elastic IP, and a port of
the gateway's (two connections, two ports); a UDP exchange the same way;
UDP to a closed port: the host's ICMP port unreachable (quoting the
Elastic IP and the gateway's port) reaches the instance translated back,
as ECONNREFUSED on its socket. `vpcctl trace` agrees: reachable, the
answer walked back through the gateway's mapping; with the public
subnet's ACL denying UDP from the internet host's network to the
gateway's ports inbound, UDP answers stop
(TCP's do not) and the trace names that ACL's rule; put back, both again.
Unsolicited: the internet host pings the Elastic IP and connects to it —
nothing answers, and vpcd counts nat-no-mapping drops (`vpcctl
dataplane`). The gateway deleted: the route is a blackhole, the instance
no longer reaches the internet host.
Needs root; skipped otherwise."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from interop import test_vpc_dataplane as dp
from interop import test_vpn_story as vs
from interop.netns import Namespaces, netns_executor, run, wait_for

INET_IP = "203.0.113.10"
TCP_PORT = 9000
UDP_PORT = 9001

# Answers each TCP connection and each UDP datagram with "ADDR PORT" of the peer.
ECHO_PEER = r"""
import socket, sys, threading
host = sys.argv[1]
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((host, %d)); t.listen(16)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((host, %d))
def udp():
    while True:
        data, peer = u.recvfrom(100)
        u.sendto(("%%s %%d" %% peer).encode(), peer)
threading.Thread(target=udp, daemon=True).start()
print("listening", flush=True)
while True:
    c, peer = t.accept()
    c.sendall(("%%s %%d\n" %% peer).encode()); c.close()
""" % (TCP_PORT, UDP_PORT)

# Connects (TCP) or sends (UDP) to ADDR and prints what came back, or "fail ...".
ASK = r"""
import socket, sys
addr, proto = sys.argv[1], sys.argv[2]
try:
    if proto == "tcp":
        s = socket.create_connection((addr, %d), timeout=3)
        print(s.recv(100).decode().strip())
    elif proto == "udp-closed":
        # a closed port: the host's port unreachable comes back through the
        # gateway as an error on the connected socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
        s.connect((addr, 9999))
        for _ in range(4):
            try:
                s.send(b"hi"); s.recv(100)
            except ConnectionRefusedError:
                print("refused"); break
            except socket.timeout:
                continue
        else:
            print("fail no error came back")
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
        for _ in range(4):
            s.sendto(b"hi", (addr, %d))
            try:
                print(s.recv(100).decode().strip()); break
            except socket.timeout:
                continue
        else:
            print("fail timeout")
except OSError as e:
    print("fail", e)
""" % (TCP_PORT, UDP_PORT)


@unittest.skipUnless(os.geteuid() == 0, "needs root: creates network namespaces, runs vpcd's data plane")
class NatGatewayTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(vs.VPCD):
            raise unittest.SkipTest("%s is missing (make all)" % vs.VPCD)
        cls.dir = tempfile.mkdtemp(prefix="natgw-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.ns = Namespaces("natgw", ("inet", "vpcd"))
        cls.addClassCleanup(cls.ns.remove)
        cls.ns.make()
        cls.ns.veth("vpcd", "up0", "inet", "eth0")
        cls.ns.ip("inet", "addr", "add", INET_IP + "/24", "dev", "eth0")
        cls.ns.ip("inet", "route", "add", "198.51.100.0/24", "dev", "eth0")
        cls.vpcd_ns = cls.ns["vpcd"]
        cls.pool = netns_executor(cls.ns["vpcd"])
        cls.addClassCleanup(cls.pool.shutdown)

    vpcd_args = ("--uplink", "up0")
    setUp = dp.VpcDataplaneTest.setUp
    start_vpcd = dp.VpcDataplaneTest.start_vpcd
    stop_vpcd = dp.VpcDataplaneTest.stop_vpcd
    stop_servers = dp.VpcDataplaneTest.stop_servers
    cleanup_instances = dp.VpcDataplaneTest.cleanup_instances
    log = dp.VpcDataplaneTest.log
    call = dp.VpcDataplaneTest.call
    ping = dp.VpcDataplaneTest.ping
    launch = dp.VpcDataplaneTest.launch
    dataplane = dp.VpcDataplaneTest.dataplane
    drops = dp.VpcDataplaneTest.drops

    def trace(self, iid, proto, port):
        """`vpcctl trace` (VpcdTracePacket: the router's own code) from the
        instance to the internet host: the JSON result."""
        env = dict(os.environ, AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                   AWS_ACCESS_KEY_ID=dp.vpcdtest.KEY_ID, AWS_SECRET_ACCESS_KEY=dp.vpcdtest.SECRET)
        p = subprocess.run(["nsenter", "--net=/run/netns/" + self.vpcd_ns, vs.VPCCTL, "--endpoint-url", dp.API,
                            "--region", dp.vpcdtest.REGION, "--output", "json", "trace", "--from", iid, "--to",
                            INET_IP, "--proto", proto, "--port", str(port)],
                           capture_output=True, text=True, timeout=10, env=env)
        self.assertIn(p.returncode, (0, 1), "vpcctl trace: %s%s" % (p.stdout, p.stderr))
        return json.loads(p.stdout)

    def ask(self, ns, addr, proto):
        p = run(["ip", "netns", "exec", ns, sys.executable, "-c", ASK, addr, proto], check=False, timeout=30)
        return p.stdout.strip()

    def ask_until(self, ns, addr, proto, timeout=10):
        """The first answer within timeout (the router's first packet to a
        new neighbour is spent on ARP)."""
        end = time.time() + timeout
        while True:
            out = self.ask(ns, addr, proto)
            if not out.startswith("fail") or time.time() > end:
                return out
            time.sleep(0.3)

    def test_private_instance_through_nat_gateway(self):
        self.start_vpcd()
        inet = self.ns["inet"]
        vpc = self.call("create_vpc", CidrBlock="10.97.0.0/16")["Vpc"]["VpcId"]
        pub = self.call("create_subnet", VpcId=vpc, CidrBlock="10.97.0.0/24")["Subnet"]["SubnetId"]
        priv = self.call("create_subnet", VpcId=vpc, CidrBlock="10.97.1.0/24")["Subnet"]["SubnetId"]
        igw = self.call("create_internet_gateway")["InternetGateway"]["InternetGatewayId"]
        self.call("attach_internet_gateway", InternetGatewayId=igw, VpcId=vpc)
        rtb_pub = self.call("create_route_table", VpcId=vpc)["RouteTable"]["RouteTableId"]
        self.call("create_route", RouteTableId=rtb_pub, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        self.call("associate_route_table", RouteTableId=rtb_pub, SubnetId=pub)
        alloc = self.call("allocate_address", Domain="vpc")
        eip = alloc["PublicIp"]
        nat = self.call("create_nat_gateway", SubnetId=pub, AllocationId=alloc["AllocationId"]
                        )["NatGateway"]["NatGatewayId"]
        self.pool.submit(self.ec2.get_waiter("nat_gateway_available").wait, NatGatewayIds=[nat],
                         WaiterConfig={"Delay": 1, "MaxAttempts": 30}).result()
        rtb_priv = self.call("create_route_table", VpcId=vpc)["RouteTable"]["RouteTableId"]
        self.call("create_route", RouteTableId=rtb_priv, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
        self.call("associate_route_table", RouteTableId=rtb_priv, SubnetId=priv)
        # the instance's group admits nothing from outside (default: only its own members)
        sg = self.call("describe_security_groups", Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                            {"Name": "group-name", "Values": ["default"]}]
                       )["SecurityGroups"][0]["GroupId"]
        image = self.call("describe_images", Filters=[{"Name": "name", "Values": ["vpcd-linux"]}]
                          )["Images"][0]["ImageId"]
        iid, addr = self.launch(priv, sg, image)
        desc = self.call("describe_instances", InstanceIds=[iid])["Reservations"][0]["Instances"][0]
        self.assertNotIn("PublicIpAddress", desc)

        server = subprocess.Popen(["ip", "netns", "exec", inet, sys.executable, "-c", ECHO_PEER, INET_IP],
                                  stdout=subprocess.PIPE, text=True)
        self.servers.append(server)
        self.assertEqual(server.stdout.readline().strip(), "listening")

        # ping out and back (the first echo may be spent on ARP)
        wait_for(lambda: run(["ip", "netns", "exec", iid, "ping", "-n", "-c", "1", "-W", "1", INET_IP],
                             check=False).returncode == 0, 10, "a first answer from the internet host")
        self.ping(iid, INET_IP)
        # TCP: the internet host sees the Elastic IP, and a port of the gateway's per connection
        seen = self.ask_until(iid, INET_IP, "tcp")
        self.assertRegex(seen, r"^%s \d+$" % eip.replace(".", r"\."), seen + "\n" + self.log()[-2000:])
        seen2 = self.ask(iid, INET_IP, "tcp")
        self.assertTrue(seen2.startswith(eip + " "), seen2)
        self.assertNotEqual(seen.split()[1], seen2.split()[1])
        # UDP the same way
        seen = self.ask_until(iid, INET_IP, "udp")
        self.assertTrue(seen.startswith(eip + " "), seen)
        # ICMP errors about the gateway's flows come back translated
        self.assertEqual(self.ask(iid, INET_IP, "udp-closed"), "refused")

        # the trace agrees: reachable, its answer walked back through the gateway's mapping
        for proto, port in (("tcp", TCP_PORT), ("udp", UDP_PORT)):
            tr = self.trace(iid, proto, port)
            self.assertTrue(tr["Reachable"], tr)
            details = [s["Detail"] for s in tr["Steps"]]
            self.assertTrue(any("%s translates the answer to %s, port " % (nat, eip) in d for d in details), tr)
            self.assertEqual(tr["Steps"][-1]["Step"], "reply-network-acl-inbound", tr)
        # the public subnet's ACL denies UDP to the gateway's ports inbound: the
        # answers no longer come back (TCP still does), and the trace names the rule
        acl = self.call("create_network_acl", VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        # (from the internet host's network only: the instance's packets to
        # UDP_PORT enter the public subnet too)
        for n, egress, proto, action, cidr, ports in (
                (100, True, "-1", "allow", "0.0.0.0/0", None),
                (90, False, "17", "deny", "203.0.113.0/24", {"From": 1024, "To": 65535}),
                (100, False, "-1", "allow", "0.0.0.0/0", None)):
            kw = {"PortRange": ports} if ports else {}
            self.call("create_network_acl_entry", NetworkAclId=acl, RuleNumber=n, Protocol=proto,
                      RuleAction=action, Egress=egress, CidrBlock=cidr, **kw)
        assoc = [a for a in self.call("describe_network_acls",
                                      Filters=[{"Name": "association.subnet-id", "Values": [pub]}]
                                      )["NetworkAcls"][0]["Associations"] if a["SubnetId"] == pub]
        old_acl = self.call("describe_network_acls", Filters=[{"Name": "association.subnet-id", "Values": [pub]}]
                            )["NetworkAcls"][0]["NetworkAclId"]
        assoc = self.call("replace_network_acl_association", AssociationId=assoc[0]["NetworkAclAssociationId"],
                          NetworkAclId=acl)["NewAssociationId"]
        wait_for(lambda: self.ask(iid, INET_IP, "udp").startswith("fail"), 15, "UDP answers dropped by " + acl)
        tr = self.trace(iid, "udp", UDP_PORT)
        self.assertFalse(tr["Reachable"], tr)
        self.assertEqual(tr["Cause"], "reply-nacl-in", tr)
        last = tr["Steps"][-1]
        self.assertEqual((last["Step"], last["Component"], last["Rule"]), ("reply-network-acl-inbound", acl, "90"), tr)
        self.assertTrue(self.ask(iid, INET_IP, "tcp").startswith(eip + " "))
        self.assertTrue(self.trace(iid, "tcp", TCP_PORT)["Reachable"])
        # put back: both again
        self.call("replace_network_acl_association", AssociationId=assoc, NetworkAclId=old_acl)
        seen = self.ask_until(iid, INET_IP, "udp")
        self.assertTrue(seen.startswith(eip + " "), seen)
        self.assertTrue(self.trace(iid, "udp", UDP_PORT)["Reachable"])

        # unsolicited inbound: nothing answers at the Elastic IP
        before = self.drops()["nat-no-mapping"]
        self.ping(inet, eip, expect=False, count=2)
        p = run(["ip", "netns", "exec", inet, sys.executable, "-c",
                 "import socket\ntry:\n socket.create_connection(('%s', 22), timeout=2); print('connected')\n"
                 "except OSError as e: print('fail', e)" % eip], check=False, timeout=20)
        self.assertTrue(p.stdout.startswith("fail"), p.stdout)
        wait_for(lambda: self.drops()["nat-no-mapping"] > before, 15, "nat-no-mapping drops counted")
        out = json.loads(self.dataplane("--output", "json"))["DataPlane"]
        self.assertGreaterEqual(out["Nat"]["Entries"], 1, out)

        # the gateway deleted: its route is a blackhole, the instance is cut off
        self.call("delete_nat_gateway", NatGatewayId=nat)
        route = [r for r in self.call("describe_route_tables", RouteTableIds=[rtb_priv])["RouteTables"][0]["Routes"]
                 if r.get("NatGatewayId") == nat][0]
        self.assertEqual(route["State"], "blackhole")
        time.sleep(0.5)
        self.ping(iid, INET_IP, expect=False, count=2)
        self.assertNotIn("ERROR", self.log())


if __name__ == "__main__":
    unittest.main()
