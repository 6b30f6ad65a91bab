/*
 * Tests for src/vpn/esp's per-SA crypto state against OpenSSL used afresh:
 * an SA keeps one cipher context for its whole life (a CBC context is
 * never re-initialised: each packet's IV goes in through the chaining
 * value, esp_internal.h) and HMAC states computed once (esp_hmac.c). Here
 * every packet an SA makes is checked with new OpenSSL objects (a new
 * cipher context keyed with the packet's IV or nonce, a new EVP_MAC), and
 * packets made with new OpenSSL objects (random IVs, GCM nonces too) go
 * through one inbound SA, over hundreds of packets of many sizes, with
 * forged ones and out-of-place ones mixed in. Also esp_gcm's two modes
 * (the provider's functions called directly, the EVP fallback) against a
 * new EVP context, RFC 2202 / RFC 4231 HMAC vectors and esp_hmac against
 * EVP_MAC at every block boundary.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "vpn/esp/esp.h"
#include "vpn/esp/esp_internal.h"
#include "base/base.h"
#include "base/be.h"
#include "base/csum.h"

#define BUF_SIZE	(ESP_HEADROOM + 2048 + ESP_TAILROOM)
#define PACKETS		300u
#define INNER_MAX	1500u

struct suite {
	const char	*name;
	enum esp_encr	encr;
	enum esp_integ	integ;
	size_t		encr_key_len;
	size_t		integ_key_len;
	const char	*digest;	/* OpenSSL's name, CBC suites */
	uint32_t	icv_len;
};

static const struct suite suites[] = {
	{ "aes128-sha1",   ESP_ENCR_AES_CBC, ESP_INTEG_HMAC_SHA1_96,      16, 20, "SHA1", 12 },
	{ "aes256-sha1",   ESP_ENCR_AES_CBC, ESP_INTEG_HMAC_SHA1_96,      32, 20, "SHA1", 12 },
	{ "aes128-sha256", ESP_ENCR_AES_CBC, ESP_INTEG_HMAC_SHA2_256_128, 16, 32, "SHA2-256", 16 },
	{ "aes256-sha384", ESP_ENCR_AES_CBC, ESP_INTEG_HMAC_SHA2_384_192, 32, 48, "SHA2-384", 24 },
	{ "aes128-sha512", ESP_ENCR_AES_CBC, ESP_INTEG_HMAC_SHA2_512_256, 16, 64, "SHA2-512", 32 },
	{ "aes128gcm16",   ESP_ENCR_AES_GCM16, ESP_INTEG_NONE,            20, 0, NULL, 16 },
	{ "aes256gcm16",   ESP_ENCR_AES_GCM16, ESP_INTEG_NONE,            36, 0, NULL, 16 },
};

static uint8_t encr_key[36], integ_key[64];

static bool
is_gcm(const struct suite *su)
{
	return su->encr == ESP_ENCR_AES_GCM16;
}

static size_t
aes_len(const struct suite *su)
{
	return is_gcm(su) ? su->encr_key_len - 4 : su->encr_key_len;
}

static const char *
cipher_name(const struct suite *su)
{
	if (is_gcm(su))
		return aes_len(su) == 16 ? "AES-128-GCM" : "AES-256-GCM";
	return aes_len(su) == 16 ? "AES-128-CBC" : "AES-256-CBC";
}

static struct esp_sa *
sa_make(const struct suite *su, enum esp_dir dir, uint32_t spi)
{
	struct esp_sa_config cfg = {
		.cfg_spi = spi, .cfg_dir = dir, .cfg_encr = su->encr, .cfg_integ = su->integ,
		.cfg_encr_key = encr_key, .cfg_encr_key_len = su->encr_key_len,
		.cfg_integ_key = integ_key, .cfg_integ_key_len = su->integ_key_len,
		.cfg_replay_window = 1024,
		.cfg_outer_src = 0xc6336402, .cfg_outer_dst = 0xcb007101,
	};
	struct esp_sa *sa = esp_sa_new(&cfg);

	assert_non_null(sa);
	return sa;
}

