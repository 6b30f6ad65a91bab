/*
 * test_ike_crypto — the IKEv1 key schedule against fixed vectors.
 *
 * The expected bytes were computed independently by tests/vpn/ike/vectors.py
 * (Python hashlib/hmac and `cryptography`, written from RFC 2409 §5, §5.5,
 * appendix B and RFC 3947), not by this code. Inputs are the same simple
 * patterns in both places.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "vpn/ike/ike_crypto.h"

static const uint8_t v_skeyid[20] = { 0x45, 0xf4, 0xb8, 0xe9, 0xf6, 0x13, 0xda, 0x1d, 0x25, 0x42, 0x13, 0x3a, 0xb0, 0x66, 0x50, 0x90, 0x2a, 0x40, 0x0b, 0x25 };
static const uint8_t v_skeyid_d[20] = { 0xc6, 0x5f, 0xd0, 0xd5, 0xe3, 0x3d, 0xe0, 0x29, 0xf8, 0x6c, 0xf4, 0x3d, 0x82, 0x15, 0xf9, 0x35, 0xd2, 0x67, 0xe3, 0x74 };
static const uint8_t v_skeyid_a[20] = { 0x72, 0x36, 0xa6, 0xfb, 0xdc, 0x38, 0x7f, 0xa5, 0x09, 0xff, 0x83, 0xc8, 0xa8, 0xe1, 0xda, 0xf1, 0x38, 0x33, 0x4f, 0xd1 };
static const uint8_t v_skeyid_e[20] = { 0x75, 0x49, 0x95, 0xbe, 0xd7, 0x40, 0xb9, 0xb3, 0x62, 0x18, 0x22, 0x97, 0xae, 0x52, 0x44, 0xa2, 0x92, 0x4d, 0xac, 0xa0 };
static const uint8_t v_ka_aes256[32] = { 0x25, 0x41, 0x7d, 0x44, 0x8b, 0x24, 0x49, 0x60, 0x37, 0xbd, 0x7a, 0x0b, 0xa4, 0x92, 0xf8, 0x9c, 0x54, 0x91, 0x37, 0x8f, 0x9a, 0x02, 0xa8, 0xc8, 0x41, 0x8a, 0x00, 0xc2, 0xaa, 0x7b, 0xc4, 0xb5 };
static const uint8_t v_hash_i[20] = { 0x0f, 0x5d, 0x10, 0x25, 0xaf, 0xa6, 0xa2, 0x28, 0xa3, 0xf6, 0xcf, 0xcb, 0xcd, 0x91, 0xe1, 0xc7, 0x47, 0x27, 0x01, 0xfc };
static const uint8_t v_hash_r[20] = { 0x93, 0x80, 0x94, 0x05, 0xfe, 0x0e, 0xfb, 0x2e, 0x90, 0x7d, 0xe5, 0x06, 0x18, 0xf4, 0x61, 0x86, 0x24, 0x28, 0x4e, 0x24 };
static const uint8_t v_iv1[16] = { 0x83, 0x46, 0x24, 0xd5, 0x1c, 0x40, 0x97, 0xf1, 0xf3, 0x12, 0x37, 0x86, 0xa6, 0xa5, 0x5e, 0x5c };
static const uint8_t v_iv2[16] = { 0x4a, 0xa2, 0x3b, 0x74, 0x82, 0x3c, 0xc3, 0x28, 0x3f, 0xa4, 0x80, 0xba, 0x04, 0x9f, 0x29, 0xeb };
static const uint8_t v_qm_hash1[20] = { 0x51, 0x0f, 0xcb, 0x85, 0xae, 0x7c, 0x96, 0x77, 0x2a, 0x69, 0x5c, 0xd7, 0x9b, 0xc6, 0x14, 0x39, 0x33, 0xbf, 0x9d, 0x00 };
static const uint8_t v_qm_hash2[20] = { 0xe1, 0xb2, 0xba, 0x12, 0x59, 0x25, 0x76, 0x34, 0x43, 0xcf, 0x43, 0xd5, 0x69, 0x74, 0xfd, 0x93, 0xde, 0x09, 0xab, 0x04 };
static const uint8_t v_qm_hash3[20] = { 0x9c, 0xd5, 0x12, 0x12, 0x44, 0xa6, 0x21, 0x62, 0xd8, 0xa2, 0xe0, 0xde, 0xce, 0xd9, 0xe8, 0x35, 0xbd, 0xba, 0x96, 0x17 };
static const uint8_t v_keymat_pfs[36] = { 0x3c, 0x5d, 0xba, 0x1e, 0x92, 0x12, 0x5f, 0x19, 0x2a, 0x7b, 0x79, 0x30, 0xa4, 0xb3, 0xcc, 0xd8, 0xf6, 0x76, 0x78, 0xe4, 0xf4, 0xbd, 0xff, 0x98, 0x2b, 0xec, 0xff, 0xf8, 0xa4, 0x60, 0xa0, 0xd5, 0xca, 0xc1, 0x99, 0xbe };
static const uint8_t v_sk_d256[32] = { 0x0d, 0x43, 0xf9, 0xe7, 0xdf, 0x93, 0x5e, 0x44, 0xae, 0x3d, 0xc3, 0x64, 0x37, 0x0c, 0xf9, 0xd6, 0xc7, 0x2f, 0x67, 0x0f, 0xbf, 0xc3, 0x3c, 0xfa, 0x3d, 0x81, 0x7b, 0x73, 0xdf, 0x29, 0x60, 0x5f };
static const uint8_t v_keymat_nopfs[68] = { 0x6b, 0x03, 0xcb, 0xe3, 0x46, 0xb6, 0x35, 0x2f, 0x3f, 0x14, 0xaa, 0x32, 0x07, 0x13, 0xe8, 0xbf, 0x9f, 0xc6, 0xfe, 0x95, 0xa2, 0x5e, 0x71, 0x49, 0xe8, 0x1e, 0x54, 0x0d, 0x49, 0xad, 0x35, 0x9b, 0x64, 0x81, 0x20, 0x73, 0x97, 0x80, 0x2b, 0x30, 0xda, 0xd6, 0x60, 0x49, 0xc4, 0xbd, 0xb1, 0xe2, 0xbb, 0x09, 0xbd, 0xc9, 0xb2, 0x51, 0xce, 0x0b, 0x12, 0x24, 0xac, 0x25, 0x5d, 0x8f, 0x4b, 0x62, 0x1f, 0x74, 0xae, 0xed };
static const uint8_t v_natd[20] = { 0xf5, 0x74, 0xd2, 0xc8, 0x66, 0xf7, 0xfa, 0x5e, 0x23, 0x12, 0x17, 0x32, 0x5d, 0x5d, 0xcd, 0xe4, 0x2e, 0x7b, 0xe2, 0x77 };
static const uint8_t v_aes_ct[32] = { 0x95, 0x4f, 0x64, 0xf2, 0xe4, 0xe8, 0x6e, 0x9e, 0xee, 0x82, 0xd2, 0x02, 0x16, 0x68, 0x48, 0x99, 0xa9, 0x3b, 0x9d, 0xdb, 0x22, 0xe8, 0xab, 0x10, 0x4c, 0x61, 0xe7, 0x28, 0x83, 0x1d, 0x6d, 0x5a };

static uint8_t ni[32], nr[32], gxy[128], gxi[128], gxr[128];
static const uint8_t psk[] = "xyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxy";
static const uint8_t cki[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t ckr[8] = { 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18 };
static const uint8_t sai_b[] = {
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x2c, 0x01, 0x01,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x24, 0x01, 0x01, 0x00, 0x00, 0x80, 0x01, 0x00, 0x07,
	0x80, 0x02, 0x00, 0x02, 0x80, 0x03, 0x00, 0x01, 0x80, 0x04, 0x00, 0x02, 0x80,
};
static const uint8_t idii[8] = { 1, 0, 0, 0, 198, 51, 100, 2 };
static const uint8_t idir[8] = { 1, 0, 0, 0, 203, 0, 113, 1 };

static int setup(void **state)
{
	for (int i = 0; i < 32; i++) {
		ni[i] = (uint8_t)i;
		nr[i] = (uint8_t)(32 + i);
	}
	for (int i = 0; i < 128; i++) {
		gxy[i] = (uint8_t)(i * 7 + 3);
		gxi[i] = (uint8_t)(i * 5 + 1);
		gxr[i] = (uint8_t)(i * 11 + 2);
	}
	return 0;
}

static void test_skeyid(void **state)
{
	uint8_t sk[64], d[64], a[64], e[64], ka[32];
	assert_true(ike_skeyid_psk(IKE_INTEG_SHA1, psk, 32, ni, 32, nr, 32, sk));
	assert_memory_equal(sk, v_skeyid, 20);
	assert_true(ike_skeyid_derive(IKE_INTEG_SHA1, sk, gxy, 128, cki, ckr, d, a, e));
	assert_memory_equal(d, v_skeyid_d, 20);
	assert_memory_equal(a, v_skeyid_a, 20);
	assert_memory_equal(e, v_skeyid_e, 20);
	/* AES-128 takes the first 16 bytes of SKEYID_e ... */
	assert_true(ike_enc_key(IKE_INTEG_SHA1, e, ka, 16));
	assert_memory_equal(ka, v_skeyid_e, 16);
	/* ... AES-256 needs the expansion Ka = K1 | K2 (RFC 2409 appendix B) */
	assert_true(ike_enc_key(IKE_INTEG_SHA1, e, ka, 32));
	assert_memory_equal(ka, v_ka_aes256, 32);
}

