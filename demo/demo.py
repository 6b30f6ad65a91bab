#!/usr/bin/env python3
"""make demo: the seed's story, end to end, in throw-away network namespaces.

    office 10.0.0.10 -- 10.0.0.1 router 198.51.100.2 -- 198.51.100.1 vpcd
                                 (strongSwan)          203.0.113.1, .2 (tunnel outside addresses)
                                                       instance i-... 10.96.1.x (a namespace of vpcd's)

Steps, printed as the reader of docs/design.md's story would see them: vpcd
starts (--dataplane); `vpcctl wizard --pattern public-private-vpn` makes the
VPC with its VPN; `vpcctl vpn config` downloads the strongSwan configuration,
which the router loads; `vpcctl vpn status` shows both tunnels UP; an instance
is launched into the private subnet (the aws CLI) and gets its address; the
office server pings it through the tunnels.

Everything (namespaces, vpcd, charon, the temporary directory) is removed at
the end, on a failure and on Ctrl-C. Needs root, strongSwan (charon-systemd,
swanctl) and the aws CLI. Documentation addresses only (RFC 5737, RFC 3927
inside tunnel addresses, 10/8 for the office and the VPC)."""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# the interop tests' namespaces, veth pairs and charon
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "interop"))
import netns  # noqa: E402
from netns import CHARON, SWANCTL, Charon, Namespaces, PlumbingError, run, stop_process  # noqa: E402

OFFICE_IP = "10.0.0.10"
OFFICE_NET = "10.0.0.0/24"
CGW_IP = "198.51.100.2"
VPCD_LINK_IP = "198.51.100.1"
OUTSIDE = ("203.0.113.1", "203.0.113.2")
VPC_CIDR = "10.96.0.0/16"
REGION = "us-east-1"
STRONGSWAN_DEVICE = "51cb26fd"    # Generic / strongSwan (swanctl.conf)

BOLD = "\033[1m" if sys.stdout.isatty() else ""
DIM = "\033[2m" if sys.stdout.isatty() else ""
OFF = "\033[0m" if sys.stdout.isatty() else ""


class DemoError(Exception):
    pass


def wait_for(predicate, timeout, what):
    netns.wait_for(predicate, timeout, what, interval=0.2)


