/* AWS's tunnel defaults and limits are written once (model/tunnel_limits.h);
 * this checks that every part that applies them agrees: the API's
 * defaults (model/tunnel_options, what CreateVpnConnection stores and
 * Describe shows), the customer gateway configurations' defaults
 * (cgwconf), the IKE core's and the endpoint's defaults (vpn/), the
 * engine's spec for a default connection, that the endpoint's spec
 * check refuses exactly where the API's setters refuse, and that the web
 * console's module made from the header at build time (argv[1]) holds
 * every value the C compiler sees, and nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "cgwconf/cgwconf.h"
#include "engine/engine_vpn.h"
#include "model/tunnel_limits.h"
#include "model/tunnel_options.h"

#define PSK "Kp4x9_bT2mQ7.vLz3NcR8wYhE6sJ1uAf"

/* The numbers the limits header gives, against AWS's documented values
 * (a change to the header must be a deliberate one). */
static void test_limits_are_aws(void **state)
{
	(void)state;
	assert_int_equal(TUNNEL_PHASE1_LIFETIME_DEFAULT, 28800);
	assert_int_equal(TUNNEL_PHASE2_LIFETIME_DEFAULT, 3600);
	assert_int_equal(TUNNEL_REKEY_MARGIN_DEFAULT, 270);
	assert_int_equal(TUNNEL_REKEY_FUZZ_DEFAULT, 100);
	assert_int_equal(TUNNEL_REPLAY_WINDOW_DEFAULT, 1024);
	assert_int_equal(TUNNEL_DPD_TIMEOUT_DEFAULT, 30);
	assert_int_equal(TUNNEL_TCP_MSS_DEFAULT, 1379);
}

/* A default connection: the API's options, cgwconf's, the IKE core's and
 * the engine's spec hold the same numbers, algorithms and groups. */
