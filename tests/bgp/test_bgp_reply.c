/*
 * Unit tests for bgp_reply (src/bgp/bgp.h): BIRD's control-socket answers,
 * recorded from a real BIRD 2.0.12 peering with FRR 8.4 bgpd over two
 * tunnels' inside addresses (replies/README says how), read into session
 * states and learned routes; malformed and error replies refused with a
 * cause.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bgp/bgp.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define T1 "vpn_0a1b2c3d4e5f60718_t1"
#define T2 "vpn_0a1b2c3d4e5f60718_t2"

static char reply[65536];
static size_t reply_len;

static void load(const char *name)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", BGP_REPLY_DIR, name);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("no recorded reply %s", path);
	reply_len = fread(reply, 1, sizeof(reply) - 1, f);
	reply[reply_len] = '\0';
	fclose(f);
}

static size_t sessions(const char *name, struct bgp_session *s, size_t max)
{
	char err[256] = "";
	size_t n = 99;

	load(name);
	if (bgp_parse_protocols(reply, reply_len, s, max, &n, err, sizeof(err)) != 0)
		fail_msg("%s: %s", name, err);
	return n;
}

static size_t routes(const char *name, struct bgp_route *r, size_t max)
{
	char err[256] = "";
	size_t n = 99;

	load(name);
	if (bgp_parse_routes(reply, reply_len, r, max, &n, err, sizeof(err)) != 0)
		fail_msg("%s: %s", name, err);
	return n;
}

/* Both sessions up: state, since, addresses, ASNs, counts; the device and
 * static protocols are not sessions. */
static void test_established(void **state)
{
	struct bgp_session s[4];

	(void)state;
	assert_int_equal(sessions("protocols_all_established.txt", s, 4), 2);
	assert_string_equal(s[0].bs_protocol, T1);
	assert_int_equal(s[0].bs_state, BGP_FSM_ESTABLISHED);
	assert_string_equal(bgp_fsm_state_name(s[0].bs_state), "Established");
	assert_int_equal(s[0].bs_since, 1796631347);	/* 2026-12-07 08:15:47 UTC */
	assert_int_equal(s[0].bs_neighbor, IP(169, 254, 10, 2));
	assert_int_equal(s[0].bs_neighbor_as, 65000);
	assert_int_equal(s[0].bs_local_as, 64512);
	assert_int_equal(s[0].bs_imported, 2);
	assert_int_equal(s[0].bs_exported, 2);
	assert_false(s[0].bs_limit_hit);
	assert_int_equal(s[0].bs_error, BGP_ERR_NONE);
	assert_string_equal(s[0].bs_last_error, "");
	assert_string_equal(s[1].bs_protocol, T2);
	assert_int_equal(s[1].bs_state, BGP_FSM_ESTABLISHED);
	assert_int_equal(s[1].bs_since, 1796631382);
	assert_int_equal(s[1].bs_neighbor, IP(169, 254, 20, 2));
	assert_int_equal(s[1].bs_imported, 2);
	assert_int_equal(s[1].bs_exported, 2);
}

/* 101 prefixes: both sessions shut down with the limit named. */
static void test_prefix_limit(void **state)
{
	struct bgp_session s[2];

	(void)state;
	assert_int_equal(sessions("protocols_all_limit.txt", s, 2), 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(s[i].bs_state, BGP_FSM_DOWN);
		assert_true(s[i].bs_limit_hit);
		assert_int_equal(s[i].bs_error, BGP_ERR_PREFIX_LIMIT);
		assert_string_equal(s[i].bs_last_error, "Automatic shutdown: Route limit exceeded");
		assert_int_equal(s[i].bs_imported, 0);
		assert_int_equal(s[i].bs_since, 1796631393);
	}
}

/* Tunnel 1 silent for the hold time; tunnel 2 configured with an ASN that
 * the customer's OPEN does not carry. */
static void test_hold_expired_and_bad_as(void **state)
{
	struct bgp_session s[2];

	(void)state;
	assert_int_equal(sessions("protocols_all_hold_expired_bad_as.txt", s, 2), 2);
	assert_int_equal(s[0].bs_state, BGP_FSM_IDLE);
	assert_int_equal(s[0].bs_error, BGP_ERR_HOLD_EXPIRED);
	assert_string_equal(s[0].bs_last_error, "BGP Error: Hold timer expired");
	assert_int_equal(s[0].bs_since, 1796631477);
	assert_int_equal(s[1].bs_state, BGP_FSM_IDLE);
	assert_int_equal(s[1].bs_error, BGP_ERR_BAD_PEER_AS);
	assert_int_equal(s[1].bs_neighbor_as, 65001);
	assert_int_equal(s[1].bs_since, 1796631510);

	/* `show protocols all NAME`: the one session */
	assert_int_equal(sessions("protocols_all_t1_hold_expired.txt", s, 2), 1);
	assert_string_equal(s[0].bs_protocol, T1);
	assert_int_equal(s[0].bs_error, BGP_ERR_HOLD_EXPIRED);
}

