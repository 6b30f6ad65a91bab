/*
 * ike_crypto.c — IKEv1 key schedule, ISAKMP AES-CBC and Diffie-Hellman.
 *
 * Pure functions over caller buffers (see ike_crypto.h). Intermediate
 * secrets on the stack are wiped before return. Never logs key material.
 */
#include "vpn/ike/ike_crypto.h"

#include "base/base.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

static const char *md_name(enum ike_integ h)
{
	switch (h) {
	case IKE_INTEG_SHA1: return "SHA1";
	case IKE_INTEG_SHA256: return "SHA256";
	case IKE_INTEG_SHA384: return "SHA384";
	case IKE_INTEG_SHA512: return "SHA512";
	case IKE_INTEG_NONE: break;
	}
	return NULL;
}

size_t ike_hash_len(enum ike_integ h)
{
	switch (h) {
	case IKE_INTEG_SHA1: return 20;
	case IKE_INTEG_SHA256: return 32;
	case IKE_INTEG_SHA384: return 48;
	case IKE_INTEG_SHA512: return 64;
	case IKE_INTEG_NONE: break;
	}
	return 0;
}

bool ike_prf(enum ike_integ h, const uint8_t *key, size_t key_len,
	     const struct ike_chunk *c, size_t n, uint8_t *out)
{
	const char *name = md_name(h);
	if (!name)
		return false;
	bool ok = false;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)name, 0),
		OSSL_PARAM_construct_end(),
	};
	/* HMAC with an empty key is legal; OpenSSL wants a non-NULL pointer. */
	static const uint8_t empty[1];
	if (!ctx || !EVP_MAC_init(ctx, key_len ? key : empty, key_len, params))
		goto out;
	for (size_t i = 0; i < n; i++)
		if (c[i].len && !EVP_MAC_update(ctx, c[i].p, c[i].len))
			goto out;
	size_t len = 0;
	ok = EVP_MAC_final(ctx, out, &len, IKE_PRF_MAX) && len == ike_hash_len(h);
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok;
}

bool ike_hash(enum ike_integ h, const struct ike_chunk *c, size_t n, uint8_t *out)
{
	const char *name = md_name(h);
	if (!name)
		return false;
	bool ok = false;
	EVP_MD *md = EVP_MD_fetch(NULL, name, NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!md || !ctx || !EVP_DigestInit_ex2(ctx, md, NULL))
		goto out;
	for (size_t i = 0; i < n; i++)
		if (c[i].len && !EVP_DigestUpdate(ctx, c[i].p, c[i].len))
			goto out;
	ok = EVP_DigestFinal_ex(ctx, out, NULL);
out:
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md);
	return ok;
}

bool ike_skeyid_psk(enum ike_integ h, const uint8_t *psk, size_t psk_len,
		    const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
		    uint8_t *skeyid)
{
	struct ike_chunk c[] = { { ni, ni_len }, { nr, nr_len } };
	return ike_prf(h, psk, psk_len, c, 2, skeyid);
}

bool ike_skeyid_derive(enum ike_integ h, const uint8_t *skeyid, const uint8_t *gxy,
		       size_t gxy_len, const uint8_t cky_i[8], const uint8_t cky_r[8],
		       uint8_t *skeyid_d, uint8_t *skeyid_a, uint8_t *skeyid_e)
{
	size_t hl = ike_hash_len(h);
	static const uint8_t n0 = 0, n1 = 1, n2 = 2;
	struct ike_chunk cd[] = { { gxy, gxy_len }, { cky_i, 8 }, { cky_r, 8 }, { &n0, 1 } };
	struct ike_chunk ca[] = { { skeyid_d, hl }, { gxy, gxy_len }, { cky_i, 8 },
				  { cky_r, 8 }, { &n1, 1 } };
	struct ike_chunk ce[] = { { skeyid_a, hl }, { gxy, gxy_len }, { cky_i, 8 },
				  { cky_r, 8 }, { &n2, 1 } };
	return ike_prf(h, skeyid, hl, cd, ARRAY_LEN(cd), skeyid_d) &&
	       ike_prf(h, skeyid, hl, ca, ARRAY_LEN(ca), skeyid_a) &&
	       ike_prf(h, skeyid, hl, ce, ARRAY_LEN(ce), skeyid_e);
}

