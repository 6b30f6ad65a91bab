"""--sync full acknowledges a change only once it is on disk — also now that
the commit no longer waits for the disk and a thread of its own flushes the
store while the next batch is served.

The proof is read off the system calls: strace, attached to vpcd, records
every write of SQLite's pages (pwrite64), every flush (fdatasync/fsync) and
every answer (sendmsg/sendto/writev). For each subnet created, the first
page write holding its id must be followed by a flush that began after that
write ended and ended before any answer naming the subnet (its
CreateSubnetResponse, or a DescribeSubnets that saw it) was sent. The same
check on a vpcd started with --sync normal must find answers that no flush
preceded: the check can fail."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from vpcdtest import Vpcd

CALL = re.compile(r"^(\d+)\s+(\d+\.\d+) (\w+)\((.*)$")
RESUMED = re.compile(r"^(\d+)\s+(\d+\.\d+) <\.\.\. (\w+) resumed>(.*)$")
DURATION = re.compile(r"<(\d+\.\d+)>\s*$")
SUBNET_ID = re.compile(r"subnet-[0-9a-f]{17}")


def parse_trace(path):
    """[(name, start, end, text)] for every completed call."""
    calls, open_calls = [], {}
    with open(path, errors="replace") as f:
        for line in f:
            m = RESUMED.match(line)
            if m:
                pid, _, name, rest = m.groups()
                start, text = open_calls.pop((pid, name), (None, ""))
                d = DURATION.search(rest)
                if start is not None and d:
                    calls.append((name, start, start + float(d.group(1)), text + rest))
                continue
            m = CALL.match(line)
            if not m:
                continue
            pid, ts, name, rest = m.groups()
            if rest.rstrip().endswith("<unfinished ...>"):
                open_calls[(pid, name)] = (float(ts), rest)
                continue
            d = DURATION.search(rest)
            if d:
                calls.append((name, float(ts), float(ts) + float(d.group(1)), rest))
    return calls


def unflushed_answers(calls):
    """(ids checked, [ids answered before a flush covered their write])."""
    flushes = [(s, e) for name, s, e, _ in calls if name in ("fdatasync", "fsync")]
    written, answered = {}, {}
    for name, s, e, text in calls:
        if name == "pwrite64":
            for sid in SUBNET_ID.findall(text):
                written.setdefault(sid, e)
        elif name in ("sendmsg", "sendto", "writev"):
            for sid in SUBNET_ID.findall(text):
                answered.setdefault(sid, s)
    checked = [sid for sid in answered if sid in written]
    bad = [sid for sid in checked
           if not any(fs >= written[sid] and fe <= answered[sid] for fs, fe in flushes)]
    return checked, bad


class TestFlushBeforeAnswer(unittest.TestCase):
    def setUp(self):
        if not shutil.which("strace"):
            self.skipTest("strace is not installed (scripts/install-deps.sh installs it)")
        self.tmp = tempfile.mkdtemp(prefix="vpcd-flush-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def traced_run(self, sync):
        trace = os.path.join(self.tmp, "trace-%s" % sync)
        with Vpcd(["--sync", sync]) as v:
            ec2 = v.client()
            vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
            st = subprocess.Popen(["strace", "-f", "-p", str(v.proc.pid), "-ttt", "-T", "-s", "65536",
                                   "-e", "trace=pwrite64,fdatasync,fsync,sendmsg,sendto,writev",
                                   "-o", trace], stderr=subprocess.PIPE, text=True)
            try:
                # every thread attached before the load starts
                deadline = time.time() + 10
                while time.time() < deadline and not (os.path.exists(trace) and os.path.getsize(trace) >= 0
                                                      and self._attached(v.proc.pid, st.pid)):
                    time.sleep(0.05)
                errors = []

                def writer(k):
                    try:
                        c = v.client()
                        for i in range(12):
                            c.create_subnet(VpcId=vpc, CidrBlock="10.42.%d.%d/28" % (k, 16 * i))
                            if i % 4 == 3:
                                c.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
                    except Exception as e:  # noqa: BLE001 - reported below
                        errors.append(e)
                threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                self.assertEqual(errors, [])
            finally:
                st.send_signal(signal.SIGINT)   # detaches; vpcd goes on
                st.wait(20)
        return parse_trace(trace)

    @staticmethod
    def _attached(vpcd_pid, strace_pid):
        try:
            with open("/proc/%d/status" % vpcd_pid) as f:
                tracer = [l.split()[1] for l in f if l.startswith("TracerPid:")]
            return tracer == [str(strace_pid)]
        except OSError:
            return False

    def test_full_answers_only_flushed_changes(self):
        calls = self.traced_run("full")
        checked, bad = unflushed_answers(calls)
        self.assertGreaterEqual(len(checked), 60, "too few subnets seen in the trace to judge")
        self.assertEqual(bad, [], "answered before a flush covered their write")

    def test_check_catches_unflushed_answers(self):
        # --sync normal never flushes before answering: the check must say so
        calls = self.traced_run("normal")
        checked, bad = unflushed_answers(calls)
        self.assertGreaterEqual(len(checked), 60)
        self.assertGreater(len(bad), len(checked) // 2)


if __name__ == "__main__":
    unittest.main()