/* Two sessions, one reply slot: refused, not truncated. */
static void test_too_many_sessions(void **state)
{
	struct bgp_session s[1];
	char err[256] = "";
	size_t n = 99;

	(void)state;
	load("protocols_all_established.txt");
	assert_int_equal(bgp_parse_protocols(reply, reply_len, s, 1, &n, err, sizeof(err)), -1);
	assert_string_equal(err, "more than 1 BGP protocols");
	assert_int_equal(n, 99);
}

static const struct bgp_route *find(const struct bgp_route *r, size_t n, uint32_t addr,
				    const char *proto)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].br_prefix.bp_addr == addr && strcmp(r[i].br_protocol, proto) == 0)
			return &r[i];
	fail_msg("no route to %08x from %s", addr, proto);
	return NULL;
}

/* One prefix from each tunnel, the second with a longer AS path: every
 * alternative read, BIRD's choice marked, the static VPC routes skipped. */
static void test_routes_two_tunnels(void **state)
{
	struct bgp_route r[8];
	const struct bgp_route *x;

	(void)state;
	size_t n = routes("route_all_two_tunnels.txt", r, 8);
	assert_int_equal(n, 4);
	x = find(r, n, IP(172, 16, 0, 0), T1);
	assert_int_equal(x->br_prefix.bp_len, 16);
	assert_true(x->br_best);
	assert_int_equal(x->br_next_hop, IP(169, 254, 10, 2));
	assert_int_equal(x->br_as_path_len, 1);
	assert_true(x->br_has_med);
	assert_int_equal(x->br_med, 0);
	assert_int_equal(x->br_local_pref, 100);
	x = find(r, n, IP(172, 16, 0, 0), T2);
	assert_false(x->br_best);
	assert_int_equal(x->br_next_hop, IP(169, 254, 20, 2));
	x = find(r, n, IP(172, 17, 0, 0), T2);
	assert_int_equal(x->br_as_path_len, 3);	/* 65000 65000 65000 */
	assert_false(x->br_best);
	x = find(r, n, IP(172, 17, 0, 0), T1);
	assert_true(x->br_best);
	assert_int_equal(x->br_as_path_len, 1);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(r[i].br_prefix.bp_addr >> 24, 10);	/* the VPC's own */
}

static void test_routes_med(void **state)
{
	struct bgp_route r[8];

	(void)state;
	size_t n = routes("route_all_med_aspath.txt", r, 8);
	assert_int_equal(n, 4);
	const struct bgp_route *x = find(r, n, IP(172, 16, 0, 0), T2);
	assert_int_equal(x->br_med, 50);
	assert_false(x->br_best);
	assert_true(find(r, n, IP(172, 16, 0, 0), T1)->br_best);
}

static void test_routes_one_protocol_and_none(void **state)
{
	struct bgp_route r[8];

	(void)state;
	size_t n = routes("route_all_protocol_t2.txt", r, 8);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(r[i].br_protocol, T2);
	/* tunnel 1 down: only tunnel 2's routes, now BIRD's choice */
	n = routes("route_all_t1_down.txt", r, 8);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(r[i].br_protocol, T2);
		assert_true(r[i].br_best);
	}
	assert_int_equal(routes("route_all_none.txt", r, 8), 0);
}

static void test_routes_too_many(void **state)
{
	struct bgp_route r[3];
	char err[256] = "";
	size_t n = 99;

	(void)state;
	load("route_all_two_tunnels.txt");
	assert_int_equal(bgp_parse_routes(reply, reply_len, r, 3, &n, err, sizeof(err)), -1);
	assert_string_equal(err, "more than 3 BGP routes");
}

