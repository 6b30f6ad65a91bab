"""What the console's lists ask of the API is what vpcd serves: for every
resource type of src/console/www/js/resources.mjs (read by node through
types_cli.mjs), its Describe action answers with every filter the list
offers, pages with the page sizes the list offers (and the largest page
the counts use), and names the id parameter the detail pane sends."""
import json
import os
import subprocess
import unittest

import botocore
import botocore.exceptions
from botocore import xform_name

from vpcdtest import VpcdTestCase

HERE = os.path.dirname(os.path.abspath(__file__))


class TestConsoleTypes(VpcdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        p = subprocess.run(["node", os.path.join(HERE, "types_cli.mjs")], capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError("types_cli.mjs: " + p.stderr)
        cls.types = json.loads(p.stdout)

    def describe(self, t, **kw):
        return getattr(self.ec2, xform_name(t["describe"]))(**kw)

    def test_types_listed(self):
        self.assertEqual(sorted(self.types), sorted(["vpcs", "subnets", "routeTables", "igws", "nacls", "sgs", "cgws",
                                                     "vgws", "vpns", "instances", "eips", "natGateways", "peerings"]))

    def test_every_filter_is_served(self):
        for key, t in self.types.items():
            for name in t["filters"]:
                with self.subTest(type=key, filter=name):
                    self.describe(t, Filters=[{"Name": name, "Values": ["x"]}])

    def test_paging(self):
        model = self.ec2.meta.service_model
        for key, t in self.types.items():
            op = model.operation_model(t["describe"])
            with self.subTest(type=key):
                self.assertEqual(t["paged"], "MaxResults" in op.input_shape.members,
                                 "the list pages exactly when the API does")
                if t["paged"]:
                    for size in (10, 25, 50, 100, t["maxPage"]):
                        self.describe(t, MaxResults=size)

    def test_id_parameter(self):
        model = self.ec2.meta.service_model
        for key, t in self.types.items():
            op = model.operation_model(t["describe"])
            with self.subTest(type=key):
                # the EC2 protocol sends locationName with its first letter upper-cased
                wire = {(lambda s: s[0].upper() + s[1:])(m.serialization.get("name", n)): n
                        for n, m in op.input_shape.members.items()}
                self.assertIn(t["idParam"], wire, "%s takes %s.N" % (t["describe"], t["idParam"]))
                if t["remove"]:
                    self.assertIn(t["remove"], model.operation_names)


if __name__ == "__main__":
    unittest.main()
