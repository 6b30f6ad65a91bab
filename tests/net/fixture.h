/* fixture — one VPC as the net unit tests use it (see test_net.c). */
#ifndef VPCD_TESTS_NET_FIXTURE_H
#define VPCD_TESTS_NET_FIXTURE_H

#include "net/net.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/*  vpc-1: subnet-a 10.96.0.0/24 (acl-a: allow all), subnet-b 10.96.1.0/24
 *  (acl-b: ingress 50 deny tcp 10.96.0.0/24 port 23, 100 allow all;
 *  egress 100 allow all); one table: 10.96.0.0/16 local, 10.99.0.0/16
 *  blackhole, 0.0.0.0/0 igw-1, 172.16.0.0/12 vgw-1, 192.168.50.0/24 eni-c.
 *  sg-app: egress all. sg-web: ingress tcp 80 from 10.96.0.0/16, tcp 443
 *  from anywhere, icmp from sg-app members; egress all.
 *  eni-a 10.96.0.10 (sg-app), eni-b 10.96.1.20 (sg-web, public
 *  203.0.113.20), eni-c 10.96.0.30 (sg-app, source/dest check off). */
struct fixture {
	struct net_subnet_config subnets[2];
	struct net_route_config routes[5];
	struct net_route_table_config rtb;
	struct nacl_rule acl_a[2], acl_b[3];
	struct net_nacl_config nacls[2];
	struct net_sg_rule_config app_rules[1], web_rules[4];
	struct net_sg_config sgs[2];
	struct net_eni_config enis[3];
	struct net_gateway_config gws[2];
	struct net_config cfg;
};

static const uint8_t MAC_A[6] = { 2, 0, 10, 96, 0, 10 };
static const uint8_t MAC_B[6] = { 2, 0, 10, 96, 1, 20 };
static const uint8_t MAC_C[6] = { 2, 0, 10, 96, 0, 30 };

static inline struct nacl_rule
fx_nacl(uint16_t num, bool egress, bool allow, int16_t proto, uint32_t addr, uint8_t len,
	uint16_t pf, uint16_t pt)
{
	struct nacl_rule r = { num, egress, allow, proto, { addr, len }, pf, pt, -1, -1 };
	return r;
}

static inline void
fixture_init(struct fixture *f, const struct net_port_ops *igw_ops, void *igw_arg, int igw_fd)
{
	memset(f, 0, sizeof(*f));
	f->subnets[0] = (struct net_subnet_config){ "subnet-a", "vpc-1", { IP(10, 96, 0, 0), 24 }, "rtb-1", "acl-a" };
	f->subnets[1] = (struct net_subnet_config){ "subnet-b", "vpc-1", { IP(10, 96, 1, 0), 24 }, "rtb-1", "acl-b" };
	f->routes[0] = (struct net_route_config){ { IP(10, 96, 0, 0), 16 }, NET_TARGET_LOCAL, "" };
	f->routes[1] = (struct net_route_config){ { IP(10, 99, 0, 0), 16 }, NET_TARGET_BLACKHOLE, "" };
	f->routes[2] = (struct net_route_config){ { 0, 0 }, NET_TARGET_IGW, "igw-1" };
	f->routes[3] = (struct net_route_config){ { IP(172, 16, 0, 0), 12 }, NET_TARGET_VGW, "vgw-1" };
	f->routes[4] = (struct net_route_config){ { IP(192, 168, 50, 0), 24 }, NET_TARGET_ENI, "eni-c" };
	f->rtb = (struct net_route_table_config){ "rtb-1", f->routes, 5 };
	f->acl_a[0] = fx_nacl(100, false, true, -1, 0, 0, 0, 65535);
	f->acl_a[1] = fx_nacl(100, true, true, -1, 0, 0, 0, 65535);
	f->acl_b[0] = fx_nacl(100, false, true, -1, 0, 0, 0, 65535);
	f->acl_b[1] = fx_nacl(50, false, false, 6, IP(10, 96, 0, 0), 24, 23, 23);
	f->acl_b[2] = fx_nacl(100, true, true, -1, 0, 0, 0, 65535);
	f->nacls[0] = (struct net_nacl_config){ "acl-a", f->acl_a, 2 };
	f->nacls[1] = (struct net_nacl_config){ "acl-b", f->acl_b, 3 };
	f->app_rules[0] = (struct net_sg_rule_config){ true, -1, -1, -1, { 0, 0 }, "", "" };
	f->web_rules[0] = (struct net_sg_rule_config){ false, 6, 80, 80, { IP(10, 96, 0, 0), 16 }, "", "" };
	f->web_rules[1] = (struct net_sg_rule_config){ false, 6, 443, 443, { 0, 0 }, "", "" };
	f->web_rules[2] = (struct net_sg_rule_config){ false, 1, -1, -1, { 0, 0 }, "sg-app", "" };
	f->web_rules[3] = (struct net_sg_rule_config){ true, -1, -1, -1, { 0, 0 }, "", "" };
	f->sgs[0] = (struct net_sg_config){ "sg-app", "vpc-1", f->app_rules, 1 };
	f->sgs[1] = (struct net_sg_config){ "sg-web", "vpc-1", f->web_rules, 4 };
	f->enis[0] = (struct net_eni_config){ .id = "eni-a", .subnet_id = "subnet-a", .ip = IP(10, 96, 0, 10),
		.src_dst_check = true, .group_ids = { "sg-app" }, .n_groups = 1, .tap_fd = 100 };
	memcpy(f->enis[0].mac, MAC_A, 6);
	f->enis[1] = (struct net_eni_config){ .id = "eni-b", .subnet_id = "subnet-b", .ip = IP(10, 96, 1, 20),
		.public_ip = IP(203, 0, 113, 20), .src_dst_check = true, .group_ids = { "sg-web" },
		.n_groups = 1, .tap_fd = 101 };
	memcpy(f->enis[1].mac, MAC_B, 6);
	f->enis[2] = (struct net_eni_config){ .id = "eni-c", .subnet_id = "subnet-a", .ip = IP(10, 96, 0, 30),
		.src_dst_check = false, .group_ids = { "sg-app" }, .n_groups = 1, .tap_fd = 102 };
	memcpy(f->enis[2].mac, MAC_C, 6);
	f->gws[0] = (struct net_gateway_config){ .id = "igw-1", .vpc_id = "vpc-1", .kind = NET_GW_IGW,
		.ops = igw_ops, .arg = igw_arg, .fd = igw_fd };
	f->gws[1] = (struct net_gateway_config){ .id = "vgw-1", .vpc_id = "vpc-1", .kind = NET_GW_VGW, .fd = -1 };
	f->cfg = (struct net_config){ f->subnets, 2, &f->rtb, 1, f->nacls, 2, f->sgs, 2, f->enis, 3, f->gws, 2,
				    NULL, 0, NULL, 0 };
}

#endif