/* BIRD's error answer, and text that is not BIRD's: refused with the cause. */
static void test_errors(void **state)
{
	struct bgp_session s[2];
	struct bgp_route r[2];
	char err[256] = "";
	size_t n = 99;

	(void)state;
	load("error_unknown_protocol.txt");
	assert_int_equal(bgp_parse_routes(reply, reply_len, r, 2, &n, err, sizeof(err)), -1);
	assert_string_equal(err, "BIRD: syntax error, unexpected CF_SYM_UNDEFINED, expecting CF_SYM_KNOWN");

	static const struct { const char *text, *err; } bad[] = {
		{ "hello\n", "line 1: not a BIRD reply line" },
		{ " Table x\n", "line 1: continuation before any coded line" },
		{ "10a2-x\n", "line 1: not a BIRD reply code" },
		{ "1002-vpn_a_t1 BGP --- up\n", "line 1: protocol summary with missing fields" },
		{ "1002-vpn_a_t1 BGP --- up 08:15:43.158 Established\n0000 \n",
		  "line 1: since is not an ISO time (timeformat protocol iso long)" },
		{ "1002-vpn_a_t1 BGP --- up 2026-12-07 08:15 Established\n",
		  "line 1: since is not an ISO time (timeformat protocol iso long)" },
		{ "1002-vpn_a_t1 BGP --- up 2026-12-07 08:15:43 Established\n"
		  "1006-  Neighbor address: 169.254.10.256\n", "line 2: vpn_a_t1: malformed field" },
		{ "1002-vpn_a_t1 BGP --- up 2026-12-07 08:15:43 Established\n"
		  "1006-  Neighbor AS: 4294967296\n", "line 2: vpn_a_t1: malformed field" },
		{ "1002-vpn_a_t1 BGP --- up 2026-12-07 08:15:43 Established\n"
		  "1006-  Routes: many imported, 2 exported\n", "line 2: vpn_a_t1: malformed field" },
		{ "8003 No protocols match\n", "BIRD: No protocols match" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (bgp_parse_protocols(bad[i].text, strlen(bad[i].text), s, 2, &n, err, sizeof(err)) != -1)
			fail_msg("accepted: %s", bad[i].text);
		if (strcmp(err, bad[i].err) != 0)
			fail_msg("%s: error \"%s\", want \"%s\"", bad[i].text, err, bad[i].err);
	}
	static const struct { const char *text, *err; } bad_routes[] = {
		{ "1007-                     unicast [vpn_a_t1 2026-12-07 08:15:48] * (100)\n",
		  "line 1: malformed route line" },
		{ "1007-172.16.0.0/33 unicast [vpn_a_t1 2026-12-07 08:15:48] * (100)\n",
		  "line 1: malformed route line" },
		{ "1007-172.16.0.0/16 unicast vpn_a_t1\n", "line 1: malformed route line" },
		{ "1007-172.16.0.0/16 unicast [vpn_a_t1 2026-12-07 08:15:48] * (100)\n"
		  "1008-\tType: BGP univ\n1012-\tBGP.med: -1\n", "line 3: malformed route attribute" },
		{ "1007-172.16.0.0/16 unicast [vpn_a_t1 2026-12-07 08:15:48] * (100)\n"
		  "1012-\tBGP.next_hop: 169.254\n", "line 2: malformed route attribute" },
	};
	for (size_t i = 0; i < sizeof(bad_routes) / sizeof(bad_routes[0]); i++) {
		err[0] = '\0';
		if (bgp_parse_routes(bad_routes[i].text, strlen(bad_routes[i].text), r, 2, &n, err,
				     sizeof(err)) != -1)
			fail_msg("accepted: %s", bad_routes[i].text);
		if (strcmp(err, bad_routes[i].err) != 0)
			fail_msg("%s: error \"%s\", want \"%s\"", bad_routes[i].text, err, bad_routes[i].err);
	}
}

/* Every prefix of every recorded reply, cut anywhere: an answer or an
 * error, never a crash (run under the sanitizers by make's asan pass). */
static void test_truncated(void **state)
{
	static const char *const names[] = {
		"protocols_all_established.txt", "protocols_all_limit.txt",
		"route_all_two_tunnels.txt", "route_all_med_aspath.txt",
	};
	struct bgp_session s[4];
	struct bgp_route r[8];
	char err[256];
	size_t n;

	(void)state;
	for (size_t f = 0; f < sizeof(names) / sizeof(names[0]); f++) {
		load(names[f]);
		for (size_t cut = 0; cut <= reply_len; cut++) {
			char *copy = malloc(cut ? cut : 1);
			memcpy(copy, reply, cut);
			(void)bgp_parse_protocols(copy, cut, s, 4, &n, err, sizeof(err));
			(void)bgp_parse_routes(copy, cut, r, 8, &n, err, sizeof(err));
			free(copy);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_established),
		cmocka_unit_test(test_prefix_limit),
		cmocka_unit_test(test_hold_expired_and_bad_as),
		cmocka_unit_test(test_too_many_sessions),
		cmocka_unit_test(test_routes_two_tunnels),
		cmocka_unit_test(test_routes_med),
		cmocka_unit_test(test_routes_one_protocol_and_none),
		cmocka_unit_test(test_routes_too_many),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
