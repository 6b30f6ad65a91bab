"""vpcd --dataplane and the VPC features beyond subnets and groups, seen
from inside instances (namespaces vpcd made, as in test_vpc_dataplane):

  - DHCP option sets (test_dhcp_options_resolv_conf): `cat
    /etc/resolv.conf` run in the instance through `ip netns exec` shows its
    VPC's default set (search ec2.internal, the Amazon DNS server at the
    VPC's block + 2); after AssociateDhcpOptions with another set it shows
    that set's domain and servers (also through `vpcctl instance exec`);
    with `default` (no set) 169.254.169.253.
  - secondary CIDR blocks (test_secondary_cidr_block): an instance in a
    subnet of the VPC's secondary block and one in the primary's ping each
    other through the router's local routes (one per block, in every
    route table of the VPC).
  - managed prefix lists in the data plane (test_prefix_list_rules_routes):
    b admits ICMP only from a prefix list; a's subnet in the list: a pings
    b; removed from it (ModifyManagedPrefixList): no more; a route whose
    destination is a prefix list (192.0.2.0/24) with an appliance
    instance's ENI as target: a pings 192.0.2.10, which the appliance
    (source/destination check off by ModifyInstanceAttribute) has on its
    loopback, and the replies come back; with the check on the router
    drops them.

Needs root; skipped otherwise. Namespaces have per-run unique names (the
instances' are vpcd's, named after their ids) and are always deleted."""
import os
import time
import unittest

from interop import test_vpc_dataplane as dp
from interop.netns import run, wait_for

_BASE = dp.VpcDataplaneTest.__dict__


