/* Tests for model/tunnel_options: defaults, every bound, the rules between
 * fields, inside CIDRs (reserved, unique, random pick), keys, doc form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/tunnel_options.h"

static struct tunnel_error err;

static void test_defaults(void **state)
{
	(void)state;
	struct tunnel_options to;
	tunnel_options_defaults(&to);
	assert_int_equal(to.to_ike_versions, TUNNEL_IKEV1 | TUNNEL_IKEV2);
	assert_int_equal(to.to_phase1_encryption, 0xf);
	assert_int_equal(to.to_phase2_integrity, 0xf);
	assert_int_equal(to.to_phase1_dh, (1u << 2) | (0x7ffu << 14));
	assert_int_equal(to.to_phase2_dh, (1u << 2) | (1u << 5) | (0x7ffu << 14));
	assert_int_equal(to.to_phase1_lifetime_s, 28800);
	assert_int_equal(to.to_phase2_lifetime_s, 3600);
	assert_int_equal(to.to_rekey_margin_s, 270);
	assert_int_equal(to.to_rekey_fuzz_pct, 100);
	assert_int_equal(to.to_replay_window, 1024);
	assert_int_equal(to.to_dpd_timeout_s, 30);
	assert_string_equal(tunnel_dpd_action_name(to.to_dpd_action), "clear");
	assert_string_equal(tunnel_startup_action_name(to.to_startup_action), "add");
	assert_string_equal(to.to_inside_cidr, "");
	assert_string_equal(to.to_psk, "");
	assert_int_equal(tunnel_options_validate(&to, &err), 0);
}

static const struct {
	const char *field;
	int64_t lo, hi;
} bounds[] = {
	{ "Phase1LifetimeSeconds", 900, 28800 },
	{ "Phase2LifetimeSeconds", 900, 3600 },
	{ "RekeyMarginTimeSeconds", 60, 1800 },
	{ "RekeyFuzzPercentage", 0, 100 },
	{ "ReplayWindowSize", 64, 2048 },
	{ "DPDTimeoutSeconds", 30, TUNNEL_DPD_TIMEOUT_MAX },
};

static void test_int_bounds(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		struct tunnel_options to;
		tunnel_options_defaults(&to);
		assert_int_equal(tunnel_options_set_int(&to, bounds[i].field, bounds[i].lo, &err), 0);
		assert_int_equal(tunnel_options_set_int(&to, bounds[i].field, bounds[i].hi, &err), 0);
		assert_int_equal(tunnel_options_set_int(&to, bounds[i].field, bounds[i].lo - 1, &err), -1);
		assert_non_null(strstr(err.te_msg, bounds[i].field));
		assert_int_equal(tunnel_options_set_int(&to, bounds[i].field, bounds[i].hi + 1, &err), -1);
		assert_non_null(strstr(err.te_msg, bounds[i].field));
	}
	struct tunnel_options to;
	tunnel_options_defaults(&to);
	assert_int_equal(tunnel_options_set_int(&to, "NoSuchOption", 1, &err), -1);
}

static void test_cross_field_rules(void **state)
{
	(void)state;
	struct tunnel_options to;
	tunnel_options_defaults(&to);
	/* phase 2 must stay below phase 1 */
	assert_int_equal(tunnel_options_set_int(&to, "Phase1LifetimeSeconds", 3600, &err), 0);
	assert_int_equal(tunnel_options_validate(&to, &err), -1);
	assert_non_null(strstr(err.te_msg, "Phase2LifetimeSeconds"));
	assert_int_equal(tunnel_options_set_int(&to, "Phase2LifetimeSeconds", 3599, &err), 0);
	assert_int_equal(tunnel_options_validate(&to, &err), 0);
	/* rekey margin at most half of phase 2 */
	tunnel_options_defaults(&to);
	assert_int_equal(tunnel_options_set_int(&to, "Phase2LifetimeSeconds", 900, &err), 0);
	assert_int_equal(tunnel_options_set_int(&to, "RekeyMarginTimeSeconds", 450, &err), 0);
	assert_int_equal(tunnel_options_validate(&to, &err), 0);
	assert_int_equal(tunnel_options_set_int(&to, "RekeyMarginTimeSeconds", 451, &err), 0);
	assert_int_equal(tunnel_options_validate(&to, &err), -1);
	assert_non_null(strstr(err.te_msg, "RekeyMarginTimeSeconds"));
}