/* A valid IPv4/UDP packet of len bytes (>= 28). */
static void
inner_make(uint8_t *p, uint32_t len, uint32_t seed)
{
	memset(p, 0, 28);
	p[0] = 0x45;
	wr16(p + 2, (uint16_t)len);
	wr16(p + 4, (uint16_t)seed);
	p[8] = 64;
	p[9] = 17;
	wr32(p + 12, 0x0a60000a);
	wr32(p + 16, 0x0a000005);
	wr16(p + 10, csum_finish(csum_add_bytes(0, p, 20)));
	wr16(p + 24, (uint16_t)(len - 20));
	for (uint32_t i = 28; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7);
}

/* Sizes 28..INNER_MAX, the small and block-boundary ones often. */
static uint32_t
size_pick(uint32_t i)
{
	static const uint32_t edge[] = { 28, 29, 30, 31, 32, 33, 46, 47, 48, 62, 64, 1400 };

	if (i % 3 == 0)
		return edge[(i / 3) % ARRAY_LEN(edge)];
	return 28 + (i * 2654435761u) % (INNER_MAX - 27);
}

/* The full HMAC of [p, p+len) with a new EVP_MAC context. */
static void
ref_hmac(const char *digest, const uint8_t *key, size_t key_len, const uint8_t *p,
	size_t len, uint8_t *out, size_t *out_len)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
		OSSL_PARAM_construct_end(),
	};

	assert_non_null(ctx);
	assert_true(EVP_MAC_init(ctx, key, key_len, params));
	assert_true(EVP_MAC_update(ctx, p, len));
	assert_true(EVP_MAC_final(ctx, out, out_len, EVP_MAX_MD_SIZE));
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
}

/* One cipher pass over [in, in+len) into out with a new context; GCM: aad
 * first, and the tag out (enc) or checked (dec: returns false if bad). */
static bool
ref_cipher(const struct suite *su, int enc, const uint8_t *iv, const uint8_t *aad,
	const uint8_t *in, uint32_t len, uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER *alg = EVP_CIPHER_fetch(NULL, cipher_name(su), NULL);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t nonce[12];
	int outl, fin = 0;
	bool ok;

	assert_non_null(alg);
	assert_non_null(ctx);
	if (is_gcm(su)) {
		memcpy(nonce, encr_key + aes_len(su), 4);
		memcpy(nonce + 4, iv, 8);
		assert_true(EVP_CipherInit_ex2(ctx, alg, encr_key, nonce, enc, NULL));
		assert_true(EVP_CipherUpdate(ctx, NULL, &outl, aad, 8));
		assert_true(EVP_CipherUpdate(ctx, out, &outl, in, (int)len));
		if (!enc)
			assert_true(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag));
		ok = EVP_CipherFinal_ex(ctx, out + outl, &fin) > 0;
		if (ok && enc)
			assert_true(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag));
	} else {
		assert_true(EVP_CipherInit_ex2(ctx, alg, encr_key, iv, enc, NULL));
		assert_true(EVP_CIPHER_CTX_set_padding(ctx, 0));
		assert_true(EVP_CipherUpdate(ctx, out, &outl, in, (int)len));
		assert_int_equal(outl, len);
		ok = true;
	}
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(alg);
	return ok;
}

/* Check an ESP packet (SPI first) an SA made against new OpenSSL objects:
 * the ICV, then the plaintext: inner, padding 1, 2, ..., pad length, 4. */
