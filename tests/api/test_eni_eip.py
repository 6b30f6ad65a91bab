"""Network interfaces and Elastic IPs through boto3 and the aws CLI:
create (addresses, groups, tags), attach/detach, modify, delete, filters
and paging; allocate, associate (instance or interface, reassociation,
the internet gateway rule), disassociate, release; subnet and security
group dependencies; a restart that keeps everything."""
from vpcdtest import VpcdTestCase

IMAGE = "ami-0c0dd0e0a0b0c0d01"


class T(VpcdTestCase):
    def setUp(self):
        self.vpc = self.ec2.create_vpc(CidrBlock="10.96.0.0/16")["Vpc"]["VpcId"]
        self.subnet = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.96.1.0/24")["Subnet"]["SubnetId"]

    def tearDown(self):
        # Elastic IPs are an account-wide quota: give them back
        for a in self.ec2.describe_addresses()["Addresses"]:
            if "AssociationId" in a:
                self.ec2.disassociate_address(AssociationId=a["AssociationId"])
            self.ec2.release_address(AllocationId=a["AllocationId"])

    def eni(self, **kw):
        args = dict(SubnetId=self.subnet)
        args.update(kw)
        return self.ec2.create_network_interface(**args)["NetworkInterface"]

    def get(self, eni_id):
        return self.ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]

    def available(self, subnet=None):
        return self.ec2.describe_subnets(SubnetIds=[subnet or self.subnet])["Subnets"][0]["AvailableIpAddressCount"]

    def launch(self, **kw):
        args = dict(ImageId=IMAGE, MinCount=1, MaxCount=1, SubnetId=self.subnet)
        args.update(kw)
        return self.ec2.run_instances(**args)["Instances"][0]

    def igw(self):
        g = self.ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        self.ec2.attach_internet_gateway(InternetGatewayId=g, VpcId=self.vpc)
        return g

    def default_sg(self):
        return self.ec2.describe_security_groups(Filters=[
            {"Name": "vpc-id", "Values": [self.vpc]}, {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]

    # --- network interfaces ---------------------------------------------------------
    def test_create_shape(self):
        e = self.eni(Description="appliance", TagSpecifications=[
            {"ResourceType": "network-interface", "Tags": [{"Key": "Name", "Value": "fw"}]}])
        self.assertTrue(e["NetworkInterfaceId"].startswith("eni-"))
        self.assertEqual(e["SubnetId"], self.subnet)
        self.assertEqual(e["VpcId"], self.vpc)
        self.assertEqual(e["AvailabilityZone"], "us-east-1a")
        self.assertEqual(e["Status"], "available")
        self.assertEqual(e["Description"], "appliance")
        self.assertEqual(e["PrivateIpAddress"], "10.96.1.4")
        self.assertEqual(e["PrivateIpAddresses"], [{"Primary": True, "PrivateIpAddress": "10.96.1.4",
                                                    "PrivateDnsName": "ip-10-96-1-4.ec2.internal"}])
        self.assertRegex(e["MacAddress"], r"^02(:[0-9a-f]{2}){5}$")
        self.assertTrue(e["SourceDestCheck"])
        self.assertEqual(e["InterfaceType"], "interface")
        self.assertEqual(e["OwnerId"], "123456789012")
        self.assertEqual(e["Groups"], [{"GroupId": self.default_sg(), "GroupName": "default"}])
        self.assertEqual(e["TagSet"], [{"Key": "Name", "Value": "fw"}])
        self.assertNotIn("Attachment", e)
        self.assertEqual(self.get(e["NetworkInterfaceId"]), e)
        self.assertEqual(self.available(), 250)

    def test_macs_are_unique(self):
        macs = {self.eni()["MacAddress"] for _ in range(8)}
        self.assertEqual(len(macs), 8)

    def test_create_addresses_and_errors(self):
        a = self.eni(PrivateIpAddress="10.96.1.9")
        self.assertEqual(a["PrivateIpAddress"], "10.96.1.9")
        self.assertEqual(self.eni()["PrivateIpAddress"], "10.96.1.4")
        self.assertEqual(self.assertError("InvalidIPAddress.InUse", self.eni, PrivateIpAddress="10.96.1.9"),
                         "Address 10.96.1.9 is in use.")
        self.assertError("InvalidParameterValue", self.eni, PrivateIpAddress="10.96.7.7")
        self.assertError("InvalidParameterValue", self.eni, PrivateIpAddress="10.96.1.3")
        self.assertError("InvalidSubnetID.NotFound", self.eni, SubnetId="subnet-0000000000000000f")
        self.assertError("InvalidGroup.NotFound", self.eni, Groups=["sg-0000000000000000f"])
        other = self.ec2.create_vpc(CidrBlock="10.98.0.0/16")["Vpc"]["VpcId"]
        foreign = self.ec2.create_security_group(VpcId=other, GroupName="o", Description="o")["GroupId"]
        self.assertError("InvalidParameter", self.eni, Groups=[foreign])
        six = [self.ec2.create_security_group(VpcId=self.vpc, GroupName="s%d" % k, Description="s")["GroupId"]
               for k in range(6)]
        self.assertError("SecurityGroupsPerInterfaceLimitExceeded", self.eni, Groups=six)
        five = self.eni(Groups=six[:5])
        self.assertEqual([g["GroupId"] for g in five["Groups"]], six[:5])
        self.assertEqual(self.available(), 248)

    def test_attach_detach_delete(self):
        inst = self.launch()
        iid = inst["InstanceId"]
        e = self.eni()["NetworkInterfaceId"]
        att = self.ec2.attach_network_interface(NetworkInterfaceId=e, InstanceId=iid, DeviceIndex=1)["AttachmentId"]
        self.assertTrue(att.startswith("eni-attach-"))
        got = self.get(e)
        self.assertEqual(got["Status"], "in-use")
        self.assertEqual(got["Attachment"]["InstanceId"], iid)
        self.assertEqual(got["Attachment"]["DeviceIndex"], 1)
        self.assertEqual(got["Attachment"]["Status"], "attached")
        self.assertFalse(got["Attachment"]["DeleteOnTermination"])
        d = self.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
        self.assertEqual([n["NetworkInterfaceId"] for n in d["NetworkInterfaces"]],
                         [inst["NetworkInterfaces"][0]["NetworkInterfaceId"], e])
        self.assertError("InvalidNetworkInterface.InUse", self.ec2.attach_network_interface,
                         NetworkInterfaceId=e, InstanceId=iid, DeviceIndex=2)
        other = self.eni()["NetworkInterfaceId"]
        self.assertError("InvalidParameterValue", self.ec2.attach_network_interface,
                         NetworkInterfaceId=other, InstanceId=iid, DeviceIndex=1)
        self.assertError("InvalidNetworkInterface.InUse", self.ec2.delete_network_interface, NetworkInterfaceId=e)
        primary_att = inst["NetworkInterfaces"][0]["Attachment"]["AttachmentId"]
        self.assertError("OperationNotPermitted", self.ec2.detach_network_interface, AttachmentId=primary_att)
        self.assertError("InvalidAttachmentID.NotFound", self.ec2.detach_network_interface,
                         AttachmentId="eni-attach-0000000000000000f")
        self.ec2.detach_network_interface(AttachmentId=att)
        self.assertEqual(self.get(e)["Status"], "available")
        # the ended attachment shows as "detached" for a while, as on AWS,
        # also by the attachment-id filter Terraform's waiter uses
        self.assertEqual((self.get(e)["Attachment"]["Status"], self.get(e)["Attachment"]["AttachmentId"]),
                         ("detached", att))
        by_att = self.ec2.describe_network_interfaces(Filters=[{"Name": "attachment.attachment-id",
                                                                "Values": [att]}])["NetworkInterfaces"]
        self.assertEqual([(n["NetworkInterfaceId"], n["Attachment"]["Status"]) for n in by_att], [(e, "detached")])
        self.assertError("InvalidAttachmentID.NotFound", self.ec2.detach_network_interface, AttachmentId=att)
        d = self.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
        self.assertEqual(len(d["NetworkInterfaces"]), 1)
        # attached again: the new attachment, not the old one
        att2 = self.ec2.attach_network_interface(NetworkInterfaceId=e, InstanceId=iid, DeviceIndex=1)["AttachmentId"]
        self.assertEqual((self.get(e)["Attachment"]["AttachmentId"], self.get(e)["Attachment"]["Status"]),
                         (att2, "attached"))
        self.ec2.detach_network_interface(AttachmentId=att2)
        before = self.available()
        self.ec2.delete_network_interface(NetworkInterfaceId=e)
        self.assertEqual(self.available(), before + 1)
        self.assertError("InvalidNetworkInterfaceID.NotFound", self.ec2.delete_network_interface, NetworkInterfaceId=e)
        # another VPC's interface cannot join
        vpc2 = self.ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
        sub2 = self.ec2.create_subnet(VpcId=vpc2, CidrBlock="10.99.1.0/24")["Subnet"]["SubnetId"]
        far = self.ec2.create_network_interface(SubnetId=sub2)["NetworkInterface"]["NetworkInterfaceId"]
        self.assertError("InvalidParameterValue", self.ec2.attach_network_interface,
                         NetworkInterfaceId=far, InstanceId=iid, DeviceIndex=2)

    def test_modify_attribute(self):
        inst = self.launch()
        e = inst["NetworkInterfaces"][0]["NetworkInterfaceId"]
        sg = self.ec2.create_security_group(VpcId=self.vpc, GroupName="m", Description="m")["GroupId"]
        self.ec2.modify_network_interface_attribute(NetworkInterfaceId=e, Groups=[sg])
        self.assertEqual(self.get(e)["Groups"], [{"GroupId": sg, "GroupName": "m"}])
        d = self.ec2.describe_instances(InstanceIds=[inst["InstanceId"]])["Reservations"][0]["Instances"][0]
        self.assertEqual(d["SecurityGroups"], [{"GroupId": sg, "GroupName": "m"}], "the instance follows its ENI")
        self.ec2.modify_network_interface_attribute(NetworkInterfaceId=e, SourceDestCheck={"Value": False})
        self.assertFalse(self.get(e)["SourceDestCheck"])
        d = self.ec2.describe_instances(InstanceIds=[inst["InstanceId"]])["Reservations"][0]["Instances"][0]
        self.assertFalse(d["SourceDestCheck"])
        self.ec2.modify_network_interface_attribute(NetworkInterfaceId=e, Description={"Value": "router"})
        self.assertEqual(self.get(e)["Description"], "router")
        att = self.get(e)["Attachment"]["AttachmentId"]
        self.ec2.modify_network_interface_attribute(NetworkInterfaceId=e, Attachment={
            "AttachmentId": att, "DeleteOnTermination": False})
        self.assertFalse(self.get(e)["Attachment"]["DeleteOnTermination"])
        self.assertError("MissingParameter", self.ec2.modify_network_interface_attribute, NetworkInterfaceId=e)
        self.assertError("InvalidGroup.NotFound", self.ec2.modify_network_interface_attribute, NetworkInterfaceId=e,
                         Groups=["sg-0000000000000000f"])
        # the CLI's shorthand
        self.vpcd.cli("modify-network-interface-attribute", "--network-interface-id", e, "--source-dest-check")
        self.assertTrue(self.get(e)["SourceDestCheck"])
        # kept after termination (DeleteOnTermination false), detached
        self.ec2.terminate_instances(InstanceIds=[inst["InstanceId"]])
        self.assertEqual(self.get(e)["Status"], "available")

    def test_dependencies(self):
        sg = self.ec2.create_security_group(VpcId=self.vpc, GroupName="dep", Description="d")["GroupId"]
        e = self.eni(Groups=[sg])["NetworkInterfaceId"]
        self.assertError("DependencyViolation", self.ec2.delete_subnet, SubnetId=self.subnet)
        self.assertError("DependencyViolation", self.ec2.delete_security_group, GroupId=sg)
        self.ec2.delete_network_interface(NetworkInterfaceId=e)
        self.ec2.delete_security_group(GroupId=sg)
        self.ec2.delete_subnet(SubnetId=self.subnet)

    def test_route_to_interface_turns_blackhole(self):
        e = self.eni()["NetworkInterfaceId"]
        rtb = self.ec2.create_route_table(VpcId=self.vpc)["RouteTable"]["RouteTableId"]
        self.ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="10.0.0.0/24", NetworkInterfaceId=e)

        def state():
            t = self.ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]
            return [r["State"] for r in t["Routes"] if r.get("NetworkInterfaceId") == e][0]

        self.assertEqual(state(), "active")
        self.ec2.delete_network_interface(NetworkInterfaceId=e)
        self.assertEqual(state(), "blackhole")

    def test_filters_and_paging(self):
        sg = self.ec2.create_security_group(VpcId=self.vpc, GroupName="flt", Description="f")["GroupId"]
        a = self.eni(Description="alpha")["NetworkInterfaceId"]
        b = self.eni(Groups=[sg], PrivateIpAddress="10.96.1.77")["NetworkInterfaceId"]
        inst = self.launch()
        c = inst["NetworkInterfaces"][0]["NetworkInterfaceId"]

        def ids(*filters):
            fs = [{"Name": n, "Values": v} for n, v in filters] + [{"Name": "vpc-id", "Values": [self.vpc]}]
            return sorted(x["NetworkInterfaceId"] for x in
                          self.ec2.describe_network_interfaces(Filters=fs)["NetworkInterfaces"])

        self.assertEqual(ids(), sorted([a, b, c]))
        self.assertEqual(ids(("group-id", [sg])), [b])
        self.assertEqual(ids(("private-ip-address", ["10.96.1.77"])), [b])
        self.assertEqual(ids(("addresses.private-ip-address", ["10.96.1.77"])), [b])
        self.assertEqual(ids(("description", ["alp*"])), [a])
        self.assertEqual(ids(("status", ["in-use"])), [c])
        self.assertEqual(ids(("attachment.instance-id", [inst["InstanceId"]])), [c])
        self.assertEqual(ids(("subnet-id", [self.subnet]), ("status", ["available"])), sorted([a, b]))
        self.assertEqual(ids(("mac-address", [self.get(a)["MacAddress"]])), [a])
        for _ in range(4):
            self.eni()
        seen, token = [], None
        while True:
            kw = {"Filters": [{"Name": "vpc-id", "Values": [self.vpc]}], "MaxResults": 5}
            if token:
                kw["NextToken"] = token
            out = self.ec2.describe_network_interfaces(**kw)
            self.assertLessEqual(len(out["NetworkInterfaces"]), 5)
            seen += [x["NetworkInterfaceId"] for x in out["NetworkInterfaces"]]
            token = out.get("NextToken")
            if not token:
                break
        self.assertEqual(len(seen), 7)
        self.assertEqual(len(set(seen)), 7)
        out = self.vpcd.cli("describe-network-interfaces", "--filters", "Name=vpc-id,Values=" + self.vpc,
                            "--query", "NetworkInterfaces[].PrivateIpAddress")
        self.assertIn("10.96.1.77", out)

    # --- Elastic IPs -------------------------------------------------------------------
    def test_allocate_describe_release(self):
        a = self.ec2.allocate_address(Domain="vpc", TagSpecifications=[
            {"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": "web"}]}])
        self.assertTrue(a["AllocationId"].startswith("eipalloc-"))
        self.assertTrue(a["PublicIp"].startswith("198.51.100."))
        self.assertEqual(a["Domain"], "vpc")
        got = self.ec2.describe_addresses(AllocationIds=[a["AllocationId"]])["Addresses"][0]
        self.assertEqual(got["PublicIp"], a["PublicIp"])
        self.assertEqual(got["Tags"], [{"Key": "Name", "Value": "web"}])
        self.assertNotIn("AssociationId", got)
        self.assertEqual(self.ec2.describe_addresses(PublicIps=[a["PublicIp"]])["Addresses"][0]["AllocationId"],
                         a["AllocationId"])
        self.assertEqual(self.ec2.describe_addresses(Filters=[{"Name": "tag:Name", "Values": ["web"]}])["Addresses"][0]
                         ["AllocationId"], a["AllocationId"])
        self.assertError("InvalidAllocationID.NotFound", self.ec2.describe_addresses,
                         AllocationIds=["eipalloc-0000000000000000f"])
        self.assertError("InvalidAddress.NotFound", self.ec2.describe_addresses, PublicIps=["203.0.113.9"])
        b = self.ec2.allocate_address(Domain="vpc")
        self.assertNotEqual(a["PublicIp"], b["PublicIp"])
        self.ec2.release_address(AllocationId=a["AllocationId"])
        self.assertError("InvalidAllocationID.NotFound", self.ec2.release_address, AllocationId=a["AllocationId"])
        # the released address is the first free one again
        c = self.ec2.allocate_address(Domain="vpc")
        self.assertEqual(c["PublicIp"], a["PublicIp"])

    def test_quota(self):
        for _ in range(5):
            self.ec2.allocate_address(Domain="vpc")
        self.assertError("AddressLimitExceeded", self.ec2.allocate_address, Domain="vpc")

    def test_associate_needs_internet_gateway(self):
        inst = self.launch()
        a = self.ec2.allocate_address(Domain="vpc")["AllocationId"]
        msg = self.assertError("Gateway.NotAttached", self.ec2.associate_address, AllocationId=a,
                               InstanceId=inst["InstanceId"])
        self.assertIn(self.vpc, msg)
        self.igw()
        assoc = self.ec2.associate_address(AllocationId=a, InstanceId=inst["InstanceId"])["AssociationId"]
        self.assertTrue(assoc.startswith("eipassoc-"))

    def test_associate_with_instance_and_interface(self):
        igw = self.igw()
        inst = self.launch()
        iid = inst["InstanceId"]
        eni = inst["NetworkInterfaces"][0]["NetworkInterfaceId"]
        a = self.ec2.allocate_address(Domain="vpc")
        assoc = self.ec2.associate_address(AllocationId=a["AllocationId"], InstanceId=iid)["AssociationId"]
        got = self.ec2.describe_addresses(AllocationIds=[a["AllocationId"]])["Addresses"][0]
        self.assertEqual(got["AssociationId"], assoc)
        self.assertEqual(got["InstanceId"], iid)
        self.assertEqual(got["NetworkInterfaceId"], eni)
        self.assertEqual(got["PrivateIpAddress"], "10.96.1.4")
        d = self.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
        self.assertEqual(d["PublicIpAddress"], a["PublicIp"])
        e = self.get(eni)
        self.assertEqual(e["Association"]["PublicIp"], a["PublicIp"])
        self.assertEqual(e["Association"]["AllocationId"], a["AllocationId"])
        self.assertEqual(e["Association"]["IpOwnerId"], "123456789012")
        self.assertEqual(self.ec2.describe_addresses(Filters=[{"Name": "instance-id", "Values": [iid]}])["Addresses"][0]
                         ["AllocationId"], a["AllocationId"])
        self.assertEqual(self.ec2.describe_network_interfaces(Filters=[
            {"Name": "association.public-ip", "Values": [a["PublicIp"]]}])["NetworkInterfaces"][0]["NetworkInterfaceId"], eni)
        # in use: neither released nor moved without AllowReassociation
        self.assertError("InvalidIPAddress.InUse", self.ec2.release_address, AllocationId=a["AllocationId"])
        other = self.eni()["NetworkInterfaceId"]
        self.assertError("Resource.AlreadyAssociated", self.ec2.associate_address, AllocationId=a["AllocationId"],
                         NetworkInterfaceId=other)
        self.assertError("DependencyViolation", self.ec2.detach_internet_gateway, InternetGatewayId=igw, VpcId=self.vpc)
        moved = self.ec2.associate_address(AllocationId=a["AllocationId"], NetworkInterfaceId=other,
                                           AllowReassociation=True)["AssociationId"]
        d = self.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
        self.assertNotIn("PublicIpAddress", d)
        self.assertEqual(self.get(other)["Association"]["PublicIp"], a["PublicIp"])
        got = self.ec2.describe_addresses(AllocationIds=[a["AllocationId"]])["Addresses"][0]
        self.assertNotIn("InstanceId", got)
        self.assertEqual(got["NetworkInterfaceId"], other)
        # an interface's address follows it to an instance
        self.ec2.attach_network_interface(NetworkInterfaceId=other, InstanceId=iid, DeviceIndex=1)
        got = self.ec2.describe_addresses(AllocationIds=[a["AllocationId"]])["Addresses"][0]
        self.assertEqual(got["InstanceId"], iid)
        self.ec2.disassociate_address(AssociationId=moved)
        self.assertNotIn("Association", self.get(other))
        self.assertError("InvalidAssociationID.NotFound", self.ec2.disassociate_address, AssociationId=moved)
        self.ec2.release_address(AllocationId=a["AllocationId"])
        self.assertError("InvalidAllocationID.NotFound", self.ec2.associate_address,
                         AllocationId=a["AllocationId"], InstanceId=iid)

    def test_elastic_ip_replaces_auto_assigned_address(self):
        self.igw()
        inst = self.ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1, NetworkInterfaces=[
            {"DeviceIndex": 0, "SubnetId": self.subnet, "AssociatePublicIpAddress": True}])["Instances"][0]
        auto = inst["PublicIpAddress"]
        a = self.ec2.allocate_address(Domain="vpc")
        self.assertNotEqual(a["PublicIp"], auto, "an auto-assigned address is not free")
        self.ec2.associate_address(AllocationId=a["AllocationId"], InstanceId=inst["InstanceId"])
        d = self.ec2.describe_instances(InstanceIds=[inst["InstanceId"]])["Reservations"][0]["Instances"][0]
        self.assertEqual(d["PublicIpAddress"], a["PublicIp"])
        # terminating the instance disassociates the address, which stays allocated
        self.ec2.terminate_instances(InstanceIds=[inst["InstanceId"]])
        got = self.ec2.describe_addresses(AllocationIds=[a["AllocationId"]])["Addresses"][0]
        self.assertNotIn("AssociationId", got)

    def test_cli(self):
        self.igw()
        inst = self.launch()
        out = self.vpcd.cli("allocate-address", "--domain", "vpc")
        assoc = self.vpcd.cli("associate-address", "--allocation-id", out["AllocationId"],
                              "--instance-id", inst["InstanceId"])
        self.assertTrue(assoc["AssociationId"].startswith("eipassoc-"))
        got = self.vpcd.cli("describe-addresses", "--public-ips", out["PublicIp"])
        self.assertEqual(got["Addresses"][0]["InstanceId"], inst["InstanceId"])
        self.vpcd.cli("disassociate-address", "--association-id", assoc["AssociationId"])
        self.vpcd.cli("release-address", "--allocation-id", out["AllocationId"])
        eni = self.vpcd.cli("create-network-interface", "--subnet-id", self.subnet, "--description", "cli")
        self.assertEqual(eni["NetworkInterface"]["Description"], "cli")
        self.vpcd.cli("delete-network-interface", "--network-interface-id", eni["NetworkInterface"]["NetworkInterfaceId"])