bool ike_enc_key(enum ike_integ h, const uint8_t *skeyid_e, uint8_t *key, size_t key_len)
{
	size_t hl = ike_hash_len(h);
	if (!hl || key_len > IKE_PRF_MAX * 4)
		return false;
	if (key_len <= hl) {
		memcpy(key, skeyid_e, key_len);
		return true;
	}
	uint8_t k[IKE_PRF_MAX];
	static const uint8_t zero = 0;
	struct ike_chunk c = { &zero, 1 };
	size_t done = 0;
	bool ok = true;
	while (ok && done < key_len) {
		ok = ike_prf(h, skeyid_e, hl, &c, 1, k);
		size_t take = key_len - done < hl ? key_len - done : hl;
		memcpy(key + done, k, take);
		done += take;
		c.p = key + done - hl;	/* previous K, which is whole in key */
		c.len = hl;
		if (take < hl)
			break;
	}
	secret_wipe(k, sizeof(k));
	return ok;
}

bool ike_mm_hash(enum ike_integ h, const uint8_t *skeyid, const uint8_t *gx_a,
		 const uint8_t *gx_b, size_t gx_len, const uint8_t ck_a[8],
		 const uint8_t ck_b[8], const uint8_t *sai_b, size_t sai_len,
		 const uint8_t *id_b, size_t id_len, uint8_t *out)
{
	struct ike_chunk c[] = { { gx_a, gx_len }, { gx_b, gx_len }, { ck_a, 8 }, { ck_b, 8 },
				 { sai_b, sai_len }, { id_b, id_len } };
	return ike_prf(h, skeyid, ike_hash_len(h), c, ARRAY_LEN(c), out);
}