static void test_defaults_agree(void **state)
{
	(void)state;
	struct tunnel_options to;
	tunnel_options_defaults(&to);
	struct cgw_vpn_connection conn;
	cgwconf_connection_defaults(&conn);
	struct vpn_tunnel_spec ep;
	vpn_tunnel_spec_defaults(&ep);

	/* the engine's spec for a connection stored with the API's defaults */
	struct doc *d = doc_obj();
	doc_set_str(d, "VpnConnectionId", "vpn-0a1b2c3d4e5f67890");
	doc_set_str(d, "State", "available");
	doc_set_str(d, "_CustomerGatewayIpAddress", "198.51.100.2");
	struct doc *opts = doc_get_obj(d, "Options");
	doc_set_bool(opts, "StaticRoutesOnly", true);
	struct doc *tl = doc_get_list(opts, "TunnelOptions");
	for (int i = 0; i < 2; i++) {
		struct tunnel_options t;
		tunnel_options_defaults(&t);
		snprintf(t.to_inside_cidr, sizeof(t.to_inside_cidr), "169.254.%d.0/30", 100 + i);
		snprintf(t.to_psk, sizeof(t.to_psk), "%s", PSK);
		struct doc *td = doc_push(tl, doc_obj());
		doc_set_str(td, "OutsideIpAddress", i ? "203.0.113.2" : "203.0.113.1");
		tunnel_options_to_doc(&t, td);
		tunnel_options_wipe(&t);
	}
	struct engine_vpn_plan plan;
	char why[160];
	assert_int_equal(engine_vpn_plan(d, &plan, why, sizeof(why)), 0);

	for (unsigned t = 0; t < CGW_TUNNELS; t++) {
		const struct cgw_tunnel *ct = &conn.cv_tunnel[t];
		const struct ike_tunnel_config *pc = &plan.vp_tunnel[t].ike;
		assert_null(vpn_tunnel_spec_check(&plan.vp_tunnel[t]));
		assert_int_equal(ct->ct_phase1_lifetime_s, to.to_phase1_lifetime_s);
		assert_int_equal(ct->ct_phase2_lifetime_s, to.to_phase2_lifetime_s);
		assert_int_equal(ct->ct_rekey_margin_s, to.to_rekey_margin_s);
		assert_int_equal(ct->ct_rekey_fuzz_pct, to.to_rekey_fuzz_pct);
		assert_int_equal(ct->ct_replay_window, to.to_replay_window);
		assert_int_equal(ct->ct_dpd_timeout_s, to.to_dpd_timeout_s);
		assert_string_equal(ct->ct_dpd_action, tunnel_dpd_action_name(to.to_dpd_action));
		assert_string_equal(ct->ct_startup_action, tunnel_startup_action_name(to.to_startup_action));
		assert_int_equal(ct->ct_ike_versions, CGW_IKEV1 | CGW_IKEV2);
		assert_int_equal(to.to_ike_versions, TUNNEL_IKEV1 | TUNNEL_IKEV2);
		/* every algorithm, in the API's order */
		const struct cgw_algs *lists[] = { &ct->ct_phase1_encryption, &ct->ct_phase2_encryption,
						   &ct->ct_phase1_integrity, &ct->ct_phase2_integrity };
		const unsigned bits[] = { to.to_phase1_encryption, to.to_phase2_encryption,
					  to.to_phase1_integrity, to.to_phase2_integrity };
		for (size_t l = 0; l < ARRAY_LEN(lists); l++) {
			enum tunnel_alg_kind kind = l < 2 ? TUNNEL_ALG_ENCRYPTION : TUNNEL_ALG_INTEGRITY;
			assert_int_equal(lists[l]->ca_n, TUNNEL_ALGS_PER_KIND);
			assert_int_equal(bits[l], (1u << TUNNEL_ALGS_PER_KIND) - 1);
			for (unsigned i = 0; i < TUNNEL_ALGS_PER_KIND; i++)
				assert_string_equal(lists[l]->ca_name[i], tunnel_alg_name(kind, i));
		}
		/* the same DH groups as the API's bits, and as the engine gives ike/ */
		const struct cgw_dh_groups *dh[] = { &ct->ct_phase1_dh, &ct->ct_phase2_dh };
		const uint32_t dh_bits[] = { to.to_phase1_dh, to.to_phase2_dh };
		const uint16_t *ike_dh[] = { pc->p1_dh, pc->p2_dh };
		const size_t ike_dh_n[] = { pc->p1_dh_n, pc->p2_dh_n };
		for (int p = 0; p < 2; p++) {
			uint32_t b = 0;
			assert_int_equal(dh[p]->cd_n, ike_dh_n[p]);
			for (unsigned i = 0; i < dh[p]->cd_n; i++) {
				b |= 1u << dh[p]->cd_group[i];
				assert_int_equal(ike_dh[p][i], dh[p]->cd_group[i]);
			}
			assert_int_equal(b, dh_bits[p]);
		}
		assert_false(to.to_phase1_dh & (1u << TUNNEL_DH_PHASE2_ONLY));
		assert_true(to.to_phase2_dh & (1u << TUNNEL_DH_PHASE2_ONLY));
		/* the engine's spec: IKEv1 phase 1 has no GCM; the rest all */
		assert_int_equal(pc->p1_encr_n, 2);
		assert_int_equal(pc->p1_aead_n, 2);
		assert_int_equal(pc->p2_encr_n, TUNNEL_ALGS_PER_KIND);
		assert_int_equal(pc->p1_integ_n, TUNNEL_ALGS_PER_KIND);
		assert_int_equal(pc->p2_integ_n, TUNNEL_ALGS_PER_KIND);
		/* numbers: the engine's spec, the endpoint's and IKE's own defaults */
		const struct ike_tunnel_config *cs[] = { pc, &ep.ike };
		for (size_t k = 0; k < ARRAY_LEN(cs); k++) {
			assert_int_equal(cs[k]->p1_lifetime_s, to.to_phase1_lifetime_s);
			assert_int_equal(cs[k]->p2_lifetime_s, to.to_phase2_lifetime_s);
			assert_int_equal(cs[k]->rekey_margin_s, to.to_rekey_margin_s);
			assert_int_equal(cs[k]->rekey_fuzz_pct, to.to_rekey_fuzz_pct);
			assert_int_equal(cs[k]->replay_window, to.to_replay_window);
			assert_int_equal(cs[k]->dpd_timeout_s, to.to_dpd_timeout_s);
			assert_int_equal(cs[k]->dpd_delay_s, TUNNEL_DPD_DELAY);
			assert_int_equal(cs[k]->dpd_action, IKE_DPD_CLEAR);
			assert_int_equal(cs[k]->startup, IKE_STARTUP_ADD);
		}
		assert_int_equal(plan.vp_tunnel[t].tcp_mss ? plan.vp_tunnel[t].tcp_mss : VPN_TCP_MSS_DEFAULT,
				 conn.cv_tcp_mss);
	}
	assert_int_equal(ep.tcp_mss, conn.cv_tcp_mss);
	engine_vpn_plan_wipe(&plan);
	tunnel_options_wipe(&to);
	doc_free(d);
}

