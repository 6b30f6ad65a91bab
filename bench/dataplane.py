#!/usr/bin/env python3
"""Data-plane bench (not a test: prints figures, judges nothing).

Two instance namespaces joined by vpcd's virtual router (build/net-harness:
VPC 10.96.0.0/16, subnets .0/24 and .1/24, NACL allow-all, security groups
with rules, so every packet takes the full path: parse, source check,
NACL out/in, SG via conntrack, LPM, MAC rewrite), then the same two
namespaces joined by a Linux bridge (veth pairs) in the same run.
iperf3 TCP throughput and small-packet UDP rate, side by side. The router
runs four times: with TAP offloads (virtio_net_hdr, TSO/checksum: 64 KB GSO
frames, the default), its TAP frames batched through io_uring (the
default) and overload shedding at vpcd's default (nice 10 while most TAP
batches come back full: see src/net/router.c); the same with shedding
off (shed_nice = 0); the same with one read(2)/write(2) per frame
(tap_io = syscalls; a UDP train, datagrams of one flow written as one
GSO frame, is one write there too); and without offloads (one 1500-byte
frame per read/write, batched, no UDP trains: they need the
virtio_net_hdr). --busy N runs everything beside N CPU-bound processes
of nice 0 (what shedding gives up when the machine is busy anyway).

For each router case it also prints the router's CPU time per frame
forwarded during the UDP test (the harness's user+system time over its
tx counter): on a shared machine the rates depend on what CPU the router
and iperf3 get, this much less. And, for every case, where the UDP test's
datagrams were lost: at the sender's device (its eth0's tx_dropped: the
TAP's queue, or the veth, was full) and at the receiver's socket (Udp
RcvbufErrors in its /proc/net/snmp), as a share of what iperf3 sent; the
CPU seconds the sending and the receiving iperf3 got (and the router,
for its cases), the share of the test each of them spent runnable but
waiting for a CPU (run_delay in /proc/PID/schedstat, sampled from 0.5 s
after the start to 0.5 s before the end), and how often the router's
thread went to sleep (voluntary context switches per 1,000 frames
forwarded), and its shedding spells and milliseconds during the UDP test. --runs N
repeats everything N times and prints each run and then the median of
each cell.

Usage (root): bench/dataplane.py [--build build] [--seconds 5] [--udp-len 64] [--runs 1] [--busy N]
Namespaces get per-run unique names and are always removed."""
import argparse
import json
import os
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, check=True, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if check and p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), p.stdout))
    return p


def dev_tx_dropped(ns):
    """eth0's tx_dropped in namespace ns (a TAP whose queue was full, a veth)."""
    return int(run(["ip", "netns", "exec", ns, "cat",
                    "/sys/class/net/eth0/statistics/tx_dropped"]).stdout)


def udp_rcvbuf_errors(ns):
    """Udp RcvbufErrors of namespace ns (a full socket receive buffer)."""
    lines = [l.split() for l in run(["ip", "netns", "exec", ns, "cat", "/proc/net/snmp"]).stdout.splitlines()
             if l.startswith("Udp:")]
    return int(dict(zip(lines[0][1:], lines[1][1:]))["RcvbufErrors"])


def run_delay(pid):
    """Seconds the threads of pid were runnable but waiting for a CPU, so far."""
    total = 0
    for t in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
            total += int(f.read().split()[1])
    return total / 1e9


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def iperf(ns_client, ns_server, server_ip, seconds, udp_len=None, router_pid=None):
    srv = subprocess.Popen(["ip", "netns", "exec", ns_server, "iperf3", "-s", "-1", "-p", "5299"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        cmd = ["ip", "netns", "exec", ns_client, "iperf3", "-c", server_ip, "-p", "5299", "-J",
               "-t", str(seconds)]
        if udp_len:
            cmd += ["-u", "-b", "0", "-l", str(udp_len)]
            drop0, rcvbuf0 = dev_tx_dropped(ns_client), udp_rcvbuf_errors(ns_server)
        cpu0 = children_cpu()
        cl = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        waits = {}
        if udp_len and seconds >= 2:
            pids = {"sender": cl.pid, "receiver": srv.pid}
            if router_pid:
                pids["router"] = router_pid
            time.sleep(0.5)
            w0, t0 = {k: run_delay(p) for k, p in pids.items()}, time.time()
            time.sleep(seconds - 1.0)
            w1, t1 = {k: run_delay(p) for k, p in pids.items()}, time.time()
            waits = {"wait_" + k: 100.0 * (w1[k] - w0[k]) / (t1 - t0) for k in pids}
        stdout = cl.communicate()[0]
        if cl.returncode != 0:
            raise RuntimeError("%s: %s" % (" ".join(cmd), stdout))
        out = json.loads(stdout)
        cpu1 = children_cpu()
        end = out["end"]
        if udp_len:
            s = end["sum"]
            pps = s["packets"] * (1 - s["lost_percent"] / 100.0) / s["seconds"]
            sent = max(s["packets"], 1)
            srv.wait(10)  # -1: the server exits after the test, its CPU is then ours to read
            cpu2 = children_cpu()
            return {"kpps": pps / 1000, "lost": s["lost_percent"],
                    "lost_dev": 100.0 * (dev_tx_dropped(ns_client) - drop0) / sent,
                    "lost_sock": 100.0 * (udp_rcvbuf_errors(ns_server) - rcvbuf0) / sent,
                    "cpu_sender": cpu1 - cpu0, "cpu_receiver": cpu2 - cpu1, **waits}
        return {"gbps": end["sum_received"]["bits_per_second"] / 1e9}
    finally:
        if srv.poll() is None:
            srv.kill()
        srv.wait(10)


# A CPU-bound process of nice 0 (--busy), ending by itself after 10 minutes
BUSY_LOOP = "import time\nend = time.time() + 600\nwhile time.time() < end:\n    pass\n"


def harness_counters(drv):
    """The harness's counters line (SIGUSR1), its tx count and its fields."""
    drv.send_signal(signal.SIGUSR1)
    for line in drv.stdout:
        if line.startswith("counters"):
            fields = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
            return line.strip(), int(fields.get("tx", 0)), fields
    return "", 0, {}


def sleeps(pid):
    """Voluntary context switches of all threads of a process so far."""
    n = 0
    for t in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, t)) as f:
            n += sum(int(l.split()[1]) for l in f if l.startswith("voluntary_ctxt_switches"))
    return n


