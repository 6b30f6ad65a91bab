/*
 * test_model.c — the rules of a VPC (src/model): CIDR arithmetic and AWS's
 * reserved addresses, protocol names, network ACL evaluation (lowest rule
 * number wins, the implicit "*" deny, port ranges, ICMP type/code).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "model/model.h"

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

/* --- CIDR ----------------------------------------------------------------- */

static void test_cidr_parse_normalises(void **state)
{
	(void)state;
	struct cidr4 c;
	bool host_bits = false;
	char buf[CIDR_STR_MAX];
	assert_true(cidr_parse("100.68.0.18/18", &c, &host_bits));
	assert_true(host_bits);
	cidr_format(&c, buf);
	assert_string_equal(buf, "100.68.0.0/18");
	assert_true(cidr_parse("10.0.0.0/16", &c, &host_bits));
	assert_false(host_bits);
	assert_int_equal(c.c_len, 16);
	assert_int_equal(c.c_addr, 0x0a000000u);
	assert_true(cidr_parse("0.0.0.0/0", &c, NULL));
	cidr_format(&c, buf);
	assert_string_equal(buf, "0.0.0.0/0");
	assert_true(cidr_parse("255.255.255.255/32", &c, NULL));
	cidr_format(&c, buf);
	assert_string_equal(buf, "255.255.255.255/32");
}

static void test_cidr_parse_rejects(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0/8", "10.0.0.0.0/8", "256.0.0.0/8",
		"010.0.0.0/8", "10.0.0.0/08", "10.0.0.0/8 ", " 10.0.0.0/8", "a.b.c.d/8", "10.0.0.-1/8", "1000.0.0.0/8",
	};
	struct cidr4 c;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(cidr_parse(bad[i], &c, NULL));
	assert_false(cidr_parse(NULL, &c, NULL));
	uint32_t a;
	assert_false(ip4_parse("1.2.3", &a));
	assert_false(ip4_parse("1.2.3.4/32", &a));
	assert_true(ip4_parse("0.0.0.0", &a));
	assert_int_equal(a, 0);
	char buf[IP4_STR_MAX];
	ip4_format(ip("192.0.2.255"), buf);
	assert_string_equal(buf, "192.0.2.255");
}

static void test_cidr_mask_and_size(void **state)
{
	(void)state;
	assert_int_equal(cidr_mask(0), 0);
	assert_int_equal(cidr_mask(8), 0xff000000u);
	assert_int_equal(cidr_mask(32), 0xffffffffu);
	struct cidr4 c = cidr("10.0.0.0/24");
	assert_int_equal(cidr_size(&c), 256);
	c = cidr("0.0.0.0/0");
	assert_true(cidr_size(&c) == ((uint64_t)1 << 32));
}

static void test_cidr_contains_and_overlaps(void **state)
{
	(void)state;
	struct cidr4 vpc = cidr("10.0.0.0/16"), sub = cidr("10.0.1.0/24"), other = cidr("10.1.0.0/24");
	struct cidr4 all = cidr("0.0.0.0/0"), host = cidr("10.0.1.7/32");
	assert_true(cidr_contains(&vpc, &sub));
	assert_false(cidr_contains(&sub, &vpc));
	assert_false(cidr_contains(&vpc, &other));
	assert_true(cidr_contains(&vpc, &vpc));
	assert_true(cidr_contains(&all, &vpc));
	assert_true(cidr_contains(&sub, &host));
	assert_true(cidr_overlaps(&vpc, &sub));
	assert_true(cidr_overlaps(&sub, &vpc));
	assert_false(cidr_overlaps(&sub, &other));
	struct cidr4 a = cidr("10.0.0.0/25"), b = cidr("10.0.0.128/25");
	assert_false(cidr_overlaps(&a, &b));
	assert_true(cidr_overlaps(&a, &a));
	assert_true(cidr_contains_ip(&sub, ip("10.0.1.255")));
	assert_false(cidr_contains_ip(&sub, ip("10.0.2.0")));
	assert_true(cidr_contains_ip(&all, ip("203.0.113.9")));
}

static struct cidr4 block(const char *s)
{
	struct cidr4 c;
	assert_true(cidr_parse(s, &c, NULL));
	return c;
}

