/* Tests for engine/engine_vpn: a VPN connection doc (as api/vpn.c stores
 * it) into tunnel specs — every option, the selector bounds, routes, the
 * DH lists cut to what ike/ takes, tunnels that cannot run — tunnel ids,
 * telemetry writes, and the trimmed copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "engine/engine_vpn.h"
#include "model/tunnel_options.h"

#define PSK1 "Kp4x9_bT2mQ7.vLz3NcR8wYhE6sJ1uAf"
#define PSK2 "r7Gd2.Wq_9ZxHc4TnBv6LsKj1PyMe8Ua"

static uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return a << 24 | b << 16 | c << 8 | d;
}

static struct doc *tunnel(const char *outside, const char *inside, const char *psk, struct tunnel_options *to)
{
	struct doc *t = doc_obj();
	doc_set_str(t, "OutsideIpAddress", outside);
	snprintf(to->to_inside_cidr, sizeof(to->to_inside_cidr), "%s", inside);
	snprintf(to->to_psk, sizeof(to->to_psk), "%s", psk);
	tunnel_options_to_doc(to, t);
	return t;
}

/* A connection like CreateVpnConnection stores; t1/t2 NULL: defaults. */
static struct doc *vpn_doc(struct tunnel_options *t1, struct tunnel_options *t2)
{
	struct tunnel_options d1, d2;
	tunnel_options_defaults(&d1);
	tunnel_options_defaults(&d2);
	struct doc *d = doc_obj();
	doc_set_str(d, "VpnConnectionId", "vpn-0a1b2c3d4e5f67890");
	doc_set_str(d, "State", "available");
	doc_set_str(d, "CustomerGatewayConfiguration", "<xml with " PSK1 ">");
	struct doc *opts = doc_get_obj(d, "Options");
	doc_set_bool(opts, "StaticRoutesOnly", true);
	doc_set_str(opts, "LocalIpv4NetworkCidr", "0.0.0.0/0");
	doc_set_str(opts, "RemoteIpv4NetworkCidr", "0.0.0.0/0");
	struct doc *tl = doc_get_list(opts, "TunnelOptions");
	doc_push(tl, tunnel("203.0.113.1", "169.254.252.0/30", PSK1, t1 ? t1 : &d1));
	doc_push(tl, tunnel("203.0.113.2", "169.254.253.4/30", PSK2, t2 ? t2 : &d2));
	struct doc *tel = doc_get_list(d, "VgwTelemetry");
	const char *outs[] = { "203.0.113.1", "203.0.113.2" };
	for (int i = 0; i < 2; i++) {
		struct doc *e = doc_push(tel, doc_obj());
		doc_set_str(e, "OutsideIpAddress", outs[i]);
		doc_set_str(e, "Status", "DOWN");
		doc_set_str(e, "LastStatusChange", "2026-01-01T00:00:00.000Z");
		doc_set_str(e, "StatusMessage", "IPSEC IS DOWN");
		doc_set_int(e, "AcceptedRouteCount", 0);
	}
	struct doc *routes = doc_get_list(d, "Routes");
	const char *r[][2] = { { "10.0.0.0/24", "available" }, { "192.168.10.0/24", "available" },
			       { "172.16.0.0/16", "deleted" } };
	for (size_t i = 0; i < 3; i++) {
		struct doc *e = doc_push(routes, doc_obj());
		doc_set_str(e, "DestinationCidrBlock", r[i][0]);
		doc_set_str(e, "Source", "Static");
		doc_set_str(e, "State", r[i][1]);
	}
	doc_set_str(d, "_CustomerGatewayIpAddress", "198.51.100.2");
	doc_set_int(d, "_ConfigVersion", 3);
	tunnel_options_wipe(&d1);
	tunnel_options_wipe(&d2);
	return d;
}

