"""scripts/install-deps.sh's verification, as a fresh machine runs it after
installing: charon (the interop tests' customer router) starts in a scratch
namespace with every plugin the tests load; and when a plugin cannot load,
the verification fails naming the plugin and the package that ships it."""
import os
import re
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "install-deps.sh")


def namespaces():
    return set(subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split())


@unittest.skipUnless(os.geteuid() == 0, "the verification starts charon in a namespace: root")
class InstallDepsVerifyTest(unittest.TestCase):
    def verify(self, env=None):
        return subprocess.run([SCRIPT, "--verify"], capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, **(env or {})))

    def test_charon_starts_with_the_tests_plugins(self):
        p = self.verify()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("charon starts with plugins:", p.stderr)
        for plugin in ("openssl", "kdf", "kernel-libipsec", "vici"):
            self.assertIn(plugin, p.stderr)
        # its scratch namespace is gone (others may come and go meanwhile:
        # any build that installs its dependencies runs this verification)
        m = re.search(r"in scratch namespace (vpcd-deps-[0-9a-f-]+)", p.stderr)
        self.assertIsNotNone(m, p.stderr)
        self.assertNotIn(m.group(1), namespaces())

    def test_a_plugin_that_cannot_load_is_named_with_its_package(self):
        with open(os.path.join(ROOT, "scripts", "charon-plugins")) as f:
            table = f.read()
        with tempfile.NamedTemporaryFile("w", suffix=".plugins") as t:
            # a plugin whose file exists but cannot load is what charon
            # reports; a missing file is found before charon starts
            t.write(table + "nosuchplugin    libstrongswan-nosuch-plugins\n")
            t.flush()
            p = self.verify({"VPCD_CHARON_PLUGINS": t.name})
        self.assertEqual(p.returncode, 1)
        self.assertIn("charon plugin 'nosuchplugin' is missing: install package libstrongswan-nosuch-plugins",
                      p.stderr)


if __name__ == "__main__":
    unittest.main()