class Demo:
    def __init__(self, build, api_port):
        self.build = build
        self.vpcd_bin = os.path.join(build, "vpcd")
        self.vpcctl_bin = os.path.join(build, "vpcctl")
        self.api = "http://127.0.0.1:%d" % api_port
        self.api_port = api_port
        self.dir = tempfile.mkdtemp(prefix="vpcd-demo-")
        self.ns = Namespaces("demo", ("office", "router", "vpcd"))
        self.instances = []
        self.vpcd = None
        self.charon = None
        self.t0 = time.time()
        # the aws CLI and vpcctl use the key vpcd generates in its data dir,
        # as a user of `make run` does
        self.env = dict(os.environ, AWS_DEFAULT_REGION=REGION, AWS_MAX_ATTEMPTS="1",
                        AWS_CONFIG_FILE="/dev/null", AWS_PAGER="")
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            self.env.pop(k, None)

    # ---- printing -------------------------------------------------------------------

    def step(self, n, title):
        print("\n%s[%5.1f s] %d. %s%s" % (BOLD, time.time() - self.t0, n, title, OFF), flush=True)

    def show(self, cmd_text, output):
        print("%s$ %s%s" % (DIM, cmd_text, OFF))
        for line in output.rstrip("\n").splitlines():
            print("  " + line)
        sys.stdout.flush()

    # ---- the namespaces ---------------------------------------------------------------

    def topology(self):
        self.ns.make(rp_filter=0)
        self.ns.office_router_vpcd(office_ip=OFFICE_IP, cgw_ip=CGW_IP, vpcd_link_ip=VPCD_LINK_IP)
        for a in OUTSIDE:
            self.ns.ip("vpcd", "addr", "add", a + "/32", "dev", "wan0")

    # ---- vpcd -------------------------------------------------------------------------

    def in_vpcd(self, cmd):
        # nsenter, not "ip netns exec": vpcd must share the host's mount
        # namespace, where it mounts its instances' namespaces under /run/netns
        return ["nsenter", "--net=/run/netns/" + self.ns["vpcd"]] + cmd

    def start_vpcd(self):
        self.data_dir = os.path.join(self.dir, "vpcd-data")
        os.makedirs(self.data_dir)
        self.vpcd_log = os.path.join(self.dir, "vpcd.log")
        env = {k: v for k, v in os.environ.items() if k not in ("VPCD_ACCESS_KEY_ID", "VPCD_SECRET_ACCESS_KEY")}
        with open(self.vpcd_log, "ab") as log:
            self.vpcd = subprocess.Popen(self.in_vpcd(
                [self.vpcd_bin, "--listen", "127.0.0.1:%d" % self.api_port, "--data-dir", self.data_dir,
                 "--vpn-outside-addresses", ",".join(OUTSIDE), "--dataplane"]),
                stdout=log, stderr=log, env=env, start_new_session=True)

        def listening():
            if self.vpcd.poll() is not None:
                raise DemoError("vpcd exited; log:\n" + self.log_tail())
            return run(self.in_vpcd([sys.executable, "-c",
                                     "import socket; socket.create_connection(('127.0.0.1', %d), 0.5)"
                                     % self.api_port]), check=False).returncode == 0
        wait_for(listening, 15, "vpcd's API")
        self.env["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(self.data_dir, "credentials")

    def log_tail(self, n=3000):
        try:
            with open(self.vpcd_log, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def vpcctl(self, *args):
        p = run(self.in_vpcd([self.vpcctl_bin, "--endpoint-url", self.api] + list(args)),
                check=False, env=self.env, timeout=60)
        if p.returncode != 0:
            raise DemoError("vpcctl %s failed (%d):\n%s" % (" ".join(args), p.returncode, p.stdout))
        return p.stdout

    def aws(self, *args):
        p = subprocess.run(self.in_vpcd(["aws", "--endpoint-url", self.api, "--output", "json", "ec2"]
                                        + list(args)),
                           capture_output=True, text=True, env=self.env, timeout=60)
        if p.returncode != 0:
            raise DemoError("aws ec2 %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
        return json.loads(p.stdout) if p.stdout.strip() else {}

    # ---- the router ---------------------------------------------------------------------

    def start_charon(self, conf):
        """charon with a private /run (its pid file and socket stay in the
        demo's directory), in its own session; swanctl --load-all's output."""
        self.charon = Charon(self.ns["router"], self.dir, new_session=True)
        return self.charon.start(conf)

    # ---- cleanup ------------------------------------------------------------------------

    def cleanup(self):
        print("\n%scleaning up: charon, vpcd, namespaces, %s%s" % (DIM, self.dir, OFF), flush=True)
        if self.charon:
            self.charon.stop()
        stop_process(self.vpcd, 20)     # vpcd deletes its instances' namespaces when it stops
        for iid in self.instances:
            netns.remove_instance_netns(iid)
        self.ns.remove()
        if os.environ.get("VPCD_DEMO_KEEP"):
            print("kept " + self.dir)
        else:
            shutil.rmtree(self.dir, True)

    # ---- the story ----------------------------------------------------------------------

    def story(self):
        self.topology()
        self.step(1, "the office, its router and vpcd, each in a namespace")
        print("  office server  %s (namespace %s)" % (OFFICE_IP, self.ns["office"]))
        print("  office router  10.0.0.1, public %s, strongSwan (namespace %s)" % (CGW_IP, self.ns["router"]))
        print("  vpcd           %s, tunnel endpoints %s (namespace %s)"
              % (VPCD_LINK_IP, ", ".join(OUTSIDE), self.ns["vpcd"]))
        self.start_vpcd()
        print("  vpcd --dataplane listening on %s" % self.api)

        self.step(2, "the VPC wizard: VPC with public and private subnets and hardware VPN access")
        wiz = ["wizard", "--pattern", "public-private-vpn", "--name", "demo", "--vpc-cidr", VPC_CIDR,
               "--public-subnet", "10.96.0.0/24", "--private-subnet", "10.96.1.0/24",
               "--customer-gateway-ip", CGW_IP, "--static-route", OFFICE_NET]
        out = self.vpcctl(*wiz)
        self.show("vpcctl " + " ".join(wiz), out)

        def made(what, prefix):
            m = re.search(r"(?m)^\s*create %s\s+(%s-[0-9a-f]+)" % (what, prefix), out)
            if not m:
                raise DemoError("the wizard's output names no %s" % what)
            return m.group(1)
        vpc, private, vid = made("VPC", "vpc"), made("private subnet", "subnet"), made("VPN connection", "vpn")

        self.step(3, "download the router's configuration (Generic / strongSwan)")
        conf = os.path.join(self.dir, "swanctl.conf")
        self.show("vpcctl vpn config %s --device-type %s --ike-version ikev1 -o swanctl.conf"
                  % (vid, STRONGSWAN_DEVICE),
                  self.vpcctl("vpn", "config", vid, "--device-type", STRONGSWAN_DEVICE,
                              "--ike-version", "ikev1", "-o", conf))
        with open(conf) as f:
            text = f.read()
        print("  %d lines; connections: %s" % (text.count("\n"), ", ".join(
            re.findall(r"(?m)^    (tunnel\d) \{", text))))

        self.step(4, "the office router loads it: both tunnels come UP")
        loaded = self.start_charon(conf)
        self.show("swanctl --load-all --file swanctl.conf",
                  "".join(l + "\n" for l in loaded.splitlines() if not l.startswith("opening directory")))

        def both_up():
            st = self.aws("describe-vpn-connections", "--vpn-connection-ids", vid)
            tel = st["VpnConnections"][0].get("VgwTelemetry", [])
            return len(tel) == 2 and all(t["Status"] == "UP" for t in tel)
        wait_for(both_up, 60, "both tunnels UP")
        # the SAs' detail comes from vpcd's own action, VpcdDescribeTunnelDetails
        wait_for(lambda: self.vpcctl("vpn", "status", vid).count("QM_IDLE") >= 2,
                 30, "vpcctl vpn status to show both ISAKMP SAs (QM_IDLE)")
        self.show("vpcctl vpn status %s" % vid, self.vpcctl("vpn", "status", vid))

        self.step(5, "launch an instance into the private subnet")
        sg = self.aws("create-security-group", "--group-name", "office", "--description", "from the office",
                      "--vpc-id", vpc)["GroupId"]
        self.aws("authorize-security-group-ingress", "--group-id", sg, "--ip-permissions",
                 "IpProtocol=icmp,FromPort=-1,ToPort=-1,IpRanges=[{CidrIp=%s}]" % OFFICE_NET,
                 "IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=%s}]" % OFFICE_NET)
        print("  security group %s: ICMP and TCP 22 from %s" % (sg, OFFICE_NET))
        image = self.aws("describe-images")["Images"][0]["ImageId"]
        inst = self.aws("run-instances", "--image-id", image, "--count", "1", "--subnet-id", private,
                        "--security-group-ids", sg)["Instances"][0]
        iid, addr = inst["InstanceId"], inst["PrivateIpAddress"]
        self.instances.append(iid)
        print("  $ aws ec2 run-instances --image-id %s --subnet-id %s --security-group-ids %s" % (image, private, sg))
        print("  instance %s: private address %s" % (iid, addr))
        wait_for(lambda: os.path.exists("/run/netns/" + iid) and
                 addr in run(["ip", "-n", iid, "-4", "addr", "show", "eth0"], check=False).stdout,
                 15, "the instance's eth0")
        self.show("ip -n %s -br addr show eth0; ip -n %s route" % (iid, iid),
                  run(["ip", "-n", iid, "-4", "-br", "addr", "show", "eth0"]).stdout +
                  run(["ip", "-n", iid, "route"]).stdout)

        self.step(6, "from the office server: ping the instance through the tunnels")
        p = run(["ip", "netns", "exec", self.ns["office"], "ping", "-n", "-c", "4", "-i", "0.3", "-W", "2", addr],
                check=False, timeout=30)
        self.show("ping -c 4 %s   (on %s)" % (addr, OFFICE_IP), p.stdout)
        m = re.search(r"(\d+) packets transmitted, (\d+) received", p.stdout)
        if not m or int(m.group(2)) == 0:
            raise DemoError("the instance did not answer; vpcd log tail:\n" + self.log_tail())
        print("\n%sThe office reaches %s (%s) in the VPC's private subnet through the VPN.%s"
              % (BOLD, iid, addr, OFF))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build", help="meson build directory (default: build)")
    ap.add_argument("--api-port", type=int, default=8775,
                    help="vpcd's API port inside its namespace (default 8775)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("make demo needs root (network namespaces, TAP devices, strongSwan): sudo make demo")
    for path, what in ((os.path.join(args.build, "vpcd"), "make all"),
                       (os.path.join(args.build, "vpcctl"), "make all"),
                       (CHARON, "apt-get install charon-systemd libcharon-extra-plugins"),
                       (SWANCTL, "apt-get install strongswan-swanctl")):
        if not os.path.exists(path):
            sys.exit("%s is missing (%s)" % (path, what))
    if not shutil.which("aws"):
        sys.exit("the aws CLI is missing (apt-get install awscli)")

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    demo = Demo(os.path.abspath(args.build), args.api_port)
    rc = 0
    try:
        demo.story()
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
        rc = 130
    except (DemoError, PlumbingError) as e:    # PlumbingError: a command or a wait failed
        print("\ndemo failed: %s" % e, file=sys.stderr, flush=True)
        rc = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)    # a second Ctrl-C must not stop the cleanup
        demo.cleanup()
    return rc


if __name__ == "__main__":
    sys.exit(main())