static void test_strings_and_lists(void **state)
{
	(void)state;
	struct tunnel_options to;
	tunnel_options_defaults(&to);
	static const char *const actions[] = { "clear", "none", "restart" };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tunnel_options_set_str(&to, "DPDTimeoutAction", actions[i], &err), 0);
		assert_string_equal(tunnel_dpd_action_name(to.to_dpd_action), actions[i]);
	}
	assert_int_equal(tunnel_options_set_str(&to, "DPDTimeoutAction", "hold", &err), -1);
	assert_non_null(strstr(err.te_msg, "DPDTimeoutAction"));
	assert_int_equal(tunnel_options_set_str(&to, "StartupAction", "start", &err), 0);
	assert_int_equal(to.to_startup_action, TUNNEL_STARTUP_START);
	assert_int_equal(tunnel_options_set_str(&to, "StartupAction", "Start", &err), -1);

	const char *gcm[] = { "AES256-GCM-16", "AES128-GCM-16" };
	assert_int_equal(tunnel_options_set_strs(&to, "Phase1EncryptionAlgorithms", gcm, 2, &err), 0);
	assert_int_equal(to.to_phase1_encryption, 0xc);
	const char *bad[] = { "AES192" };
	assert_int_equal(tunnel_options_set_strs(&to, "Phase2EncryptionAlgorithms", bad, 1, &err), -1);
	assert_non_null(strstr(err.te_msg, "Phase2EncryptionAlgorithms"));
	const char *sha[] = { "SHA2-512" };
	assert_int_equal(tunnel_options_set_strs(&to, "Phase2IntegrityAlgorithms", sha, 1, &err), 0);
	assert_int_equal(to.to_phase2_integrity, 0x8);
	const char *md5[] = { "MD5" };
	assert_int_equal(tunnel_options_set_strs(&to, "Phase1IntegrityAlgorithms", md5, 1, &err), -1);
	const char *v2[] = { "ikev2" };
	assert_int_equal(tunnel_options_set_strs(&to, "IKEVersions", v2, 1, &err), 0);
	assert_int_equal(to.to_ike_versions, TUNNEL_IKEV2);
	const char *v3[] = { "ikev3" };
	assert_int_equal(tunnel_options_set_strs(&to, "IKEVersions", v3, 1, &err), -1);
	assert_non_null(strstr(err.te_msg, "IKEVersions"));
	assert_int_equal(tunnel_options_set_strs(&to, "IKEVersions", v2, 0, &err), -1);

	/* DH: phase 1 2, 14-24; phase 2 also 5 */
	const int64_t p1ok[] = { 2, 14, 24 }, five[] = { 5 }, thirteen[] = { 13 }, big[] = { 25 };
	assert_int_equal(tunnel_options_set_ints(&to, "Phase1DHGroupNumbers", p1ok, 3, &err), 0);
	assert_int_equal(to.to_phase1_dh, (1u << 2) | (1u << 14) | (1u << 24));
	assert_int_equal(tunnel_options_set_ints(&to, "Phase1DHGroupNumbers", five, 1, &err), -1);
	assert_non_null(strstr(err.te_msg, "Phase1DHGroupNumbers"));
	assert_int_equal(tunnel_options_set_ints(&to, "Phase2DHGroupNumbers", five, 1, &err), 0);
	assert_int_equal(tunnel_options_set_ints(&to, "Phase2DHGroupNumbers", thirteen, 1, &err), -1);
	assert_int_equal(tunnel_options_set_ints(&to, "Phase2DHGroupNumbers", big, 1, &err), -1);
	assert_int_equal(tunnel_options_validate(&to, &err), 0);
}

static void test_inside_cidr_rules(void **state)
{
	(void)state;
	assert_int_equal(tunnel_inside_cidr_check("169.254.10.0/30", NULL, 0, &err), 0);
	assert_int_equal(tunnel_inside_cidr_check("169.254.255.252/30", NULL, 0, &err), 0);
	assert_int_equal(tunnel_inside_cidr_check("169.254.6.0/30", NULL, 0, &err), 0);
	static const char *const refused[] = {
		"169.254.0.0/30", "169.254.1.0/30", "169.254.2.0/30", "169.254.3.0/30", "169.254.4.0/30",
		"169.254.5.0/30", "169.254.169.252/30", "169.254.10.0/29", "169.254.10.1/30",
		"10.0.0.0/30", "169.255.0.0/30", "bogus", "",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(tunnel_inside_cidr_check(refused[i], NULL, 0, &err), -1);
		assert_non_null(strstr(err.te_msg, "TunnelInsideCidr"));
	}
	struct cidr4 used[1];
	cidr_parse("169.254.10.0/30", &used[0], NULL);
	assert_int_equal(tunnel_inside_cidr_check("169.254.10.0/30", used, 1, &err), -1);
	assert_non_null(strstr(err.te_msg, "already used"));
	assert_int_equal(tunnel_inside_cidr_check("169.254.10.4/30", used, 1, &err), 0);

	struct cidr4 c;
	cidr_parse("169.254.10.4/30", &c, NULL);
	assert_int_equal(tunnel_inside_vgw_address(&c), 0xa9fe0a05u);
	assert_int_equal(tunnel_inside_cgw_address(&c), 0xa9fe0a06u);
}

static uint32_t rand_zero(uint32_t bound) { (void)bound; return 0; }
static uint32_t rand_last(uint32_t bound) { return bound - 1; }
static uint32_t rand_state = 12345;
static uint32_t rand_lcg(uint32_t bound)
{
	rand_state = rand_state * 1103515245u + 12345u;
	return (rand_state >> 8) % bound;
}