static void test_cidr_set_basics(void **state)
{
	(void)state;
	struct cidr_set s = CIDR_SET_INIT;
	struct cidr4 a = block("10.0.1.0/24"), b = block("10.0.3.0/24"), wide = block("10.0.0.0/22");
	assert_true(cidr_set_add(&s, &a));
	assert_true(cidr_set_add(&s, &b));
	assert_false(cidr_set_add(&s, &a));		/* the same block twice */
	assert_false(cidr_set_add(&s, &wide));		/* covers both */
	struct cidr4 inside = block("10.0.3.128/25"), gap = block("10.0.2.0/24");
	assert_true(cidr_set_overlaps(&s, &inside));	/* inside a member */
	assert_false(cidr_set_overlaps(&s, &gap));	/* between the members */
	assert_true(cidr_set_add(&s, &gap));
	assert_int_equal(s.cs_count, 3);
	assert_false(cidr_set_remove(&s, &inside));	/* not a member itself */
	assert_true(cidr_set_remove(&s, &gap));
	assert_false(cidr_set_overlaps(&s, &gap));
	struct cidr4 top = block("255.255.255.240/28"), zero = block("0.0.0.0/28");
	assert_true(cidr_set_add(&s, &top));
	assert_true(cidr_set_add(&s, &zero));
	assert_true(cidr_set_overlaps(&s, &top));
	assert_true(cidr_set_overlaps(&s, &zero));
	cidr_set_free(&s);
	assert_int_equal(s.cs_count, 0);
}

/* Against the plain pairwise check, over random blocks of every size. */
static void test_cidr_set_matches_pairwise(void **state)
{
	(void)state;
	struct cidr_set s = CIDR_SET_INIT;
	struct cidr4 members[400];
	size_t n = 0;
	uint32_t x = 12345;
	for (int round = 0; round < 4000; round++) {
		x = x * 1103515245u + 12345u;
		struct cidr4 c = { (x >> 8) << 12 >> 12 | 0x0a000000u, (uint8_t)(16 + (x >> 4) % 13) };
		c.c_addr &= cidr_mask(c.c_len);
		bool expect = false;
		for (size_t i = 0; i < n; i++)
			expect |= cidr_overlaps(&members[i], &c);
		assert_int_equal(cidr_set_overlaps(&s, &c), expect);
		if ((x & 3) == 0 && n) {		/* remove one now and then */
			size_t k = (x >> 2) % n;
			assert_true(cidr_set_remove(&s, &members[k]));
			members[k] = members[--n];
		} else if (!expect && n < 400) {
			assert_true(cidr_set_add(&s, &c));
			members[n++] = c;
		}
		assert_int_equal(s.cs_count, n);
	}
	cidr_set_free(&s);
}

/* Ids come from the per-thread pool of rand_id_bytes: well formed, and
 * none repeats across many refills of the pool. */
