/*
 * test_trace.c — the packet trace (src/model/trace.c) over the seed's
 * network: VPC 10.96.0.0/16 with a public subnet (10.96.0.0/24, its own
 * table: 0.0.0.0/0 -> igw) and a private one (10.96.1.0/24, the main
 * table: 0.0.0.0/0 -> vgw), the office LAN 10.0.0.0/24 behind the VPN.
 * Each test breaks one thing and checks the step that names it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "model/trace.h"

static uint32_t ip(const char *s)
{
	uint32_t a = 0;
	assert_true(ip4_parse(s, &a));
	return a;
}

static struct cidr4 cidr(const char *s)
{
	struct cidr4 c;
	assert_true(cidr_parse(s, &c, NULL));
	return c;
}

/* --- the fixture: every array mutable so that a test can break it ---------- */

struct fixture {
	struct cidr4 vpc_cidr;
	struct trace_vpc vpc;
	struct trace_subnet subnets[2];
	struct trace_route main_routes[2], pub_routes[2];
	const char *pub_assoc[1];
	struct trace_route_table tables[2];
	const char *acl_subnets[2];
	struct nacl_rule acl_rules[8];
	struct trace_nacl acl;
	struct trace_sg_rule web_rules[4], db_rules[2];
	struct trace_sg sgs[2];
	const char *web[1], *db[1];
	struct trace_eni enis[4];
	struct cidr4 vpn_routes[1];
	struct trace_vgw vgw;
	struct trace_net net;
};

static struct nacl_rule allow_all(uint16_t number, bool egress)
{
	struct nacl_rule r = { number, egress, true, -1, { 0, 0 }, 0, 65535, -1, -1 };
	return r;
}

static struct trace_sg_rule sg_rule(const char *id, bool egress, int16_t proto, int32_t from, int32_t to,
				    const char *peer)
{
	struct trace_sg_rule r = { id, egress, proto, from, to, false, { 0, 0 }, NULL };
	if (strncmp(peer, "sg-", 3) == 0) {
		r.sr_group = peer;
	} else {
		r.sr_has_cidr = true;
		r.sr_cidr = cidr(peer);
	}
	return r;
}

static void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->vpc_cidr = cidr("10.96.0.0/16");
	f->vpc = (struct trace_vpc){ "vpc-1", &f->vpc_cidr, 1, "igw-1", "vgw-1" };
	f->subnets[0] = (struct trace_subnet){ "subnet-pub", "vpc-1", cidr("10.96.0.0/24") };
	f->subnets[1] = (struct trace_subnet){ "subnet-priv", "vpc-1", cidr("10.96.1.0/24") };
	f->main_routes[0] = (struct trace_route){ cidr("10.96.0.0/16"), TRACE_TARGET_LOCAL, "local", false };
	f->main_routes[1] = (struct trace_route){ cidr("0.0.0.0/0"), TRACE_TARGET_VGW, "vgw-1", false };
	f->pub_routes[0] = f->main_routes[0];
	f->pub_routes[1] = (struct trace_route){ cidr("0.0.0.0/0"), TRACE_TARGET_IGW, "igw-1", false };
	f->pub_assoc[0] = "subnet-pub";
	f->tables[0] = (struct trace_route_table){ "rtb-main", "vpc-1", true, NULL, 0, f->main_routes, 2 };
	f->tables[1] = (struct trace_route_table){ "rtb-pub", "vpc-1", false, f->pub_assoc, 1, f->pub_routes, 2 };
	f->acl_subnets[0] = "subnet-pub";
	f->acl_subnets[1] = "subnet-priv";
	f->acl_rules[0] = allow_all(100, false);
	f->acl_rules[1] = allow_all(100, true);
	f->acl = (struct trace_nacl){ "acl-1", f->acl_subnets, 2, f->acl_rules, 2 };
	f->web_rules[0] = sg_rule("sgr-ssh", false, 6, 22, 22, "10.0.0.0/24");
	f->web_rules[1] = sg_rule("sgr-ping", false, 1, -1, -1, "10.0.0.0/24");
	f->web_rules[2] = sg_rule("sgr-http", false, 6, 80, 80, "0.0.0.0/0");
	f->web_rules[3] = sg_rule("sgr-web-out", true, -1, -1, -1, "0.0.0.0/0");
	f->db_rules[0] = sg_rule("sgr-pg", false, 6, 5432, 5432, "sg-web");
	f->db_rules[1] = sg_rule("sgr-db-out", true, -1, -1, -1, "0.0.0.0/0");
	f->sgs[0] = (struct trace_sg){ "sg-web", f->web_rules, 4 };
	f->sgs[1] = (struct trace_sg){ "sg-db", f->db_rules, 2 };
	f->web[0] = "sg-web";
	f->db[0] = "sg-db";
	f->enis[0] = (struct trace_eni){ "eni-a", "i-a", "subnet-priv", ip("10.96.1.4"), 0, true, f->web, 1 };
	f->enis[1] = (struct trace_eni){ "eni-b", "i-b", "subnet-priv", ip("10.96.1.5"), 0, true, f->db, 1 };
	f->enis[2] = (struct trace_eni){ "eni-p", "i-p", "subnet-pub", ip("10.96.0.4"), ip("198.51.100.4"), true, f->web, 1 };
	f->enis[3] = (struct trace_eni){ "eni-q", NULL, "subnet-pub", ip("10.96.0.5"), 0, true, f->web, 1 };
	f->vpn_routes[0] = cidr("10.0.0.0/24");
	f->vgw = (struct trace_vgw){ "vgw-1", 2, f->vpn_routes, 1 };
	f->net = (struct trace_net){ &f->vpc, 1, f->subnets, 2, f->tables, 2, &f->acl, 1, f->sgs, 2, f->enis, 4, &f->vgw, 1 };
}

