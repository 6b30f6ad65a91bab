#!/usr/bin/env python3
"""bench/ike_setup — tunnel establishments per second: one strongSwan 5.9
charon (kernel-libipsec) initiates N tunnels at once (IKE SA + one CHILD SA
each, AWS's default suite aes128-sha1-modp1024, PFS modp1024 for IKEv2's
later CHILD SAs) to N outside addresses of one responder, which is either
vpcd's endpoint (build/vpn-endpoint-harness, N tunnels allowing ikev1 and
ikev2 as AWS's do) or a second charon, in the same namespaces and the same
run, for IKEv1 and IKEv2. The clock runs from `swanctl --load-all` on the
initiator (its CHILD SAs have start_action = start) to N CHILD SAs
INSTALLED in the initiator's `swanctl --list-sas`, so both responders are
timed by the same observer. Not a test: it prints a table. Needs root.

    ini (charon, 198.51.100.2) -- veth -- resp (203.0.113.1..N: driver or charon)

Usage: bench/ike_setup.py [--build build] [--tunnels 64] [--runs 3]"""
import argparse
import os
import re
import secrets
import shutil
import sys
import tempfile
import textwrap
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from interop.netns import Charon, Namespaces, in_netns, stop_process   # noqa: E402

import subprocess   # noqa: E402

INI_IP, RESP_LINK = "198.51.100.2", "198.51.100.1"
# strongSwan's DoS protection is turned off on both charons (unthrottled):
# every tunnel comes from one address at once. vpcd's per-tunnel limits
# (one half-open IKE SA per tunnel here) are not reached.


def outside(k):
    return "203.0.113.%d" % (k + 1)


def swanctl_conf(n, version, initiator, psk):
    conns = []
    for k in range(n):
        local, remote = (INI_IP, outside(k)) if initiator else (outside(k), INI_IP)
        lts, rts = ("10.1.%d.0/24" % k, "10.200.%d.0/24" % k)
        if not initiator:
            lts, rts = rts, lts
        conns.append(textwrap.dedent("""\
            t%(k)d {
                version = %(v)d
                local_addrs = %(l)s
                remote_addrs = %(r)s
                proposals = aes128-sha1-modp1024
                local { auth = psk
                        id = %(l)s }
                remote { auth = psk
                         id = %(r)s }
                children {
                    t%(k)d {
                        local_ts = %(lts)s
                        remote_ts = %(rts)s
                        esp_proposals = aes128-sha1-modp1024
                        start_action = %(sa)s
                    }
                }
            }
            """) % {"k": k, "v": version, "l": local, "r": remote, "lts": lts, "rts": rts,
                    "sa": "start" if initiator else "none"})
    return ("connections {\n%s}\nsecrets {\n    ike-all {\n        secret = \"%s\"\n    }\n}\n" %
            (textwrap.indent("".join(conns), "    "), psk))


def driver_conf(n, psk):
    out = ["tun = vpnb0", "log_level = warn"]
    for k in range(n):
        out += ["", "[tunnel]", "id = t%d" % k, "local = " + outside(k), "remote = " + INI_IP,
                "psk = " + psk, "ike_versions = ikev1,ikev2", "startup_action = add"]
    return "\n".join(out) + "\n"


def unthrottled(charon):
    """strongSwan's DoS limits off: by default a responder blocks a peer
    address with more than 5 half-open IKE SAs (block_threshold) and asks
    for cookies above 10 (cookie_threshold); here one address opens them
    all at once, which is the load, not an attack."""
    with open(charon.conf) as f:
        text = f.read()
    text = text.replace("charon-systemd {\n", "charon-systemd {\n    block_threshold = 100000\n"
                        "    cookie_threshold = 100000\n    init_limit_half_open = 0\n", 1)
    with open(charon.conf, "w") as f:
        f.write(text)
    return charon


def installed(charon):
    out = charon.swanctl("--list-sas").stdout
    return len(re.findall(r"(?m)^  t\d+: #\d+, reqid \d+, INSTALLED", out))