/* One integer option at a value: does the API's setter take it, and does
 * the endpoint take a spec with it? They must answer alike. */
struct int_case {
	const char *field;
	int64_t value;
};

static bool api_takes(const struct int_case *c)
{
	struct tunnel_options to;
	struct tunnel_error err;
	tunnel_options_defaults(&to);
	bool ok = tunnel_options_set_int(&to, c->field, c->value, &err) == 0 &&
		  tunnel_options_validate(&to, &err) == 0;
	tunnel_options_wipe(&to);
	return ok;
}

static bool endpoint_takes(const struct int_case *c)
{
	struct vpn_tunnel_spec s;
	vpn_tunnel_spec_defaults(&s);
	snprintf(s.id, sizeof(s.id), "vpn-1#1");
	s.local_ip = 0xcb007101u;
	s.remote_ip = 0xc6336402u;
	memcpy(s.psk, PSK, strlen(PSK));
	s.psk_len = strlen(PSK);
	uint32_t v = (uint32_t)c->value;
	if (strcmp(c->field, "Phase1LifetimeSeconds") == 0)
		s.ike.p1_lifetime_s = v;
	else if (strcmp(c->field, "Phase2LifetimeSeconds") == 0)
		s.ike.p2_lifetime_s = v;
	else if (strcmp(c->field, "RekeyMarginTimeSeconds") == 0)
		s.ike.rekey_margin_s = v;
	else if (strcmp(c->field, "RekeyFuzzPercentage") == 0)
		s.ike.rekey_fuzz_pct = v;
	else if (strcmp(c->field, "ReplayWindowSize") == 0)
		s.ike.replay_window = v;
	else if (strcmp(c->field, "DPDTimeoutSeconds") == 0)
		s.ike.dpd_timeout_s = v;
	else
		fail_msg("unknown field %s", c->field);
	bool ok = vpn_tunnel_spec_check(&s) == NULL;
	secret_wipe(&s, sizeof(s));
	return ok;
}