static struct trace_packet from_addr(const char *from, const char *to_eni, uint8_t proto, uint16_t port)
{
	struct trace_packet p = { { NULL, ip(from) }, { to_eni, 0 }, proto, port, 0, 0, 0 };
	return p;
}

static struct trace_packet eni_to_eni(const char *from, const char *to, uint8_t proto, uint16_t port)
{
	struct trace_packet p = { { from, 0 }, { to, 0 }, proto, port, 0, 0, 0 };
	return p;
}

static struct trace_packet eni_to_addr(const char *from, const char *to, uint8_t proto, uint16_t port)
{
	struct trace_packet p = { { from, 0 }, { NULL, ip(to) }, proto, port, 0, 0, 0 };
	return p;
}

/* The step that dropped the packet (the last one). */
static const struct trace_step *last_step(const struct trace_result *r)
{
	assert_true(r->tr_nsteps > 0);
	return &r->tr_steps[r->tr_nsteps - 1];
}

static const struct trace_step *find_step(const struct trace_result *r, enum trace_step_kind k)
{
	for (size_t i = 0; i < r->tr_nsteps; i++)
		if (r->tr_steps[i].ts_kind == k)
			return &r->tr_steps[i];
	return NULL;
}

/* --- from the office through the VPN -------------------------------------------- */

static void test_office_to_instance_through_vpn(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	struct trace_result r;
	struct trace_packet p = from_addr("10.0.0.5", NULL, 6, 22);
	p.tp_to.te_addr = ip("10.96.1.4");
	assert_int_equal(trace_walk(&f.net, &p, &r), 0);
	assert_true(r.tr_reachable);
	assert_int_equal(r.tr_cause, TRACE_OK);
	static const enum trace_step_kind want[] = {
		TRACE_STEP_SOURCE, TRACE_STEP_GATEWAY, TRACE_STEP_NACL_IN, TRACE_STEP_SG_INGRESS,
		TRACE_STEP_REPLY_ROUTE, TRACE_STEP_REPLY_NACL_OUT, TRACE_STEP_DESTINATION,
	};
	assert_int_equal(r.tr_nsteps, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < r.tr_nsteps; i++) {
		assert_int_equal(r.tr_steps[i].ts_kind, want[i]);
		assert_true(r.tr_steps[i].ts_ok);
	}
	assert_string_equal(find_step(&r, TRACE_STEP_GATEWAY)->ts_component, "vgw-1");
	assert_string_equal(find_step(&r, TRACE_STEP_NACL_IN)->ts_rule, "100");
	assert_string_equal(find_step(&r, TRACE_STEP_SG_INGRESS)->ts_rule, "sgr-ssh");
	assert_string_equal(find_step(&r, TRACE_STEP_REPLY_ROUTE)->ts_component, "rtb-main");
	assert_string_equal(find_step(&r, TRACE_STEP_REPLY_ROUTE)->ts_rule, "0.0.0.0/0 -> vgw-1");
	/* ping too; by ENI id as well as by address */
	struct trace_packet ping = from_addr("10.0.0.5", "eni-a", 1, 0);
	ping.tp_icmp_type = 8;
	assert_int_equal(trace_walk(&f.net, &ping, &r), 0);
	assert_true(r.tr_reachable);
	assert_string_equal(find_step(&r, TRACE_STEP_SG_INGRESS)->ts_rule, "sgr-ping");
}