static void test_plan_defaults(void **state)
{
	(void)state;
	struct doc *d = vpn_doc(NULL, NULL);
	struct engine_vpn_plan plan;
	char why[160];
	assert_int_equal(engine_vpn_plan(d, &plan, why, sizeof(why)), 0);
	assert_string_equal(plan.vp_id, "vpn-0a1b2c3d4e5f67890");
	assert_int_equal(plan.vp_version, 3);
	assert_int_equal(plan.vp_nroutes, 2);	/* the deleted one is not carried */
	assert_int_equal(plan.vp_routes[0].addr, ip(10, 0, 0, 0));
	assert_int_equal(plan.vp_routes[0].prefix_len, 24);
	assert_int_equal(plan.vp_routes[1].addr, ip(192, 168, 10, 0));
	for (int i = 0; i < 2; i++) {
		const struct vpn_tunnel_spec *s = &plan.vp_tunnel[i];
		const struct ike_tunnel_config *c = &s->ike;
		assert_string_equal(plan.vp_error[i], "");
		assert_null(vpn_tunnel_spec_check(s));
		assert_string_equal(s->id, i ? "vpn-0a1b2c3d4e5f67890#2" : "vpn-0a1b2c3d4e5f67890#1");
		/* the router names the connection by its key; this is tunnel i + 1 */
		assert_true(s->conn_key == engine_vpn_conn_key("vpn-0a1b2c3d4e5f67890"));
		assert_int_equal(s->conn_tunnel, i + 1);
		assert_int_equal(s->local_ip, ip(203, 0, 113, 1 + (unsigned)i));
		assert_int_equal(s->remote_ip, ip(198, 51, 100, 2));
		assert_false(s->bgp);	/* static: the inside pair is not BGP's */
		assert_int_equal(s->psk_len, 32);
		assert_memory_equal(s->psk, i ? PSK2 : PSK1, 32);
		assert_int_equal(s->inside.addr, i ? ip(169, 254, 253, 4) : ip(169, 254, 252, 0));
		assert_int_equal(s->inside.prefix_len, 30);
		assert_int_equal(s->n_routes, 2);
		/* phase 1: IKEv1 has no AES-GCM */
		assert_int_equal(c->p1_encr_n, 2);
		assert_int_equal(c->p1_encr[0], IKE_ENCR_AES128_CBC);
		assert_int_equal(c->p1_encr[1], IKE_ENCR_AES256_CBC);
		assert_int_equal(c->p2_encr_n, 4);
		assert_int_equal(c->p2_encr[2], IKE_ENCR_AES128_GCM16);
		assert_int_equal(c->p1_integ_n, 4);
		assert_int_equal(c->p1_integ[0], IKE_INTEG_SHA1);
		assert_int_equal(c->p2_integ[3], IKE_INTEG_SHA512);
		/* every group AWS allows by default is taken, in its order:
		 * twelve in phase 1 (no group 5), thirteen in phase 2 */
		static const uint16_t p1_dh[] = { 2, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24 };
		static const uint16_t p2_dh[] = { 2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24 };
		assert_int_equal(c->p1_dh_n, ARRAY_LEN(p1_dh));
		assert_int_equal(c->p2_dh_n, ARRAY_LEN(p2_dh));
		assert_memory_equal(c->p1_dh, p1_dh, sizeof(p1_dh));
		assert_memory_equal(c->p2_dh, p2_dh, sizeof(p2_dh));
		assert_int_equal(c->p1_lifetime_s, 28800);
		assert_int_equal(c->p2_lifetime_s, 3600);
		assert_int_equal(c->rekey_margin_s, 270);
		assert_int_equal(c->rekey_fuzz_pct, 100);
		assert_int_equal(c->replay_window, 1024);
		assert_int_equal(c->dpd_timeout_s, 30);
		assert_int_equal(c->dpd_delay_s, ENGINE_DPD_DELAY_S);
		assert_int_equal(c->dpd_action, IKE_DPD_CLEAR);
		assert_int_equal(c->startup, IKE_STARTUP_ADD);
		assert_int_equal(c->local_ts.prefix_len, 0);
		assert_int_equal(c->remote_ts.prefix_len, 0);
	}
	engine_vpn_plan_wipe(&plan);
	for (size_t i = 0; i < sizeof(plan); i++)
		assert_int_equal(((unsigned char *)&plan)[i], 0);
	doc_free(d);
}

static void test_plan_options(void **state)
{
	(void)state;
	struct tunnel_options t1, t2;
	struct tunnel_error err;
	tunnel_options_defaults(&t1);
	tunnel_options_defaults(&t2);
	const char *aes256[] = { "AES256" }, *sha256[] = { "SHA2-256" }, *start[] = { "start" };
	const int64_t g14[] = { 14 }, g24[] = { 24, 2 };
	assert_int_equal(tunnel_options_set_strs(&t1, "Phase1EncryptionAlgorithms", aes256, 1, &err), 0);
	assert_int_equal(tunnel_options_set_strs(&t1, "Phase2IntegrityAlgorithms", sha256, 1, &err), 0);
	assert_int_equal(tunnel_options_set_ints(&t1, "Phase1DHGroupNumbers", g14, 1, &err), 0);
	assert_int_equal(tunnel_options_set_ints(&t1, "Phase2DHGroupNumbers", g24, 2, &err), 0);
	assert_int_equal(tunnel_options_set_str(&t1, "StartupAction", start[0], &err), 0);
	assert_int_equal(tunnel_options_set_str(&t1, "DPDTimeoutAction", "restart", &err), 0);
	assert_int_equal(tunnel_options_set_int(&t1, "DPDTimeoutSeconds", 45, &err), 0);
	assert_int_equal(tunnel_options_set_int(&t1, "Phase2LifetimeSeconds", 1200, &err), 0);
	assert_int_equal(tunnel_options_set_int(&t1, "RekeyMarginTimeSeconds", 120, &err), 0);
	assert_int_equal(tunnel_options_set_int(&t1, "ReplayWindowSize", 128, &err), 0);
	/* tunnel 2: IKEv2 only */
	const char *v2[] = { "ikev2" };
	assert_int_equal(tunnel_options_set_strs(&t2, "IKEVersions", v2, 1, &err), 0);
	struct doc *d = vpn_doc(&t1, &t2);
	struct doc *opts = doc_get(d, "Options");
	doc_set_str(opts, "LocalIpv4NetworkCidr", "10.0.0.0/24");	/* customer side */
	doc_set_str(opts, "RemoteIpv4NetworkCidr", "10.96.0.0/16");	/* VPC side */
	struct engine_vpn_plan plan;
	char why[160];
	assert_int_equal(engine_vpn_plan(d, &plan, why, sizeof(why)), 0);
	const struct ike_tunnel_config *c = &plan.vp_tunnel[0].ike;
	assert_string_equal(plan.vp_error[0], "");
	assert_int_equal(c->p1_encr_n, 1);
	assert_int_equal(c->p1_encr[0], IKE_ENCR_AES256_CBC);
	assert_int_equal(c->p2_integ_n, 1);
	assert_int_equal(c->p2_integ[0], IKE_INTEG_SHA256);
	assert_int_equal(c->p1_dh_n, 1);
	assert_int_equal(c->p1_dh[0], 14);
	assert_int_equal(c->p2_dh_n, 2);
	assert_int_equal(c->p2_dh[0], 2);	/* ascending: the initiator's PFS group is 2 */
	assert_int_equal(c->p2_dh[1], 24);
	assert_int_equal(c->startup, IKE_STARTUP_START);
	assert_int_equal(c->dpd_action, IKE_DPD_RESTART);
	assert_int_equal(c->dpd_timeout_s, 45);
	assert_int_equal(c->p2_lifetime_s, 1200);
	assert_int_equal(c->rekey_margin_s, 120);
	assert_int_equal(c->replay_window, 128);
	assert_int_equal(c->local_ts.addr, ip(10, 96, 0, 0));
	assert_int_equal(c->local_ts.prefix_len, 16);
	assert_int_equal(c->remote_ts.addr, ip(10, 0, 0, 0));
	assert_int_equal(c->remote_ts.prefix_len, 24);
	assert_int_equal(c->versions, IKE_V1 | IKE_V2);	/* AWS's default: both */
	assert_string_equal(plan.vp_error[1], "");
	assert_int_equal(plan.vp_tunnel[1].ike.versions, IKE_V2);
	engine_vpn_plan_wipe(&plan);
	doc_free(d);

	/* phase 1 with AES-GCM only: IKEv2 only (IKEv1 has no AEAD in phase 1) */
	const char *gcm[] = { "AES128-GCM-16" };
	tunnel_options_defaults(&t2);
	assert_int_equal(tunnel_options_set_strs(&t2, "Phase1EncryptionAlgorithms", gcm, 1, &err), 0);
	d = vpn_doc(NULL, &t2);
	assert_int_equal(engine_vpn_plan(d, &plan, why, sizeof(why)), 0);
	assert_string_equal(plan.vp_error[0], "");
	assert_string_equal(plan.vp_error[1], "");
	assert_int_equal(plan.vp_tunnel[1].ike.versions, IKE_V2);
	assert_int_equal(plan.vp_tunnel[1].ike.p1_encr_n, 0);
	assert_int_equal(plan.vp_tunnel[1].ike.p1_aead_n, 1);
	assert_int_equal(plan.vp_tunnel[1].ike.p1_aead[0], IKE_ENCR_AES128_GCM16);
	engine_vpn_plan_wipe(&plan);
	doc_free(d);

	/* ... and with IKEv1 only it cannot run at all */
	const char *v1[] = { "ikev1" };
	assert_int_equal(tunnel_options_set_strs(&t2, "IKEVersions", v1, 1, &err), 0);
	d = vpn_doc(NULL, &t2);
	assert_int_equal(engine_vpn_plan(d, &plan, why, sizeof(why)), 0);
	assert_non_null(strstr(plan.vp_error[1], "AES-GCM"));
	engine_vpn_plan_wipe(&plan);
	doc_free(d);
	tunnel_options_wipe(&t1);
	tunnel_options_wipe(&t2);
}