static void test_limits_agree(void **state)
{
	(void)state;
	const struct int_case cases[] = {
		{ "Phase1LifetimeSeconds", TUNNEL_PHASE1_LIFETIME_MIN - 1 },
		{ "Phase1LifetimeSeconds", TUNNEL_PHASE1_LIFETIME_MIN },
		{ "Phase1LifetimeSeconds", TUNNEL_PHASE2_LIFETIME_DEFAULT },	/* = phase 2 */
		{ "Phase1LifetimeSeconds", TUNNEL_PHASE2_LIFETIME_DEFAULT + 1 },
		{ "Phase1LifetimeSeconds", TUNNEL_PHASE1_LIFETIME_MAX },
		{ "Phase1LifetimeSeconds", TUNNEL_PHASE1_LIFETIME_MAX + 1 },
		{ "Phase2LifetimeSeconds", TUNNEL_PHASE2_LIFETIME_MIN - 1 },
		{ "Phase2LifetimeSeconds", TUNNEL_PHASE2_LIFETIME_MIN },
		{ "Phase2LifetimeSeconds", TUNNEL_PHASE2_LIFETIME_MAX },
		{ "Phase2LifetimeSeconds", TUNNEL_PHASE2_LIFETIME_MAX + 1 },
		{ "RekeyMarginTimeSeconds", TUNNEL_REKEY_MARGIN_MIN - 1 },
		{ "RekeyMarginTimeSeconds", TUNNEL_REKEY_MARGIN_MIN },
		{ "RekeyMarginTimeSeconds", TUNNEL_PHASE2_LIFETIME_DEFAULT / 2 },
		{ "RekeyMarginTimeSeconds", TUNNEL_PHASE2_LIFETIME_DEFAULT / 2 + 1 },
		{ "RekeyFuzzPercentage", 0 },
		{ "RekeyFuzzPercentage", TUNNEL_REKEY_FUZZ_MAX },
		{ "RekeyFuzzPercentage", TUNNEL_REKEY_FUZZ_MAX + 1 },
		{ "ReplayWindowSize", TUNNEL_REPLAY_WINDOW_MIN - 1 },
		{ "ReplayWindowSize", TUNNEL_REPLAY_WINDOW_MIN },
		{ "ReplayWindowSize", TUNNEL_REPLAY_WINDOW_MAX },
		{ "ReplayWindowSize", TUNNEL_REPLAY_WINDOW_MAX + 1 },
		{ "DPDTimeoutSeconds", TUNNEL_DPD_TIMEOUT_MIN - 1 },
		{ "DPDTimeoutSeconds", TUNNEL_DPD_TIMEOUT_MIN },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		bool api = api_takes(&cases[i]), ep = endpoint_takes(&cases[i]);
		if (api != ep)
			fail_msg("%s = %lld: the API %s it, the endpoint %s it", cases[i].field,
				 (long long)cases[i].value, api ? "takes" : "refuses", ep ? "takes" : "refuses");
	}
	/* and the boundary values themselves go the expected way */
	const struct int_case in = { "ReplayWindowSize", TUNNEL_REPLAY_WINDOW_MAX },
			      out = { "ReplayWindowSize", TUNNEL_REPLAY_WINDOW_MAX + 1 };
	assert_true(api_takes(&in) && endpoint_takes(&in));
	assert_false(api_takes(&out) || endpoint_takes(&out));
}

/* ---- the web console's copy: js/tunnel_limits.mjs, made at build time ---- */

static const char *console_module;	/* its path: argv[1] (meson passes it) */

/* One define as the C compiler sees it: numbers, or strings. */
struct limit {
	const char *name;
	const long long *nums;
	const char *const *strs;
	size_t n;
};
#define NUMS_(name, ...)	{ name, (const long long[]){ __VA_ARGS__ }, NULL, \
				  sizeof((const long long[]){ __VA_ARGS__ }) / sizeof(long long) }
#define STRS_(name, ...)	{ name, NULL, (const char *const[]){ __VA_ARGS__ }, \
				  sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *) }
/* the define's name as written, its value (a number or a list) expanded */
#define NUM(x)			NUMS_(#x, x)
#define STRS(x)			STRS_(#x, x)

/* Every TUNNEL_ define of model/tunnel_limits.h: one that is added there
 * and not here fails the count below, so none escapes the comparison. */
