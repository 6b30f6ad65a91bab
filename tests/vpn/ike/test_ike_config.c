/*
 * test_ike_config — the one check and the defaults both IKE cores take
 * (vpn/ike/ike_config.h): what both refuse, what only one version refuses,
 * and that ike_peer_new / ikev2_peer_new follow the check and fill the
 * same defaults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "model/tunnel_limits.h"
#include "vpn/ike/ike.h"
#include "vpn/ike/ike_config.h"
#include "vpn/ike/ikev2.h"

static void base_config(struct ike_tunnel_config *c)
{
	ike_tunnel_config_defaults(c);
	c->local_ip = 0xc0000201;	/* 192.0.2.1 */
	c->remote_ip = 0xc6336402;	/* 198.51.100.2 */
	memcpy(c->psk, "Kp4x9_bT2mQ7.vLz", 16);
	c->psk_len = 16;
}

/* cfg refused by both cores with the same cause */
static void both_refuse(const struct ike_tunnel_config *c, const char *why)
{
	assert_string_equal(ike_config_check(c, IKE_V1), why);
	assert_string_equal(ike_config_check(c, IKE_V2), why);
	assert_null(ike_peer_new(c));
	assert_null(ikev2_peer_new(c));
}

static void test_shared_checks(void **state)
{
	(void)state;
	struct ike_tunnel_config c;
	base_config(&c);
	assert_null(ike_config_check(&c, IKE_V1));
	assert_null(ike_config_check(&c, IKE_V2));

	base_config(&c);
	c.remote_ip = 0;
	both_refuse(&c, "local and remote address are required");
	base_config(&c);
	c.psk_len = 0;
	both_refuse(&c, "pre-shared key missing or too long");
	base_config(&c);
	c.p2_dh_n = IKE_MAX_ALGS + 1;
	both_refuse(&c, "algorithm list too long");
	base_config(&c);
	c.p1_dh_n = 0;
	both_refuse(&c, "algorithm list empty");
	base_config(&c);
	c.p2_lifetime_s = 0;
	both_refuse(&c, "lifetimes must be positive");
	base_config(&c);
	c.remote_ts.prefix_len = 33;
	both_refuse(&c, "bad traffic selector prefix");
	base_config(&c);
	c.p1_integ[0] = IKE_INTEG_NONE;
	both_refuse(&c, "phase 1 needs a hash");
	base_config(&c);
	c.p1_dh[0] = TUNNEL_DH_PHASE2_ONLY;
	both_refuse(&c, "unsupported phase 1 DH group");
	base_config(&c);
	c.p2_encr[0] = (enum ike_encr)9;
	both_refuse(&c, "unsupported phase 2 cipher");
	base_config(&c);
	c.p2_dh[0] = 3;
	both_refuse(&c, "unsupported phase 2 DH group");
	/* group 5 is a phase 2 group; no PFS at all is fine */
	base_config(&c);
	c.p2_dh[0] = TUNNEL_DH_PHASE2_ONLY;
	assert_null(ike_config_check(&c, IKE_V1));
	assert_null(ike_config_check(&c, IKE_V2));
	c.p2_dh_n = 0;
	assert_null(ike_config_check(&c, IKE_V1));
	assert_null(ike_config_check(&c, IKE_V2));
}

static void test_version_checks(void **state)
{
	(void)state;
	struct ike_tunnel_config c;

	/* AES-GCM for phase 1: IKEv2 only, and only in p1_aead */
	base_config(&c);
	c.p1_encr[0] = IKE_ENCR_AES128_GCM16;
	assert_string_equal(ike_config_check(&c, IKE_V1), "phase 1 allows AES-CBC only");
	assert_string_equal(ike_config_check(&c, IKE_V2), "p1_encr holds AES-CBC only (AES-GCM goes in p1_aead)");
	base_config(&c);
	c.p1_aead[0] = IKE_ENCR_AES256_CBC;
	c.p1_aead_n = 1;
	assert_null(ike_config_check(&c, IKE_V1));	/* IKEv1 never reads p1_aead */
	assert_string_equal(ike_config_check(&c, IKE_V2), "p1_aead holds AES-GCM only");
	base_config(&c);
	c.p1_encr_n = 0;
	c.p1_aead[0] = IKE_ENCR_AES256_GCM16;
	c.p1_aead_n = 1;
	assert_string_equal(ike_config_check(&c, IKE_V1), "algorithm list empty");
	assert_null(ike_config_check(&c, IKE_V2));

	/* phase 2 integrity: IKEv1 always lists one; IKEv2 needs it with CBC only */
	base_config(&c);
	c.p2_encr[0] = IKE_ENCR_AES128_GCM16;
	c.p2_integ_n = 0;
	assert_string_equal(ike_config_check(&c, IKE_V1), "algorithm list empty");
	assert_null(ike_config_check(&c, IKE_V2));
	c.p2_encr[0] = IKE_ENCR_AES128_CBC;
	assert_string_equal(ike_config_check(&c, IKE_V2), "algorithm list empty");
	base_config(&c);
	c.p2_integ[0] = IKE_INTEG_NONE;
	assert_null(ike_config_check(&c, IKE_V1));
	assert_string_equal(ike_config_check(&c, IKE_V2), "phase 2 integrity needs a hash");

	/* IKEv1 offers every combination in one payload: bounded */
	base_config(&c);
	c.p1_encr_n = c.p1_integ_n = c.p1_dh_n = 4;
	for (size_t i = 0; i < 4; i++) {
		c.p1_encr[i] = i & 1 ? IKE_ENCR_AES256_CBC : IKE_ENCR_AES128_CBC;
		c.p1_integ[i] = IKE_INTEG_SHA1;
		c.p1_dh[i] = 14;
	}
	c.p1_dh_n = 7;
	for (size_t i = 4; i < 7; i++)
		c.p1_dh[i] = 14;
	assert_true(4 * 4 * 7 > IKE_P1_MAX_OFFER);
	assert_string_equal(ike_config_check(&c, IKE_V1), "too many algorithm combinations to offer");
	assert_null(ike_config_check(&c, IKE_V2));
}

static void test_defaults(void **state)
{
	(void)state;
	struct ike_tunnel_config c;
	base_config(&c);
	c.rekey_fuzz_pct = 250;
	memset(c.name, 'x', sizeof(c.name));
	ike_config_defaults(&c);
	assert_int_equal(c.remote_id, c.remote_ip);
	assert_int_equal(c.retransmit_base_ms, 2000);
	assert_int_equal(c.retransmit_tries, 5);
	assert_int_equal(c.rekey_fuzz_pct, TUNNEL_REKEY_FUZZ_MAX);
	assert_int_equal(strlen(c.name), IKE_NAME_MAX - 1);
	/* what the caller set stays */
	base_config(&c);
	c.remote_id = 0x0a000001;
	c.retransmit_base_ms = 500;
	c.retransmit_tries = 2;
	c.rekey_fuzz_pct = 40;
	ike_config_defaults(&c);
	assert_int_equal(c.remote_id, 0x0a000001);
	assert_int_equal(c.retransmit_base_ms, 500);
	assert_int_equal(c.retransmit_tries, 2);
	assert_int_equal(c.rekey_fuzz_pct, 40);
	/* both cores take a checked config */
	base_config(&c);
	struct ike_peer *p1 = ike_peer_new(&c);
	struct ikev2_peer *p2 = ikev2_peer_new(&c);
	assert_non_null(p1);
	assert_non_null(p2);
	ike_peer_free(p1);
	ikev2_peer_free(p2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_checks),
		cmocka_unit_test(test_version_checks),
		cmocka_unit_test(test_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