static void test_plan_malformed(void **state)
{
	(void)state;
	struct engine_vpn_plan plan;
	char why[160];
	struct doc *d = vpn_doc(NULL, NULL);
	doc_remove(d, "_CustomerGatewayIpAddress");
	assert_int_equal(engine_vpn_plan(d, &plan, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "customer gateway"));
	doc_free(d);

	d = vpn_doc(NULL, NULL);
	struct doc *tl = doc_get(doc_get(d, "Options"), "TunnelOptions");
	doc_delete_child(tl, tl->d_first);
	assert_int_equal(engine_vpn_plan(d, &plan, why, sizeof(why)), -1);
	doc_free(d);

	d = vpn_doc(NULL, NULL);
	doc_remove(doc_get(doc_get(d, "Options"), "TunnelOptions")->d_first, "PreSharedKey");
	assert_int_equal(engine_vpn_plan(d, &plan, why, sizeof(why)), 0);
	assert_string_not_equal(plan.vp_error[0], "");
	assert_string_equal(plan.vp_error[1], "");
	engine_vpn_plan_wipe(&plan);
	doc_free(d);

	assert_true(engine_vpn_is_deleted(NULL));
	d = vpn_doc(NULL, NULL);
	assert_false(engine_vpn_is_deleted(d));
	doc_set_str(d, "State", "deleted");
	assert_true(engine_vpn_is_deleted(d));
	doc_free(d);
}