static void test_no_route_back_to_vpn(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	f.tables[0].rt_nroutes = 1;	/* the main table: local only */
	struct trace_result r;
	struct trace_packet p = from_addr("10.0.0.5", "eni-a", 6, 22);
	trace_walk(&f.net, &p, &r);
	assert_false(r.tr_reachable);
	assert_int_equal(r.tr_cause, TRACE_REPLY_NO_ROUTE);
	assert_int_equal(last_step(&r)->ts_kind, TRACE_STEP_REPLY_ROUTE);
	assert_string_equal(last_step(&r)->ts_component, "rtb-main");
	assert_non_null(strstr(last_step(&r)->ts_detail, "no route to 10.0.0.5"));
	/* a default route to the internet gateway sends the reply astray */
	f.tables[0].rt_nroutes = 2;
	f.main_routes[1] = (struct trace_route){ cidr("0.0.0.0/0"), TRACE_TARGET_IGW, "igw-1", false };
	trace_walk(&f.net, &p, &r);
	assert_int_equal(r.tr_cause, TRACE_REPLY_NO_ROUTE);
	assert_non_null(strstr(last_step(&r)->ts_detail, "not back through vgw-1"));
}

static void test_nacl_deny_rule_is_named(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	struct nacl_rule deny = { 90, false, false, 6, cidr("10.0.0.0/24"), 22, 22, -1, -1 };
	f.acl_rules[2] = deny;
	f.acl.na_nrules = 3;
	struct trace_result r;
	struct trace_packet p = from_addr("10.0.0.5", "eni-a", 6, 22);
	trace_walk(&f.net, &p, &r);
	assert_false(r.tr_reachable);
	assert_int_equal(r.tr_cause, TRACE_NACL_IN);
	assert_string_equal(last_step(&r)->ts_component, "acl-1");
	assert_string_equal(last_step(&r)->ts_rule, "90");
	assert_non_null(strstr(last_step(&r)->ts_detail, "rule 90 denies tcp/22 from 10.0.0.5"));
	/* other ports pass rule 100 */
	p.tp_port = 80;
	f.web_rules[0].sr_from = f.web_rules[0].sr_to = 80;
	trace_walk(&f.net, &p, &r);
	assert_true(r.tr_reachable);
}

static void test_security_group_without_rule(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	struct trace_result r;
	struct trace_packet p = from_addr("10.0.0.5", "eni-a", 6, 3389);
	trace_walk(&f.net, &p, &r);
	assert_false(r.tr_reachable);
	assert_int_equal(r.tr_cause, TRACE_SG_INGRESS);
	assert_string_equal(last_step(&r)->ts_component, "eni-a");
	assert_non_null(strstr(last_step(&r)->ts_detail, "sg-web"));
	assert_non_null(strstr(last_step(&r)->ts_detail, "tcp/3389"));
}

static void test_vpn_down(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	f.vgw.vg_tunnels_up = 0;
	struct trace_result r;
	struct trace_packet p = from_addr("10.0.0.5", "eni-a", 6, 22);
	trace_walk(&f.net, &p, &r);
	assert_int_equal(r.tr_cause, TRACE_VPN_DOWN);
	/* and outward: a tunnel UP but no VPN route for the address */
	f.vgw.vg_tunnels_up = 1;
	struct trace_packet out = eni_to_addr("eni-a", "192.168.7.7", 6, 443);
	trace_walk(&f.net, &out, &r);
	assert_int_equal(r.tr_cause, TRACE_VPN_DOWN);
	assert_non_null(strstr(last_step(&r)->ts_detail, "no route of its VPN connections covers 192.168.7.7"));
	struct trace_packet office = eni_to_addr("eni-a", "10.0.0.9", 6, 443);
	trace_walk(&f.net, &office, &r);
	assert_true(r.tr_reachable);
	assert_int_equal(last_step(&r)->ts_kind, TRACE_STEP_DESTINATION);
}

static void test_no_vpn_gateway(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	f.vpc.vp_vgw = NULL;
	struct trace_result r;
	struct trace_packet p = from_addr("10.0.0.5", "eni-a", 6, 22);
	trace_walk(&f.net, &p, &r);
	assert_int_equal(r.tr_cause, TRACE_NO_GATEWAY);
}

/* --- inside the VPC --------------------------------------------------------------- */

