"""State quotas: a client can no longer grow the store without bound.
Each create past its quota is refused with AWS's error code, per region
(another region has its own room), per VPC where AWS counts so; deleted
or terminated resources give their room back; the defaults and names are
listed by vpcd --help, and --quota sets them."""
import subprocess
import unittest

import vpcdtest

QUOTAS = ("vpcs=3,subnets-per-vpc=2,route-tables-per-vpc=2,network-acls-per-vpc=2,security-groups=4,"
          "rules-per-security-group=2,internet-gateways=2,customer-gateways=1,vpn-gateways=2,"
          "vpn-connections=1,elastic-ips=1,network-interfaces=2,instances=2,tags-per-resource=3")


class Quotas(vpcdtest.VpcdTestCase):
    vpcd_args = ("--quota", QUOTAS)

    def test_vpcs_per_region(self):
        ec2 = self.ec2
        # the region's default VPC counts: two more, then the limit
        made = [ec2.create_vpc(CidrBlock="10.%d.0.0/16" % i)["Vpc"]["VpcId"] for i in (1, 2)]
        msg = self.assertError("VpcLimitExceeded", ec2.create_vpc, CidrBlock="10.3.0.0/16")
        self.assertIn("The maximum number of VPCs has been reached.", msg)
        # another region has its own
        west = self.vpcd.client(region="us-west-2")
        west.create_vpc(CidrBlock="10.1.0.0/16")
        west.create_vpc(CidrBlock="10.2.0.0/16")
        self.assertError("VpcLimitExceeded", west.create_vpc, CidrBlock="10.3.0.0/16")
        # deleting gives the room back
        ec2.delete_vpc(VpcId=made[1])
        made[1] = ec2.create_vpc(CidrBlock="10.4.0.0/16")["Vpc"]["VpcId"]
        for v in made:
            ec2.delete_vpc(VpcId=v)
        for v in west.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["false"]}])["Vpcs"]:
            west.delete_vpc(VpcId=v["VpcId"])

    def test_per_vpc(self):
        ec2 = self.ec2
        vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        try:
            s = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.%d.0/24" % i)["Subnet"]["SubnetId"] for i in (1, 2)]
            self.assertError("SubnetLimitExceeded", ec2.create_subnet, VpcId=vpc, CidrBlock="10.20.3.0/24")
            ec2.delete_subnet(SubnetId=s[0])
            s[0] = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.3.0/24")["Subnet"]["SubnetId"]
            # the main route table and the default ACL count
            rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
            self.assertError("RouteTableLimitExceeded", ec2.create_route_table, VpcId=vpc)
            acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
            self.assertError("NetworkAclLimitExceeded", ec2.create_network_acl, VpcId=vpc)
            for sub in s:
                ec2.delete_subnet(SubnetId=sub)
            ec2.delete_route_table(RouteTableId=rtb)
            ec2.delete_network_acl(NetworkAclId=acl)
        finally:
            ec2.delete_vpc(VpcId=vpc)

    def test_security_groups_and_rules(self):
        ec2 = self.ec2
        vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        have = len(ec2.describe_security_groups()["SecurityGroups"])
        groups = [ec2.create_security_group(GroupName="q%d" % i, Description="q", VpcId=vpc)["GroupId"]
                  for i in range(4 - have)]
        self.assertError("SecurityGroupLimitExceeded", ec2.create_security_group, GroupName="over",
                         Description="q", VpcId=vpc)
        g = groups[0] if groups else None
        if g:
            perms = [{"IpProtocol": "tcp", "FromPort": p, "ToPort": p, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
                     for p in (1, 2, 3)]
            self.assertError("RulesPerSecurityGroupLimitExceeded", ec2.authorize_security_group_ingress,
                             GroupId=g, IpPermissions=perms)
            ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=perms[:2])
        for gid in groups:
            ec2.delete_security_group(GroupId=gid)

    def test_gateways_connections_addresses(self):
        ec2 = self.ec2
        # the default VPC's internet gateway counts
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        self.assertError("InternetGatewayLimitExceeded", ec2.create_internet_gateway)
        cgw = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="198.51.100.7", BgpAsn=65000
                                          )["CustomerGateway"]["CustomerGatewayId"]
        self.assertError("CustomerGatewayLimitExceeded", ec2.create_customer_gateway, Type="ipsec.1",
                         PublicIp="198.51.100.8", BgpAsn=65000)
        vgws = [ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"] for _ in range(2)]
        self.assertError("VpnGatewayLimitExceeded", ec2.create_vpn_gateway, Type="ipsec.1")
        vpn = ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw, VpnGatewayId=vgws[0],
                                        Options={"StaticRoutesOnly": True})["VpnConnection"]["VpnConnectionId"]
        self.assertError("VpnConnectionLimitExceeded", ec2.create_vpn_connection, Type="ipsec.1",
                         CustomerGatewayId=cgw, VpnGatewayId=vgws[1], Options={"StaticRoutesOnly": True})
        # a deleted connection (still described a while) no longer counts
        ec2.delete_vpn_connection(VpnConnectionId=vpn)
        vpn = ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw, VpnGatewayId=vgws[1],
                                        Options={"StaticRoutesOnly": True})["VpnConnection"]["VpnConnectionId"]
        ec2.delete_vpn_connection(VpnConnectionId=vpn)
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        self.assertError("AddressLimitExceeded", ec2.allocate_address, Domain="vpc")
        attrs = {a["AttributeName"]: a["AttributeValues"][0]["AttributeValue"]
                 for a in ec2.describe_account_attributes()["AccountAttributes"]}
        self.assertEqual((attrs["vpc-max-elastic-ips"], attrs["max-instances"]), ("1", "2"))
        ec2.release_address(AllocationId=eip)
        ec2.delete_internet_gateway(InternetGatewayId=igw)

    def test_instances_interfaces_tags(self):
        ec2 = self.ec2
        subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"][0]
        self.assertError("InstanceLimitExceeded", ec2.run_instances, ImageId=vpcdtest.IMAGE, MinCount=3,
                         MaxCount=3, SubnetId=subnet["SubnetId"])
        got = ec2.run_instances(ImageId=vpcdtest.IMAGE, MinCount=1, MaxCount=5, SubnetId=subnet["SubnetId"])
        ids = [i["InstanceId"] for i in got["Instances"]]
        self.assertEqual(len(ids), 2)  # MaxCount cut to the room left
        self.assertError("InstanceLimitExceeded", ec2.run_instances, ImageId=vpcdtest.IMAGE, MinCount=1,
                         MaxCount=1, SubnetId=subnet["SubnetId"])
        # the instances' interfaces count too
        self.assertError("NetworkInterfaceLimitExceeded", ec2.create_network_interface,
                         SubnetId=subnet["SubnetId"])
        ec2.terminate_instances(InstanceIds=ids)
        # terminated ones no longer count
        ec2.run_instances(ImageId=vpcdtest.IMAGE, MinCount=1, MaxCount=1, SubnetId=subnet["SubnetId"])
        vpc = subnet["VpcId"]
        tags = [{"Key": "k%d" % i, "Value": "v"} for i in range(4)]
        self.assertError("TagLimitExceeded", ec2.create_tags, Resources=[vpc], Tags=tags)
        self.assertError("TagLimitExceeded", ec2.create_vpc, CidrBlock="10.30.0.0/16",
                         TagSpecifications=[{"ResourceType": "vpc", "Tags": tags}])
        ec2.create_tags(Resources=[vpc], Tags=tags[:3])


