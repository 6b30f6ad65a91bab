/*
 * Unit tests for engine_bgp (src/engine/engine_bgp.h): a vpn-connection doc
 * as CreateVpnConnection stores it (api/vpn.c's layout) into the
 * description of its BGP sessions; static connections left alone; a
 * dynamic one that BGP cannot run named with its cause. The description is
 * then written by bgp_conf_write and checked by BIRD (bird -p). And BIRD's
 * recorded answers (tests/bgp/replies) into _Bgp (BGP-CONTRACT.md) and the
 * tunnels' learned prefixes; the prefix limit's retry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/base.h"
#include "base/doc.h"
#include "base/strbuf.h"
#include "bgp/bgp.h"
#include "engine/engine_bgp.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static struct doc *vpn_doc(bool static_only, const char *inside1, const char *inside2)
{
	struct doc *d = doc_obj();
	doc_set_str(d, "VpnConnectionId", "vpn-0a1b2c3d4e5f67890");
	doc_set_str(d, "VpnGatewayId", "vgw-0123456789abcdef0");
	doc_set_str(d, "CustomerGatewayId", "cgw-0123456789abcdef0");
	doc_set_str(d, "State", "available");
	struct doc *opts = doc_get_obj(d, "Options");
	doc_set_bool(opts, "StaticRoutesOnly", static_only);
	struct doc *tl = doc_get_list(opts, "TunnelOptions");
	const char *inside[] = { inside1, inside2 };
	for (int i = 0; i < 2; i++) {
		struct doc *t = doc_push(tl, doc_obj());
		doc_set_str(t, "OutsideIpAddress", i ? "203.0.113.2" : "203.0.113.1");
		if (inside[i])
			doc_set_str(t, "TunnelInsideCidr", inside[i]);
		doc_set_secret_str(t, "PreSharedKey", "never.read.here");
	}
	doc_set_str(d, "_CustomerGatewayIpAddress", "198.51.100.2");
	doc_set_int(d, "_CustomerGatewayBgpAsn", 65000);
	doc_set_int(d, "_AmazonSideAsn", 64512);
	return d;
}

static void test_dynamic(void **state)
{
	struct bgp_conn_desc c;
	char why[128] = "";

	(void)state;
	struct doc *d = vpn_doc(false, "169.254.10.0/30", "169.254.20.0/30");
	assert_int_equal(engine_bgp_conn_desc(d, &c, why, sizeof(why)), 1);
	assert_string_equal(c.cd_vpn_id, "vpn-0a1b2c3d4e5f67890");
	assert_string_equal(c.cd_vgw_id, "vgw-0123456789abcdef0");
	assert_int_equal(c.cd_cgw_asn, 65000);
	assert_int_equal(c.cd_vgw_asn, 64512);
	assert_int_equal(c.cd_inside_net[0], IP(169, 254, 10, 0));
	assert_int_equal(c.cd_inside_net[1], IP(169, 254, 20, 0));
	assert_null(c.cd_export);
	assert_int_equal(c.cd_nexport, 0);

	/* what BIRD gets from it, with the VPC's CIDR block added, parses */
	static const struct bgp_prefix vpc[] = { { IP(10, 0, 0, 0), 16 } };
	c.cd_export = vpc;
	c.cd_nexport = 1;
	struct bgp_conf_desc desc = { &c, 1, NULL };
	struct strbuf out = STRBUF_INIT;
	assert_int_equal(bgp_conf_write(&desc, &out, why, sizeof(why)), 0);
	assert_non_null(strstr(sb_str(&out), "\tlocal 169.254.10.1 as 64512;\n\tneighbor 169.254.10.2 as 65000;\n"));
	char path[] = "/tmp/vpcd-test-engine-bgp-XXXXXX", cmd[256];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, sb_str(&out), out.sb_len), (ssize_t)out.sb_len);
	close(fd);
	if (access("/usr/sbin/bird", X_OK) != 0)
		fail_msg("bird not found: install bird2 (scripts/install-deps.sh)");
	snprintf(cmd, sizeof(cmd), "/usr/sbin/bird -p -c %s", path);
	int rc = system(cmd);
	unlink(path);
	assert_int_equal(rc, 0);
	sb_free(&out);
	doc_free(d);
}