static void test_same_subnet_skips_nacls_and_references_groups(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	f.acl_rules[0].nr_allow = false;	/* an ACL denying everything inbound does not matter */
	struct trace_result r;
	struct trace_packet p = eni_to_eni("eni-a", "eni-b", 6, 5432);
	trace_walk(&f.net, &p, &r);
	assert_true(r.tr_reachable);
	assert_null(find_step(&r, TRACE_STEP_NACL_IN));
	assert_string_equal(find_step(&r, TRACE_STEP_SG_EGRESS)->ts_rule, "sgr-web-out");
	assert_string_equal(find_step(&r, TRACE_STEP_ROUTE)->ts_rule, "10.96.0.0/16 -> local");
	assert_string_equal(find_step(&r, TRACE_STEP_SG_INGRESS)->ts_rule, "sgr-pg");
	assert_non_null(strstr(find_step(&r, TRACE_STEP_SG_INGRESS)->ts_detail, "members of sg-web"));
	/* the other way: sg-web does not admit sg-db on 5432 */
	p = eni_to_eni("eni-b", "eni-a", 6, 5432);
	trace_walk(&f.net, &p, &r);
	assert_int_equal(r.tr_cause, TRACE_SG_INGRESS);
}

static void test_cross_subnet_needs_ephemeral_ports_in_nacl(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	/* eni-p (public) to eni-a (private) on 22: the private subnet's own ACL
	 * lets 22 in and only 22 out, so the reply to port 49152 is dropped */
	const char *pub_only[1] = { "subnet-pub" }, *priv_only[1] = { "subnet-priv" };
	f.acl.na_subnets = pub_only;
	f.acl.na_nsubnets = 1;
	struct nacl_rule strict[3] = {
		{ 100, false, true, 6, cidr("0.0.0.0/0"), 22, 22, -1, -1 },
		{ 100, true, true, 6, cidr("0.0.0.0/0"), 22, 22, -1, -1 },
		{ 110, true, true, 6, cidr("0.0.0.0/0"), 1024, 65535, -1, -1 },
	};
	struct trace_nacl acls[2] = { f.acl, { "acl-strict", priv_only, 1, strict, 2 } };
	f.net.tn_nacls = acls;
	f.net.tn_nnacls = 2;
	f.web_rules[0] = sg_rule("sgr-ssh", false, 6, 22, 22, "10.96.0.0/24");
	struct trace_result r;
	struct trace_packet p = eni_to_eni("eni-p", "eni-a", 6, 22);
	trace_walk(&f.net, &p, &r);
	assert_false(r.tr_reachable);
	assert_int_equal(r.tr_cause, TRACE_REPLY_NACL_OUT);
	assert_string_equal(last_step(&r)->ts_component, "acl-strict");
	assert_string_equal(last_step(&r)->ts_rule, "*");
	assert_non_null(strstr(last_step(&r)->ts_detail, "tcp/49152"));
	acls[1].na_nrules = 3;	/* the ephemeral-port rule */
	trace_walk(&f.net, &p, &r);
	assert_true(r.tr_reachable);
	assert_string_equal(find_step(&r, TRACE_STEP_NACL_IN)->ts_component, "acl-strict");
	assert_string_equal(find_step(&r, TRACE_STEP_REPLY_NACL_OUT)->ts_rule, "110");
	/* a chosen source port outside it is dropped again */
	p.tp_src_port = 1000;
	trace_walk(&f.net, &p, &r);
	assert_int_equal(r.tr_cause, TRACE_REPLY_NACL_OUT);
}

static void test_no_destination_and_unknown_enis(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	struct trace_result r;
	struct trace_packet p = eni_to_addr("eni-a", "10.96.1.99", 6, 22);
	trace_walk(&f.net, &p, &r);
	assert_int_equal(r.tr_cause, TRACE_NO_DESTINATION);
	p = eni_to_eni("eni-nope", "eni-a", 6, 22);
	assert_int_equal(trace_walk(&f.net, &p, &r), -1);
	assert_int_equal(r.tr_cause, TRACE_NO_SOURCE);
	p = eni_to_eni("eni-a", "eni-nope", 6, 22);
	assert_int_equal(trace_walk(&f.net, &p, &r), -1);
	assert_int_equal(r.tr_cause, TRACE_NO_DESTINATION);
	/* from an address that is an ENI's: that ENI */
	p = from_addr("10.96.1.4", "eni-b", 6, 5432);
	trace_walk(&f.net, &p, &r);
	assert_true(r.tr_reachable);
	assert_string_equal(r.tr_steps[0].ts_component, "eni-a");
}