static void test_mm_hashes(void **state)
{
	uint8_t sk[64], h[64];
	assert_true(ike_skeyid_psk(IKE_INTEG_SHA1, psk, 32, ni, 32, nr, 32, sk));
	assert_true(ike_mm_hash(IKE_INTEG_SHA1, sk, gxi, gxr, 128, cki, ckr, sai_b,
				sizeof(sai_b), idii, 8, h));
	assert_memory_equal(h, v_hash_i, 20);
	assert_true(ike_mm_hash(IKE_INTEG_SHA1, sk, gxr, gxi, 128, ckr, cki, sai_b,
				sizeof(sai_b), idir, 8, h));
	assert_memory_equal(h, v_hash_r, 20);
}

static void test_ivs(void **state)
{
	uint8_t iv[16], last[16];
	assert_true(ike_iv_phase1(IKE_INTEG_SHA1, gxi, gxr, 128, iv));
	assert_memory_equal(iv, v_iv1, 16);
	for (int i = 0; i < 16; i++)
		last[i] = (uint8_t)(0xa0 + i);
	assert_true(ike_iv_phase2(IKE_INTEG_SHA1, last, 0x6d1f2a3b, iv));
	assert_memory_equal(iv, v_iv2, 16);
}

static void test_qm_hashes(void **state)
{
	uint8_t sk[64], d[64], a[64], e[64], rest[60], h[64];
	for (int i = 0; i < 60; i++)
		rest[i] = (uint8_t)(0x40 + i);
	assert_true(ike_skeyid_psk(IKE_INTEG_SHA1, psk, 32, ni, 32, nr, 32, sk));
	assert_true(ike_skeyid_derive(IKE_INTEG_SHA1, sk, gxy, 128, cki, ckr, d, a, e));
	assert_true(ike_qm_hash1(IKE_INTEG_SHA1, a, 0x6d1f2a3b, rest, 60, h));
	assert_memory_equal(h, v_qm_hash1, 20);
	assert_true(ike_qm_hash2(IKE_INTEG_SHA1, a, 0x6d1f2a3b, ni, 32, rest, 60, h));
	assert_memory_equal(h, v_qm_hash2, 20);
	assert_true(ike_qm_hash3(IKE_INTEG_SHA1, a, 0x6d1f2a3b, ni, 32, nr, 32, h));
	assert_memory_equal(h, v_qm_hash3, 20);
}