static void
ref_verify(const struct suite *su, const uint8_t *esp, uint32_t len, const uint8_t *inner,
	uint32_t inner_len)
{
	uint32_t iv_len = is_gcm(su) ? 8 : 16;
	uint32_t ct_len = len - 8 - iv_len - su->icv_len;
	const uint8_t *ct = esp + 8 + iv_len, *icv = ct + ct_len;
	static uint8_t pt[BUF_SIZE];
	uint8_t tag[16];
	uint32_t pad;

	if (is_gcm(su)) {
		memcpy(tag, icv, 16);
		assert_true(ref_cipher(su, 0, esp + 8, esp, ct, ct_len, pt, tag));
	} else {
		uint8_t mac[EVP_MAX_MD_SIZE];
		size_t mac_len;

		ref_hmac(su->digest, integ_key, su->integ_key_len, esp, 8 + 16 + ct_len, mac,
			&mac_len);
		assert_memory_equal(mac, icv, su->icv_len);
		ref_cipher(su, 0, esp + 8, NULL, ct, ct_len, pt, NULL);
	}
	assert_memory_equal(pt, inner, inner_len);
	pad = pt[ct_len - 2];
	assert_int_equal(pt[ct_len - 1], 4);
	assert_int_equal(inner_len + pad + 2, ct_len);
	for (uint32_t i = 0; i < pad; i++)
		assert_int_equal(pt[inner_len + i], i + 1);
}

/* Make an ESP packet at esp with new OpenSSL objects and a random IV (GCM:
 * a random explicit IV too: the receiver must take it from the packet).
 * Returns its length. */
static uint32_t
ref_build(const struct suite *su, uint32_t spi, uint32_t seq, uint8_t *esp,
	const uint8_t *inner, uint32_t inner_len)
{
	uint32_t iv_len = is_gcm(su) ? 8 : 16, align = is_gcm(su) ? 4 : 16;
	uint32_t ct_len = (inner_len + 2 + align - 1) / align * align;
	uint32_t pad = ct_len - inner_len - 2;
	uint8_t *ct = esp + 8 + iv_len;
	static uint8_t pt[BUF_SIZE];

	wr32(esp, spi);
	wr32(esp + 4, seq);
	assert_int_equal(RAND_bytes(esp + 8, (int)iv_len), 1);
	memcpy(pt, inner, inner_len);
	for (uint32_t i = 0; i < pad; i++)
		pt[inner_len + i] = (uint8_t)(i + 1);
	pt[ct_len - 2] = (uint8_t)pad;
	pt[ct_len - 1] = 4;
	if (is_gcm(su)) {
		assert_true(ref_cipher(su, 1, esp + 8, esp, pt, ct_len, ct, ct + ct_len));
	} else {
		uint8_t mac[EVP_MAX_MD_SIZE];
		size_t mac_len;

		ref_cipher(su, 1, esp + 8, NULL, pt, ct_len, ct, NULL);
		ref_hmac(su->digest, integ_key, su->integ_key_len, esp, 8 + 16 + ct_len, mac,
			&mac_len);
		memcpy(ct + ct_len, mac, su->icv_len);
	}
	return 8 + iv_len + ct_len + su->icv_len;
}

/* ---------------------------------------------------------------- */

/* One outbound SA, PACKETS packets in batches of 1..37: every packet is
 * what new OpenSSL objects make of it (with the IV it carries), and one
 * inbound SA (context reused too) gives every inner packet back. */