bool ike_iv_phase1(enum ike_integ h, const uint8_t *gxi, const uint8_t *gxr, size_t gx_len,
		   uint8_t iv[IKE_BLOCK])
{
	uint8_t d[IKE_PRF_MAX];
	struct ike_chunk c[] = { { gxi, gx_len }, { gxr, gx_len } };
	if (!ike_hash(h, c, 2, d))
		return false;
	memcpy(iv, d, IKE_BLOCK);
	return true;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

bool ike_iv_phase2(enum ike_integ h, const uint8_t last[IKE_BLOCK], uint32_t msgid,
		   uint8_t iv[IKE_BLOCK])
{
	uint8_t d[IKE_PRF_MAX], mid[4];
	put_be32(mid, msgid);
	struct ike_chunk c[] = { { last, IKE_BLOCK }, { mid, 4 } };
	if (!ike_hash(h, c, 2, d))
		return false;
	memcpy(iv, d, IKE_BLOCK);
	return true;
}

bool ike_qm_hash1(enum ike_integ h, const uint8_t *skeyid_a, uint32_t msgid,
		  const uint8_t *rest, size_t rest_len, uint8_t *out)
{
	uint8_t mid[4];
	put_be32(mid, msgid);
	struct ike_chunk c[] = { { mid, 4 }, { rest, rest_len } };
	return ike_prf(h, skeyid_a, ike_hash_len(h), c, 2, out);
}

bool ike_qm_hash2(enum ike_integ h, const uint8_t *skeyid_a, uint32_t msgid,
		  const uint8_t *ni, size_t ni_len, const uint8_t *rest, size_t rest_len,
		  uint8_t *out)
{
	uint8_t mid[4];
	put_be32(mid, msgid);
	struct ike_chunk c[] = { { mid, 4 }, { ni, ni_len }, { rest, rest_len } };
	return ike_prf(h, skeyid_a, ike_hash_len(h), c, 3, out);
}

bool ike_qm_hash3(enum ike_integ h, const uint8_t *skeyid_a, uint32_t msgid,
		  const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
		  uint8_t *out)
{
	uint8_t mid[4];
	static const uint8_t zero = 0;
	put_be32(mid, msgid);
	struct ike_chunk c[] = { { &zero, 1 }, { mid, 4 }, { ni, ni_len }, { nr, nr_len } };
	return ike_prf(h, skeyid_a, ike_hash_len(h), c, 4, out);
}

bool ike_keymat(enum ike_integ h, const uint8_t *skeyid_d, const uint8_t *gxy, size_t gxy_len,
		uint8_t protocol, uint32_t spi, const uint8_t *ni, size_t ni_len,
		const uint8_t *nr, size_t nr_len, uint8_t *out, size_t out_len)
{
	size_t hl = ike_hash_len(h);
	if (!hl)
		return false;
	uint8_t spib[4], k[IKE_PRF_MAX];
	put_be32(spib, spi);
	struct ike_chunk c[] = { { NULL, 0 }, { gxy, gxy ? gxy_len : 0 }, { &protocol, 1 },
				 { spib, 4 }, { ni, ni_len }, { nr, nr_len } };
	size_t done = 0;
	bool ok = true;
	while (ok && done < out_len) {
		ok = ike_prf(h, skeyid_d, hl, c, ARRAY_LEN(c), k);
		size_t take = out_len - done < hl ? out_len - done : hl;
		memcpy(out + done, k, take);
		done += take;
		c[0].p = k;	/* Kn-1 stays in k for the next round */
		c[0].len = hl;
	}
	secret_wipe(k, sizeof(k));
	return ok;
}

bool ike_natd_hash(enum ike_integ h, const uint8_t cky_i[8], const uint8_t cky_r[8],
		   uint32_t ip, uint16_t port, uint8_t *out)
{
	uint8_t a[4], p[2] = { (uint8_t)(port >> 8), (uint8_t)port };
	put_be32(a, ip);
	struct ike_chunk c[] = { { cky_i, 8 }, { cky_r, 8 }, { a, 4 }, { p, 2 } };
	return ike_hash(h, c, 4, out);
}

bool ike_aes_cbc(bool encrypt, const uint8_t *key, size_t key_len, const uint8_t iv[IKE_BLOCK],
		 const uint8_t *in, size_t len, uint8_t *out)
{
	if (len % IKE_BLOCK || len > INT32_MAX)
		return false;
	const char *name = key_len == 16 ? "AES-128-CBC" : key_len == 32 ? "AES-256-CBC" : NULL;
	if (!name)
		return false;
	bool ok = false;
	EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, name, NULL);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, m = 0;
	if (!cipher || !ctx || !EVP_CipherInit_ex2(ctx, cipher, key, iv, encrypt ? 1 : 0, NULL))
		goto out;
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	if (!EVP_CipherUpdate(ctx, out, &n, in, (int)len) || !EVP_CipherFinal_ex(ctx, out + n, &m))
		goto out;
	ok = (size_t)(n + m) == len;
out:
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(cipher);
	return ok;
}

/* ---- Diffie-Hellman ---------------------------------------------------- */

struct ike_dh {
	uint16_t group;
	EVP_PKEY *key;
	uint8_t pub[IKE_DH_MAX];
	size_t pub_len;
};

struct dh_group {
	uint16_t group;
	const char *name;	/* strongSwan's */
	const char *ossl;	/* OpenSSL group name; NULL = build from prime */
	bool ec;
	size_t len;		/* KE data length */
};