static void test_tunnel_ids(void **state)
{
	(void)state;
	char tid[VPN_TUNNEL_ID_MAX], id[ENGINE_VPN_ID_MAX];
	int index = -1;
	engine_vpn_tunnel_id("vpn-0123", 1, tid);
	assert_string_equal(tid, "vpn-0123#2");
	assert_true(engine_vpn_tunnel_id_parse(tid, id, &index));
	assert_string_equal(id, "vpn-0123");
	assert_int_equal(index, 1);
	assert_true(engine_vpn_tunnel_id_parse("vpn-0123#1", id, &index));
	assert_int_equal(index, 0);
	static const char *const bad[] = { "vpn-0123", "#1", "vpn-0123#0", "vpn-0123#3", "vpn-0123#12",
					   "vpn-0123#" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(engine_vpn_tunnel_id_parse(bad[i], id, &index));
	/* connection keys: FNV-1a 64 of the id (both halves compute it), never 0 */
	assert_true(engine_vpn_conn_key("") == 0xcbf29ce484222325ull);
	assert_true(engine_vpn_conn_key("a") == 0xaf63dc4c8601ec8cull);
	assert_true(engine_vpn_conn_key("vpn-0123") != engine_vpn_conn_key("vpn-0124"));
	assert_true(engine_vpn_conn_key("vpn-0123") != 0);
}

static const struct doc *telemetry(const struct doc *d, int index)
{
	const struct doc *t = doc_get(d, "VgwTelemetry")->d_first;
	return index ? t->d_next : t;
}

static void test_telemetry(void **state)
{
	(void)state;
	struct doc *d = vpn_doc(NULL, NULL);
	const int64_t t_up = 1767225600;	/* 2026-01-01T00:00:00Z */
	assert_true(engine_vpn_telemetry_apply(d, 0, true, "", t_up, false));
	const struct doc *t = telemetry(d, 0);
	assert_string_equal(doc_get_str(t, "Status"), "UP");
	assert_string_equal(doc_get_str(t, "StatusMessage"), ENGINE_STATUS_UP);
	assert_string_equal(doc_get_str(t, "LastStatusChange"), "2026-01-01T00:00:00.000Z");
	assert_int_equal(doc_get_int(t, "AcceptedRouteCount", -1), 2);
	assert_string_equal(doc_get_str(telemetry(d, 1), "Status"), "DOWN");
	/* the same again: nothing to write */
	assert_false(engine_vpn_telemetry_apply(d, 0, true, "", t_up + 5, false));
	/* a new cause while down keeps LastStatusChange */
	assert_true(engine_vpn_telemetry_apply(d, 1, false, "waiting for the peer", t_up, false));
	t = telemetry(d, 1);
	assert_string_equal(doc_get_str(t, "StatusMessage"), "waiting for the peer");
	assert_string_equal(doc_get_str(t, "LastStatusChange"), "2026-01-01T00:00:00.000Z");
	/* DOWN with the cause; no routes accepted */
	assert_true(engine_vpn_telemetry_apply(d, 0, false, "DPD timeout", t_up + 60, false));
	t = telemetry(d, 0);
	assert_string_equal(doc_get_str(t, "Status"), "DOWN");
	assert_string_equal(doc_get_str(t, "StatusMessage"), "DPD timeout");
	assert_string_equal(doc_get_str(t, "LastStatusChange"), "2026-01-01T00:01:00.000Z");
	assert_int_equal(doc_get_int(t, "AcceptedRouteCount", -1), 0);
	assert_true(engine_vpn_telemetry_apply(d, 0, false, "", t_up + 61, false));
	assert_string_equal(doc_get_str(telemetry(d, 0), "StatusMessage"), ENGINE_STATUS_DOWN);
	/* routes only: a route added while UP is counted, status kept */
	assert_true(engine_vpn_telemetry_apply(d, 0, true, "", t_up + 70, false));
	struct doc *r = doc_push(doc_get(d, "Routes"), doc_obj());
	doc_set_str(r, "DestinationCidrBlock", "10.1.0.0/16");
	doc_set_str(r, "State", "available");
	assert_true(engine_vpn_telemetry_apply(d, 0, false, "", 0, true));
	t = telemetry(d, 0);
	assert_string_equal(doc_get_str(t, "Status"), "UP");
	assert_int_equal(doc_get_int(t, "AcceptedRouteCount", -1), 3);
	assert_false(engine_vpn_telemetry_apply(d, 0, false, "", 0, true));
	assert_false(engine_vpn_telemetry_apply(d, 1, false, "", 0, true));	/* DOWN: 0 */
	/* out of range, or telemetry of another tunnel */
	assert_false(engine_vpn_telemetry_apply(d, 2, true, "", t_up, false));
	doc_set_str((struct doc *)telemetry(d, 1), "OutsideIpAddress", "203.0.113.9");
	assert_false(engine_vpn_telemetry_apply(d, 1, true, "", t_up, false));
	doc_free(d);
}

/* The dynamic connection's _Bgp as the engine writes it: tunnel 1 in
 * state s1 (received r1), tunnel 2 in s2; cause/last error of tunnel 2. */
static struct doc *bgp_doc(const char *s1, int r1, const char *s2, const char *cause2, const char *last2,
			   int64_t since)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "{\"Tunnels\":[{\"OutsideIpAddress\":\"203.0.113.1\",\"State\":\"%s\",\"Since\":%lld,"
		 "\"LocalAsn\":64512,\"NeighborAsn\":65000,\"Received\":%d,\"Advertised\":1,\"LastError\":\"\",\"Cause\":\"\"},"
		 "{\"OutsideIpAddress\":\"203.0.113.2\",\"State\":\"%s\",\"Since\":%lld,"
		 "\"LocalAsn\":64512,\"NeighborAsn\":65000,\"Received\":0,\"Advertised\":1,\"LastError\":\"%s\",\"Cause\":\"%s\"}],"
		 "\"Routes\":[{\"DestinationCidrBlock\":\"172.16.0.0/16\",\"Tunnel\":0,\"AsPathLength\":1}]}",
		 s1, (long long)since, r1, s2, (long long)since, last2, cause2);
	struct doc *d = doc_from_json(text, strlen(text));
	assert_non_null(d);
	return d;
}

static void assert_tel(const struct doc *d, int index, const char *status, const char *msg, int64_t routes)
{
	const struct doc *t = telemetry(d, index);
	assert_string_equal(doc_get_str(t, "Status"), status);
	assert_string_equal(doc_get_str(t, "StatusMessage"), msg);
	assert_int_equal(doc_get_int(t, "AcceptedRouteCount", -1), routes);
}

/* At start the store's UP is an earlier vpcd's: every tunnel DOWN as of
 * now, before the API serves (engine_attach), for static and dynamic
 * connections; a deleted connection keeps its last word. */