static void test_static_left_alone(void **state)
{
	struct bgp_conn_desc c;
	char why[128] = "";

	(void)state;
	struct doc *d = vpn_doc(true, "169.254.10.0/30", "169.254.20.0/30");
	assert_int_equal(engine_bgp_conn_desc(d, &c, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	doc_free(d);
}

static void test_causes(void **state)
{
	struct bgp_conn_desc c;
	char why[128];

	(void)state;
	struct doc *d = vpn_doc(false, "169.254.10.0/30", "169.254.20.0/30");
	doc_remove(d, "_CustomerGatewayBgpAsn");
	assert_int_equal(engine_bgp_conn_desc(d, &c, why, sizeof(why)), -1);
	assert_string_equal(why, "BGP: the customer gateway has no BGP ASN");
	doc_free(d);

	d = vpn_doc(false, "169.254.10.0/30", "169.254.20.0/30");
	doc_set_int(d, "_AmazonSideAsn", 0);
	assert_int_equal(engine_bgp_conn_desc(d, &c, why, sizeof(why)), -1);
	assert_string_equal(why, "BGP: the VPN gateway has no Amazon side ASN");
	doc_free(d);

	static const char *const bad_inside[] = { NULL, "169.254.20.1/30", "169.254.20.0/29", "10.0.0.0/30", "x" };
	for (size_t i = 0; i < sizeof(bad_inside) / sizeof(bad_inside[0]); i++) {
		d = vpn_doc(false, "169.254.10.0/30", bad_inside[i]);
		assert_int_equal(engine_bgp_conn_desc(d, &c, why, sizeof(why)), -1);
		assert_string_equal(why, "BGP: tunnel 2 has no inside /30 of 169.254.0.0/16");
		doc_free(d);
	}

	d = vpn_doc(false, "169.254.10.0/30", "169.254.20.0/30");
	doc_remove(d, "VpnGatewayId");
	assert_int_equal(engine_bgp_conn_desc(d, &c, why, sizeof(why)), -1);
	assert_string_equal(why, "BGP: no VPN connection or gateway id");
	doc_free(d);

	d = vpn_doc(false, "169.254.10.0/30", "169.254.20.0/30");
	struct doc *tl = doc_get_list(doc_get_obj(d, "Options"), "TunnelOptions");
	doc_delete_child(tl, tl->d_first);
	assert_int_equal(engine_bgp_conn_desc(d, &c, why, sizeof(why)), -1);
	assert_string_equal(why, "BGP: the connection has 1 tunnels, not 2");
	doc_free(d);
}

/* ---- BIRD's answers into _Bgp ------------------------------------------------ */

#define VPN_ID "vpn-0a1b2c3d4e5f60718"	/* the connection of the recorded replies */

static char *reply(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", BGP_REPLY_DIR, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	static char buf[1 << 16];
	*len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[*len] = '\0';
	char *copy = malloc(*len + 1);
	assert_non_null(copy);
	memcpy(copy, buf, *len + 1);
	return copy;
}

static size_t sessions(const char *name, struct bgp_session *s, size_t max)
{
	size_t len, n;
	char err[128];
	char *r = reply(name, &len);
	assert_int_equal(bgp_parse_protocols(r, len, s, max, &n, err, sizeof(err)), 0);
	free(r);
	return n;
}

static size_t routes(const char *name, struct bgp_route *out, size_t max)
{
	size_t len, n;
	char err[128];
	char *r = reply(name, &len);
	assert_int_equal(bgp_parse_routes(r, len, out, max, &n, err, sizeof(err)), 0);
	free(r);
	return n;
}

static struct doc *recorded_vpn(struct bgp_conn_desc *c)
{
	char why[128];
	struct doc *d = vpn_doc(false, "169.254.10.0/30", "169.254.20.0/30");
	doc_set_str(d, "VpnConnectionId", VPN_ID);
	assert_int_equal(engine_bgp_conn_desc(d, c, why, sizeof(why)), 1);
	return d;
}

static const struct doc *nth(const struct doc *list, size_t i)
{
	size_t k = 0;
	doc_foreach(x, list)
		if (k++ == i)
			return x;
	return NULL;
}

static void test_bgp_doc_established(void **state)
{
	(void)state;
	struct bgp_conn_desc c;
	struct bgp_session s[8];
	struct bgp_route r[16];
	const struct bgp_session *mine[BGP_TUNNELS];
	struct doc *vpn = recorded_vpn(&c);
	size_t ns = sessions("protocols_all_established.txt", s, 8);
	size_t nr = routes("route_all_two_tunnels.txt", r, 16);
	engine_bgp_sessions_of(VPN_ID, s, ns, mine);
	assert_non_null(mine[0]);
	assert_non_null(mine[1]);
	engine_bgp_sessions_of("vpn-0000000000000000f", s, ns, mine + 0);
	assert_null(mine[0]);
	engine_bgp_sessions_of(VPN_ID, s, ns, mine);

	struct doc *d = engine_bgp_doc(vpn, &c, NULL, mine, r, nr);
	assert_null(doc_get(d, "Error"));
	const struct doc *t1 = nth(doc_get(d, "Tunnels"), 0), *t2 = nth(doc_get(d, "Tunnels"), 1);
	assert_non_null(t2);
	assert_null(nth(doc_get(d, "Tunnels"), 2));
	assert_string_equal(doc_get_str(t1, "OutsideIpAddress"), "203.0.113.1");
	assert_string_equal(doc_get_str(t2, "OutsideIpAddress"), "203.0.113.2");
	assert_string_equal(doc_get_str(t1, "State"), "Established");
	assert_int_equal(doc_get_int(t1, "Since", 0), 1796631347);	/* 2026-12-07 08:15:47 UTC */
	assert_int_equal(doc_get_int(t1, "LocalAsn", 0), 64512);
	assert_int_equal(doc_get_int(t1, "NeighborAsn", 0), 65000);
	assert_int_equal(doc_get_int(t1, "Received", -1), 2);
	assert_int_equal(doc_get_int(t1, "Advertised", -1), 2);
	assert_string_equal(doc_get_str(t1, "LastError"), "");
	assert_string_equal(doc_get_str(t1, "Cause"), "");
	/* the best paths only (both through tunnel 1: tunnel 2's 172.17/16
	 * has a longer AS path, its 172.16/16 is younger); no static route */
	const struct doc *rl = doc_get(d, "Routes");
	assert_int_equal(rl->d_count, 2);
	assert_string_equal(doc_get_str(nth(rl, 0), "DestinationCidrBlock"), "172.16.0.0/16");
	assert_int_equal(doc_get_int(nth(rl, 0), "Tunnel", -1), 0);
	assert_int_equal(doc_get_int(nth(rl, 0), "AsPathLength", -1), 1);
	assert_int_equal(doc_get_int(nth(rl, 0), "Med", -1), 0);
	assert_string_equal(doc_get_str(nth(rl, 1), "DestinationCidrBlock"), "172.17.0.0/16");
	assert_int_equal(doc_get_int(nth(rl, 1), "Tunnel", -1), 0);

	/* the endpoint: tunnel 1 carries both, tunnel 2 none */
	struct bgp_prefix p[4];
	assert_int_equal(engine_bgp_tunnel_prefixes(VPN_ID, mine, r, nr, 0, p, 4), 2);
	assert_int_equal(p[0].bp_addr, IP(172, 16, 0, 0));
	assert_int_equal(p[0].bp_len, 16);
	assert_int_equal(p[1].bp_addr, IP(172, 17, 0, 0));
	assert_int_equal(engine_bgp_tunnel_prefixes(VPN_ID, mine, r, nr, 1, p, 4), 0);
	assert_int_equal(engine_bgp_tunnel_prefixes(VPN_ID, mine, r, nr, 0, p, 1), 2);	/* counted beyond max */
	/* another connection's sessions choose nothing of these */
	assert_int_equal(engine_bgp_tunnel_prefixes("vpn-0000000000000000f", mine, r, nr, 0, p, 4), 0);
	doc_free(d);

	/* MED: present when BIRD shows it */
	nr = routes("route_all_med_aspath.txt", r, 16);
	d = engine_bgp_doc(vpn, &c, "", mine, r, nr);
	assert_null(doc_get(d, "Error"));
	rl = doc_get(d, "Routes");
	assert_int_equal(rl->d_count, 2);
	assert_int_equal(doc_get_int(nth(rl, 0), "Tunnel", -1), 0);
	doc_free(d);
	doc_free(vpn);
}

/* Tunnel 1's session dropped (hold timer): its routes go, tunnel 2 carries
 * them; a session not Established gives no route even if BIRD still shows
 * one as best. */
static void test_bgp_doc_tunnel_down(void **state)
{
	(void)state;
	struct bgp_conn_desc c;
	struct bgp_session s[8], up[8];
	struct bgp_route r[16];
	const struct bgp_session *mine[BGP_TUNNELS];
	struct doc *vpn = recorded_vpn(&c);
	size_t ns = sessions("protocols_all_hold_expired_bad_as.txt", s, 8);
	sessions("protocols_all_established.txt", up, 8);
	size_t nr = routes("route_all_t1_down.txt", r, 16);
	engine_bgp_sessions_of(VPN_ID, s, ns, mine);
	struct bgp_session t2_up = up[1];	/* tunnel 2 still up, as when route_all_t1_down was recorded */
	mine[1] = &t2_up;
	struct doc *d = engine_bgp_doc(vpn, &c, NULL, mine, r, nr);
	const struct doc *t1 = nth(doc_get(d, "Tunnels"), 0);
	assert_string_equal(doc_get_str(t1, "State"), "Idle");
	assert_string_equal(doc_get_str(t1, "Cause"), "hold-expired");
	assert_string_equal(doc_get_str(t1, "LastError"), "BGP Error: Hold timer expired");
	const struct doc *rl = doc_get(d, "Routes");
	assert_int_equal(rl->d_count, 2);
	assert_int_equal(doc_get_int(nth(rl, 0), "Tunnel", -1), 1);
	assert_int_equal(doc_get_int(nth(rl, 1), "Tunnel", -1), 1);
	struct bgp_prefix p[4];
	assert_int_equal(engine_bgp_tunnel_prefixes(VPN_ID, mine, r, nr, 0, p, 4), 0);
	assert_int_equal(engine_bgp_tunnel_prefixes(VPN_ID, mine, r, nr, 1, p, 4), 2);
	doc_free(d);

	/* both down (tunnel 2: bad peer AS): no route at all */
	engine_bgp_sessions_of(VPN_ID, s, ns, mine);
	d = engine_bgp_doc(vpn, &c, NULL, mine, r, nr);
	assert_string_equal(doc_get_str(nth(doc_get(d, "Tunnels"), 1), "Cause"), "bad-peer-as");
	assert_int_equal(doc_get(d, "Routes")->d_count, 0);
	assert_int_equal(engine_bgp_tunnel_prefixes(VPN_ID, mine, r, nr, 1, p, 4), 0);
	doc_free(d);
	doc_free(vpn);
}

/* BIRD not running (or a connection it cannot run): the reason, both
 * tunnels Down with the ASNs of the description, no route. */
static void test_bgp_doc_error(void **state)
{
	(void)state;
	struct bgp_conn_desc c;
	const struct bgp_session *none[BGP_TUNNELS] = { NULL, NULL };
	struct doc *vpn = recorded_vpn(&c);
	struct doc *d = engine_bgp_doc(vpn, &c, "bird2 is not installed (/usr/sbin/bird not found)", none, NULL, 0);
	assert_string_equal(doc_get_str(d, "Error"), "bird2 is not installed (/usr/sbin/bird not found)");
	const struct doc *t2 = nth(doc_get(d, "Tunnels"), 1);
	assert_string_equal(doc_get_str(t2, "State"), "Down");
	assert_null(doc_get(t2, "Since"));
	assert_int_equal(doc_get_int(t2, "LocalAsn", 0), 64512);
	assert_int_equal(doc_get_int(t2, "NeighborAsn", 0), 65000);
	assert_int_equal(doc_get_int(t2, "Received", -1), 0);
	assert_string_equal(doc_get_str(t2, "Cause"), "");
	assert_int_equal(doc_get(d, "Routes")->d_count, 0);
	doc_free(d);
	/* no description at all (the connection's own cause) */
	d = engine_bgp_doc(vpn, NULL, "BGP: the customer gateway has no BGP ASN", none, NULL, 0);
	assert_int_equal(doc_get_int(nth(doc_get(d, "Tunnels"), 0), "NeighborAsn", -1), 0);
	doc_free(d);
	doc_free(vpn);
}

static void test_exports(void **state)
{
	(void)state;
	struct doc *d = vpn_doc(false, "169.254.10.0/30", "169.254.20.0/30");
	struct bgp_prefix p[ENGINE_BGP_EXPORT_MAX];
	assert_int_equal(engine_bgp_exports(d, p, ENGINE_BGP_EXPORT_MAX), 0);
	struct doc *l = doc_get_list(d, ENGINE_BGP_EXPORT_KEY);
	doc_push(l, doc_str("10.0.0.0/16"));
	doc_push(l, doc_str("10.0.0.1/16"));	/* host bits: not a block */
	doc_push(l, doc_str("banana"));
	doc_push(l, doc_int(7));
	doc_push(l, doc_str("10.1.0.0/24"));
	assert_int_equal(engine_bgp_exports(d, p, ENGINE_BGP_EXPORT_MAX), 2);
	assert_int_equal(p[0].bp_addr, IP(10, 0, 0, 0));
	assert_int_equal(p[0].bp_len, 16);
	assert_int_equal(p[1].bp_addr, IP(10, 1, 0, 0));
	assert_int_equal(p[1].bp_len, 24);
	assert_int_equal(engine_bgp_exports(d, p, 1), 1);
	doc_free(d);
}

/* The prefix limit: BIRD shut the session down (recorded); the engine
 * enables it after 20 s, the cause shown meanwhile; hit again soon after,
 * 40 s; Established for 120 s, forgotten. */
static void test_prefix_limit_retry(void **state)
{
	(void)state;
	struct bgp_session lim[8], up[8], shown;
	sessions("protocols_all_limit.txt", lim, 8);
	sessions("protocols_all_established.txt", up, 8);
	const struct bgp_session *hit = &lim[0], *est = &up[0];
	struct bgp_session idle = lim[0];	/* enabled, connecting: BIRD's error text gone */
	idle.bs_state = BGP_FSM_ACTIVE;
	idle.bs_limit_hit = false;
	idle.bs_error = BGP_ERR_NONE;
	idle.bs_last_error[0] = '\0';
	struct engine_bgp_limit l;
	memset(&l, 0, sizeof(l));
	uint64_t t0 = 1000000;

	assert_false(engine_bgp_limit_step(&l, hit, t0, &shown));
	assert_int_equal(l.bl_hits, 1);
	assert_int_equal(shown.bs_error, BGP_ERR_PREFIX_LIMIT);
	assert_string_equal(shown.bs_last_error, "Automatic shutdown: Route limit exceeded");
	assert_false(engine_bgp_limit_step(&l, hit, t0 + 19999, &shown));
	assert_true(engine_bgp_limit_step(&l, hit, t0 + 20000, &shown));
	engine_bgp_limit_enabled(&l, t0 + 20000);
	/* BIRD still says Down for a moment: not a new hit */
	assert_false(engine_bgp_limit_step(&l, hit, t0 + 21000, &shown));
	assert_int_equal(l.bl_hits, 1);
	/* connecting: the cause is still the limit */
	assert_false(engine_bgp_limit_step(&l, &idle, t0 + 22000, &shown));
	assert_int_equal(shown.bs_error, BGP_ERR_PREFIX_LIMIT);
	assert_string_equal(shown.bs_last_error, "Automatic shutdown: Route limit exceeded");
	assert_int_equal(shown.bs_state, BGP_FSM_ACTIVE);
	/* up, then the customer sends 101 again: 40 s */
	assert_false(engine_bgp_limit_step(&l, est, t0 + 23000, &shown));
	assert_int_equal(shown.bs_error, BGP_ERR_NONE);
	assert_false(engine_bgp_limit_step(&l, hit, t0 + 30000, &shown));
	assert_int_equal(l.bl_hits, 2);
	assert_false(engine_bgp_limit_step(&l, hit, t0 + 69999, &shown));
	assert_true(engine_bgp_limit_step(&l, hit, t0 + 70000, &shown));
	engine_bgp_limit_enabled(&l, t0 + 70000);
	/* back with fewer prefixes, and up long enough: forgotten */
	assert_false(engine_bgp_limit_step(&l, est, t0 + 80000, &shown));
	assert_false(engine_bgp_limit_step(&l, est, t0 + 80000 + ENGINE_BGP_LIMIT_FORGET_S * 1000 - 1, &shown));
	assert_int_equal(l.bl_hits, 2);
	assert_false(engine_bgp_limit_step(&l, est, t0 + 80000 + ENGINE_BGP_LIMIT_FORGET_S * 1000, &shown));
	assert_int_equal(l.bl_hits, 0);
	assert_false(engine_bgp_limit_step(&l, hit, t0 + 300000, &shown));
	assert_int_equal(l.bl_enable_at_ms, t0 + 300000 + 20000);
	/* another error is not the limit's */
	struct engine_bgp_limit l2;
	memset(&l2, 0, sizeof(l2));
	struct bgp_session bad[8];
	sessions("protocols_all_hold_expired_bad_as.txt", bad, 8);
	assert_false(engine_bgp_limit_step(&l2, &bad[1], t0, &shown));
	assert_int_equal(l2.bl_hits, 0);
	assert_int_equal(shown.bs_error, BGP_ERR_BAD_PEER_AS);

	assert_int_equal(engine_bgp_limit_retry_s(1), 20);
	assert_int_equal(engine_bgp_limit_retry_s(2), 40);
	assert_int_equal(engine_bgp_limit_retry_s(5), 320);
	assert_int_equal(engine_bgp_limit_retry_s(100), 320);
	assert_string_equal(engine_bgp_cause_name(BGP_ERR_PREFIX_LIMIT), "prefix-limit");
	assert_string_equal(engine_bgp_cause_name(BGP_ERR_NONE), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dynamic),
		cmocka_unit_test(test_static_left_alone),
		cmocka_unit_test(test_causes),
		cmocka_unit_test(test_bgp_doc_established),
		cmocka_unit_test(test_bgp_doc_tunnel_down),
		cmocka_unit_test(test_bgp_doc_error),
		cmocka_unit_test(test_exports),
		cmocka_unit_test(test_prefix_limit_retry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