static const struct dh_group dh_groups[] = {
	{ 2, "modp1024", NULL, false, 128 },
	{ 5, "modp1536", "modp_1536", false, 192 },
	{ 14, "modp2048", "modp_2048", false, 256 },
	{ 15, "modp3072", "modp_3072", false, 384 },
	{ 16, "modp4096", "modp_4096", false, 512 },
	{ 17, "modp6144", "modp_6144", false, 768 },
	{ 18, "modp8192", "modp_8192", false, 1024 },
	{ 19, "ecp256", "P-256", true, 64 },
	{ 20, "ecp384", "P-384", true, 96 },
	{ 21, "ecp521", "P-521", true, 132 },
	{ 22, "modp1024s160", "dh_1024_160", false, 128 },
	{ 23, "modp2048s224", "dh_2048_224", false, 256 },
	{ 24, "modp2048s256", "dh_2048_256", false, 256 },
};

static const struct dh_group *dh_group_find(uint16_t group)
{
	for (size_t i = 0; i < ARRAY_LEN(dh_groups); i++)
		if (dh_groups[i].group == group)
			return &dh_groups[i];
	return NULL;
}

bool ike_dh_supported(uint16_t group) { return dh_group_find(group) != NULL; }

size_t ike_dh_pub_len(uint16_t group)
{
	const struct dh_group *g = dh_group_find(group);
	return g ? g->len : 0;
}

const char *ike_dh_name(uint16_t group)
{
	const struct dh_group *g = dh_group_find(group);
	return g ? g->name : "modp?";
}

#ifdef IKE_FUZZ_CHEAP_DH
/*
 * Fuzz builds only (tests/vpn/ike/meson.build's fuzz_ike_fast): a stand-in
 * for Diffie-Hellman that costs nothing and still agrees on both sides,
 * so that a fuzzer spends its time in the parsers and state machines
 * instead of in modular exponentiation: the public value is random bytes
 * of the group's size, the shared secret is the XOR of the two public
 * values. No security whatsoever: the #error keeps it out of every build
 * that is not marked unsafe for production (libFuzzer's convention).
 */
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#error "IKE_FUZZ_CHEAP_DH is for fuzz builds only"
#endif
struct ike_dh *ike_dh_new(uint16_t group)
{
	const struct dh_group *g = dh_group_find(group);
	struct ike_dh *dh = g ? calloc(1, sizeof(*dh)) : NULL;
	if (!dh)
		return NULL;
	dh->group = group;
	dh->pub_len = g->len;
	rand_bytes(dh->pub, g->len);
	return dh;
}

const uint8_t *ike_dh_pub(const struct ike_dh *dh) { return dh->pub; }

bool ike_dh_shared(struct ike_dh *dh, const uint8_t *peer, size_t peer_len,
		   uint8_t *out, size_t *out_len)
{
	const struct dh_group *g = dh_group_find(dh->group);
	if (!g || peer_len != g->len)
		return false;
	for (size_t i = 0; i < peer_len; i++)
		out[i] = dh->pub[i] ^ peer[i];
	*out_len = peer_len;
	return true;
}
#else
/* Parameters (and optionally a public value) of a group as an OSSL_PARAM
 * list; the caller frees it with OSSL_PARAM_free. */
static OSSL_PARAM *dh_params(const struct dh_group *g, const uint8_t *pub, size_t pub_len)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	BIGNUM *p = NULL, *gen = NULL, *y = NULL;
	uint8_t enc[1 + 2 * 66];	/* the builder keeps a pointer until to_param */
	if (!bld)
		return NULL;
	if (g->ec) {
		if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, g->ossl, 0))
			goto out;
		if (pub) {
			if (pub_len + 1 > sizeof(enc))
				goto out;
			enc[0] = 0x04;	/* uncompressed point */
			memcpy(enc + 1, pub, pub_len);
			if (!OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, enc,
							      pub_len + 1))
				goto out;
		}
	} else {
		if (g->ossl) {
			if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
							     g->ossl, 0))
				goto out;
		} else {
			p = BN_get_rfc2409_prime_1024(NULL);
			gen = BN_new();
			if (!p || !gen || !BN_set_word(gen, 2) ||
			    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, p) ||
			    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, gen))
				goto out;
		}
		if (pub) {
			y = BN_bin2bn(pub, (int)pub_len, NULL);
			if (!y || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y))
				goto out;
		}
	}
	params = OSSL_PARAM_BLD_to_param(bld);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(p);
	BN_free(gen);
	BN_free(y);
	return params;
}