static void test_keymat(void **state)
{
	uint8_t sk[64], d[64], a[64], e[64], km[68];
	assert_true(ike_skeyid_psk(IKE_INTEG_SHA1, psk, 32, ni, 32, nr, 32, sk));
	assert_true(ike_skeyid_derive(IKE_INTEG_SHA1, sk, gxy, 128, cki, ckr, d, a, e));
	/* AES-128 + HMAC-SHA1: 36 bytes, two PRF rounds, with PFS */
	assert_true(ike_keymat(IKE_INTEG_SHA1, d, gxy, 128, 3, 0x2f74367a, ni, 32, nr, 32, km, 36));
	assert_memory_equal(km, v_keymat_pfs, 36);
	/* SHA-256 PRF, no PFS, 68 bytes (AES-256-GCM key+salt + 32): three rounds */
	uint8_t d256[32];
	static const uint8_t dd = 'd';
	struct ike_chunk c = { &dd, 1 };
	assert_true(ike_prf(IKE_INTEG_SHA256, sk, 20, &c, 1, d256));
	assert_memory_equal(d256, v_sk_d256, 32);
	assert_true(ike_keymat(IKE_INTEG_SHA256, d256, NULL, 0, 3, 0x2f74367a, ni, 32, nr, 32, km, 68));
	assert_memory_equal(km, v_keymat_nopfs, 68);
}