class Restart(VpcdTestCase):
    def test_restart_keeps_interfaces_and_addresses(self):
        vpc = self.ec2.create_vpc(CidrBlock="10.96.0.0/16")["Vpc"]["VpcId"]
        sub = self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.96.1.0/24")["Subnet"]["SubnetId"]
        g = self.ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        self.ec2.attach_internet_gateway(InternetGatewayId=g, VpcId=vpc)
        e = self.ec2.create_network_interface(SubnetId=sub)["NetworkInterface"]
        a = self.ec2.allocate_address(Domain="vpc")
        self.ec2.associate_address(AllocationId=a["AllocationId"], NetworkInterfaceId=e["NetworkInterfaceId"])
        before_eni = self.ec2.describe_network_interfaces(NetworkInterfaceIds=[e["NetworkInterfaceId"]])
        before_eip = self.ec2.describe_addresses()["Addresses"]
        self.vpcd.restart()
        self.assertEqual(self.ec2.describe_network_interfaces(NetworkInterfaceIds=[e["NetworkInterfaceId"]])
                         ["NetworkInterfaces"], before_eni["NetworkInterfaces"])
        self.assertEqual(self.ec2.describe_addresses()["Addresses"], before_eip)
        self.assertNotEqual(self.ec2.allocate_address(Domain="vpc")["PublicIp"], a["PublicIp"])
        self.assertEqual(self.ec2.create_network_interface(SubnetId=sub)["NetworkInterface"]["PrivateIpAddress"],
                         "10.96.1.5")