static void
test_encrypt_reuse_matches_fresh(void **state)
{
	static uint8_t bufs[37][BUF_SIZE], inner[37][INNER_MAX];
	(void)state;

	for (unsigned s = 0; s < ARRAY_LEN(suites); s++) {
		const struct suite *su = &suites[s];
		struct esp_sa *out = sa_make(su, ESP_DIR_OUT, 0x5000 + s);
		struct esp_sa *in = sa_make(su, ESP_DIR_IN, 0x5000 + s);
		uint32_t done = 0, batch = 1;

		while (done < PACKETS) {
			struct esp_pkt pkts[37];
			uint32_t lens[37];
			unsigned n = batch;

			for (unsigned i = 0; i < n; i++) {
				lens[i] = size_pick(done + i);
				inner_make(inner[i], lens[i], done + i);
				memset(&pkts[i], 0, sizeof(pkts[i]));
				pkts[i].buf = bufs[i];
				pkts[i].size = BUF_SIZE;
				pkts[i].off = ESP_HEADROOM;
				pkts[i].len = lens[i];
				memcpy(bufs[i] + ESP_HEADROOM, inner[i], lens[i]);
			}
			assert_int_equal(esp_encrypt_batch(out, pkts, n, ESP_FRAME_ESP), n);
			for (unsigned i = 0; i < n; i++) {
				uint8_t *esp = pkts[i].buf + pkts[i].off;

				assert_int_equal(rd32(esp + 4), done + i + 1);
				if (is_gcm(su)) {	/* explicit IV: the sequence number */
					assert_int_equal(rd32(esp + 8), 0);
					assert_int_equal(rd32(esp + 12), done + i + 1);
				}
				ref_verify(su, esp, pkts[i].len, inner[i], lens[i]);
			}
			assert_int_equal(esp_decrypt_batch_sa(in, pkts, n), n);
			for (unsigned i = 0; i < n; i++) {
				assert_int_equal(pkts[i].len, lens[i]);
				assert_memory_equal(pkts[i].buf + pkts[i].off, inner[i], lens[i]);
			}
			done += n;
			batch = batch % 37 + 1;
			if (batch > PACKETS - done)
				batch = PACKETS - done;
		}
		assert_int_equal(esp_sa_stats(out)->st_packets, PACKETS);
		assert_int_equal(esp_sa_stats(in)->st_packets, PACKETS);
		esp_sa_free(in);
		esp_sa_free(out);
	}
}

/* Packets made with new OpenSSL objects (random IVs) through one inbound
 * SA in batches: every 7th forged in its ciphertext (AUTH, nothing
 * decrypted: the context must not move), every 5th out of place; every
 * good one gives its inner packet back, in place or where asked. */
static void
test_decrypt_reuse_matches_fresh(void **state)
{
	static uint8_t bufs[29][BUF_SIZE], dst[29][BUF_SIZE], inner[29][INNER_MAX];
	(void)state;

	for (unsigned s = 0; s < ARRAY_LEN(suites); s++) {
		const struct suite *su = &suites[s];
		uint32_t spi = 0x6000 + s;
		struct esp_sa *in = sa_make(su, ESP_DIR_IN, spi);
		struct esp_sa_table *t = esp_sa_table_new(8);
		uint32_t done = 0, forged = 0, batch = 29;

		assert_non_null(t);
		assert_int_equal(esp_sa_table_insert(t, in), 0);
		while (done < PACKETS) {
			struct esp_pkt pkts[29];
			uint8_t *to[29];
			uint32_t lens[29];
			unsigned n = batch, good = 0;

			for (unsigned i = 0; i < n; i++) {
				uint32_t k = done + i;

				lens[i] = size_pick(k * 5 + 1);
				inner_make(inner[i], lens[i], k);
				memset(&pkts[i], 0, sizeof(pkts[i]));
				pkts[i].buf = bufs[i];
				pkts[i].size = BUF_SIZE;
				pkts[i].off = ESP_HEADROOM;
				pkts[i].len = ref_build(su, spi, k + 1, bufs[i] + ESP_HEADROOM,
					inner[i], lens[i]);
				if (k % 7 == 3) {
					bufs[i][ESP_HEADROOM + 8 + 16 + 1] ^= 0x40;
					forged++;
				} else {
					good++;
				}
				to[i] = k % 5 == 2 ? dst[i] : NULL;
			}
			assert_int_equal(esp_decrypt_batch_to(t, pkts, to, n), good);
			for (unsigned i = 0; i < n; i++) {
				uint32_t k = done + i;

				if (k % 7 == 3) {
					assert_int_equal(pkts[i].status, ESP_E_AUTH);
					continue;
				}
				assert_int_equal(pkts[i].status, ESP_OK);
				assert_ptr_equal(pkts[i].buf, to[i] ? to[i] : bufs[i]);
				assert_int_equal(pkts[i].len, lens[i]);
				assert_memory_equal(pkts[i].buf + pkts[i].off, inner[i], lens[i]);
			}
			done += n;
			batch = batch == 1 ? 29 : batch - 4;
			if (batch > PACKETS - done)
				batch = PACKETS - done;
		}
		assert_int_equal(esp_sa_stats(in)->st_packets, PACKETS - forged);
		assert_int_equal(esp_sa_stats(in)->st_drops[ESP_E_AUTH], forged);
		esp_sa_table_free(t);
		esp_sa_free(in);
	}
}