static void test_natd_and_aes(void **state)
{
	uint8_t h[64], key[16], iv[16], pt[32], ct[32], back[32];
	assert_true(ike_natd_hash(IKE_INTEG_SHA1, cki, ckr, 0xc6336402, 4500, h));
	assert_memory_equal(h, v_natd, 20);
	for (int i = 0; i < 16; i++) {
		key[i] = (uint8_t)i;
		iv[i] = (uint8_t)(16 + i);
	}
	for (int i = 0; i < 32; i++)
		pt[i] = (uint8_t)i;
	assert_true(ike_aes_cbc(true, key, 16, iv, pt, 32, ct));
	assert_memory_equal(ct, v_aes_ct, 32);
	assert_true(ike_aes_cbc(false, key, 16, iv, ct, 32, back));
	assert_memory_equal(back, pt, 32);
	assert_false(ike_aes_cbc(true, key, 16, iv, pt, 31, ct));	/* not whole blocks */
}

static void test_dh_groups(void **state)
{
	static const uint16_t groups[] = { 2, 5, 14, 19, 20, 21, 22, 23, 24, 15 };
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		struct ike_dh *a = ike_dh_new(groups[g]), *b = ike_dh_new(groups[g]);
		assert_non_null(a);
		assert_non_null(b);
		size_t len = ike_dh_pub_len(groups[g]);
		uint8_t s1[IKE_DH_MAX], s2[IKE_DH_MAX];
		size_t l1 = 0, l2 = 0;
		assert_true(ike_dh_shared(a, ike_dh_pub(b), len, s1, &l1));
		assert_true(ike_dh_shared(b, ike_dh_pub(a), len, s2, &l2));
		assert_int_equal(l1, l2);
		assert_memory_equal(s1, s2, l1);
		/* MODP secrets are padded to the modulus */
		if (groups[g] < 19 || groups[g] > 21)
			assert_int_equal(l1, len);
		/* hostile public values: wrong size, 0, 1 */
		uint8_t bad[IKE_DH_MAX] = { 0 };
		assert_false(ike_dh_shared(a, bad, len - 1, s1, &l1));
		assert_false(ike_dh_shared(a, bad, len, s1, &l1));
		bad[len - 1] = 1;
		assert_false(ike_dh_shared(a, bad, len, s1, &l1));
		ike_dh_free(a);
		ike_dh_free(b);
	}
	assert_false(ike_dh_supported(1));
	assert_null(ike_dh_new(3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_skeyid, setup),
		cmocka_unit_test_setup(test_mm_hashes, setup),
		cmocka_unit_test_setup(test_ivs, setup),
		cmocka_unit_test_setup(test_qm_hashes, setup),
		cmocka_unit_test_setup(test_keymat, setup),
		cmocka_unit_test(test_natd_and_aes),
		cmocka_unit_test(test_dh_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
