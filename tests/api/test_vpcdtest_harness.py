"""The test harness itself (tests/vpcdtest.py): a VpcdTestCase subclass
whose setUpClass raises after the vpcd started (unittest then never runs
tearDownClass) still has that vpcd stopped and its data directory removed,
by the class cleanup VpcdTestCase.setUpClass registers. The inner class is
run by its own unittest runner; its vpcd's PID must be gone afterwards
(without the cleanup it keeps running, and this test stops it itself)."""
import io
import os
import unittest

from vpcdtest import VpcdTestCase


class _Started:
    """What the failing class saw: its Vpcd object and PID."""
    vpcd = None
    pid = None


class _SetUpClassRaises(VpcdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        _Started.vpcd = cls.vpcd
        _Started.pid = cls.vpcd.proc.pid
        cls.ec2.describe_vpcs()     # it answers: it really ran
        raise RuntimeError("a subclass's fixture failed")

    def test_never_runs(self):
        raise AssertionError("setUpClass raised: no test may run")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class VpcdTestCaseCleanupTest(unittest.TestCase):
    def test_setupclass_raising_stops_vpcd(self):
        suite = unittest.TestLoader().loadTestsFromTestCase(_SetUpClassRaises)
        out = io.StringIO()
        result = unittest.TextTestRunner(stream=out, verbosity=2).run(suite)
        vpcd, pid = _Started.vpcd, _Started.pid
        if vpcd is not None and vpcd.proc is not None:
            self.addCleanup(vpcd.__exit__, None, None, None)   # a leak: stop it here
        self.assertIsNotNone(pid, out.getvalue())
        self.assertEqual(result.testsRun, 0, out.getvalue())
        self.assertEqual(len(result.errors), 1, out.getvalue())
        self.assertIn("a subclass's fixture failed", result.errors[0][1])
        # stopped by its PID (reaped: the PID is gone) and its files removed
        self.assertFalse(_alive(pid), "vpcd %d still runs after setUpClass raised" % pid)
        self.assertIsNone(vpcd.proc)
        self.assertFalse(os.path.exists(vpcd.data_dir), vpcd.data_dir)


# The inner class is run above by its own runner, never on its own.
def load_tests(loader, tests, pattern):
    return loader.loadTestsFromTestCase(VpcdTestCaseCleanupTest)