static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_new_ids_unique(void **state)
{
	(void)state;
	enum { N = 20000 };
	static char ids[N][RESOURCE_ID_MAX];
	for (int i = 0; i < N; i++) {
		model_new_id("subnet", ids[i], sizeof(ids[i]));
		assert_int_equal(strlen(ids[i]), 24);
		assert_int_equal(strspn(ids[i] + 7, "0123456789abcdef"), 17);
	}
	qsort(ids, N, sizeof(ids[0]), cmp_id);
	for (int i = 1; i < N; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
	uint8_t a[300], b[300];	/* longer than the pool: served across a refill */
	rand_id_bytes(a, sizeof(a));
	rand_id_bytes(b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
}

static void test_subnet_reserved_addresses(void **state)
{
	(void)state;
	struct cidr4 s = cidr("10.0.1.0/24");
	assert_int_equal(SUBNET_RESERVED_ADDRESSES, 5);
	assert_int_equal(subnet_available_total(&s), 251);
	struct cidr4 small = cidr("10.0.1.0/28");
	assert_int_equal(subnet_available_total(&small), 11);
	struct cidr4 big = cidr("10.0.0.0/16");
	assert_int_equal(subnet_available_total(&big), 65531);
	assert_int_equal(subnet_router_address(&s), ip("10.0.1.1"));
	static const char *const reserved[] = { "10.0.1.0", "10.0.1.1", "10.0.1.2", "10.0.1.3", "10.0.1.255" };
	for (size_t i = 0; i < 5; i++)
		assert_true(subnet_address_reserved(&s, ip(reserved[i])));
	assert_false(subnet_address_reserved(&s, ip("10.0.1.4")));
	assert_false(subnet_address_reserved(&s, ip("10.0.1.254")));
	/* count them: exactly 251 free addresses in a /24 */
	uint32_t free_count = 0;
	for (uint32_t a = s.c_addr; a < s.c_addr + 256; a++)
		free_count += !subnet_address_reserved(&s, a);
	assert_int_equal(free_count, 251);
	assert_true(subnet_address_reserved(&small, ip("10.0.1.15")));
	assert_false(subnet_address_reserved(&small, ip("10.0.1.14")));
}

/* --- protocols -------------------------------------------------------------- */

static void test_protocol_parse(void **state)
{
	(void)state;
	assert_int_equal(protocol_parse("-1"), -1);
	assert_int_equal(protocol_parse("all"), -1);
	assert_int_equal(protocol_parse("ALL"), -1);
	assert_int_equal(protocol_parse("tcp"), 6);
	assert_int_equal(protocol_parse("TCP"), 6);
	assert_int_equal(protocol_parse("udp"), 17);
	assert_int_equal(protocol_parse("icmp"), 1);
	assert_int_equal(protocol_parse("icmpv6"), 58);
	assert_int_equal(protocol_parse("6"), 6);
	assert_int_equal(protocol_parse("0"), 0);
	assert_int_equal(protocol_parse("50"), 50);
	assert_int_equal(protocol_parse("255"), 255);
	assert_int_equal(protocol_parse("256"), -2);
	assert_int_equal(protocol_parse("-2"), -2);
	assert_int_equal(protocol_parse(""), -2);
	assert_int_equal(protocol_parse(NULL), -2);
	assert_int_equal(protocol_parse("tcpx"), -2);
	assert_int_equal(protocol_parse("6a"), -2);
}

/* --- network ACLs ----------------------------------------------------------- */

static struct nacl_rule rule(uint16_t number, bool egress, bool allow, int16_t proto, const char *c)
{
	struct nacl_rule r = { 0 };
	r.nr_number = number;
	r.nr_egress = egress;
	r.nr_allow = allow;
	r.nr_protocol = proto;
	r.nr_cidr = cidr(c);
	r.nr_port_from = 0;
	r.nr_port_to = 65535;
	r.nr_icmp_type = -1;
	r.nr_icmp_code = -1;
	return r;
}

static struct nacl_packet tcp_in(const char *src, uint16_t port)
{
	struct nacl_packet p = { 0 };
	p.np_egress = false;
	p.np_protocol = 6;
	p.np_addr = ip(src);
	p.np_port = port;
	return p;
}

static void test_nacl_default_acl(void **state)
{
	(void)state;
	/* the default ACL: 100 allow all, both directions (the "*" deny is implicit) */
	struct nacl_rule rules[] = { rule(100, false, true, -1, "0.0.0.0/0"), rule(100, true, true, -1, "0.0.0.0/0") };
	struct nacl_packet p = tcp_in("203.0.113.5", 22);
	assert_int_equal(nacl_evaluate(rules, 2, &p), 0);
	p.np_egress = true;
	assert_int_equal(nacl_evaluate(rules, 2, &p), 1);
	/* a custom ACL: nothing matches, the "*" rule denies */
	assert_int_equal(nacl_evaluate(rules, 0, &p), -1);
}

static void test_nacl_lowest_number_wins(void **state)
{
	(void)state;
	/* unsorted on purpose: 200 allow, 100 deny the same traffic */
	struct nacl_rule rules[] = {
		rule(200, false, true, 6, "0.0.0.0/0"),
		rule(100, false, false, 6, "198.51.100.0/24"),
		rule(300, false, false, -1, "0.0.0.0/0"),
	};
	struct nacl_packet p = tcp_in("198.51.100.7", 80);
	int i = nacl_evaluate(rules, 3, &p);
	assert_int_equal(i, 1);
	assert_false(rules[i].nr_allow);
	p = tcp_in("192.0.2.1", 80);
	i = nacl_evaluate(rules, 3, &p);
	assert_int_equal(i, 0);
	assert_true(rules[i].nr_allow);
	/* UDP matches neither TCP rule, only the all-protocol 300 */
	p.np_protocol = 17;
	assert_int_equal(nacl_evaluate(rules, 3, &p), 2);
	/* direction matters: no egress rules here */
	p.np_egress = true;
	assert_int_equal(nacl_evaluate(rules, 3, &p), -1);
}

static void test_nacl_port_ranges(void **state)
{
	(void)state;
	struct nacl_rule r = rule(100, false, true, 6, "0.0.0.0/0");
	r.nr_port_from = 1024;
	r.nr_port_to = 2048;
	struct nacl_packet p = tcp_in("10.0.0.1", 1024);
	assert_int_equal(nacl_evaluate(&r, 1, &p), 0);
	p.np_port = 2048;
	assert_int_equal(nacl_evaluate(&r, 1, &p), 0);
	p.np_port = 1023;
	assert_int_equal(nacl_evaluate(&r, 1, &p), -1);
	p.np_port = 2049;
	assert_int_equal(nacl_evaluate(&r, 1, &p), -1);
	/* a single port */
	r.nr_port_from = r.nr_port_to = 22;
	p.np_port = 22;
	assert_int_equal(nacl_evaluate(&r, 1, &p), 0);
	p.np_port = 23;
	assert_int_equal(nacl_evaluate(&r, 1, &p), -1);
	/* the CIDR limits it too */
	r.nr_cidr = cidr("192.0.2.0/24");
	p = tcp_in("192.0.2.200", 22);
	assert_int_equal(nacl_evaluate(&r, 1, &p), 0);
	p = tcp_in("192.0.3.1", 22);
	assert_int_equal(nacl_evaluate(&r, 1, &p), -1);
}

static void test_nacl_icmp_type_code(void **state)
{
	(void)state;
	struct nacl_rule rules[] = {
		rule(100, false, true, 1, "0.0.0.0/0"),		/* echo request, any code */
		rule(110, false, false, 1, "0.0.0.0/0"),	/* unreachable / fragmentation needed */
		rule(120, false, true, 1, "0.0.0.0/0"),		/* any ICMP */
	};
	rules[0].nr_icmp_type = 8;
	rules[1].nr_icmp_type = 3;
	rules[1].nr_icmp_code = 4;
	struct nacl_packet p = { 0 };
	p.np_protocol = 1;
	p.np_addr = ip("10.0.0.9");
	p.np_icmp_type = 8;
	p.np_icmp_code = 0;
	assert_int_equal(nacl_evaluate(rules, 3, &p), 0);
	p.np_icmp_type = 3;
	p.np_icmp_code = 4;
	assert_int_equal(nacl_evaluate(rules, 3, &p), 1);
	p.np_icmp_code = 1;	/* host unreachable: not rule 110's code */
	assert_int_equal(nacl_evaluate(rules, 3, &p), 2);
	p.np_icmp_type = 0;	/* echo reply */
	assert_int_equal(nacl_evaluate(rules, 3, &p), 2);
	/* ICMP rules say nothing about TCP */
	p = tcp_in("10.0.0.9", 80);
	assert_int_equal(nacl_evaluate(rules, 3, &p), -1);
}

static void test_nacl_other_protocols(void **state)
{
	(void)state;
	/* ESP (50): no ports; an all-protocol deny below it */
	struct nacl_rule rules[] = { rule(50, true, true, 50, "203.0.113.0/24"), rule(60, true, false, -1, "0.0.0.0/0") };
	struct nacl_packet p = { 0 };
	p.np_egress = true;
	p.np_protocol = 50;
	p.np_addr = ip("203.0.113.1");
	assert_int_equal(nacl_evaluate(rules, 2, &p), 0);
	p.np_protocol = 51;
	assert_int_equal(nacl_evaluate(rules, 2, &p), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_parse_normalises),
		cmocka_unit_test(test_cidr_parse_rejects),
		cmocka_unit_test(test_cidr_mask_and_size),
		cmocka_unit_test(test_cidr_contains_and_overlaps),
		cmocka_unit_test(test_cidr_set_basics),
		cmocka_unit_test(test_cidr_set_matches_pairwise),
		cmocka_unit_test(test_new_ids_unique),
		cmocka_unit_test(test_subnet_reserved_addresses),
		cmocka_unit_test(test_protocol_parse),
		cmocka_unit_test(test_nacl_default_acl),
		cmocka_unit_test(test_nacl_lowest_number_wins),
		cmocka_unit_test(test_nacl_port_ranges),
		cmocka_unit_test(test_nacl_icmp_type_code),
		cmocka_unit_test(test_nacl_other_protocols),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