static EVP_PKEY *dh_from_params(const struct dh_group *g, OSSL_PARAM *params, int selection)
{
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, g->ec ? "EC" : "DH", NULL);
	if (ctx && EVP_PKEY_fromdata_init(ctx) > 0)
		if (EVP_PKEY_fromdata(ctx, &pkey, selection, params) <= 0)
			pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

struct ike_dh *ike_dh_new(uint16_t group)
{
	const struct dh_group *g = dh_group_find(group);
	if (!g)
		return NULL;
	struct ike_dh *dh = calloc(1, sizeof(*dh));
	if (!dh)
		return NULL;
	dh->group = group;
	OSSL_PARAM *params = dh_params(g, NULL, 0);
	EVP_PKEY *param_key = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *y = NULL;
	if (!params)
		goto err;
	param_key = dh_from_params(g, params, EVP_PKEY_KEY_PARAMETERS);
	if (!param_key)
		goto err;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, param_key, NULL);
	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_generate(ctx, &dh->key) <= 0)
		goto err;
	if (g->ec) {
		uint8_t enc[1 + 2 * 66];
		size_t len = 0;
		if (!EVP_PKEY_get_octet_string_param(dh->key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
						     enc, sizeof(enc), &len) ||
		    len != g->len + 1 || enc[0] != 0x04)
			goto err;
		memcpy(dh->pub, enc + 1, g->len);
	} else {
		if (!EVP_PKEY_get_bn_param(dh->key, OSSL_PKEY_PARAM_PUB_KEY, &y) ||
		    BN_bn2binpad(y, dh->pub, (int)g->len) != (int)g->len)
			goto err;
	}
	dh->pub_len = g->len;
	BN_free(y);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(param_key);
	OSSL_PARAM_free(params);
	return dh;
err:
	BN_free(y);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(param_key);
	OSSL_PARAM_free(params);
	ike_dh_free(dh);
	return NULL;
}

const uint8_t *ike_dh_pub(const struct ike_dh *dh) { return dh->pub; }

bool ike_dh_shared(struct ike_dh *dh, const uint8_t *peer, size_t peer_len,
		   uint8_t *out, size_t *out_len)
{
	const struct dh_group *g = dh_group_find(dh->group);
	if (!g || peer_len != g->len)
		return false;
	bool ok = false;
	OSSL_PARAM *params = dh_params(g, peer, peer_len);
	EVP_PKEY *peer_key = params ? dh_from_params(g, params, EVP_PKEY_PUBLIC_KEY) : NULL;
	EVP_PKEY_CTX *ctx = peer_key ? EVP_PKEY_CTX_new_from_pkey(NULL, dh->key, NULL) : NULL;
	size_t len = IKE_DH_MAX;
	if (!ctx || EVP_PKEY_derive_init(ctx) <= 0)
		goto out;
	if (!g->ec && EVP_PKEY_CTX_set_dh_pad(ctx, 1) <= 0)
		goto out;
	if (EVP_PKEY_derive_set_peer_ex(ctx, peer_key, 1) <= 0)
		goto out;
	if (EVP_PKEY_derive(ctx, out, &len) <= 0)
		goto out;
	*out_len = len;
	ok = true;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer_key);
	OSSL_PARAM_free(params);
	return ok;
}

#endif

void ike_dh_free(struct ike_dh *dh)
{
	if (!dh)
		return;
	EVP_PKEY_free(dh->key);
	secret_wipe(dh, sizeof(*dh));
	free(dh);
}