static void test_telemetry_restart(void **state)
{
	(void)state;
	const int64_t t_up = 1767225600;	/* 2026-01-01T00:00:00Z */
	const int64_t t_start = t_up + 3600;	/* 2026-01-01T01:00:00Z */
	struct doc *d = vpn_doc(NULL, NULL);
	assert_true(engine_vpn_telemetry_apply(d, 0, false, "DPD timeout", t_up, false));
	assert_true(engine_vpn_telemetry_apply(d, 1, true, "", t_up, false));
	assert_int_equal(doc_get_int(telemetry(d, 1), "AcceptedRouteCount", -1), 2);
	assert_true(engine_vpn_telemetry_restart(d, t_start));
	const struct doc *t = telemetry(d, 1);
	assert_string_equal(doc_get_str(t, "Status"), "DOWN");
	assert_string_equal(doc_get_str(t, "StatusMessage"), ENGINE_STATUS_DOWN);
	assert_string_equal(doc_get_str(t, "LastStatusChange"), "2026-01-01T01:00:00.000Z");
	assert_int_equal(doc_get_int(t, "AcceptedRouteCount", -1), 0);
	/* the one already DOWN keeps its message and stamp */
	t = telemetry(d, 0);
	assert_string_equal(doc_get_str(t, "Status"), "DOWN");
	assert_string_equal(doc_get_str(t, "StatusMessage"), "DPD timeout");
	assert_string_equal(doc_get_str(t, "LastStatusChange"), "2026-01-01T00:00:00.000Z");
	assert_false(engine_vpn_telemetry_restart(d, t_start + 1));
	/* the endpoint's first event then UP */
	assert_true(engine_vpn_telemetry_apply(d, 1, false, "waiting for the peer", t_start, false));
	assert_true(engine_vpn_telemetry_apply(d, 1, true, "", t_start + 5, false));
	assert_string_equal(doc_get_str(telemetry(d, 1), "LastStatusChange"), "2026-01-01T01:00:05.000Z");
	doc_free(d);

	/* dynamic: IPsec and a stale Established session both from before */
	d = vpn_doc(NULL, NULL);
	doc_set_bool(doc_get_obj(d, "Options"), "StaticRoutesOnly", false);
	struct doc *bgp = doc_obj();
	struct doc *sessions = doc_get_list(bgp, "Tunnels");
	for (int i = 0; i < 2; i++) {
		struct doc *s = doc_push(sessions, doc_obj());
		doc_set_str(s, "State", "Established");
		doc_set_int(s, "Received", 1);
	}
	assert_true(engine_vpn_bgp_apply(d, bgp, t_up));
	doc_free(bgp);
	assert_true(engine_vpn_telemetry_apply(d, 0, true, "", t_up, false));
	assert_string_equal(doc_get_str(telemetry(d, 0), "Status"), "UP");
	assert_true(engine_vpn_telemetry_restart(d, t_start));
	assert_string_equal(doc_get_str(telemetry(d, 0), "Status"), "DOWN");
	assert_string_equal(doc_get_str(telemetry(d, 0), "StatusMessage"), ENGINE_STATUS_DOWN);
	assert_string_equal(doc_get_str(telemetry(d, 0), ENGINE_TEL_IPSEC), "DOWN");
	doc_free(d);

	/* deleted: untouched */
	d = vpn_doc(NULL, NULL);
	assert_true(engine_vpn_telemetry_apply(d, 0, false, "removed", t_up, false));
	doc_set_str(d, "State", "deleted");
	assert_false(engine_vpn_telemetry_restart(d, t_start));
	assert_string_equal(doc_get_str(telemetry(d, 0), "StatusMessage"), "removed");
	doc_free(d);
}

/* At start the store's _TunnelDetail is an earlier vpcd's SAs: gone
 * before the API serves (engine_attach, with the telemetry above), for
 * every connection; the telemetry is not its business. */
static void test_detail_restart(void **state)
{
	(void)state;
	static struct vpn_tunnel_status st;
	memset(&st, 0, sizeof(st));
	st.local_ip = 0xCB007101;		/* 203.0.113.1 */
	st.remote_ip = 0xC6336402;		/* 198.51.100.2 */
	st.up = true;
	st.isakmp.state = IKE_ISAKMP_QM_IDLE;
	st.n_children = 1;
	st.children[0].spi_in = 0x2F74367A;
	st.children[0].spi_out = 0xE7B8E672;
	const struct vpn_tunnel_status *pair[ENGINE_VPN_TUNNELS] = { &st, NULL };

	struct doc *d = vpn_doc(NULL, NULL);
	assert_true(engine_vpn_telemetry_apply(d, 0, true, "", 1767225600, false));
	doc_set(d, ENGINE_VPN_DETAIL_KEY, engine_vpn_detail(pair, 1767225600, true));
	struct strbuf old = STRBUF_INIT;
	doc_to_json(d, &old);
	assert_non_null(strstr(sb_str(&old), "0x2F74367A"));
	sb_free(&old);
	assert_true(engine_vpn_detail_restart(d));
	assert_null(doc_get(d, ENGINE_VPN_DETAIL_KEY));
	struct strbuf now = STRBUF_INIT;
	doc_to_json(d, &now);
	assert_null(strstr(sb_str(&now), "0x2F74367A"));
	sb_free(&now);
	assert_string_equal(doc_get_str(telemetry(d, 0), "Status"), "UP");	/* telemetry_restart's */
	assert_false(engine_vpn_detail_restart(d));
	/* restart's order in engine_attach: both, one change */
	doc_set(d, ENGINE_VPN_DETAIL_KEY, engine_vpn_detail(pair, 1767225600, true));
	assert_true(engine_vpn_telemetry_restart(d, 1767229200) | engine_vpn_detail_restart(d));
	assert_string_equal(doc_get_str(telemetry(d, 0), "Status"), "DOWN");
	assert_null(doc_get(d, ENGINE_VPN_DETAIL_KEY));
	doc_free(d);

	/* a deleted connection's stale detail goes too */
	d = vpn_doc(NULL, NULL);
	doc_set_str(d, "State", "deleted");
	doc_set(d, ENGINE_VPN_DETAIL_KEY, engine_vpn_detail(pair, 1767225600, true));
	assert_true(engine_vpn_detail_restart(d));
	assert_null(doc_get(d, ENGINE_VPN_DETAIL_KEY));
	doc_free(d);
}