def one_run(ns, d, n, version, responder, build, psk, tag):
    resp = None
    ini = unthrottled(Charon(ns["ini"], d, suffix="-ini-" + tag))
    try:
        if responder == "vpcd":
            conf = os.path.join(d, "driver-%s.conf" % tag)
            with open(conf, "w") as f:
                f.write(driver_conf(n, psk))
            out_path = os.path.join(d, "driver-%s.out" % tag)
            with open(os.path.join(d, "driver-%s.log" % tag), "w") as log, open(out_path, "w") as out:
                resp = subprocess.Popen(in_netns(ns["resp"], os.path.join(build, "vpn-endpoint-harness"),
                                                 conf), stdout=out, stderr=log)
            end = time.time() + 20
            while "ready vpnb0" not in open(out_path).read():
                if time.time() > end or resp.poll() is not None:
                    raise RuntimeError("driver did not start: " + open(out_path).read()[-500:])
                time.sleep(0.05)
        else:
            resp = unthrottled(Charon(ns["resp"], d, suffix="-resp-" + tag))
            rconf = os.path.join(d, "resp-%s.conf" % tag)
            with open(rconf, "w") as f:
                f.write(swanctl_conf(n, version, False, psk))
            resp.start(rconf)
        iconf = os.path.join(d, "ini-%s.conf" % tag)
        with open(iconf, "w") as f:
            f.write(swanctl_conf(n, version, True, psk))
        ini.start()
        t0 = time.time()
        ini.swanctl("--load-all", "--file", iconf)
        while installed(ini) < n:
            if time.time() - t0 > 120:
                raise RuntimeError("%s/%s: %d of %d CHILD SAs after 120 s" % (
                    responder, version, installed(ini), n))
            time.sleep(0.05)
        return time.time() - t0
    finally:
        ini.stop()
        if isinstance(resp, Charon):
            resp.stop()
        elif resp:
            stop_process(resp)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--tunnels", type=int, default=64)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root")
    n = min(args.tunnels, 64)   # the driver holds at most 64 tunnels (MAX_SPECS)
    build = os.path.abspath(args.build)
    d = tempfile.mkdtemp(prefix="bench-ike-")
    ns = Namespaces("ikeb", ("ini", "resp"))
    psk = secrets.token_hex(16)
    rows = []
    try:
        ns.make()
        ns.veth("ini", "eth0", "resp", "eth0")
        ns.ip("ini", "addr", "add", INI_IP + "/24", "dev", "eth0")
        ns.ip("resp", "addr", "add", RESP_LINK + "/24", "dev", "eth0")
        ns.ip("ini", "route", "add", "203.0.113.0/24", "via", RESP_LINK)
        for k in range(n):
            ns.ip("resp", "addr", "add", outside(k) + "/32", "dev", "eth0")
            # libipsec routes each CHILD SA's remote selector from an
            # address inside its local one: both charons need one
            ns.ip("ini", "addr", "add", "10.1.%d.1/32" % k, "dev", "lo")
            ns.ip("resp", "addr", "add", "10.200.%d.1/32" % k, "dev", "lo")
        for version in (1, 2):
            for responder in ("vpcd", "strongswan"):
                times = [one_run(ns, d, n, version, responder, build, psk,
                                 "%s-v%d-%d" % (responder, version, r)) for r in range(args.runs)]
                rows.append((version, responder, times))
                print("IKEv%d %-10s %s" % (version, responder,
                                           " ".join("%.2f s" % t for t in times)), file=sys.stderr)
    finally:
        ns.remove()
        if os.environ.get("BENCH_KEEP"):
            print("keeping " + d, file=sys.stderr)
        else:
            shutil.rmtree(d, ignore_errors=True)
    print("\n%d tunnels (IKE SA + CHILD SA each) initiated at once by one charon; "
          "establishments per second, best of %d runs (every run above, on stderr).\n"
          "The initiator is the same charon for both responders, so at this size it\n"
          "bounds both figures: read them as 'no slower than', not as a ceiling."
          % (n, args.runs))
    print("%-6s %-12s %10s %12s" % ("IKE", "responder", "seconds", "tunnels/s"))
    for version, responder, times in rows:
        best = min(times)
        print("%-6s %-12s %10.2f %12.1f" % ("IKEv%d" % version, responder, best, n / best))


if __name__ == "__main__":
    main()
