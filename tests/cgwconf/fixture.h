/*
 * The fixed VPN connection of the cgwconf tests and of cgwconf-render:
 * documentation addresses only (198.51.100.0/24 for the customer gateway,
 * 203.0.113.0/24 for the VPN gateway), the seed's VPC 10.96.0.0/16, AWS's
 * default tunnel options.  Goldens are rendered from it: changing a value
 * here means regenerating them (tests/cgwconf/update-goldens.sh).
 */
#ifndef VPCD_TESTS_CGWCONF_FIXTURE_H
#define VPCD_TESTS_CGWCONF_FIXTURE_H

#include <stdbool.h>

#include "cgwconf/cgwconf.h"

#define FIXTURE_CGW_IP		"198.51.100.2"
#define FIXTURE_VGW1_IP		"203.0.113.1"
#define FIXTURE_VGW2_IP		"203.0.113.2"
#define FIXTURE_PSK1		"Kp4x9_bT2mQ7.vLz3NcR8wYhE6sJ1uAf"
#define FIXTURE_PSK2		"r7Gd2.Wq_9ZxHc4TnBv6LsKj1PyMe8Ua"
#define FIXTURE_INSIDE1		"169.254.252.0/30"
#define FIXTURE_INSIDE2		"169.254.253.4/30"
#define FIXTURE_VPC_CIDR	"10.96.0.0/16"

/* bgp: dynamic routing with ASNs 65000/64512; else static routes
 * 10.0.0.0/24 and 192.168.10.0/24. */
void fixture_connection(struct cgw_vpn_connection *c, bool bgp);

#endif