static void test_telemetry_dynamic(void **state)
{
	(void)state;
	const int64_t t0 = 1767225600;	/* 2026-01-01T00:00:00Z */
	struct doc *d = vpn_doc(NULL, NULL);
	doc_set_bool(doc_get(d, "Options"), "StaticRoutesOnly", false);
	doc_remove(d, "Routes");
	assert_true(engine_vpn_is_dynamic(d));
	/* both tunnels' specs are BGP ones (the endpoint's BGP side) */
	struct engine_vpn_plan plan;
	char why[160];
	assert_int_equal(engine_vpn_plan(d, &plan, why, sizeof(why)), 0);
	assert_true(plan.vp_tunnel[0].bgp && plan.vp_tunnel[1].bgp);
	assert_int_equal(plan.vp_tunnel[0].inside.prefix_len, 30);
	engine_vpn_plan_wipe(&plan);
	/* IPsec up, no BGP yet: DOWN "IPSEC IS UP", as AWS's console shows it;
	 * the IPsec change stamped */
	assert_true(engine_vpn_telemetry_apply(d, 0, true, "", t0 + 5, false));
	assert_tel(d, 0, "DOWN", ENGINE_STATUS_UP, 0);
	assert_string_equal(doc_get_str(telemetry(d, 0), "LastStatusChange"), "2026-01-01T00:00:05.000Z");
	assert_string_equal(doc_get_str(telemetry(d, 0), ENGINE_TEL_IPSEC), "UP");
	assert_false(engine_vpn_telemetry_apply(d, 0, true, "", t0 + 6, false));
	assert_string_equal(doc_get_str(telemetry(d, 0), "LastStatusChange"), "2026-01-01T00:00:05.000Z");
	/* the session comes up at t0+20 with 3 prefixes: UP since then */
	struct doc *b = bgp_doc("Established", 3, "Active", "", "", t0 + 20);
	assert_true(engine_vpn_bgp_apply(d, b, t0 + 21));
	assert_tel(d, 0, "UP", "3 BGP ROUTES", 3);
	assert_string_equal(doc_get_str(telemetry(d, 0), "LastStatusChange"), "2026-01-01T00:00:20.000Z");
	assert_non_null(doc_get(d, ENGINE_VPN_BGP_KEY));
	/* tunnel 2's IPsec is down: its own cause, whatever BGP says */
	assert_tel(d, 1, "DOWN", "IPSEC IS DOWN", 0);
	assert_true(engine_vpn_telemetry_apply(d, 1, false, "DPD timeout", t0 + 22, false));
	assert_tel(d, 1, "DOWN", "DPD timeout", 0);
	/* the same _Bgp again: nothing to write */
	assert_false(engine_vpn_bgp_apply(d, b, t0 + 23));
	doc_free(b);
	/* IPsec up on tunnel 2, its session not up: "IPSEC IS UP", then each cause */
	assert_true(engine_vpn_telemetry_apply(d, 1, true, "", t0 + 30, false));
	assert_tel(d, 1, "DOWN", ENGINE_STATUS_UP, 0);
	static const char *const causes[][3] = {
		{ "prefix-limit", "Route limit exceeded", "BGP session dropped: more than 100 prefixes received" },
		{ "bad-peer-as", "Received: Bad peer AS",
		  "BGP session refused: the customer gateway's ASN is not 65000: Received: Bad peer AS" },
		{ "hold-expired", "Hold timer expired", "BGP session dropped: hold timer expired (no keepalive for 30 s)" },
		{ "other", "Connection refused", "BGP session down: Connection refused" },
	};
	for (size_t i = 0; i < sizeof(causes) / sizeof(causes[0]); i++) {
		b = bgp_doc("Established", 3, i == 0 ? "Down" : "Idle", causes[i][0], causes[i][1], t0 + 40);
		assert_true(engine_vpn_bgp_apply(d, b, t0 + 41));
		assert_tel(d, 1, "DOWN", causes[i][2], 0);
		assert_tel(d, 0, "UP", "3 BGP ROUTES", 3);
		doc_free(b);
	}
	/* tunnel 2's session established again (the customer sent fewer
	 * prefixes): UP, with what it received */
	b = bgp_doc("Established", 3, "Established", "", "", t0 + 50);
	assert_true(engine_vpn_bgp_apply(d, b, t0 + 51));
	assert_tel(d, 1, "UP", "0 BGP ROUTES", 0);
	doc_free(b);
	/* BGP cannot run at all: every tunnel with IPsec up says why */
	b = doc_from_json("{\"Error\":\"bird2 is not installed (/usr/sbin/bird not found)\",\"Tunnels\":[],\"Routes\":[]}",
			  strlen("{\"Error\":\"bird2 is not installed (/usr/sbin/bird not found)\",\"Tunnels\":[],\"Routes\":[]}"));
	assert_true(engine_vpn_bgp_apply(d, b, t0 + 60));
	assert_tel(d, 0, "DOWN", "BGP cannot run: bird2 is not installed (/usr/sbin/bird not found)", 0);
	assert_tel(d, 1, "DOWN", "BGP cannot run: bird2 is not installed (/usr/sbin/bird not found)", 0);
	assert_string_equal(doc_get_str(telemetry(d, 0), "LastStatusChange"), "2026-01-01T00:01:00.000Z");
	doc_free(b);
	/* IPsec goes down on tunnel 1 with BGP still Established on paper:
	 * DOWN with IPsec's cause; back up: the session decides again */
	b = bgp_doc("Established", 3, "Established", "", "", t0 + 70);
	assert_true(engine_vpn_bgp_apply(d, b, t0 + 70));
	doc_free(b);
	assert_tel(d, 0, "UP", "3 BGP ROUTES", 3);
	assert_true(engine_vpn_telemetry_apply(d, 0, false, "peer deleted the SA", t0 + 80, false));
	assert_tel(d, 0, "DOWN", "peer deleted the SA", 0);
	assert_string_equal(doc_get_str(telemetry(d, 0), "LastStatusChange"), "2026-01-01T00:01:20.000Z");
	assert_true(engine_vpn_telemetry_apply(d, 0, true, "", t0 + 90, false));
	assert_tel(d, 0, "UP", "3 BGP ROUTES", 3);
	/* routes_only leaves a dynamic tunnel as it is */
	assert_false(engine_vpn_telemetry_apply(d, 0, false, "", 0, true));
	/* a _Bgp tunnel entry of another outside address is not this tunnel's */
	b = bgp_doc("Established", 3, "Established", "", "", t0 + 95);
	doc_set_str(doc_get(b, "Tunnels")->d_first, "OutsideIpAddress", "203.0.113.9");
	assert_true(engine_vpn_bgp_apply(d, b, t0 + 96));
	assert_tel(d, 0, "DOWN", ENGINE_STATUS_UP, 0);
	doc_free(b);
	/* _Bgp removed (the engine stopped BGP for it): IPsec up, no session */
	assert_true(engine_vpn_bgp_apply(d, NULL, t0 + 100));
	assert_null(doc_get(d, ENGINE_VPN_BGP_KEY));
	assert_tel(d, 1, "DOWN", ENGINE_STATUS_UP, 0);
	assert_false(engine_vpn_bgp_apply(d, NULL, t0 + 101));
	/* a static connection ignores _Bgp: its telemetry is IPsec's, without
	 * the dynamic connection's own keys */
	doc_free(d);
	d = vpn_doc(NULL, NULL);
	assert_false(engine_vpn_is_dynamic(d));
	assert_true(engine_vpn_telemetry_apply(d, 0, true, "", t0, false));
	b = bgp_doc("Active", 0, "Active", "", "", t0);
	assert_true(engine_vpn_bgp_apply(d, b, t0 + 1));	/* stored, telemetry untouched */
	assert_tel(d, 0, "UP", ENGINE_STATUS_UP, 2);
	assert_null(doc_get_str(telemetry(d, 0), ENGINE_TEL_IPSEC));
	doc_free(b);
	doc_free(d);
}

