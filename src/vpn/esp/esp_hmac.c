/*
 * esp_hmac — HMAC (RFC 2104) for ESP's integrity algorithms, with the
 * inner and outer digest states (after K ^ ipad and K ^ opad) computed once
 * per SA and copied by assignment per packet: two compression calls saved
 * per packet and, above all, no OpenSSL object touched on the data path.
 *
 * Why not EVP: OpenSSL 3.0's EVP_MAC (HMAC re-initialised with the kept
 * key) and EVP_MD_CTX_copy_ex both duplicate the provider's digest context
 * per copy (a malloc and a free, twice per packet) and go through its
 * parameter lookups: 258 ns against 132 ns here for a 64-byte packet's
 * HMAC-SHA1, 948 against 822 ns for 1400 bytes (bench/esp.c's cells move
 * by as much). The SHA*_Init/Update/Final functions used here are marked
 * deprecated in OpenSSL 3.0 but are shipped and run the same assembly
 * (SHA-NI, AVX2) as the provider; OPENSSL_SUPPRESS_DEPRECATED is set in
 * this file only. When they go, EVP_MD_CTX_copy with a context that copies
 * without allocating (OpenSSL >= 3.4's copyctx) is the replacement.
 *
 * The states are secret (they are the key, as far as an attacker is
 * concerned): they live inside struct esp_sa, which esp_sa_free() wipes.
 * Never allocates, never logs.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "vpn/esp/esp_internal.h"
#include "base/base.h"

#include <openssl/sha.h>
#include <string.h>

#define HMAC_BLOCK_MAX	128u	/* SHA-384/512's block */

static size_t
block_len(enum esp_integ integ)
{
	return integ == ESP_INTEG_HMAC_SHA2_384_192 ||
	       integ == ESP_INTEG_HMAC_SHA2_512_256 ? 128 : 64;
}

/* Absorb one padded key block into a fresh state of the integ's digest. */
static bool
state_start(union esp_sha_state *st, enum esp_integ integ, const uint8_t *block)
{
	switch (integ) {
	case ESP_INTEG_HMAC_SHA1_96:
		return SHA1_Init(&st->sha1) && SHA1_Update(&st->sha1, block, 64);
	case ESP_INTEG_HMAC_SHA2_256_128:
		return SHA256_Init(&st->sha256) && SHA256_Update(&st->sha256, block, 64);
	case ESP_INTEG_HMAC_SHA2_384_192:
		return SHA384_Init(&st->sha512) && SHA384_Update(&st->sha512, block, 128);
	case ESP_INTEG_HMAC_SHA2_512_256:
		return SHA512_Init(&st->sha512) && SHA512_Update(&st->sha512, block, 128);
	case ESP_INTEG_NONE:
		break;
	}
	return false;
}

bool
esp_hmac_init(struct esp_hmac *h, enum esp_integ integ, const uint8_t *key, size_t key_len)
{
	uint8_t pad[HMAC_BLOCK_MAX];
	size_t bl = block_len(integ);
	bool ok;

	/* ESP's integrity keys are the digest's length (RFC 2404, 4868), never
	 * longer than a block, so the key is never hashed first. */
	if (integ == ESP_INTEG_NONE || key_len > bl)
		return false;
	h->hm_integ = integ;
	memset(pad, 0x36, bl);
	for (size_t i = 0; i < key_len; i++)
		pad[i] ^= key[i];
	ok = state_start(&h->hm_inner, integ, pad);
	memset(pad, 0x5c, bl);
	for (size_t i = 0; i < key_len; i++)
		pad[i] ^= key[i];
	ok = ok && state_start(&h->hm_outer, integ, pad);
	secret_wipe(pad, sizeof(pad));
	return ok;
}

void
esp_hmac(const struct esp_hmac *h, const uint8_t *p, size_t len, uint8_t out[ESP_HMAC_MAX])
{
	union esp_sha_state st;

	/* Update and Final cannot fail for these digests (they check only
	 * for a NULL state and count bits in 64 or 128 bits). */
	switch (h->hm_integ) {
	case ESP_INTEG_HMAC_SHA1_96:
		st.sha1 = h->hm_inner.sha1;
		SHA1_Update(&st.sha1, p, len);
		SHA1_Final(out, &st.sha1);
		st.sha1 = h->hm_outer.sha1;
		SHA1_Update(&st.sha1, out, SHA_DIGEST_LENGTH);
		SHA1_Final(out, &st.sha1);
		break;
	case ESP_INTEG_HMAC_SHA2_256_128:
		st.sha256 = h->hm_inner.sha256;
		SHA256_Update(&st.sha256, p, len);
		SHA256_Final(out, &st.sha256);
		st.sha256 = h->hm_outer.sha256;
		SHA256_Update(&st.sha256, out, SHA256_DIGEST_LENGTH);
		SHA256_Final(out, &st.sha256);
		break;
	case ESP_INTEG_HMAC_SHA2_384_192:
		st.sha512 = h->hm_inner.sha512;
		SHA384_Update(&st.sha512, p, len);
		SHA384_Final(out, &st.sha512);
		st.sha512 = h->hm_outer.sha512;
		SHA384_Update(&st.sha512, out, SHA384_DIGEST_LENGTH);
		SHA384_Final(out, &st.sha512);
		break;
	case ESP_INTEG_HMAC_SHA2_512_256:
		st.sha512 = h->hm_inner.sha512;
		SHA512_Update(&st.sha512, p, len);
		SHA512_Final(out, &st.sha512);
		st.sha512 = h->hm_outer.sha512;
		SHA512_Update(&st.sha512, out, SHA512_DIGEST_LENGTH);
		SHA512_Final(out, &st.sha512);
		break;
	case ESP_INTEG_NONE:
		break;
	}
	/* The working state held the message's digest: cheap to clear. */
	secret_wipe(&st, sizeof(st));
}