static void test_blackhole_and_appliance(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	struct trace_route routes[3] = { f.main_routes[0], f.main_routes[1],
					 { cidr("10.0.0.0/24"), TRACE_TARGET_VGW, "vgw-old", true } };
	f.tables[0].rt_routes = routes;
	f.tables[0].rt_nroutes = 3;
	struct trace_result r;
	struct trace_packet p = eni_to_addr("eni-a", "10.0.0.5", 6, 22);
	trace_walk(&f.net, &p, &r);
	assert_int_equal(r.tr_cause, TRACE_BLACKHOLE);
	assert_string_equal(last_step(&r)->ts_rule, "10.0.0.0/24 -> vgw-old");
	/* the longest prefix through an appliance ENI, which must not check */
	routes[2] = (struct trace_route){ cidr("10.0.0.0/24"), TRACE_TARGET_ENI, "eni-q", false };
	f.web_rules[2] = sg_rule("sgr-fwd", false, -1, -1, -1, "10.96.0.0/16");
	trace_walk(&f.net, &p, &r);
	assert_int_equal(r.tr_cause, TRACE_SOURCE_DEST_CHECK);
	f.enis[3].en_source_dest_check = false;
	trace_walk(&f.net, &p, &r);
	assert_true(r.tr_reachable);
	assert_string_equal(last_step(&r)->ts_component, "eni-q");
	/* the same prefix length: local wins */
	routes[2] = (struct trace_route){ cidr("10.96.0.0/16"), TRACE_TARGET_VGW, "vgw-1", false };
	p = eni_to_eni("eni-a", "eni-b", 6, 5432);
	trace_walk(&f.net, &p, &r);
	assert_true(r.tr_reachable);
}

/* --- the internet ------------------------------------------------------------------- */

static void test_internet_both_ways(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	struct trace_result r;
	struct trace_packet out = eni_to_addr("eni-p", "203.0.113.9", 6, 443);
	trace_walk(&f.net, &out, &r);
	assert_true(r.tr_reachable);
	assert_string_equal(find_step(&r, TRACE_STEP_ROUTE)->ts_component, "rtb-pub");
	assert_non_null(strstr(find_step(&r, TRACE_STEP_GATEWAY)->ts_detail, "10.96.0.4 to 198.51.100.4"));
	out = eni_to_addr("eni-q", "203.0.113.9", 6, 443);
	trace_walk(&f.net, &out, &r);
	assert_int_equal(r.tr_cause, TRACE_NO_PUBLIC_IP);
	struct trace_packet in = from_addr("203.0.113.9", NULL, 6, 80);
	in.tp_to.te_addr = ip("198.51.100.4");
	trace_walk(&f.net, &in, &r);
	assert_true(r.tr_reachable);
	assert_string_equal(find_step(&r, TRACE_STEP_GATEWAY)->ts_component, "igw-1");
	assert_string_equal(find_step(&r, TRACE_STEP_SG_INGRESS)->ts_rule, "sgr-http");
	in.tp_port = 22;
	trace_walk(&f.net, &in, &r);
	assert_int_equal(r.tr_cause, TRACE_SG_INGRESS);
	f.vpc.vp_igw = NULL;
	in.tp_port = 80;
	trace_walk(&f.net, &in, &r);
	assert_int_equal(r.tr_cause, TRACE_NO_GATEWAY);
}

static void test_format_and_names(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	struct trace_result r;
	struct trace_packet p = from_addr("10.0.0.5", "eni-a", 6, 3389);
	trace_walk(&f.net, &p, &r);
	struct strbuf sb = STRBUF_INIT;
	trace_format(&r, &sb);
	assert_non_null(strstr(sb.sb_data, " 1. ok    source"));
	assert_non_null(strstr(sb.sb_data, "DROP  security-group-ingress"));
	assert_non_null(strstr(sb.sb_data, "=> dropped: sg-ingress\n"));
	sb_free(&sb);
	for (int c = 0; c < TRACE_CAUSE_COUNT; c++)
		assert_string_not_equal(trace_cause_name((enum trace_cause)c), "unknown");
	assert_string_equal(trace_cause_name(TRACE_CAUSE_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_office_to_instance_through_vpn),
		cmocka_unit_test(test_no_route_back_to_vpn),
		cmocka_unit_test(test_nacl_deny_rule_is_named),
		cmocka_unit_test(test_security_group_without_rule),
		cmocka_unit_test(test_vpn_down),
		cmocka_unit_test(test_no_vpn_gateway),
		cmocka_unit_test(test_same_subnet_skips_nacls_and_references_groups),
		cmocka_unit_test(test_cross_subnet_needs_ephemeral_ports_in_nacl),
		cmocka_unit_test(test_no_destination_and_unknown_enis),
		cmocka_unit_test(test_blackhole_and_appliance),
		cmocka_unit_test(test_internet_both_ways),
		cmocka_unit_test(test_format_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