@unittest.skipUnless(os.geteuid() == 0, "needs root: creates network namespaces, runs vpcd's data plane")
class VpcFeaturesTest(unittest.TestCase):
    vpcd_args = ()
    # the plumbing of test_vpc_dataplane: vpcd in a namespace, instances, ping, TCP
    setUpClass = _BASE["setUpClass"]
    for _name in ("setUp", "start_vpcd", "stop_vpcd", "stop_servers", "cleanup_instances", "log", "call",
                  "launch", "ping", "serve", "tcp"):
        locals()[_name] = _BASE[_name]
    del _name

    def image(self):
        return self.call("describe_images", Filters=[{"Name": "name", "Values": ["vpcd-linux"]}]
                         )["Images"][0]["ImageId"]

    def resolv_conf(self, iid):
        return run(["ip", "netns", "exec", iid, "cat", "/etc/resolv.conf"]).stdout

    def test_dhcp_options_resolv_conf(self):
        self.start_vpcd()
        vpc = self.call("create_vpc", CidrBlock="10.98.0.0/16")["Vpc"]["VpcId"]
        sub = self.call("create_subnet", VpcId=vpc, CidrBlock="10.98.3.0/24")["Subnet"]["SubnetId"]
        sg = self.call("create_security_group", GroupName="dns", Description="dns", VpcId=vpc)["GroupId"]
        iid, _ = self.launch(sub, sg, self.image())

        def lines(text):
            return [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
        wait_for(lambda: "nameserver" in self.resolv_conf(iid), 10, "%s's resolv.conf" % iid)
        self.assertEqual(lines(self.resolv_conf(iid)), ["search ec2.internal", "nameserver 10.98.0.2"])

        dopt = self.call("create_dhcp_options", DhcpConfigurations=[
            {"Key": "domain-name", "Values": ["corp.example"]},
            {"Key": "domain-name-servers", "Values": ["192.0.2.53", "AmazonProvidedDNS"]}])["DhcpOptions"]["DhcpOptionsId"]
        self.call("associate_dhcp_options", DhcpOptionsId=dopt, VpcId=vpc)
        want = ["search corp.example", "nameserver 192.0.2.53", "nameserver 10.98.0.2"]
        wait_for(lambda: lines(self.resolv_conf(iid)) == want, 10, "resolv.conf of the new set")
        # vpcctl instance exec binds it as ip netns exec does
        p = run([dp.vs.VPCCTL, "instance", "exec", iid, "--", "cat", "/etc/resolv.conf"])
        self.assertEqual(lines(p.stdout), want)

        self.call("associate_dhcp_options", DhcpOptionsId="default", VpcId=vpc)
        wait_for(lambda: lines(self.resolv_conf(iid)) == ["nameserver 169.254.169.253"], 10,
                 "resolv.conf without a set")
        # the namespace's /etc goes with the instance
        self.call("terminate_instances", InstanceIds=[iid])
        wait_for(lambda: not os.path.exists("/etc/netns/" + iid), 15, "/etc/netns/%s removed" % iid)
        self.assertNotIn("ERROR", self.log())

    def test_secondary_cidr_block(self):
        self.start_vpcd()
        vpc = self.call("create_vpc", CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
        self.call("associate_vpc_cidr_block", VpcId=vpc, CidrBlock="100.66.0.0/16")
        sub_a = self.call("create_subnet", VpcId=vpc, CidrBlock="10.99.1.0/24")["Subnet"]["SubnetId"]
        sub_b = self.call("create_subnet", VpcId=vpc, CidrBlock="100.66.1.0/24")["Subnet"]["SubnetId"]
        sg = self.call("create_security_group", GroupName="all", Description="all", VpcId=vpc)["GroupId"]
        self.call("authorize_security_group_ingress", GroupId=sg, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        a, a_ip = self.launch(sub_a, sg, self.image())
        b, b_ip = self.launch(sub_b, sg, self.image())
        self.assertTrue(b_ip.startswith("100.66.1."), b_ip)
        self.ping(a, b_ip)
        self.ping(b, a_ip)
        self.assertNotIn("ERROR", self.log())

    def test_prefix_list_rules_routes(self):
        self.start_vpcd()
        vpc = self.call("create_vpc", CidrBlock="10.100.0.0/16")["Vpc"]["VpcId"]
        sub_a = self.call("create_subnet", VpcId=vpc, CidrBlock="10.100.1.0/24")["Subnet"]["SubnetId"]
        sub_b = self.call("create_subnet", VpcId=vpc, CidrBlock="10.100.2.0/24")["Subnet"]["SubnetId"]
        open_sg = self.call("create_security_group", GroupName="open", Description="o", VpcId=vpc)["GroupId"]
        self.call("authorize_security_group_ingress", GroupId=open_sg, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        pl = self.call("create_managed_prefix_list", PrefixListName="clients", AddressFamily="IPv4", MaxEntries=4,
                       Entries=[{"Cidr": "10.100.1.0/24"}])["PrefixList"]["PrefixListId"]
        guarded = self.call("create_security_group", GroupName="guarded", Description="g", VpcId=vpc)["GroupId"]
        self.call("authorize_security_group_ingress", GroupId=guarded, IpPermissions=[
            {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "PrefixListIds": [{"PrefixListId": pl}]}])
        a, a_ip = self.launch(sub_a, open_sg, self.image())
        b, b_ip = self.launch(sub_b, guarded, self.image())
        self.ping(a, b_ip)
        self.call("modify_managed_prefix_list", PrefixListId=pl, CurrentVersion=1,
                  RemoveEntries=[{"Cidr": "10.100.1.0/24"}], AddEntries=[{"Cidr": "10.100.3.0/24"}])
        time.sleep(0.3)
        self.ping(a, b_ip, expect=False, count=2)

        # a route to a prefix list, through an appliance instance
        appliance, _ = self.launch(sub_b, open_sg, self.image())
        run(["ip", "-n", appliance, "addr", "add", "192.0.2.10/32", "dev", "lo"])
        eni = self.call("describe_instances", InstanceIds=[appliance])["Reservations"][0]["Instances"][0][
            "NetworkInterfaces"][0]["NetworkInterfaceId"]
        outside = self.call("create_managed_prefix_list", PrefixListName="outside", AddressFamily="IPv4",
                            MaxEntries=2, Entries=[{"Cidr": "192.0.2.0/24"}])["PrefixList"]["PrefixListId"]
        main = self.call("describe_route_tables", Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                           {"Name": "association.main", "Values": ["true"]}]
                         )["RouteTables"][0]["RouteTableId"]
        self.call("create_route", RouteTableId=main, DestinationPrefixListId=outside, NetworkInterfaceId=eni)
        time.sleep(0.3)
        # the check on: the appliance's replies come from an address not its own
        self.ping(a, "192.0.2.10", expect=False, count=2)
        # ModifyInstanceAttribute sourceDestCheck: the router honours it
        self.call("modify_instance_attribute", InstanceId=appliance, SourceDestCheck={"Value": False})
        time.sleep(0.3)
        self.ping(a, "192.0.2.10")
        self.assertNotIn("ERROR", self.log())