/* esp_gcm in both modes (the provider's functions directly, and the EVP
 * fallback) over 200 packets of many lengths with distinct nonces: every
 * seal is what a new EVP context makes (ciphertext and tag), every open of
 * a good packet gives the plaintext back (in place and out of place), and
 * a packet with one bit flipped in its AAD, ciphertext or tag is refused.
 * GCM SAs use the direct mode here (Debian's default provider). */
static void
test_gcm_modes_match_fresh(void **state)
{
	static uint8_t pt[2048], ct[2048], out[2048], ref_ct[2048];
	(void)state;

	for (unsigned s = 0; s < ARRAY_LEN(suites); s++) {
		const struct suite *su = &suites[s];
		EVP_CIPHER *alg;

		if (!is_gcm(su))
			continue;
		alg = EVP_CIPHER_fetch(NULL, cipher_name(su), NULL);
		assert_non_null(alg);
		for (int direct = 1; direct >= 0; direct--) {
			struct esp_gcm seal, open;

			assert_true(esp_gcm_init(&seal, alg, encr_key, aes_len(su), true, direct));
			assert_true(esp_gcm_init(&open, alg, encr_key, aes_len(su), false, direct));
			assert_int_equal(esp_gcm_direct(&seal), direct);
			assert_int_equal(esp_gcm_direct(&open), direct);
			for (uint32_t i = 0; i < 200; i++) {
				uint32_t len = 4 + (i * 2654435761u) % 1500 / 4 * 4;
				uint8_t aad[8], nonce[12], tag[16], ref_tag[16];

				wr32(aad, 0x7000 + s);
				wr32(aad + 4, i + 1);
				memcpy(nonce, encr_key + aes_len(su), 4);
				assert_int_equal(RAND_bytes(nonce + 4, 8), 1);
				for (uint32_t k = 0; k < len; k++)
					pt[k] = (uint8_t)(k * 3 + i);
				memcpy(ct, pt, len);
				assert_true(esp_gcm_seal(&seal, nonce, aad, 8, ct, len, tag));
				assert_true(ref_cipher(su, 1, nonce + 4, aad, pt, len, ref_ct, ref_tag));
				assert_memory_equal(ct, ref_ct, len);
				assert_memory_equal(tag, ref_tag, 16);

				/* out of place, then in place */
				assert_int_equal(esp_gcm_open(&open, nonce, aad, 8, ct, out, len, tag), 1);
				assert_memory_equal(out, pt, len);
				memcpy(out, ct, len);
				assert_int_equal(esp_gcm_open(&open, nonce, aad, 8, out, out, len, tag), 1);
				assert_memory_equal(out, pt, len);

				/* one bit anywhere the tag covers, or in the tag */
				switch (i % 3) {
				case 0: aad[i % 8] ^= 1; break;
				case 1: ct[i % len] ^= 0x80; break;
				default: tag[i % 16] ^= 2; break;
				}
				assert_int_equal(esp_gcm_open(&open, nonce, aad, 8, ct, out, len, tag), 0);
			}
			esp_gcm_free(&seal);
			esp_gcm_free(&open);
			esp_gcm_free(&seal);	/* twice is fine: emptied */
		}
		{	/* an SA of this suite takes the direct mode */
			struct esp_sa *sa = sa_make(su, ESP_DIR_OUT, 0x7100 + s);

			assert_true(esp_gcm_direct(&sa->sa_gcm));
			esp_sa_free(sa);
		}
		EVP_CIPHER_free(alg);
	}
}

