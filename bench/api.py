#!/usr/bin/env python3
"""bench/api — vpcd's EC2 API against moto_server, side by side, in one run.

Not a test: it prints figures and judges nothing. Both servers get the same
load from bench/api_load (one epoll loop in C keeping --threads connections
busy, keep-alive for vpcd, every request SigV4-signed; vpcd verifies every
signature and commits every create durably, moto does neither). vpcd runs
twice: --sync full (the default: no answer before its changes are fsynced)
and --sync normal (kill -9-safe, not power-loss-safe).
Rows: CreateSubnet; DescribeSubnets (all of them, and a page of
MaxResults=1000) with 1,000 and 10,000 subnets spread over /16 VPCs.

    python3 bench/api.py [--build build] [--threads 64] [--sizes 1000,10000] [--moto-budget 300] [--no-moto]
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import boto3  # noqa: E402

KEY, SECRET = "AKIABENCH00000000001", "bench-secret-bench-secret-bench-secret00"
SUBNETS_PER_VPC = 4096  # /28s in a /16


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what):
    for _ in range(300):
        if proc.poll() is not None:
            sys.exit("%s exited early" % what)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    sys.exit("%s did not start" % what)


class Server:
    def __init__(self, name, cmd, port, env=None):
        self.name, self.port = name, port
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        wait_port(port, self.proc, name)
        self.ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url="http://127.0.0.1:%d" % port,
                                aws_access_key_id=KEY, aws_secret_access_key=SECRET)
        self.vpcs = []
        self.subnets = 0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def load(build, srv, body, requests, threads, octet=0, offset=0):
    extra = ["--close"] if srv.name == "moto" else []   # its development server does not keep connections alive
    out = subprocess.run([os.path.join(build, "bench", "api_load"), "--port", str(srv.port), "--threads", str(threads),
                          "--requests", str(requests), "--key", KEY, "--secret", SECRET, "--octet", str(octet),
                          "--offset", str(offset)] + extra + [body],
                         capture_output=True, text=True, timeout=3600)
    m = dict(re.findall(r"(\w+)=([\d.]+)", out.stdout))
    if not m:
        sys.exit("api_load failed: " + out.stderr)
    return {k: float(v) for k, v in m.items()}


def grow_to(build, srv, total, threads, deadline):
    """Creates /28 subnets until the server holds `total` of ours; returns
    the figures of the first batch and whether it got there in time."""
    first = None
    while srv.subnets < total:
        if time.time() > deadline:
            return first, False
        index = srv.subnets // SUBNETS_PER_VPC
        if index >= len(srv.vpcs):
            octet = 100 + len(srv.vpcs)
            srv.vpcs.append((srv.ec2.create_vpc(CidrBlock="10.%d.0.0/16" % octet)["Vpc"]["VpcId"], octet))
        vpc, octet = srv.vpcs[index]
        in_vpc = srv.subnets % SUBNETS_PER_VPC
        n = min(total - srv.subnets, SUBNETS_PER_VPC - in_vpc, 1000)
        body = "Action=CreateSubnet&Version=2016-11-15&VpcId=%s&CidrBlock=10.{a}.{b}.{c}%%2F28" % vpc
        r = load(build, srv, body, n, threads, octet, in_vpc)
        srv.subnets += n
        if first is None:
            first = r
    return first, True


def fmt(r):
    rps = ("%9.2f" if r["rps"] < 10 else "%9.0f") % r["rps"]
    errs = "  (%d errors)" % r["errors"] if r["errors"] else ""
    return "%s req/s  p50 %7.2f ms  p99 %7.2f ms%s" % (rps, r["p50_ms"], r["p99_ms"], errs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--threads", type=int, default=64,
                    help="concurrent client connections (group commit batches their creates)")
    ap.add_argument("--sizes", default="1000,10000", help="subnet counts to measure at")
    ap.add_argument("--moto-budget", type=float, default=300, help="seconds moto may take to grow its subnets")
    ap.add_argument("--no-moto", action="store_true", help="vpcd alone (quick iterations)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    data = tempfile.mkdtemp(prefix="vpcd-bench-")
    vport, mport = free_port(), free_port()
    env = dict(os.environ, VPCD_ACCESS_KEY_ID=KEY, VPCD_SECRET_ACCESS_KEY=SECRET)
    servers = []
    try:
        servers.append(Server("vpcd", [os.path.join(build, "vpcd"), "--listen", "127.0.0.1:%d" % vport,
                                       "--data-dir", data], vport, env))
        nport = free_port()
        os.makedirs(data + "-normal", exist_ok=True)
        servers.append(Server("vpcd-normal", [os.path.join(build, "vpcd"), "--listen", "127.0.0.1:%d" % nport,
                                              "--data-dir", data + "-normal", "--sync", "normal"], nport, env))
        moto = None if args.no_moto else shutil.which("moto_server")
        if moto:
            servers.append(Server("moto", [moto, "-H", "127.0.0.1", "-p", str(mport)], mport))
        rows = []
        load_start = os.getloadavg()
        for size in [int(x) for x in args.sizes.split(",")]:
            for srv in servers:
                deadline = time.time() + (args.moto_budget if srv.name == "moto" else 3600)
                first, ok = grow_to(build, srv, size, args.threads, deadline)
                if first and size == 1000:
                    rows.append(("CreateSubnet (first 1,000)", srv.name, first))
                if not ok:
                    rows.append(("(moto stopped growing at %d subnets: budget)" % srv.subnets, srv.name, None))
                    continue
                n = 2000 if srv.name.startswith("vpcd") else 50
                if size == 10000 and srv.name == "moto":
                    n = 10
                body = "Action=DescribeSubnets&Version=2016-11-15"
                rows.append(("DescribeSubnets all, %d subnets" % size, srv.name, load(build, srv, body, n, args.threads)))
                rows.append(("DescribeSubnets MaxResults=1000, %d subnets" % size, srv.name,
                             load(build, srv, body + "&MaxResults=1000", n, args.threads)))
                # latency without queueing behind other clients: one client thread
                rows.append(("DescribeSubnets MaxResults=1000, %d subnets, 1 client" % size, srv.name,
                             load(build, srv, body + "&MaxResults=1000", max(n // 4, 5), 1)))
        print("\nEC2 API, %d client connections, SigV4 on every request (vpcd verifies; moto does not)" % args.threads)
        # the machine's other work moves every figure: say how busy it was
        print("load average (1, 5, 15 min) at the start %.2f %.2f %.2f, at the end %.2f %.2f %.2f, %d CPUs"
              % (load_start + os.getloadavg() + (os.cpu_count(),)))
        by = {}
        for name, who, r in rows:
            by.setdefault(name, {})[who] = r
        for name, res in by.items():
            print("\n" + name)
            for who in ("vpcd", "vpcd-normal", "moto"):
                if res.get(who):
                    print("  %-11s %s" % (who, fmt(res[who])))
            for who in ("vpcd", "vpcd-normal"):
                if res.get(who) and res.get("moto") and res["moto"]["rps"] > 0:
                    print("  ratio %s/moto %.0fx throughput" % (who, res[who]["rps"] / res["moto"]["rps"]))
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(data + "-normal", ignore_errors=True)


if __name__ == "__main__":
    main()