def cpu_seconds(pid):
    """user + system time of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def router_case(build, tag, seconds, udp_len, offload=True, tap_io="batched", shed_nice=None):
    ids = ("i-bench%sa" % tag, "i-bench%sb" % tag)
    conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    conf.write("""
log_level = warn
offload = %s
tap_io = %s
%s
[subnet]
id = subnet-a
vpc = vpc-1
cidr = 10.96.0.0/24
route_table = rtb-1
nacl = acl-1
[subnet]
id = subnet-b
vpc = vpc-1
cidr = 10.96.1.0/24
route_table = rtb-1
nacl = acl-1
[route_table]
id = rtb-1
route = 10.96.0.0/16 local
[nacl]
id = acl-1
rule = 100 ingress allow all 0.0.0.0/0
rule = 100 egress allow all 0.0.0.0/0
[sg]
id = sg-1
vpc = vpc-1
rule = ingress tcp 5299 5299 10.96.0.0/16
rule = ingress udp 5299 5299 10.96.0.0/16
rule = egress all -1 -1 0.0.0.0/0
[instance]
id = %s
subnet = subnet-a
ip = 10.96.0.10
groups = sg-1
[instance]
id = %s
subnet = subnet-b
ip = 10.96.1.10
groups = sg-1
""" % (("yes" if offload else "no", tap_io,
        "" if shed_nice is None else "shed_nice = %d" % shed_nice) + ids))
    conf.close()
    drv = subprocess.Popen([os.path.join(build, "net-harness"), conf.name], stdout=subprocess.PIPE,
                           text=True)
    try:
        if drv.stdout.readline().strip() != "ready":
            raise RuntimeError("net-harness did not start")
        tcp = iperf(ids[0], ids[1], "10.96.1.10", seconds)
        _, tx0, f0 = harness_counters(drv)
        cpu0, sl0 = cpu_seconds(drv.pid), sleeps(drv.pid)
        udp = iperf(ids[0], ids[1], "10.96.1.10", seconds, udp_len, drv.pid)
        counters, tx1, f1 = harness_counters(drv)
        udp["shed_ms"] = int(f1.get("shed_ms", 0)) - int(f0.get("shed_ms", 0))
        udp["sheds"] = int(f1.get("sheds", 0)) - int(f0.get("sheds", 0))
        udp["cpu_router"] = cpu_seconds(drv.pid) - cpu0
        udp["ns_per_frame"] = udp["cpu_router"] * 1e9 / max(tx1 - tx0, 1)
        udp["sleeps_per_kframe"] = (sleeps(drv.pid) - sl0) * 1000.0 / max(tx1 - tx0, 1)
        return tcp, udp, counters
    finally:
        drv.send_signal(signal.SIGTERM)
        drv.wait(10)
        os.unlink(conf.name)
        for ns in ids:
            run(["ip", "netns", "delete", ns], check=False)


def bridge_case(tag, seconds, udp_len):
    a, b, br = "bench%sa" % tag, "bench%sb" % tag, "bench%sbr" % tag
    try:
        for ns in (a, b, br):
            run(["ip", "netns", "add", ns])
        run(["ip", "-n", br, "link", "add", "br0", "type", "bridge"])
        run(["ip", "-n", br, "link", "set", "br0", "up"])
        for ns, addr in ((a, "10.96.0.10/16"), (b, "10.96.1.10/16")):
            run(["ip", "-n", br, "link", "add", "p-" + ns[-1], "type", "veth", "peer", "name", "eth0",
                 "netns", ns])
            run(["ip", "-n", br, "link", "set", "p-" + ns[-1], "master", "br0", "up"])
            run(["ip", "-n", ns, "addr", "add", addr, "dev", "eth0"])
            run(["ip", "-n", ns, "link", "set", "eth0", "up"])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        tcp = iperf(a, b, "10.96.1.10", seconds)
        udp = iperf(a, b, "10.96.1.10", seconds, udp_len)
        return tcp, udp
    finally:
        for ns in (a, b, br):
            run(["ip", "netns", "delete", ns], check=False)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def print_table(title, names, cells, udp_len):
    row = "%-34s" + " %-30s" * len(names)
    print(title)
    print(row % (("",) + tuple(names)))
    print(row % (("TCP, iperf3, 1 stream",) +
                 tuple("%.2f Gbit/s" % tcp["gbps"] for tcp, _ in cells)))
    print(row % (("UDP %d-byte payload, iperf3 -b 0" % udp_len,) +
                 tuple("%.0f kpps received (%.1f%% lost)" % (udp["kpps"], udp["lost"])
                       for _, udp in cells)))
    print(row % (("  router CPU per frame forwarded",) +
                 tuple("%.0f ns" % udp["ns_per_frame"] if "ns_per_frame" in udp else "-"
                       for _, udp in cells)))
    print(row % (("  lost at sender's dev / rcv socket",) +
                 tuple("%.1f%% / %.1f%%" % (udp["lost_dev"], udp["lost_sock"]) for _, udp in cells)))
    print(row % (("  CPU s: sender, receiver, router",) +
                 tuple("%.2f, %.2f, %s" % (udp["cpu_sender"], udp["cpu_receiver"],
                                           "%.2f" % udp["cpu_router"] if "cpu_router" in udp else "-")
                       for _, udp in cells)))
    print(row % (("  waiting for a CPU: snd, rcv, rtr",) +
                 tuple("%.0f%%, %.0f%%, %s" % (udp["wait_sender"], udp["wait_receiver"],
                                              "%.0f%%" % udp["wait_router"] if "wait_router" in udp else "-")
                       if "wait_sender" in udp else "-" for _, udp in cells)))
    print(row % (("  router shedding: spells, ms",) +
                 tuple("%d, %d" % (udp["sheds"], udp["shed_ms"]) if "sheds" in udp else "-"
                       for _, udp in cells)))
    print(row % (("  router sleeps per 1,000 frames",) +
                 tuple("%.1f" % udp["sleeps_per_kframe"] if "sleeps_per_kframe" in udp else "-"
                       for _, udp in cells)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--udp-len", type=int, default=64)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--busy", type=int, default=0,
                    help="run everything beside N busy loops (CPU-bound processes of nice 0)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root")
    build = os.path.abspath(args.build)
    names = ("vpcd router (offloads)", "... shedding off", "... read/write per frame",
             "vpcd router (no offloads)", "Linux bridge")
    runs = []
    busy = []
    for i in range(args.runs):
        tag = secrets.token_hex(3)
        load0 = loadavg()
        try:
            busy = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(args.busy)]
            r_tcp, r_udp, counters = router_case(build, tag, args.seconds, args.udp_len)
            o_tcp, o_udp, o_counters = router_case(build, tag, args.seconds, args.udp_len, shed_nice=0)
            s_tcp, s_udp, s_counters = router_case(build, tag, args.seconds, args.udp_len,
                                                   tap_io="syscalls")
            p_tcp, p_udp, p_counters = router_case(build, tag, args.seconds, args.udp_len,
                                                   offload=False)
            b_tcp, b_udp = bridge_case(tag, args.seconds, args.udp_len)
        finally:
            for p in busy:
                p.kill()
                p.wait()
        cells = [(r_tcp, r_udp), (o_tcp, o_udp), (s_tcp, s_udp), (p_tcp, p_udp), (b_tcp, b_udp)]
        runs.append(cells)
        print_table("run %d of %d (load average %s before, %s after%s)" % (
                        i + 1, args.runs, load0, loadavg(),
                        "; beside %d busy loops" % args.busy if args.busy else ""),
                    names, cells, args.udp_len)
        print("router (offloads) %s" % counters)
        print("router (offloads, shedding off) %s" % o_counters)
        print("router (offloads, read/write per frame) %s" % s_counters)
        print("router (no offloads) %s" % p_counters)
        sys.stdout.flush()
    if args.runs > 1:
        med = []
        for c in range(len(names)):
            tcp = {"gbps": statistics.median(r[c][0]["gbps"] for r in runs)}
            udp = {k: statistics.median(r[c][1][k] for r in runs) for k in runs[0][c][1]}
            med.append((tcp, udp))
        print_table("median of %d runs" % args.runs, names, med, args.udp_len)
    print("cpus: %d" % os.cpu_count())


if __name__ == "__main__":
    main()
