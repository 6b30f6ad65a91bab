"""The console's Tunnel details with both tunnels really UP: the topology
of tests/interop/test_vpn_story.py (office -- router (strongSwan) -- vpcd
-- VPC host, throw-away namespaces), the router configured from
vpcd's download, and headless Chromium (tunnels.mjs) run in vpcd's
namespace against its API. The page shows both tunnels UP with "IPSEC IS
UP" and vpcd's tunnel detail (ISAKMP QM_IDLE, the IPsec SAs' SPIs, which
are strongSwan's with in and out swapped); then the router is killed
and the same page, never reloaded, turns both DOWN with DPD's cause by
itself.

Timing-sensitive (DPD, 30 s) and needs root: it runs in make test's
network lane (make console-net-test sets VPCD_CONSOLE_NET=1) and is
skipped elsewhere."""
import json
import os
import re
import signal
import subprocess
import time
import unittest

import vpcdtest
from interop import netns
# the module, not the class: a TestCase imported by name would be collected
# (and its whole VPN story run) here too
from interop import test_vpn_story
from interop.test_vpn_story import OUTSIDE, VPC_CIDR, CGW_IP, DPD_TIMEOUT

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.abspath(vpcdtest.BUILD)
ARTIFACTS = os.path.join(BUILD, "console-artifacts-net")


@unittest.skipUnless(os.environ.get("VPCD_CONSOLE_NET") == "1",
                     "the network lane's test: make console-net-test (root, namespaces, strongSwan, DPD timing)")
class TestConsoleTunnelsUp(test_vpn_story.VpnStoryTest):
    test_story = None   # VpnStoryTest's own story is not this test's

    def test_tunnels_in_the_browser(self):
        os.makedirs(ARTIFACTS, exist_ok=True)
        self.start_vpcd()
        vpc = self.aws("create-vpc", "--cidr-block", VPC_CIDR)["Vpc"]["VpcId"]
        self.aws("create-subnet", "--vpc-id", vpc, "--cidr-block", "10.96.1.0/24")
        cgw = self.aws("create-customer-gateway", "--type", "ipsec.1", "--public-ip", CGW_IP,
                       "--bgp-asn", "65000")["CustomerGateway"]["CustomerGatewayId"]
        vgw = self.aws("create-vpn-gateway", "--type", "ipsec.1")["VpnGateway"]["VpnGatewayId"]
        self.aws("attach-vpn-gateway", "--vpn-gateway-id", vgw, "--vpc-id", vpc)
        vid = self.aws("create-vpn-connection", "--type", "ipsec.1", "--customer-gateway-id", cgw,
                       "--vpn-gateway-id", vgw, "--options", "StaticRoutesOnly=true")["VpnConnection"]["VpnConnectionId"]
        self.aws("create-vpn-connection-route", "--vpn-connection-id", vid, "--destination-cidr-block", "10.0.0.0/24")
        tunnels = self.aws("describe-vpn-connections", "--vpn-connection-ids", vid)["VpnConnections"][0]["Options"]["TunnelOptions"]
        inside = [t["TunnelInsideCidr"] for t in tunnels]
        for cidr in inside:
            self.ns.ip("router", "addr", "add", self.inside_addrs(cidr)[0] + "/32", "dev", "lo")
        download = self.aws("get-vpn-connection-device-sample-configuration", "--vpn-connection-id", vid,
                            "--vpn-connection-device-type-id", "51cb26fd", "--internet-key-exchange-version", "ikev1"
                            )["VpnConnectionDeviceSampleConfiguration"]
        esp = re.search(r"esp_proposals = (\S+)", download).group(1)
        self.start_charon(self.router_conf(download, inside, esp))
        self.wait_telemetry(vid, [("UP", "^IPSEC IS UP$")] * 2, 30, "both tunnels UP")
        self.assert_strongswan_up()
        self.step("both tunnels UP; the browser opens the VPN connection")

        env = dict(os.environ, ENDPOINT="http://127.0.0.1:%d" % netns_port(), KEY_ID=vpcdtest.KEY_ID,
                   SECRET=vpcdtest.SECRET, VPN_ID=vid, ARTIFACTS=ARTIFACTS,
                   PLAYWRIGHT_DIR=os.path.join(BUILD, "console-test"), CHROMIUM="/usr/bin/chromium",
                   DOWN_TIMEOUT_MS=str((DPD_TIMEOUT + 15) * 1000))
        node = subprocess.Popen(netns.in_netns(self.ns["vpcd"], "node", os.path.join(HERE, "tunnels.mjs")),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.addCleanup(netns.stop_process, node, 10)
        up = self.read_line(node, "UP", 90)
        # vpcd's detail follows the SAs within seconds, the tab every five:
        # until it shows the SAs strongSwan has, ask for the next refresh
        for _ in range(6):
            spis = self.swanctl_child_spis()
            if all(("0x" + s.upper()) in up["detail"] for n in (1, 2) for pair in spis.get("tunnel%d" % n, ())
                   for s in pair):
                break
            node.stdin.write("AGAIN\n")
            node.stdin.flush()
            up = self.read_line(node, "UP", 30)
        for n, row in enumerate(up["rows"]):
            self.assertEqual(row[0], "Tunnel %d" % (n + 1))
            self.assertEqual(row[1], OUTSIDE[n])
            self.assertEqual(row[2], inside[n])
            self.assertEqual((row[3], row[5]), ("UP", "IPSEC IS UP"))
        self.assertIn("QM_IDLE", up["detail"])
        for n in (1, 2):
            self.assertTrue(spis.get("tunnel%d" % n), spis)
            for spi_in, spi_out in spis["tunnel%d" % n]:
                # vpcd's inbound SPI is strongSwan's outbound, and back
                self.assertIn("0x" + spi_out.upper(), up["detail"])
                self.assertIn("0x" + spi_in.upper(), up["detail"])
        self.step("the page shows both UP, QM_IDLE and strongSwan's SPIs")

        self.charon.stop(signal.SIGKILL)
        t_kill = time.time()
        node.stdin.write("KILLED\n")
        node.stdin.flush()
        down = self.read_line(node, "DOWN", DPD_TIMEOUT + 30)
        self.assertEqual([(r[3], r[5]) for r in down["rows"]], [("DOWN", "DPD timeout")] * 2)
        self.step("the page turned both DOWN 'DPD timeout' by itself, %.1f s after the router died" % (time.time() - t_kill))
        node.stdin.close()
        self.assertEqual(node.wait(30), 0, node.stderr.read())

    def read_line(self, node, tag, timeout):
        end = time.time() + timeout
        while time.time() < end:
            line = node.stdout.readline()
            if not line:
                break
            if line.startswith(tag + " "):
                return json.loads(line[len(tag) + 1:])
        try:
            node.wait(5)
        except subprocess.TimeoutExpired:
            raise AssertionError("tunnels.mjs did not print %s within %d s" % (tag, timeout))
        raise AssertionError("tunnels.mjs ended (%s) without printing %s: %s" % (node.returncode, tag, node.stderr.read()[-3000:]))


def netns_port():
    from interop.test_vpn_story import API_PORT
    return API_PORT


if __name__ == "__main__":
    unittest.main()
