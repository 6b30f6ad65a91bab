"""Instances through boto3 and the aws CLI: images, RunInstances (addresses,
groups, interfaces, public addresses, tags, counts, errors), the
reservations of DescribeInstances (filters, paging), Stop/Start/Terminate,
the subnet's availableIpAddressCount kept exact, dependency violations,
and a restart that keeps everything."""
from vpcdtest import VpcdTestCase

IMAGE = "ami-0c0dd0e0a0b0c0d01"


class T(VpcdTestCase):
    def setUp(self):
        self.vpc = self.ec2.create_vpc(CidrBlock="10.96.0.0/16")["Vpc"]["VpcId"]
        self.subnet = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.96.1.0/24")["Subnet"]["SubnetId"]

    def run1(self, **kw):
        args = dict(ImageId=IMAGE, MinCount=1, MaxCount=1, SubnetId=self.subnet)
        args.update(kw)
        return self.ec2.run_instances(**args)

    def inst(self, iid):
        return self.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]

    def available(self, subnet=None):
        return self.ec2.describe_subnets(SubnetIds=[subnet or self.subnet])["Subnets"][0]["AvailableIpAddressCount"]

    def default_sg(self, vpc=None):
        return self.ec2.describe_security_groups(Filters=[
            {"Name": "vpc-id", "Values": [vpc or self.vpc]},
            {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]

    def igw(self, vpc=None):
        g = self.ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        self.ec2.attach_internet_gateway(InternetGatewayId=g, VpcId=vpc or self.vpc)
        return g

    # --- images -----------------------------------------------------------------
    def test_describe_images(self):
        images = self.ec2.describe_images()["Images"]
        names = {i["Name"]: i for i in images}
        self.assertIn("vpcd-linux", names)
        img = names["vpcd-linux"]
        self.assertEqual(img["ImageId"], IMAGE)
        self.assertEqual(img["State"], "available")
        self.assertTrue(img["Public"])
        self.assertEqual(img["Architecture"], "x86_64")
        self.assertEqual(self.ec2.describe_images(Owners=["amazon"], Filters=[
            {"Name": "name", "Values": ["vpcd-lin*"]}])["Images"][0]["ImageId"], IMAGE)
        self.assertEqual(self.ec2.describe_images(Owners=["self"])["Images"], [])
        self.assertEqual(self.ec2.describe_images(ImageIds=[IMAGE])["Images"][0]["Name"], "vpcd-linux")
        self.assertError("InvalidAMIID.NotFound", self.ec2.describe_images, ImageIds=["ami-0000000000000000f"])
        self.assertError("InvalidAMIID.Malformed", self.ec2.describe_images, ImageIds=["nope"])
        out = self.vpcd.cli("describe-images", "--image-ids", IMAGE)
        self.assertEqual(out["Images"][0]["Name"], "vpcd-linux")

    # --- RunInstances -------------------------------------------------------------
    def test_run_instance_shape(self):
        r = self.run1(InstanceType="t3.micro")
        self.assertTrue(r["ReservationId"].startswith("r-"))
        self.assertEqual(r["OwnerId"], "123456789012")
        i = r["Instances"][0]
        self.assertTrue(i["InstanceId"].startswith("i-"))
        self.assertEqual(i["State"], {"Code": 0, "Name": "pending"})
        self.assertEqual(i["ImageId"], IMAGE)
        self.assertEqual(i["InstanceType"], "t3.micro")
        self.assertEqual(i["PrivateIpAddress"], "10.96.1.4")
        self.assertEqual(i["PrivateDnsName"], "ip-10-96-1-4.ec2.internal")
        self.assertEqual(i["SubnetId"], self.subnet)
        self.assertEqual(i["VpcId"], self.vpc)
        self.assertEqual(i["Placement"]["AvailabilityZone"], "us-east-1a")
        self.assertNotIn("PublicIpAddress", i)
        sg = self.default_sg()
        self.assertEqual(i["SecurityGroups"], [{"GroupId": sg, "GroupName": "default"}])
        self.assertEqual(len(i["NetworkInterfaces"]), 1)
        ni = i["NetworkInterfaces"][0]
        self.assertTrue(ni["NetworkInterfaceId"].startswith("eni-"))
        self.assertEqual(ni["PrivateIpAddress"], "10.96.1.4")
        self.assertEqual(ni["Attachment"]["DeviceIndex"], 0)
        self.assertTrue(ni["Attachment"]["DeleteOnTermination"])
        self.assertEqual(ni["Status"], "in-use")
        self.assertRegex(ni["MacAddress"], r"^02(:[0-9a-f]{2}){5}$")
        self.assertEqual(ni["Groups"], [{"GroupId": sg, "GroupName": "default"}])
        self.assertTrue(i["SourceDestCheck"])
        self.assertIn("LaunchTime", i)
        # pending becomes running by the next Describe
        d = self.inst(i["InstanceId"])
        self.assertEqual(d["State"], {"Code": 16, "Name": "running"})
        self.assertEqual(d["NetworkInterfaces"][0]["NetworkInterfaceId"], ni["NetworkInterfaceId"])

    def test_addresses_in_order_and_reuse_after_termination(self):
        self.assertEqual(self.available(), 251)
        ids = [self.run1()["Instances"][0]["InstanceId"] for _ in range(3)]
        self.assertEqual([self.inst(i)["PrivateIpAddress"] for i in ids], ["10.96.1.4", "10.96.1.5", "10.96.1.6"])
        self.assertEqual(self.available(), 248)
        self.ec2.terminate_instances(InstanceIds=[ids[0]])
        self.assertEqual(self.available(), 249)
        nxt = self.run1()["Instances"][0]
        self.assertEqual(nxt["PrivateIpAddress"], "10.96.1.4", "the lowest free address comes back")
        self.assertEqual(self.available(), 248)

    def test_count_launches_one_reservation(self):
        r = self.run1(MinCount=3, MaxCount=3)
        self.assertEqual(len(r["Instances"]), 3)
        self.assertEqual([i["AmiLaunchIndex"] for i in r["Instances"]], [0, 1, 2])
        self.assertEqual(sorted(i["PrivateIpAddress"] for i in r["Instances"]),
                         ["10.96.1.4", "10.96.1.5", "10.96.1.6"])
        res = self.ec2.describe_instances(Filters=[{"Name": "reservation-id", "Values": [r["ReservationId"]]}])
        self.assertEqual(len(res["Reservations"]), 1)
        self.assertEqual(len(res["Reservations"][0]["Instances"]), 3)

    def test_count_limited_by_free_addresses(self):
        tiny = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.96.9.0/28")["Subnet"]["SubnetId"]
        self.assertEqual(self.available(tiny), 11)
        r = self.run1(SubnetId=tiny, MinCount=2, MaxCount=20)
        self.assertEqual(len(r["Instances"]), 11)
        self.assertEqual(self.available(tiny), 0)
        self.assertError("InsufficientFreeAddressesInSubnet", self.run1, SubnetId=tiny)

    def test_explicit_private_address(self):
        i = self.run1(PrivateIpAddress="10.96.1.50")["Instances"][0]
        self.assertEqual(i["PrivateIpAddress"], "10.96.1.50")
        self.assertEqual(self.run1()["Instances"][0]["PrivateIpAddress"], "10.96.1.4")
        msg = self.assertError("InvalidIPAddress.InUse", self.run1, PrivateIpAddress="10.96.1.50")
        self.assertEqual(msg, "Address 10.96.1.50 is in use.")
        msg = self.assertError("InvalidParameterValue", self.run1, PrivateIpAddress="10.96.2.5")
        self.assertEqual(msg, "Address 10.96.2.5 does not fall within the subnet's address range")
        for reserved in ("10.96.1.0", "10.96.1.1", "10.96.1.2", "10.96.1.3", "10.96.1.255"):
            self.assertError("InvalidParameterValue", self.run1, PrivateIpAddress=reserved)
        self.assertError("InvalidParameterCombination", self.run1, PrivateIpAddress="10.96.1.60", MinCount=2, MaxCount=2)
        self.assertEqual(self.available(), 249)

    def test_security_groups(self):
        sg = self.ec2.create_security_group(VpcId=self.vpc, GroupName="web", Description="web")["GroupId"]
        i = self.run1(SecurityGroupIds=[sg])["Instances"][0]
        self.assertEqual(i["SecurityGroups"], [{"GroupId": sg, "GroupName": "web"}])
        other = self.ec2.create_vpc(CidrBlock="10.97.0.0/16")["Vpc"]["VpcId"]
        foreign = self.ec2.create_security_group(VpcId=other, GroupName="x", Description="x")["GroupId"]
        self.assertError("InvalidParameter", self.run1, SecurityGroupIds=[foreign])
        self.assertError("InvalidGroup.NotFound", self.run1, SecurityGroupIds=["sg-0000000000000000f"])
        many = [self.ec2.create_security_group(VpcId=self.vpc, GroupName="g%d" % k, Description="g")["GroupId"]
                for k in range(6)]
        self.assertError("SecurityGroupsPerInterfaceLimitExceeded", self.run1, SecurityGroupIds=many)
        # groups by name, in the subnet's VPC
        j = self.run1(SecurityGroups=["web"])["Instances"][0]
        self.assertEqual(j["SecurityGroups"][0]["GroupId"], sg)
        # in use: the group cannot be deleted until the instance is gone
        self.assertError("DependencyViolation", self.ec2.delete_security_group, GroupId=sg)
        self.ec2.terminate_instances(InstanceIds=[i["InstanceId"], j["InstanceId"]])
        self.ec2.delete_security_group(GroupId=sg)

    def test_default_subnet_and_public_address(self):
        # no subnet: the default VPC's default subnet, which maps public addresses
        i = self.ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1)["Instances"][0]
        sub = self.ec2.describe_subnets(SubnetIds=[i["SubnetId"]])["Subnets"][0]
        self.assertTrue(sub["DefaultForAz"])
        self.assertEqual(sub["AvailabilityZone"], "us-east-1a")
        self.assertTrue(i["PrivateIpAddress"].startswith("172.31."))
        self.assertTrue(i["PublicIpAddress"].startswith("198.51.100."))
        ni = i["NetworkInterfaces"][0]
        self.assertEqual(ni["Association"]["PublicIp"], i["PublicIpAddress"])
        self.assertEqual(ni["Association"]["IpOwnerId"], "amazon")
        d = self.inst(i["InstanceId"])
        self.assertEqual(d["PublicIpAddress"], i["PublicIpAddress"])
        got = self.ec2.describe_instances(Filters=[{"Name": "ip-address", "Values": [i["PublicIpAddress"]]}])
        self.assertEqual(got["Reservations"][0]["Instances"][0]["InstanceId"], i["InstanceId"])
        # AssociatePublicIpAddress=false wins over the subnet's default
        j = self.ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1, NetworkInterfaces=[
            {"DeviceIndex": 0, "AssociatePublicIpAddress": False}])["Instances"][0]
        self.assertNotIn("PublicIpAddress", j)
        self.ec2.terminate_instances(InstanceIds=[i["InstanceId"], j["InstanceId"]])

    def test_public_address_needs_internet_gateway(self):
        spec = [{"DeviceIndex": 0, "SubnetId": self.subnet, "AssociatePublicIpAddress": True}]
        msg = self.assertError("Gateway.NotAttached", self.ec2.run_instances, ImageId=IMAGE, MinCount=1, MaxCount=1,
                               NetworkInterfaces=spec)
        self.assertIn(self.vpc, msg)
        self.ec2.modify_subnet_attribute(SubnetId=self.subnet, MapPublicIpOnLaunch={"Value": True})
        self.assertError("Gateway.NotAttached", self.run1)
        self.assertEqual(self.available(), 251, "a failed launch takes no address")
        igw = self.igw()
        i = self.ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1, NetworkInterfaces=spec)["Instances"][0]
        self.assertIn("PublicIpAddress", i)
        j = self.run1()["Instances"][0]
        self.assertIn("PublicIpAddress", j)
        self.assertNotEqual(i["PublicIpAddress"], j["PublicIpAddress"])
        # mapped public addresses keep the gateway attached
        self.assertError("DependencyViolation", self.ec2.detach_internet_gateway, InternetGatewayId=igw, VpcId=self.vpc)

    def test_network_interfaces_at_launch(self):
        sub2 = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.96.2.0/24")["Subnet"]["SubnetId"]
        sg = self.ec2.create_security_group(VpcId=self.vpc, GroupName="ni", Description="ni")["GroupId"]
        eni = self.ec2.create_network_interface(SubnetId=sub2, Description="pre-made")["NetworkInterface"]
        i = self.ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1, NetworkInterfaces=[
            {"DeviceIndex": 1, "NetworkInterfaceId": eni["NetworkInterfaceId"]},
            {"DeviceIndex": 0, "SubnetId": self.subnet, "Groups": [sg], "PrivateIpAddress": "10.96.1.20",
             "Description": "primary"}],
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "two-nics"}]},
                               {"ResourceType": "network-interface", "Tags": [{"Key": "role", "Value": "nic"}]}],
        )["Instances"][0]
        self.assertEqual(i["PrivateIpAddress"], "10.96.1.20")
        self.assertEqual(i["Tags"], [{"Key": "Name", "Value": "two-nics"}])
        nis = i["NetworkInterfaces"]
        self.assertEqual([n["Attachment"]["DeviceIndex"] for n in nis], [0, 1])
        self.assertEqual(nis[0]["Groups"][0]["GroupId"], sg)
        self.assertEqual(nis[0]["Description"], "primary")
        self.assertEqual(nis[1]["NetworkInterfaceId"], eni["NetworkInterfaceId"])
        self.assertFalse(nis[1]["Attachment"]["DeleteOnTermination"])
        primary = self.ec2.describe_network_interfaces(NetworkInterfaceIds=[nis[0]["NetworkInterfaceId"]])
        self.assertEqual(primary["NetworkInterfaces"][0]["TagSet"], [{"Key": "role", "Value": "nic"}])
        got = self.ec2.describe_instances(Filters=[{"Name": "network-interface.network-interface-id",
                                                    "Values": [eni["NetworkInterfaceId"]]}])
        self.assertEqual(got["Reservations"][0]["Instances"][0]["InstanceId"], i["InstanceId"])
        # terminating deletes the primary ENI and keeps the pre-made one, detached
        self.ec2.terminate_instances(InstanceIds=[i["InstanceId"]])
        left = self.ec2.describe_network_interfaces(NetworkInterfaceIds=[eni["NetworkInterfaceId"]])["NetworkInterfaces"][0]
        self.assertEqual(left["Status"], "available")
        self.assertEqual(left["Attachment"]["Status"], "detached")	# shown a while after, as on AWS
        self.assertError("InvalidNetworkInterfaceID.NotFound", self.ec2.describe_network_interfaces,
                         NetworkInterfaceIds=[nis[0]["NetworkInterfaceId"]])

    def test_network_interface_errors(self):
        run = self.ec2.run_instances
        self.assertError("InvalidParameterCombination", run, ImageId=IMAGE, MinCount=1, MaxCount=1,
                         SubnetId=self.subnet, NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": self.subnet}])
        self.assertError("InvalidParameterValue", run, ImageId=IMAGE, MinCount=1, MaxCount=1,
                         NetworkInterfaces=[{"DeviceIndex": 1, "SubnetId": self.subnet}])
        self.assertError("InvalidParameterCombination", run, ImageId=IMAGE, MinCount=1, MaxCount=1,
                         NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": self.subnet, "AssociatePublicIpAddress": True},
                                            {"DeviceIndex": 1, "SubnetId": self.subnet}])
        self.assertError("InvalidNetworkInterfaceID.NotFound", run, ImageId=IMAGE, MinCount=1, MaxCount=1,
                         NetworkInterfaces=[{"DeviceIndex": 0, "NetworkInterfaceId": "eni-0000000000000000f"}])

    def test_run_errors(self):
        self.assertError("InvalidAMIID.NotFound", self.run1, ImageId="ami-0000000000000000f")
        self.assertError("InvalidAMIID.Malformed", self.run1, ImageId="image-1")
        self.assertError("InvalidSubnetID.NotFound", self.run1, SubnetId="subnet-0000000000000000f")
        self.assertError("InvalidParameterValue", self.run1, InstanceType="x9.gigantic")
        self.assertError("InvalidParameterValue", self.run1, MinCount=3, MaxCount=2)
        self.assertError("InvalidParameterValue", self.run1, MinCount=0, MaxCount=1)
        self.assertError("InvalidParameterValue", self.run1, TagSpecifications=[
            {"ResourceType": "vpc", "Tags": [{"Key": "a", "Value": "b"}]}])
        self.assertError("DryRunOperation", self.run1, DryRun=True)
        self.assertEqual(self.available(), 251)

    def test_client_token_is_idempotent(self):
        a = self.run1(ClientToken="launch-1")
        b = self.run1(ClientToken="launch-1")
        self.assertEqual(a["ReservationId"], b["ReservationId"])
        self.assertEqual(a["Instances"][0]["InstanceId"], b["Instances"][0]["InstanceId"])
        self.assertEqual(self.available(), 250)

    # --- states -------------------------------------------------------------------
    def test_stop_start_terminate(self):
        self.igw()
        i = self.ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1, NetworkInterfaces=[
            {"DeviceIndex": 0, "SubnetId": self.subnet, "AssociatePublicIpAddress": True}])["Instances"][0]
        iid = i["InstanceId"]
        out = self.ec2.stop_instances(InstanceIds=[iid])["StoppingInstances"][0]
        self.assertEqual(out["PreviousState"], {"Code": 16, "Name": "running"})
        self.assertEqual(out["CurrentState"], {"Code": 64, "Name": "stopping"})
        d = self.inst(iid)
        self.assertEqual(d["State"]["Name"], "stopped")
        self.assertEqual(d["PrivateIpAddress"], "10.96.1.4", "a stopped instance keeps its private address")
        self.assertNotIn("PublicIpAddress", d, "and loses its auto-assigned public address")
        self.assertTrue(d["StateTransitionReason"].startswith("User initiated ("))
        again = self.ec2.stop_instances(InstanceIds=[iid])["StoppingInstances"][0]
        self.assertEqual(again["PreviousState"]["Name"], "stopped")
        self.assertEqual(again["CurrentState"]["Name"], "stopped")
        out = self.ec2.start_instances(InstanceIds=[iid])["StartingInstances"][0]
        self.assertEqual(out["PreviousState"], {"Code": 80, "Name": "stopped"})
        self.assertEqual(out["CurrentState"], {"Code": 0, "Name": "pending"})
        d = self.inst(iid)
        self.assertEqual(d["State"]["Name"], "running")
        self.assertIn("PublicIpAddress", d, "start assigns a public address again")
        out = self.ec2.terminate_instances(InstanceIds=[iid])["TerminatingInstances"][0]
        self.assertEqual(out["PreviousState"]["Name"], "running")
        self.assertEqual(out["CurrentState"], {"Code": 32, "Name": "shutting-down"})
        d = self.inst(iid)
        self.assertEqual(d["State"], {"Code": 48, "Name": "terminated"})
        self.assertNotIn("PrivateIpAddress", d)
        self.assertEqual(d["NetworkInterfaces"], [])
        self.assertEqual(self.available(), 251)
        again = self.ec2.terminate_instances(InstanceIds=[iid])["TerminatingInstances"][0]
        self.assertEqual(again["PreviousState"]["Name"], "terminated")
        self.assertEqual(again["CurrentState"]["Name"], "terminated")
        self.assertError("IncorrectInstanceState", self.ec2.stop_instances, InstanceIds=[iid])
        self.assertError("IncorrectInstanceState", self.ec2.start_instances, InstanceIds=[iid])

    def test_state_errors(self):
        msg = self.assertError("InvalidInstanceID.NotFound", self.ec2.terminate_instances,
                               InstanceIds=["i-0000000000000000f"])
        self.assertEqual(msg, "The instance ID 'i-0000000000000000f' does not exist")
        msg = self.assertError("InvalidInstanceID.NotFound", self.ec2.stop_instances,
                               InstanceIds=["i-0000000000000000e", "i-0000000000000000f"])
        self.assertEqual(msg, "The instance IDs 'i-0000000000000000e, i-0000000000000000f' do not exist")
        self.assertError("InvalidInstanceID.NotFound", self.ec2.describe_instances, InstanceIds=["i-0000000000000000f"])
        self.assertError("InvalidInstanceID.Malformed", self.ec2.start_instances, InstanceIds=["x-1"])

    # --- dependencies ----------------------------------------------------------------
    def test_subnet_with_instance_cannot_be_deleted(self):
        iid = self.run1()["Instances"][0]["InstanceId"]
        self.assertError("DependencyViolation", self.ec2.delete_subnet, SubnetId=self.subnet)
        self.ec2.terminate_instances(InstanceIds=[iid])
        self.ec2.delete_subnet(SubnetId=self.subnet)
        # still describable, without a network
        self.assertEqual(self.inst(iid)["State"]["Name"], "terminated")

    # --- DescribeInstances: filters and paging -------------------------------------------
    def test_filters(self):
        sub2 = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.96.2.0/24")["Subnet"]["SubnetId"]
        sg = self.ec2.create_security_group(VpcId=self.vpc, GroupName="f", Description="f")["GroupId"]
        a = self.run1(TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "tier", "Value": "web"}]}])
        b = self.run1(SubnetId=sub2, SecurityGroupIds=[sg], InstanceType="t2.micro")
        a_id, b_id = a["Instances"][0]["InstanceId"], b["Instances"][0]["InstanceId"]

        def ids(*filters):
            fs = [{"Name": n, "Values": v} for n, v in filters] + [{"Name": "vpc-id", "Values": [self.vpc]}]
            out = self.ec2.describe_instances(Filters=fs)
            return sorted(i["InstanceId"] for r in out["Reservations"] for i in r["Instances"])

        self.assertEqual(ids(("vpc-id", [self.vpc])), sorted([a_id, b_id]))
        self.assertEqual(ids(("subnet-id", [sub2])), [b_id])
        self.assertEqual(ids(("private-ip-address", ["10.96.1.4"])), [a_id])
        self.assertEqual(ids(("instance.group-id", [sg])), [b_id])
        self.assertEqual(ids(("group-name", ["f"])), [b_id])
        self.assertEqual(ids(("tag:tier", ["web"])), [a_id])
        self.assertEqual(ids(("tag-key", ["tier"])), [a_id])
        self.assertEqual(ids(("instance-type", ["t2.micro"])), [b_id])
        self.assertEqual(ids(("instance-id", [a_id, b_id]), ("instance-state-name", ["running"])), sorted([a_id, b_id]))
        self.assertEqual(ids(("image-id", [IMAGE])), sorted([a_id, b_id]))
        self.ec2.stop_instances(InstanceIds=[b_id])
        self.assertEqual(ids(("instance-state-name", ["stopped"])), [b_id])
        self.assertEqual(ids(("instance-state-code", ["80"])), [b_id])
        self.assertError("InvalidParameterValue", self.ec2.describe_instances,
                         Filters=[{"Name": "no-such-filter", "Values": ["x"]}])
        out = self.vpcd.cli("describe-instances", "--filters", "Name=subnet-id,Values=" + sub2,
                            "--query", "Reservations[].Instances[].PrivateIpAddress")
        self.assertEqual(out, ["10.96.2.4"])

    def test_paging(self):
        sub = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.96.3.0/24")["Subnet"]["SubnetId"]
        r = self.run1(SubnetId=sub, MinCount=7, MaxCount=7)
        want = sorted(i["InstanceId"] for i in r["Instances"])
        seen, token, pages = [], None, 0
        while True:
            kw = {"Filters": [{"Name": "subnet-id", "Values": [sub]}], "MaxResults": 5}
            if token:
                kw["NextToken"] = token
            out = self.ec2.describe_instances(**kw)
            pages += 1
            for res in out["Reservations"]:
                self.assertEqual(res["ReservationId"], r["ReservationId"])
                seen += [i["InstanceId"] for i in res["Instances"]]
            token = out.get("NextToken")
            if not token:
                break
        self.assertEqual(pages, 2)
        self.assertEqual(sorted(seen), want)
        self.assertError("InvalidParameterValue", self.ec2.describe_instances, MaxResults=2)
        # the CLI pages by itself
        out = self.vpcd.cli("describe-instances", "--filters", "Name=subnet-id,Values=" + sub, "--page-size", "5")
        self.assertEqual(sorted(i["InstanceId"] for res in out["Reservations"] for i in res["Instances"]), want)

    def test_cli_run_and_wait(self):
        out = self.vpcd.cli("run-instances", "--image-id", IMAGE, "--count", "2", "--subnet-id", self.subnet,
                            "--instance-type", "t3.small",
                            "--tag-specifications", "ResourceType=instance,Tags=[{Key=Name,Value=cli}]")
        ids = [i["InstanceId"] for i in out["Instances"]]
        self.assertEqual(len(ids), 2)
        self.vpcd.cli("wait", "instance-running", "--instance-ids", *ids)
        out = self.vpcd.cli("terminate-instances", "--instance-ids", *ids)
        self.assertEqual({t["CurrentState"]["Name"] for t in out["TerminatingInstances"]}, {"shutting-down"})
        self.vpcd.cli("wait", "instance-terminated", "--instance-ids", *ids)


class Restart(VpcdTestCase):
    def test_restart_keeps_instances_and_addresses(self):
        vpc = self.ec2.create_vpc(CidrBlock="10.96.0.0/16")["Vpc"]["VpcId"]
        sub = self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.96.1.0/24")["Subnet"]["SubnetId"]
        r = self.ec2.run_instances(ImageId=IMAGE, MinCount=2, MaxCount=2, SubnetId=sub)
        before = self.ec2.describe_instances(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Reservations"]
        self.vpcd.restart()
        after = self.ec2.describe_instances(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Reservations"]
        self.assertEqual(after, before)
        self.assertEqual(self.ec2.describe_subnets(SubnetIds=[sub])["Subnets"][0]["AvailableIpAddressCount"], 249)
        nxt = self.ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1, SubnetId=sub)["Instances"][0]
        self.assertEqual(nxt["PrivateIpAddress"], "10.96.1.6")
        self.vpcd.kill9()
        self.vpcd.start()
        ids = sorted(i["InstanceId"] for i in r["Instances"]) + [nxt["InstanceId"]]
        got = self.ec2.describe_instances(InstanceIds=ids)["Reservations"]
        self.assertEqual(sum(len(x["Instances"]) for x in got), 3)
