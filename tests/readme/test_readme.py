"""The README's promise: after `make run`, every ```sh block of the README
(but the first, which holds the two commands) works as written, in order,
from the repository's folder. The test runs `make run` itself (with the
build folder, a free port and a scratch data dir instead of ./var), then
each command of those blocks in one bash, with only the port rewritten.
A command passes when it exits 0, or with N when its comment says
"(exit N)"; a few outputs are checked for what the README says they show."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from vpcdtest import BUILD, free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README_PORT = "127.0.0.1:8775"


def readme_commands(text):
    """[(command, expected exit)] of every ```sh block but the first,
    backslash continuations joined."""
    blocks = re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M)
    out = []
    for block in blocks[1:]:
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = re.search(r"\(exit (\d+)\)", line)
            out.append((line, int(m.group(1)) if m else 0))
    return out


class ReadmeTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vpcd-readme-")
        self.port = free_port()
        self.data = os.path.join(self.dir, "var")
        self.make = subprocess.Popen(
            ["make", "-s", "-C", ROOT, "run", "BUILD=" + BUILD, "LISTEN=127.0.0.1:%d" % self.port,
             "DATA_DIR=" + self.data],
            stdout=open(os.path.join(self.dir, "make-run.log"), "w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        end = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if self.make.poll() is not None or time.time() > end:
                    self.fail("make run did not serve:\n" + self.log())
                time.sleep(0.1)

    def tearDown(self):
        if self.make.poll() is None:
            os.killpg(self.make.pid, signal.SIGTERM)    # make and the vpcd it started
            try:
                self.make.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.make.pid, signal.SIGKILL)
                self.make.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        with open(os.path.join(self.dir, "make-run.log"), errors="replace") as f:
            return f.read()[-4000:]

    def test_readme_examples_in_order(self):
        with open(os.path.join(ROOT, "README.md")) as f:
            commands = readme_commands(f.read())
        self.assertGreater(len(commands), 8)
        # the folder the README's commands run in: its build/ and var/
        work = os.path.join(self.dir, "repo")
        os.mkdir(work)
        os.symlink(BUILD, os.path.join(work, "build"))
        os.symlink(self.data, os.path.join(work, "var"))
        script = ["set -u"]
        for i, (cmd, _) in enumerate(commands):
            cmd = cmd.replace(README_PORT, "127.0.0.1:%d" % self.port)
            # on lines of their own: the command may end in a comment
            script.append("echo '@@begin %d'\n%s\necho \"@@rc %d $?\"" % (i, cmd, i))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:%d" % self.port    # vpcctl's default is 8775
        p = subprocess.run(["bash", "-c", "\n".join(script)], cwd=work, env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        outputs = {}
        for i in range(len(commands)):
            m = re.search(r"@@begin %d\n(.*?)@@rc %d (\d+)\n" % (i, i), p.stdout, re.S)
            self.assertIsNotNone(m, "command %d (%s) did not finish:\n%s" % (i, commands[i][0], p.stdout[-3000:]))
            outputs[commands[i][0]] = m.group(1)
            self.assertEqual(int(m.group(2)), commands[i][1],
                             "README command failed: %s\n%s\nvpcd:\n%s" % (commands[i][0], m.group(1), self.log()))

        def out(prefix):
            return next(o for c, o in outputs.items() if c.startswith(prefix))
        self.assertIn("172.31.0.0/16", out("aws --endpoint-url http://127.0.0.1:8775 ec2 describe-vpcs"))
        self.assertIn('Made VPC "office"', out("build/vpcctl wizard"))
        self.assertIn("Cisco", out("build/vpcctl vpn devices"))
        self.assertIn("crypto isakmp policy", out("build/vpcctl vpn config"))
        status = out("build/vpcctl vpn status")
        self.assertEqual(status.count("DOWN"), 2)
        self.assertIn("--vpn-outside-addresses", status)
        self.assertIn("10.96.1.0/24", out("build/vpcctl show"))
        self.assertIn("dropped", out("build/vpcctl trace"))


if __name__ == "__main__":
    unittest.main()