/* CBC IVs come from a pool of ESP_IV_POOL random IVs refilled when empty:
 * over several refills, in batches of 1 to 40, every packet's IV differs
 * from every other's and the inbound SA takes every packet. */
static int
cmp_iv(const void *a, const void *b)
{
	return memcmp(a, b, ESP_CBC_IV_LEN);
}

static void
test_cbc_ivs_unique(void **state)
{
	enum { TOTAL = ESP_IV_POOL * 3 + 17 };
	static uint8_t ivs[TOTAL][ESP_CBC_IV_LEN], bufs[40][BUF_SIZE], inner[84];
	const struct suite *su = &suites[0];
	struct esp_sa *out = sa_make(su, ESP_DIR_OUT, 0x7200);
	struct esp_sa *in = sa_make(su, ESP_DIR_IN, 0x7200);
	unsigned done = 0, batch = 1;
	(void)state;

	inner_make(inner, sizeof(inner), 1);
	while (done < TOTAL) {
		struct esp_pkt pkts[40];
		unsigned n = batch < TOTAL - done ? batch : TOTAL - done;

		for (unsigned i = 0; i < n; i++) {
			memset(&pkts[i], 0, sizeof(pkts[i]));
			pkts[i].buf = bufs[i];
			pkts[i].size = BUF_SIZE;
			pkts[i].off = ESP_HEADROOM;
			pkts[i].len = sizeof(inner);
			memcpy(bufs[i] + ESP_HEADROOM, inner, sizeof(inner));
		}
		assert_int_equal(esp_encrypt_batch(out, pkts, n, ESP_FRAME_ESP), n);
		for (unsigned i = 0; i < n; i++)
			memcpy(ivs[done + i], pkts[i].buf + pkts[i].off + 8, ESP_CBC_IV_LEN);
		assert_int_equal(esp_decrypt_batch_sa(in, pkts, n), n);
		for (unsigned i = 0; i < n; i++)
			assert_memory_equal(pkts[i].buf + pkts[i].off, inner, sizeof(inner));
		done += n;
		batch = batch % 40 + 1;
	}
	qsort(ivs, TOTAL, ESP_CBC_IV_LEN, cmp_iv);
	for (unsigned i = 1; i < TOTAL; i++)
		assert_memory_not_equal(ivs[i - 1], ivs[i], ESP_CBC_IV_LEN);
	esp_sa_free(in);
	esp_sa_free(out);
}