static void test_trim(void **state)
{
	(void)state;
	struct doc *d = vpn_doc(NULL, NULL);
	struct doc *t = engine_vpn_trim(d);
	assert_null(doc_get(t, "CustomerGatewayConfiguration"));
	assert_null(doc_get(t, "VgwTelemetry"));
	assert_string_equal(doc_get_str(t, "VpnConnectionId"), "vpn-0a1b2c3d4e5f67890");
	assert_int_equal(doc_get_int(t, "_ConfigVersion", 0), 3);
	/* the copy's keys stay secret strings: doc_free wipes them */
	size_t keys = 0;
	doc_foreach(o, doc_get(doc_get(t, "Options"), "TunnelOptions")) {
		const struct doc *k = doc_get(o, "PreSharedKey");
		assert_non_null(k);
		assert_true(k->d_secret);
		keys++;
	}
	assert_int_equal(keys, 2);
	struct engine_vpn_plan a, b;
	char why[160];
	assert_int_equal(engine_vpn_plan(d, &a, why, sizeof(why)), 0);
	assert_int_equal(engine_vpn_plan(t, &b, why, sizeof(why)), 0);
	assert_memory_equal(&a, &b, sizeof(a));	/* the copy plans the same */
	engine_vpn_plan_wipe(&a);
	engine_vpn_plan_wipe(&b);
	doc_free(t);
	doc_free(d);
}

