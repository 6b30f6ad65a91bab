/* The fixed connection of the cgwconf tests (fixture.h). */
#include "fixture.h"

#include <stdio.h>

void fixture_connection(struct cgw_vpn_connection *c, bool bgp)
{
	cgwconf_connection_defaults(c);
	snprintf(c->cv_vpn_connection_id, CGW_ID_LEN, "vpn-0a1b2c3d4e5f67890");
	snprintf(c->cv_customer_gateway_id, CGW_ID_LEN, "cgw-0123456789abcdef0");
	snprintf(c->cv_vpn_gateway_id, CGW_ID_LEN, "vgw-0fedcba9876543210");
	snprintf(c->cv_cgw_outside_ip, CGW_IP_LEN, FIXTURE_CGW_IP);
	c->cv_n_vpc_cidrs = 1;
	snprintf(c->cv_vpc_cidrs[0], CGW_CIDR_LEN, FIXTURE_VPC_CIDR);
	snprintf(c->cv_tunnel[0].ct_vgw_outside_ip, CGW_IP_LEN, FIXTURE_VGW1_IP);
	snprintf(c->cv_tunnel[1].ct_vgw_outside_ip, CGW_IP_LEN, FIXTURE_VGW2_IP);
	snprintf(c->cv_tunnel[0].ct_inside_cidr, CGW_CIDR_LEN, FIXTURE_INSIDE1);
	snprintf(c->cv_tunnel[1].ct_inside_cidr, CGW_CIDR_LEN, FIXTURE_INSIDE2);
	snprintf(c->cv_tunnel[0].ct_psk, CGW_PSK_LEN, FIXTURE_PSK1);
	snprintf(c->cv_tunnel[1].ct_psk, CGW_PSK_LEN, FIXTURE_PSK2);
	c->cv_static_routes_only = !bgp;
	if (!bgp) {
		c->cv_n_static_routes = 2;
		snprintf(c->cv_static_routes[0], CGW_CIDR_LEN, "10.0.0.0/24");
		snprintf(c->cv_static_routes[1], CGW_CIDR_LEN, "192.168.10.0/24");
	}
}