static const struct limit limits[] = {
	NUM(TUNNEL_PHASE1_LIFETIME_MIN), NUM(TUNNEL_PHASE1_LIFETIME_MAX), NUM(TUNNEL_PHASE1_LIFETIME_DEFAULT),
	NUM(TUNNEL_PHASE2_LIFETIME_MIN), NUM(TUNNEL_PHASE2_LIFETIME_MAX), NUM(TUNNEL_PHASE2_LIFETIME_DEFAULT),
	NUM(TUNNEL_REKEY_MARGIN_MIN), NUM(TUNNEL_REKEY_MARGIN_DEFAULT), NUM(TUNNEL_REKEY_FUZZ_MAX),
	NUM(TUNNEL_REKEY_FUZZ_DEFAULT), NUM(TUNNEL_REPLAY_WINDOW_MIN), NUM(TUNNEL_REPLAY_WINDOW_MAX),
	NUM(TUNNEL_REPLAY_WINDOW_DEFAULT), NUM(TUNNEL_DPD_TIMEOUT_MIN), NUM(TUNNEL_DPD_TIMEOUT_MAX),
	NUM(TUNNEL_DPD_TIMEOUT_DEFAULT), NUM(TUNNEL_DPD_DELAY), STRS(TUNNEL_DPD_ACTION_NAMES),
	NUM(TUNNEL_PSK_MIN), NUM(TUNNEL_PSK_MAX), NUM(TUNNEL_PSK_GENERATED), NUM(TUNNEL_INSIDE_PREFIX),
	NUM(TUNNEL_INSIDE_NET), NUM(TUNNEL_INSIDE_NET_PREFIX), NUM(TUNNEL_INSIDE_RESERVED),
	NUM(TUNNEL_TCP_MSS_DEFAULT), NUM(TUNNEL_ALGS_PER_KIND), STRS(TUNNEL_ENCRYPTION_NAMES),
	STRS(TUNNEL_INTEGRITY_NAMES), NUM(TUNNEL_DH_GROUPS), NUM(TUNNEL_DH_PHASE2_ONLY),
};

/* The text after "export const NAME = " up to ";" in the module, or NULL. */
static const char *export_of(const char *text, const char *name, size_t *len)
{
	char key[96];
	snprintf(key, sizeof(key), "export const %s = ", name);
	const char *p = strstr(text, key);
	if (!p)
		return NULL;
	p += strlen(key);
	const char *end = strstr(p, ";\n");
	assert_non_null(end);
	*len = (size_t)(end - p);
	return p;
}

/* The value as gen_tunnel_limits.py writes it: a number, a JSON string (the
 * header's have nothing to escape), or Object.freeze([items]) with ", "
 * between items. */
static void expected_text(const struct limit *l, char *out, size_t cap)
{
	size_t o = 0;
	bool list = l->n > 1;	/* a comma list in C is an array in JS */
	if (list)
		o += (size_t)snprintf(out + o, cap - o, "Object.freeze([");
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			o += (size_t)snprintf(out + o, cap - o, ", ");
		if (l->strs)
			o += (size_t)snprintf(out + o, cap - o, "\"%s\"", l->strs[i]);
		else
			o += (size_t)snprintf(out + o, cap - o, "%lld", l->nums[i]);
	}
	if (list)
		snprintf(out + o, cap - o, "])");
}

/* The console's module holds exactly the C values, every one of them:
 * what its Modify VPN tunnel options form shows and compares with (the
 * defaults, the ranges, the DPD actions) comes from there. */
static void test_console_agrees(void **state)
{
	(void)state;
	assert_non_null(console_module);
	FILE *f = fopen(console_module, "r");
	if (!f)
		fail_msg("%s: cannot read the console's module", console_module);
	static char text[1 << 16];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	fclose(f);

	for (size_t i = 0; i < ARRAY_LEN(limits); i++) {
		size_t len = 0;
		const char *got = export_of(text, limits[i].name, &len);
		if (!got)
			fail_msg("%s: not in the console's module", limits[i].name);
		char want[512];
		expected_text(&limits[i], want, sizeof(want));
		if (strlen(want) != len || strncmp(got, want, len) != 0)
			fail_msg("%s: the console says %.*s, C says %s", limits[i].name, (int)len, got, want);
	}
	/* and nothing else: as many exports as defines */
	size_t exports = 0;
	for (const char *p = text; (p = strstr(p, "export const ")); p++)
		exports++;
	assert_int_equal(exports, ARRAY_LEN(limits));
	/* the DPD action the console shows for a default tunnel is the API's */
	struct tunnel_options to;
	tunnel_options_defaults(&to);
	const char *const actions[] = { TUNNEL_DPD_ACTION_NAMES };
	assert_string_equal(tunnel_dpd_action_name(to.to_dpd_action), actions[0]);
}

int main(int argc, char **argv)
{
	console_module = argc > 1 ? argv[1] : NULL;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits_are_aws),
		cmocka_unit_test(test_defaults_agree),
		cmocka_unit_test(test_limits_agree),
		cmocka_unit_test(test_console_agrees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
