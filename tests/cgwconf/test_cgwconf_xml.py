#!/usr/bin/env python3
"""The customerGatewayConfiguration document, parsed by a real XML parser
and read by element path the way tools read AWS's (ElementTree paths).
Run by meson (suite 'unit') with the path of cgwconf-render as argument."""
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ET

RENDER = sys.argv.pop(1) if len(sys.argv) > 1 else "build/tests/cgwconf/cgwconf-render"


def render(*args):
    out = subprocess.run([RENDER] + list(args) + ["xml"], check=True,
                         stdout=subprocess.PIPE).stdout
    assert out.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(out)


class XmlTest(unittest.TestCase):
    def test_static(self):
        doc = render()
        self.assertEqual(doc.tag, "vpn_connection")
        self.assertEqual(doc.get("id"), "vpn-0a1b2c3d4e5f67890")
        self.assertEqual(doc.findtext("customer_gateway_id"), "cgw-0123456789abcdef0")
        self.assertEqual(doc.findtext("vpn_gateway_id"), "vgw-0fedcba9876543210")
        self.assertEqual(doc.findtext("vpn_connection_type"), "ipsec.1")
        self.assertEqual(doc.findtext("vpn_connection_attributes"), "NoBGPVPNConnection")
        tunnels = doc.findall("ipsec_tunnel")
        self.assertEqual(len(tunnels), 2)
        expect = [("203.0.113.1", "169.254.252.1", "169.254.252.2", "Kp4x9_bT2mQ7.vLz3NcR8wYhE6sJ1uAf"),
                  ("203.0.113.2", "169.254.253.5", "169.254.253.6", "r7Gd2.Wq_9ZxHc4TnBv6LsKj1PyMe8Ua")]
        for t, (vgw, vgw_in, cgw_in, psk) in zip(tunnels, expect):
            self.assertEqual(t.findtext("customer_gateway/tunnel_outside_address/ip_address"), "198.51.100.2")
            self.assertEqual(t.findtext("customer_gateway/tunnel_inside_address/ip_address"), cgw_in)
            self.assertEqual(t.findtext("customer_gateway/tunnel_inside_address/network_mask"), "255.255.255.252")
            self.assertEqual(t.findtext("customer_gateway/tunnel_inside_address/network_cidr"), "30")
            self.assertEqual(t.findtext("vpn_gateway/tunnel_outside_address/ip_address"), vgw)
            self.assertEqual(t.findtext("vpn_gateway/tunnel_inside_address/ip_address"), vgw_in)
            self.assertIsNone(t.find("customer_gateway/bgp"))
            self.assertIsNone(t.find("vpn_gateway/bgp"))
            self.assertEqual(t.findtext("ike/authentication_protocol"), "sha1")
            self.assertEqual(t.findtext("ike/encryption_protocol"), "aes-128-cbc")
            self.assertEqual(t.findtext("ike/lifetime"), "28800")
            self.assertEqual(t.findtext("ike/perfect_forward_secrecy"), "group2")
            self.assertEqual(t.findtext("ike/mode"), "main")
            self.assertEqual(t.findtext("ike/pre_shared_key"), psk)
            self.assertEqual(t.findtext("ipsec/protocol"), "esp")
            self.assertEqual(t.findtext("ipsec/authentication_protocol"), "hmac-sha1-96")
            self.assertEqual(t.findtext("ipsec/encryption_protocol"), "aes-128-cbc")
            self.assertEqual(t.findtext("ipsec/lifetime"), "3600")
            self.assertEqual(t.findtext("ipsec/perfect_forward_secrecy"), "group2")
            self.assertEqual(t.findtext("ipsec/mode"), "tunnel")
            self.assertEqual(t.findtext("ipsec/clear_df_bit"), "true")
            self.assertEqual(t.findtext("ipsec/fragmentation_before_encryption"), "true")
            self.assertEqual(t.findtext("ipsec/tcp_mss_adjustment"), "1379")
            self.assertEqual(t.findtext("ipsec/dead_peer_detection/interval"), "10")
            self.assertEqual(t.findtext("ipsec/dead_peer_detection/retries"), "3")

    def test_bgp_and_options_in_force(self):
        doc = render("--bgp", "--phase1-enc", "AES256-GCM-16,AES256", "--phase1-integ", "SHA2-512,SHA2-256",
                     "--phase1-dh", "21,14", "--phase2-enc", "AES128-GCM-16", "--phase2-integ", "SHA2-384",
                     "--phase2-dh", "5")
        self.assertIsNone(doc.find("vpn_connection_attributes"))
        for t in doc.findall("ipsec_tunnel"):
            self.assertEqual(t.findtext("customer_gateway/bgp/asn"), "65000")
            self.assertEqual(t.findtext("customer_gateway/bgp/hold_time"), "30")
            self.assertEqual(t.findtext("vpn_gateway/bgp/asn"), "64512")
            self.assertEqual(t.findtext("ike/encryption_protocol"), "aes-256-cbc")
            self.assertEqual(t.findtext("ike/authentication_protocol"), "sha2-256")
            self.assertEqual(t.findtext("ike/perfect_forward_secrecy"), "group14")
            self.assertEqual(t.findtext("ipsec/encryption_protocol"), "aes-128-gcm-16")
            self.assertEqual(t.findtext("ipsec/authentication_protocol"), "hmac-sha2-384-192")
            self.assertEqual(t.findtext("ipsec/perfect_forward_secrecy"), "group5")

    def test_invalid_connection_writes_nothing(self):
        p = subprocess.run([RENDER, "--inside1", "169.254.10.1/30", "xml"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")
        self.assertIn("tunnel 1: inside CIDR '169.254.10.1/30'", p.stderr)


if __name__ == "__main__":
    unittest.main()