static void test_inside_cidr_pick(void **state)
{
	(void)state;
	char out[CIDR_STR_MAX];
	/* the first free block skips the six reserved ones */
	assert_int_equal(tunnel_inside_cidr_pick(NULL, 0, rand_zero, out), 0);
	assert_string_equal(out, "169.254.0.4/30");
	struct cidr4 used[1];
	cidr_parse("169.254.0.4/30", &used[0], NULL);
	assert_int_equal(tunnel_inside_cidr_pick(used, 1, rand_zero, out), 0);
	assert_string_equal(out, "169.254.0.8/30");
	assert_int_equal(tunnel_inside_cidr_pick(NULL, 0, rand_last, out), 0);
	assert_string_equal(out, "169.254.255.252/30");
	/* random picks are always valid */
	for (int i = 0; i < 2000; i++) {
		assert_int_equal(tunnel_inside_cidr_pick(used, 1, rand_lcg, out), 0);
		assert_int_equal(tunnel_inside_cidr_check(out, used, 1, &err), 0);
	}
	/* and the production randomness too */
	assert_int_equal(tunnel_inside_cidr_pick(used, 1, NULL, out), 0);
	assert_int_equal(tunnel_inside_cidr_check(out, used, 1, &err), 0);
}

static void test_psk(void **state)
{
	(void)state;
	assert_int_equal(tunnel_psk_check("abcdefgh", &err), 0);
	assert_int_equal(tunnel_psk_check("A1._b2_c3.d4", &err), 0);
	char max[65];
	memset(max, 'k', 64);
	max[64] = '\0';
	assert_int_equal(tunnel_psk_check(max, &err), 0);
	static const char *const refused[] = {
		"abcdefg", "0abcdefgh", "abcd efgh", "abcd-efgh", "abcdéfgh", "abc$defgh", "",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(tunnel_psk_check(refused[i], &err), -1);
		assert_non_null(strstr(err.te_msg, "PreSharedKey"));
		if (strlen(refused[i]) >= 8)
			assert_null(strstr(err.te_msg, refused[i]));	/* never echoes the key */
	}
	char longer[66];
	memset(longer, 'k', 65);
	longer[65] = '\0';
	assert_int_equal(tunnel_psk_check(longer, &err), -1);

	char psk[TUNNEL_PSK_GENERATED + 1];
	for (int i = 0; i < 500; i++) {
		tunnel_psk_generate(i % 2 ? rand_lcg : NULL, psk);
		assert_int_equal(strlen(psk), 32);
		assert_int_equal(tunnel_psk_check(psk, &err), 0);
	}
	tunnel_psk_generate(rand_last, psk);	/* '9' each time: fine */
	assert_int_equal(tunnel_psk_check(psk, &err), 0);
}

static void test_doc_round_trip(void **state)
{
	(void)state;
	struct tunnel_options to, back;
	tunnel_options_defaults(&to);
	assert_int_equal(tunnel_options_set_str(&to, "TunnelInsideCidr", "169.254.77.8/30", &err), 0);
	assert_int_equal(tunnel_options_set_str(&to, "PreSharedKey", "Secret.key_123", &err), 0);
	assert_int_equal(tunnel_options_set_int(&to, "ReplayWindowSize", 64, &err), 0);
	assert_int_equal(tunnel_options_set_str(&to, "DPDTimeoutAction", "restart", &err), 0);
	const char *v1[] = { "ikev1" };
	assert_int_equal(tunnel_options_set_strs(&to, "IKEVersions", v1, 1, &err), 0);
	const int64_t g[] = { 14, 2 };
	assert_int_equal(tunnel_options_set_ints(&to, "Phase2DHGroupNumbers", g, 2, &err), 0);
	struct doc *d = doc_obj();
	tunnel_options_to_doc(&to, d);
	assert_string_equal(doc_get_str(d, "TunnelInsideCidr"), "169.254.77.8/30");
	assert_int_equal(doc_get_int(d, "DpdTimeoutSeconds", 0), 30);
	assert_string_equal(doc_get_str(d, "DpdTimeoutAction"), "restart");
	assert_int_equal(doc_get(d, "IkeVersions")->d_count, 1);
	assert_int_equal(doc_get(d, "Phase2DHGroupNumbers")->d_count, 2);
	assert_int_equal(doc_get_int(doc_get(d, "Phase2DHGroupNumbers")->d_first, "Value", 0), 2);
	assert_int_equal(tunnel_options_from_doc(d, &back, &err), 0);
	assert_memory_equal(&to, &back, sizeof(to));
	/* a broken stored doc is refused */
	doc_set_int(d, "ReplayWindowSize", 5);
	assert_int_equal(tunnel_options_from_doc(d, &back, &err), -1);
	assert_non_null(strstr(err.te_msg, "ReplayWindowSize"));
	doc_free(d);
	tunnel_options_wipe(&to);
	assert_string_equal(to.to_psk, "");
	tunnel_options_wipe(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_int_bounds),
		cmocka_unit_test(test_cross_field_rules),
		cmocka_unit_test(test_strings_and_lists),
		cmocka_unit_test(test_inside_cidr_rules),
		cmocka_unit_test(test_inside_cidr_pick),
		cmocka_unit_test(test_psk),
		cmocka_unit_test(test_doc_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