/* RFC 2202 (HMAC-SHA-1) and RFC 4231 (HMAC-SHA-2) test cases 1 and 2. */
static void
test_hmac_rfc_vectors(void **state)
{
	static const struct {
		enum esp_integ	integ;
		int		tc;
		const char	*hex;
	} v[] = {
		{ ESP_INTEG_HMAC_SHA1_96, 1, "b617318655057264e28bc0b6fb378c8ef146be00" },
		{ ESP_INTEG_HMAC_SHA1_96, 2, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
		{ ESP_INTEG_HMAC_SHA2_256_128, 1,
		  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
		{ ESP_INTEG_HMAC_SHA2_256_128, 2,
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
		{ ESP_INTEG_HMAC_SHA2_384_192, 1,
		  "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
		  "faea9ea9076ede7f4af152e8b2fa9cb6" },
		{ ESP_INTEG_HMAC_SHA2_384_192, 2,
		  "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
		  "8e2240ca5e69e2c78b3239ecfab21649" },
		{ ESP_INTEG_HMAC_SHA2_512_256, 1,
		  "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
		  "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
		{ ESP_INTEG_HMAC_SHA2_512_256, 2,
		  "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
		  "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
	};
	static const char data2[] = "what do ya want for nothing?";
	uint8_t key1[20];
	(void)state;

	memset(key1, 0x0b, sizeof(key1));
	for (unsigned i = 0; i < ARRAY_LEN(v); i++) {
		struct esp_hmac h;
		uint8_t out[ESP_HMAC_MAX], want[ESP_HMAC_MAX];
		size_t n = strlen(v[i].hex) / 2;

		for (size_t k = 0; k < n; k++) {
			unsigned byte;

			assert_int_equal(sscanf(v[i].hex + 2 * k, "%2x", &byte), 1);
			want[k] = (uint8_t)byte;
		}
		if (v[i].tc == 1) {
			assert_true(esp_hmac_init(&h, v[i].integ, key1, sizeof(key1)));
			esp_hmac(&h, (const uint8_t *)"Hi There", 8, out);
		} else {
			assert_true(esp_hmac_init(&h, v[i].integ, (const uint8_t *)"Jefe", 4));
			esp_hmac(&h, (const uint8_t *)data2, strlen(data2), out);
		}
		assert_memory_equal(out, want, n);
		/* The same state again gives the same answer (copied, not used up). */
		memset(out, 0, sizeof(out));
		if (v[i].tc == 1)
			esp_hmac(&h, (const uint8_t *)"Hi There", 8, out);
		else
			esp_hmac(&h, (const uint8_t *)data2, strlen(data2), out);
		assert_memory_equal(out, want, n);
	}
	{
		struct esp_hmac h;
		uint8_t long_key[129] = { 0 };

		assert_false(esp_hmac_init(&h, ESP_INTEG_NONE, key1, sizeof(key1)));
		assert_false(esp_hmac_init(&h, ESP_INTEG_HMAC_SHA1_96, long_key, 65));
		assert_false(esp_hmac_init(&h, ESP_INTEG_HMAC_SHA2_512_256, long_key, 129));
	}
}

/* esp_hmac against a new EVP_MAC at every length around the block sizes,
 * with the key lengths ESP uses. */
static void
test_hmac_matches_evp(void **state)
{
	static const uint32_t lens[] = { 0, 1, 55, 56, 63, 64, 65, 111, 112, 119, 120, 127,
		128, 129, 191, 192, 255, 256, 257, 1000, 1436, 1500, 9000 };
	static uint8_t data[9000];
	(void)state;

	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 131 + 7);
	for (unsigned s = 0; s < ARRAY_LEN(suites); s++) {
		const struct suite *su = &suites[s];
		struct esp_hmac h;

		if (is_gcm(su))
			continue;
		assert_true(esp_hmac_init(&h, su->integ, integ_key, su->integ_key_len));
		for (unsigned i = 0; i < ARRAY_LEN(lens); i++) {
			uint8_t out[ESP_HMAC_MAX], want[EVP_MAX_MD_SIZE];
			size_t want_len;

			esp_hmac(&h, data, lens[i], out);
			ref_hmac(su->digest, integ_key, su->integ_key_len, data, lens[i], want,
				&want_len);
			assert_memory_equal(out, want, want_len);
		}
	}
}

static int
setup(void **state)
{
	(void)state;
	assert_int_equal(RAND_bytes(encr_key, sizeof(encr_key)), 1);
	assert_int_equal(RAND_bytes(integ_key, sizeof(integ_key)), 1);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encrypt_reuse_matches_fresh),
		cmocka_unit_test(test_decrypt_reuse_matches_fresh),
		cmocka_unit_test(test_gcm_modes_match_fresh),
		cmocka_unit_test(test_cbc_ivs_unique),
		cmocka_unit_test(test_hmac_rfc_vectors),
		cmocka_unit_test(test_hmac_matches_evp),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
