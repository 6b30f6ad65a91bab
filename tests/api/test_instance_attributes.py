"""Instance attributes and types: DescribeInstanceAttribute /
ModifyInstanceAttribute (groupSet, sourceDestCheck, disableApiTermination
honoured by TerminateInstances, disableApiStop by StopInstances,
instanceInitiatedShutdownBehavior, userData and instanceType while
stopped), DescribeInstanceTypes (table, filters, paging),
DescribeInstanceCreditSpecifications, and an empty AvailabilityZone= taken
as none (RunInstances Placement, CreateSubnet, CreateVpnGateway). boto3 and the aws CLI."""
import base64

from vpcdtest import IMAGE, VpcdTestCase


class TestInstanceAttributes(VpcdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ec2 = cls.ec2
        cls.vpc = ec2.create_vpc(CidrBlock="10.70.0.0/16")["Vpc"]["VpcId"]
        cls.subnet = ec2.create_subnet(VpcId=cls.vpc, CidrBlock="10.70.1.0/24")["Subnet"]["SubnetId"]
        cls.sg_a = ec2.create_security_group(GroupName="a", Description="a", VpcId=cls.vpc)["GroupId"]
        cls.sg_b = ec2.create_security_group(GroupName="b", Description="b", VpcId=cls.vpc)["GroupId"]

    def run_one(self, **kw):
        args = dict(ImageId=IMAGE, MinCount=1, MaxCount=1, SubnetId=self.subnet, SecurityGroupIds=[self.sg_a])
        args.update(kw)
        return self.ec2.run_instances(**args)["Instances"][0]["InstanceId"]

    def attr(self, iid, name):
        return self.ec2.describe_instance_attribute(InstanceId=iid, Attribute=name)

    def test_launch_attributes(self):
        iid = self.run_one(InstanceType="t3.micro", UserData="#!/bin/sh\necho hi\n", DisableApiTermination=True,
                           InstanceInitiatedShutdownBehavior="terminate")
        self.assertEqual(self.attr(iid, "instanceType")["InstanceType"], {"Value": "t3.micro"})
        # boto3 base64-encodes RunInstances' user data; AWS answers it encoded
        self.assertEqual(base64.b64decode(self.attr(iid, "userData")["UserData"]["Value"]), b"#!/bin/sh\necho hi\n")
        self.assertEqual(self.attr(iid, "disableApiTermination")["DisableApiTermination"], {"Value": True})
        self.assertEqual(self.attr(iid, "disableApiStop")["DisableApiStop"], {"Value": False})
        self.assertEqual(self.attr(iid, "instanceInitiatedShutdownBehavior")["InstanceInitiatedShutdownBehavior"],
                         {"Value": "terminate"})
        self.assertEqual(self.attr(iid, "sourceDestCheck")["SourceDestCheck"], {"Value": True})
        self.assertEqual(self.attr(iid, "groupSet")["Groups"], [{"GroupId": self.sg_a, "GroupName": "a"}])
        self.assertEqual(self.attr(iid, "rootDeviceName")["RootDeviceName"], {"Value": "/dev/xvda"})
        self.assertEqual(self.attr(iid, "instanceType")["InstanceId"], iid)
        self.assertError("InvalidParameterValue", self.vpcd.client(validate=False).describe_instance_attribute,
                         InstanceId=iid, Attribute="colour")
        self.assertError("InvalidInstanceID.NotFound", self.ec2.describe_instance_attribute,
                         InstanceId="i-00000000000000000", Attribute="instanceType")

        # termination protection
        msg = self.assertError("OperationNotPermitted", self.ec2.terminate_instances, InstanceIds=[iid])
        self.assertEqual(msg, "The instance '%s' may not be terminated. Modify its 'disableApiTermination' instance "
                              "attribute and try again." % iid)
        self.ec2.modify_instance_attribute(InstanceId=iid, DisableApiTermination={"Value": False})
        self.ec2.terminate_instances(InstanceIds=[iid])

    def test_modify(self):
        iid = self.run_one(InstanceType="t2.micro")
        self.ec2.modify_instance_attribute(InstanceId=iid, SourceDestCheck={"Value": False})
        self.assertEqual(self.attr(iid, "sourceDestCheck")["SourceDestCheck"], {"Value": False})
        inst = self.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
        self.assertFalse(inst["SourceDestCheck"])
        self.assertFalse(inst["NetworkInterfaces"][0]["SourceDestCheck"])
        self.ec2.modify_instance_attribute(InstanceId=iid, Groups=[self.sg_a, self.sg_b])
        self.assertEqual(sorted(g["GroupId"] for g in self.attr(iid, "groupSet")["Groups"]), sorted([self.sg_a, self.sg_b]))
        eni = self.ec2.describe_network_interfaces(NetworkInterfaceIds=[inst["NetworkInterfaces"][0]["NetworkInterfaceId"]])
        self.assertEqual(len(eni["NetworkInterfaces"][0]["Groups"]), 2)
        self.ec2.modify_instance_attribute(InstanceId=iid, InstanceInitiatedShutdownBehavior={"Value": "terminate"})
        self.assertEqual(self.attr(iid, "instanceInitiatedShutdownBehavior")["InstanceInitiatedShutdownBehavior"]["Value"],
                         "terminate")
        self.assertError("InvalidParameterValue", self.ec2.modify_instance_attribute, InstanceId=iid,
                         InstanceInitiatedShutdownBehavior={"Value": "hibernate"})
        # the older form: Attribute and Value
        self.ec2.modify_instance_attribute(InstanceId=iid, Attribute="disableApiTermination", Value="true")
        self.assertTrue(self.attr(iid, "disableApiTermination")["DisableApiTermination"]["Value"])
        self.ec2.modify_instance_attribute(InstanceId=iid, Attribute="disableApiTermination", Value="false")
        self.assertError("InvalidParameterCombination", self.ec2.modify_instance_attribute, InstanceId=iid,
                         SourceDestCheck={"Value": True}, DisableApiTermination={"Value": True})
        # type and user data only while stopped
        msg = self.assertError("IncorrectInstanceState", self.ec2.modify_instance_attribute, InstanceId=iid,
                               InstanceType={"Value": "t3.small"})
        self.assertEqual(msg, "The instance '%s' is not in the 'stopped' state." % iid)
        self.assertError("IncorrectInstanceState", self.ec2.modify_instance_attribute, InstanceId=iid,
                         UserData={"Value": b"x"})
        # stop protection
        self.ec2.modify_instance_attribute(InstanceId=iid, DisableApiStop={"Value": True})
        self.assertError("OperationNotPermitted", self.ec2.stop_instances, InstanceIds=[iid])
        self.ec2.modify_instance_attribute(InstanceId=iid, DisableApiStop={"Value": False})
        self.ec2.stop_instances(InstanceIds=[iid])
        self.ec2.modify_instance_attribute(InstanceId=iid, InstanceType={"Value": "m5.large"})
        self.ec2.modify_instance_attribute(InstanceId=iid, UserData={"Value": b"echo new"})
        self.assertEqual(self.attr(iid, "instanceType")["InstanceType"]["Value"], "m5.large")
        self.assertEqual(base64.b64decode(self.attr(iid, "userData")["UserData"]["Value"]), b"echo new")
        inst = self.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
        self.assertEqual(inst["InstanceType"], "m5.large")
        self.ec2.start_instances(InstanceIds=[iid])
        self.ec2.terminate_instances(InstanceIds=[iid])
        self.assertError("IncorrectInstanceState", self.ec2.modify_instance_attribute, InstanceId=iid,
                         SourceDestCheck={"Value": True})

    def test_cli(self):
        iid = self.run_one()
        self.vpcd.cli("modify-instance-attribute", "--instance-id", iid, "--no-source-dest-check")
        got = self.vpcd.cli("describe-instance-attribute", "--instance-id", iid, "--attribute", "sourceDestCheck")
        self.assertEqual(got["SourceDestCheck"], {"Value": False})
        self.vpcd.cli("modify-instance-attribute", "--instance-id", iid, "--disable-api-termination")
        p = self.vpcd.cli("terminate-instances", "--instance-ids", iid, check=False)
        self.assertIn("(OperationNotPermitted)", p.stderr)
        self.vpcd.cli("modify-instance-attribute", "--instance-id", iid, "--no-disable-api-termination")
        self.vpcd.cli("terminate-instances", "--instance-ids", iid)

    def test_credit_specifications(self):
        t2 = self.run_one(InstanceType="t2.micro")
        t3 = self.run_one(InstanceType="t3.small")
        t3s = self.run_one(InstanceType="t3.small", CreditSpecification={"CpuCredits": "standard"})
        m5 = self.run_one(InstanceType="m5.large")
        got = self.ec2.describe_instance_credit_specifications(InstanceIds=[t2, t3, t3s])["InstanceCreditSpecifications"]
        self.assertEqual({c["InstanceId"]: c["CpuCredits"] for c in got},
                         {t2: "standard", t3: "unlimited", t3s: "standard"})
        every = self.ec2.describe_instance_credit_specifications()["InstanceCreditSpecifications"]
        self.assertNotIn(m5, [c["InstanceId"] for c in every])
        self.assertTrue({t2, t3, t3s} <= {c["InstanceId"] for c in every})
        self.assertError("InvalidInstanceType", self.ec2.describe_instance_credit_specifications, InstanceIds=[m5])
        got = self.ec2.describe_instance_credit_specifications(
            Filters=[{"Name": "instance-id", "Values": [t3]}])["InstanceCreditSpecifications"]
        self.assertEqual(got, [{"InstanceId": t3, "CpuCredits": "unlimited"}])
        for i in (t2, t3, t3s, m5):
            self.ec2.terminate_instances(InstanceIds=[i])

    def test_empty_availability_zone(self):
        # what tools send for an unset zone
        iid = self.run_one(Placement={"AvailabilityZone": ""})
        inst = self.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
        self.assertEqual(inst["Placement"]["AvailabilityZone"], "us-east-1a")
        sub = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.70.9.0/24", AvailabilityZone="")["Subnet"]
        self.assertEqual(sub["AvailabilityZone"], "us-east-1a")
        self.ec2.delete_subnet(SubnetId=sub["SubnetId"])
        vgw = self.ec2.create_vpn_gateway(Type="ipsec.1", AvailabilityZone="")["VpnGateway"]
        self.assertNotIn("AvailabilityZone", vgw)
        self.ec2.terminate_instances(InstanceIds=[iid])
        self.ec2.delete_vpn_gateway(VpnGatewayId=vgw["VpnGatewayId"])


class TestInstanceTypes(VpcdTestCase):
    def test_table(self):
        got = self.ec2.describe_instance_types(InstanceTypes=["t2.micro", "t3.nano", "t4g.large", "m5.24xlarge"])
        by = {t["InstanceType"]: t for t in got["InstanceTypes"]}
        self.assertEqual(sorted(by), ["m5.24xlarge", "t2.micro", "t3.nano", "t4g.large"])
        t2 = by["t2.micro"]
        self.assertEqual((t2["VCpuInfo"]["DefaultVCpus"], t2["MemoryInfo"]["SizeInMiB"]), (1, 1024))
        self.assertEqual(t2["Hypervisor"], "xen")
        self.assertTrue(t2["FreeTierEligible"])
        self.assertTrue(t2["BurstablePerformanceSupported"])
        self.assertEqual(t2["ProcessorInfo"]["SupportedArchitectures"], ["i386", "x86_64"])
        self.assertEqual(t2["NetworkInfo"]["NetworkPerformance"], "Low to Moderate")
        t3 = by["t3.nano"]
        self.assertEqual((t3["VCpuInfo"]["DefaultVCpus"], t3["VCpuInfo"]["DefaultCores"],
                          t3["VCpuInfo"]["DefaultThreadsPerCore"], t3["MemoryInfo"]["SizeInMiB"]), (2, 1, 2, 512))
        self.assertEqual(t3["Hypervisor"], "nitro")
        self.assertEqual(by["t4g.large"]["ProcessorInfo"]["SupportedArchitectures"], ["arm64"])
        m5 = by["m5.24xlarge"]
        self.assertEqual((m5["VCpuInfo"]["DefaultVCpus"], m5["MemoryInfo"]["SizeInMiB"]), (96, 393216))
        self.assertEqual(m5["NetworkInfo"]["NetworkPerformance"], "25 Gigabit")
        self.assertFalse(m5["BurstablePerformanceSupported"])
        msg = self.assertError("InvalidInstanceType", self.vpcd.client(validate=False).describe_instance_types,
                               InstanceTypes=["x9.huge"])
        self.assertEqual(msg, "The following supplied instance types do not exist: [x9.huge]")

    def test_filters_and_paging(self):
        arm = self.ec2.describe_instance_types(Filters=[
            {"Name": "processor-info.supported-architecture", "Values": ["arm64"]}])["InstanceTypes"]
        self.assertEqual(sorted(t["InstanceType"] for t in arm),
                         sorted("t4g." + s for s in ("nano", "micro", "small", "medium", "large", "xlarge", "2xlarge")))
        two = self.ec2.describe_instance_types(Filters=[
            {"Name": "vcpu-info.default-vcpus", "Values": ["2"]},
            {"Name": "memory-info.size-in-mib", "Values": ["8192"]},
            {"Name": "instance-type", "Values": ["m*", "t3*"]}])["InstanceTypes"]
        self.assertEqual(sorted(t["InstanceType"] for t in two), ["m5.large", "m6i.large", "t3.large", "t3a.large"])
        self.assertError("InvalidParameterValue", self.ec2.describe_instance_types,
                         Filters=[{"Name": "colour", "Values": ["x"]}])
        seen, token, pages = [], None, 0
        while True:
            kw = {"NextToken": token} if token else {}
            page = self.ec2.describe_instance_types(MaxResults=20, **kw)
            self.assertLessEqual(len(page["InstanceTypes"]), 20)
            seen += [t["InstanceType"] for t in page["InstanceTypes"]]
            pages += 1
            token = page.get("NextToken")
            if not token:
                break
        self.assertGreater(pages, 2)
        self.assertEqual(len(seen), len(set(seen)))
        for family in ("t2", "t3", "t3a", "t4g", "m5", "m6i", "c5", "c6i", "r5"):
            self.assertIn(family + ".xlarge", seen)
        paginated = [t["InstanceType"] for p in self.ec2.get_paginator("describe_instance_types").paginate()
                     for t in p["InstanceTypes"]]
        self.assertEqual(sorted(paginated), sorted(seen))

    def test_cli(self):
        got = self.vpcd.cli("describe-instance-types", "--instance-types", "c6i.large",
                            "--query", "InstanceTypes[0].[VCpuInfo.DefaultVCpus,MemoryInfo.SizeInMiB]")
        self.assertEqual(got, [2, 4096])