/* _TunnelDetail: what `vpcctl vpn status` prints, from tunnel statuses. */
static void test_detail(void **state)
{
	(void)state;
	static struct vpn_tunnel_status st;
	memset(&st, 0, sizeof(st));
	st.local_ip = 0xCB007101;		/* 203.0.113.1 */
	st.remote_ip = 0xC6336402;		/* 198.51.100.2 */
	st.remote_port = 4500;
	st.up = true;
	st.isakmp.state = IKE_ISAKMP_QM_IDLE;
	st.isakmp.conn_id = 3;
	st.isakmp.encr = IKE_ENCR_AES128_CBC;
	st.isakmp.integ = IKE_INTEG_SHA1;
	st.isakmp.dh_group = 2;
	st.isakmp.lifetime_s = 28800;
	st.isakmp.remaining_s = 28000;
	st.isakmp.local = (struct ike_addr){ st.local_ip, 4500 };
	st.isakmp.peer = (struct ike_addr){ st.remote_ip, 4500 };
	st.isakmp.cookie_i[7] = 0xab;
	st.n_children = 1;
	struct vpn_child_status *c = &st.children[0];
	c->spi_in = 0x2F74367A;
	c->spi_out = 0xE7B8E672;
	snprintf(c->transform, sizeof(c->transform), "esp-aes esp-sha-hmac");
	c->ts_local = (struct ike_ts){ 0x0A600000, 0x0A60FFFF, 0, 0 };	/* 10.96.0.0/16 */
	c->ts_remote = (struct ike_ts){ 0x0A000001, 0x0A000005, 6, 22 };
	c->hard_remaining_s = 1734;
	c->replay_window = 128;
	c->pkts_in = 7;
	c->bytes_out = 840;
	c->drops_in[ESP_E_REPLAY] = 2;
	st.drops[VPN_DROP_NO_SA] = 1;
	const struct vpn_tunnel_status *pair[ENGINE_VPN_TUNNELS] = { &st, NULL };

	struct doc *d = engine_vpn_detail(pair, 1000000, true);
	assert_int_equal(doc_get_int(d, "UpdatedAt", 0), 1000000);
	struct doc *t0 = doc_get(d, "Tunnels")->d_first, *t1 = t0->d_next;
	assert_true(doc_get_bool(t0, "Running", false));
	assert_false(doc_get_bool(t1, "Running", true));
	assert_null(doc_get(t1, "Isakmp"));
	assert_string_equal(doc_get_str(t0, "OutsideIpAddress"), "203.0.113.1");
	assert_string_equal(doc_get_str(t0, "PeerIpAddress"), "198.51.100.2");
	struct doc *is = doc_get(t0, "Isakmp");
	assert_string_equal(doc_get_str(is, "State"), "QM_IDLE");
	assert_string_equal(doc_get_str(is, "Encryption"), "aes");
	assert_string_equal(doc_get_str(is, "Hash"), "sha");
	assert_string_equal(doc_get_str(is, "CookieI"), "00000000000000ab");
	assert_string_equal(doc_get_str(is, "LocalAddress"), "203.0.113.1:4500");
	assert_int_equal(doc_get_int(is, "ExpiresAt", 0), 1000000 + 28000);
	struct doc *sa = doc_get(t0, "IpsecSas")->d_first;
	assert_string_equal(doc_get_str(sa, "SpiIn"), "0x2F74367A");
	assert_string_equal(doc_get_str(sa, "SpiOut"), "0xE7B8E672");
	assert_string_equal(doc_get_str(sa, "Transform"), "esp-aes esp-sha-hmac");
	assert_string_equal(doc_get_str(sa, "LocalSelector"), "10.96.0.0/16");
	assert_string_equal(doc_get_str(sa, "RemoteSelector"), "10.0.0.1-10.0.0.5 proto 6 port 22");
	assert_int_equal(doc_get_int(sa, "ExpiresAt", 0), 1000000 + 1734);
	assert_int_equal(doc_get_int(sa, "ReplayWindow", 0), 128);
	assert_int_equal(doc_get_int(sa, "PacketsIn", 0), 7);
	assert_int_equal(doc_get_int(sa, "BytesOut", 0), 840);
	assert_int_equal(doc_get(sa, "DropsIn")->d_count, 1);
	assert_int_equal(doc_get(sa, "DropsOut")->d_count, 0);
	assert_int_equal(doc_get(t0, "Drops")->d_count, 1);
	assert_null(doc_get(t0, "PacketsForOtherTunnel"));	/* none: not shown */
	st.for_other_tunnel = 3;
	doc_free(d);
	d = engine_vpn_detail(pair, 1000000, true);
	t0 = doc_get(d, "Tunnels")->d_first;
	assert_int_equal(doc_get_int(t0, "PacketsForOtherTunnel", 0), 3);
	st.for_other_tunnel = 0;

	/* without times: what the engine compares; "now" does not matter */
	struct doc *a = engine_vpn_detail(pair, 1000000, false), *b = engine_vpn_detail(pair, 2000000, false);
	struct strbuf ja = STRBUF_INIT, jb = STRBUF_INIT;
	doc_to_json(a, &ja);
	doc_to_json(b, &jb);
	assert_string_equal(sb_str(&ja), sb_str(&jb));
	assert_null(strstr(sb_str(&ja), "ExpiresAt"));
	assert_null(strstr(sb_str(&ja), "UpdatedAt"));
	sb_free(&ja);
	sb_free(&jb);
	doc_free(a);
	doc_free(b);

	/* the whole range and a single address */
	c->ts_local = (struct ike_ts){ 0, 0xFFFFFFFF, 0, 0 };
	c->ts_remote = (struct ike_ts){ 0xA9FE4AFD, 0xA9FE4AFD, 0, 0 };
	doc_free(d);
	d = engine_vpn_detail(pair, 0, false);
	sa = doc_get(doc_get(d, "Tunnels")->d_first, "IpsecSas")->d_first;
	assert_string_equal(doc_get_str(sa, "LocalSelector"), "0.0.0.0/0");
	assert_string_equal(doc_get_str(sa, "RemoteSelector"), "169.254.74.253/32");
	doc_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_defaults),
		cmocka_unit_test(test_plan_options),
		cmocka_unit_test(test_plan_malformed),
		cmocka_unit_test(test_tunnel_ids),
		cmocka_unit_test(test_telemetry),
		cmocka_unit_test(test_telemetry_restart),
		cmocka_unit_test(test_detail_restart),
		cmocka_unit_test(test_telemetry_dynamic),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_detail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