class QuotaOptions(unittest.TestCase):
    def test_help_lists_quotas_and_bad_ones_are_refused(self):
        out = subprocess.run([vpcdtest.VPCD, "--help"], capture_output=True, text=True, timeout=10).stdout
        for name, code in (("vpcs", "VpcLimitExceeded"), ("subnets-per-vpc", "SubnetLimitExceeded"),
                           ("security-groups", "SecurityGroupLimitExceeded"),
                           ("rules-per-security-group", "RulesPerSecurityGroupLimitExceeded"),
                           ("route-tables-per-vpc", "RouteTableLimitExceeded"),
                           ("internet-gateways", "InternetGatewayLimitExceeded"),
                           ("customer-gateways", "CustomerGatewayLimitExceeded"),
                           ("vpn-gateways", "VpnGatewayLimitExceeded"),
                           ("vpn-connections", "VpnConnectionLimitExceeded"),
                           ("elastic-ips", "AddressLimitExceeded"), ("instances", "InstanceLimitExceeded"),
                           ("tags-per-resource", "TagLimitExceeded")):
            line = [l for l in out.splitlines() if l.split()[:1] == [name]]
            self.assertEqual(len(line), 1, name)
            self.assertIn(code, line[0])
        for bad in ("nosuch=1", "vpcs=-1", "vpcs=", "vpcs", "vpcs=1x"):
            p = subprocess.run([vpcdtest.VPCD, "--quota", bad, "--listen", "127.0.0.1:1"], capture_output=True,
                               text=True, timeout=10)
            self.assertEqual(p.returncode, 2, bad)
            self.assertIn("--quota", p.stderr)


if __name__ == "__main__":
    unittest.main()
