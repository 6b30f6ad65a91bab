/*
 * ikev2_crypto.c — IKEv2 key schedule, PSK AUTH and the SK payload's
 * protection (ikev2_crypto.h).
 *
 * Pure functions over caller buffers; intermediate secrets on the stack
 * are wiped before return. Never logs key material.
 */
#include "vpn/ike/ikev2_crypto.h"

#include "base/base.h"
#include "vpn/ike/ike_proposal.h"

#include <openssl/evp.h>
#include <string.h>

size_t ikev2_enc_key_len(enum ike_encr e)
{
	return ike_key_len(e) + (ike_encr_is_gcm(e) ? IKEV2_GCM_SALT : 0);
}

size_t ikev2_integ_key_len(enum ike_integ i) { return ike_hash_len(i); }

bool ikev2_prf_plus(enum ike_integ prf, const uint8_t *key, size_t key_len,
		    const struct ike_chunk *seed, size_t n, uint8_t *out, size_t out_len)
{
	size_t hl = ike_hash_len(prf);
	if (!hl || n > 8 || out_len > IKEV2_PRF_PLUS_MAX)
		return false;
	uint8_t t[IKE_PRF_MAX], ctr = 1;
	struct ike_chunk c[10];
	size_t done = 0;
	bool ok = true;
	while (ok && done < out_len) {
		size_t k = 0;
		if (done)	/* Tn-1, which is whole at the end of out */
			c[k++] = (struct ike_chunk){ t, hl };
		for (size_t i = 0; i < n; i++)
			c[k++] = seed[i];
		c[k++] = (struct ike_chunk){ &ctr, 1 };
		ok = ike_prf(prf, key, key_len, c, k, t);
		size_t take = out_len - done < hl ? out_len - done : hl;
		memcpy(out + done, t, take);
		done += take;
		ctr++;
	}
	secret_wipe(t, sizeof(t));
	return ok;
}

bool ikev2_derive_ike_keys(enum ike_integ prf, enum ike_integ integ, enum ike_encr encr,
			   const uint8_t *gir, size_t gir_len, const uint8_t *ni, size_t ni_len,
			   const uint8_t *nr, size_t nr_len, const uint8_t spi_i[8],
			   const uint8_t spi_r[8], enum ike_integ old_prf, const uint8_t *old_sk_d,
			   struct ikev2_keys *out, uint8_t *skeyseed)
{
	uint8_t seed[IKE_PRF_MAX], km[3 * IKE_PRF_MAX + 2 * IKEV2_INTEG_KEY_MAX +
				     2 * IKEV2_ENC_KEY_MAX];
	uint8_t nonces[2 * IKEV2_NONCE_MAX];
	bool ok;
	size_t seed_len;	/* the PRF that made SKEYSEED: the old one on a rekey */
	memset(out, 0, sizeof(*out));
	out->prf_len = ike_hash_len(prf);
	out->integ_len = ike_encr_is_gcm(encr) ? 0 : ikev2_integ_key_len(integ);
	out->enc_len = ikev2_enc_key_len(encr);
	if (!out->prf_len || ni_len > IKEV2_NONCE_MAX || nr_len > IKEV2_NONCE_MAX ||
	    (!ike_encr_is_gcm(encr) && !out->integ_len))
		return false;
	if (old_sk_d) {
		struct ike_chunk c[] = { { gir, gir_len }, { ni, ni_len }, { nr, nr_len } };
		ok = ike_prf(old_prf, old_sk_d, ike_hash_len(old_prf), c, 3, seed);
		seed_len = ike_hash_len(old_prf);
	} else {
		/* the key Ni | Nr is used whole: HMAC takes keys of any length */
		memcpy(nonces, ni, ni_len);
		memcpy(nonces + ni_len, nr, nr_len);
		struct ike_chunk c = { gir, gir_len };
		ok = ike_prf(prf, nonces, ni_len + nr_len, &c, 1, seed);
		seed_len = out->prf_len;
	}
	size_t need = 3 * out->prf_len + 2 * out->integ_len + 2 * out->enc_len;
	struct ike_chunk s[] = { { ni, ni_len }, { nr, nr_len }, { spi_i, 8 }, { spi_r, 8 } };
	ok = ok && ikev2_prf_plus(prf, seed, seed_len, s, 4, km, need);
	if (ok) {
		const uint8_t *p = km;
		memcpy(out->sk_d, p, out->prf_len), p += out->prf_len;
		memcpy(out->sk_ai, p, out->integ_len), p += out->integ_len;
		memcpy(out->sk_ar, p, out->integ_len), p += out->integ_len;
		memcpy(out->sk_ei, p, out->enc_len), p += out->enc_len;
		memcpy(out->sk_er, p, out->enc_len), p += out->enc_len;
		memcpy(out->sk_pi, p, out->prf_len), p += out->prf_len;
		memcpy(out->sk_pr, p, out->prf_len);
		if (skeyseed)
			memcpy(skeyseed, seed, seed_len);
	}
	secret_wipe(seed, sizeof(seed));
	secret_wipe(km, sizeof(km));
	secret_wipe(nonces, sizeof(nonces));
	return ok;
}

bool ikev2_child_keymat(enum ike_integ prf, const uint8_t *sk_d, const uint8_t *gir,
			size_t gir_len, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
			size_t nr_len, uint8_t *out, size_t out_len)
{
	struct ike_chunk s[] = { { gir, gir ? gir_len : 0 }, { ni, ni_len }, { nr, nr_len } };
	return ikev2_prf_plus(prf, sk_d, ike_hash_len(prf), s, 3, out, out_len);
}

bool ikev2_psk_auth(enum ike_integ prf, const uint8_t *psk, size_t psk_len,
		    const uint8_t *msg, size_t msg_len, const uint8_t *nonce, size_t nonce_len,
		    const uint8_t *sk_p, size_t sk_p_len, const uint8_t *id_body, size_t id_len,
		    uint8_t *out)
{
	static const char pad[] = "Key Pad for IKEv2";	/* 17 octets, no NUL */
	uint8_t inner[IKE_PRF_MAX], macid[IKE_PRF_MAX];
	size_t hl = ike_hash_len(prf);
	struct ike_chunk cp = { (const uint8_t *)pad, sizeof(pad) - 1 };
	struct ike_chunk ci = { id_body, id_len };
	struct ike_chunk cs[] = { { msg, msg_len }, { nonce, nonce_len }, { macid, hl } };
	bool ok = ike_prf(prf, psk, psk_len, &cp, 1, inner) &&
		  ike_prf(prf, sk_p, sk_p_len, &ci, 1, macid) &&
		  ike_prf(prf, inner, hl, cs, 3, out);
	secret_wipe(inner, sizeof(inner));
	secret_wipe(macid, sizeof(macid));
	return ok;
}

bool ikev2_natd_hash(const uint8_t spi_i[8], const uint8_t spi_r[8], uint32_t ip, uint16_t port,
		     uint8_t out[20])
{
	return ike_natd_hash(IKE_INTEG_SHA1, spi_i, spi_r, ip, port, out);
}

/* ---- SK payload ------------------------------------------------------- */

size_t ikev2_sk_len(enum ike_encr encr, enum ike_integ integ, size_t plain_len)
{
	if (ike_encr_is_gcm(encr))
		return IKEV2_GCM_IV + plain_len + 1 + IKEV2_GCM_ICV;
	size_t ct = (plain_len + 1 + IKE_BLOCK - 1) / IKE_BLOCK * IKE_BLOCK;
	return IKE_BLOCK + ct + ike_icv_len(encr, integ);
}

static const char *gcm_name(size_t key_len)
{
	return key_len == 16 ? "AES-128-GCM" : key_len == 32 ? "AES-256-GCM" : NULL;
}

/* AES-GCM over one buffer; on decrypt, tag is checked and false means
 * "forged or corrupt" (out then holds nothing the caller may use). */
static bool gcm(bool encrypt, const uint8_t *key, size_t key_len, const uint8_t nonce[12],
		const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
		uint8_t tag[IKEV2_GCM_ICV])
{
	const char *name = gcm_name(key_len);
	if (!name || len > INT32_MAX || aad_len > INT32_MAX)
		return false;
	bool ok = false;
	EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, name, NULL);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, m = 0;
	if (!cipher || !ctx || !EVP_CipherInit_ex2(ctx, cipher, NULL, NULL, encrypt, NULL) ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) <= 0 ||
	    !EVP_CipherInit_ex2(ctx, NULL, key, nonce, encrypt, NULL))
		goto out;
	if (aad_len && !EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len))
		goto out;
	if (!EVP_CipherUpdate(ctx, out, &n, in, (int)len))
		goto out;
	if (!encrypt && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, IKEV2_GCM_ICV, tag) <= 0)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + n, &m) <= 0)
		goto out;
	if (encrypt && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, IKEV2_GCM_ICV, tag) <= 0)
		goto out;
	ok = (size_t)(n + m) == len;
out:
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(cipher);
	return ok;
}

bool ikev2_sk_seal(enum ike_encr encr, enum ike_integ integ, const uint8_t *enc_key,
		   const uint8_t *integ_key, uint8_t *msg, size_t aad_len, const uint8_t *plain,
		   size_t plain_len, const uint8_t *iv_seed)
{
	uint8_t *body = msg + aad_len;
	size_t kl = ike_key_len(encr);
	if (ike_encr_is_gcm(encr)) {
		uint8_t nonce[12];
		memcpy(nonce, enc_key + kl, IKEV2_GCM_SALT);
		memcpy(nonce + IKEV2_GCM_SALT, iv_seed, IKEV2_GCM_IV);
		memcpy(body, iv_seed, IKEV2_GCM_IV);
		uint8_t *ct = body + IKEV2_GCM_IV;
		memcpy(ct, plain, plain_len);
		ct[plain_len] = 0;	/* pad length: no padding */
		return gcm(true, enc_key, kl, nonce, msg, aad_len, ct, plain_len + 1, ct,
			   ct + plain_len + 1);
	}
	size_t ct_len = ikev2_sk_len(encr, integ, plain_len) - IKE_BLOCK - ike_icv_len(encr, integ);
	size_t pad = ct_len - plain_len - 1;
	uint8_t *ct = body + IKE_BLOCK;
	memcpy(body, iv_seed, IKE_BLOCK);
	memcpy(ct, plain, plain_len);
	memset(ct + plain_len, 0, pad);
	ct[ct_len - 1] = (uint8_t)pad;
	if (!ike_aes_cbc(true, enc_key, kl, body, ct, ct_len, ct))
		return false;
	uint8_t mac[IKE_PRF_MAX];
	struct ike_chunk c = { msg, aad_len + IKE_BLOCK + ct_len };
	if (!ike_prf(integ, integ_key, ike_hash_len(integ), &c, 1, mac))
		return false;
	memcpy(ct + ct_len, mac, ike_icv_len(encr, integ));
	return true;
}

bool ikev2_sk_open(enum ike_encr encr, enum ike_integ integ, const uint8_t *enc_key,
		   const uint8_t *integ_key, const uint8_t *msg, size_t aad_len, size_t body_len,
		   uint8_t *plain, size_t *plain_len)
{
	const uint8_t *body = msg + aad_len;
	size_t kl = ike_key_len(encr);
	if (ike_encr_is_gcm(encr)) {
		/* IV, at least the pad length byte, the tag */
		if (body_len < IKEV2_GCM_IV + 1 + IKEV2_GCM_ICV)
			return false;
		size_t ct_len = body_len - IKEV2_GCM_IV - IKEV2_GCM_ICV;
		uint8_t nonce[12], tag[IKEV2_GCM_ICV];
		memcpy(nonce, enc_key + kl, IKEV2_GCM_SALT);
		memcpy(nonce + IKEV2_GCM_SALT, body, IKEV2_GCM_IV);
		memcpy(tag, body + IKEV2_GCM_IV + ct_len, IKEV2_GCM_ICV);
		if (!gcm(false, enc_key, kl, nonce, msg, aad_len, body + IKEV2_GCM_IV, ct_len,
			 plain, tag)) {
			secret_wipe(plain, ct_len);
			return false;
		}
		size_t pad = plain[ct_len - 1];
		if (pad + 1 > ct_len)
			return false;
		*plain_len = ct_len - 1 - pad;
		return true;
	}
	size_t icv = ike_icv_len(encr, integ);
	/* IV, one block at least, the ICV; the ciphertext whole blocks */
	if (body_len < IKE_BLOCK + IKE_BLOCK + icv || (body_len - IKE_BLOCK - icv) % IKE_BLOCK)
		return false;
	size_t ct_len = body_len - IKE_BLOCK - icv;
	uint8_t mac[IKE_PRF_MAX];
	struct ike_chunk c = { msg, aad_len + IKE_BLOCK + ct_len };
	if (!ike_prf(integ, integ_key, ike_hash_len(integ), &c, 1, mac) ||
	    !ct_equal(mac, body + IKE_BLOCK + ct_len, icv))
		return false;
	if (!ike_aes_cbc(false, enc_key, kl, body, body + IKE_BLOCK, ct_len, plain))
		return false;
	size_t pad = plain[ct_len - 1];
	if (pad + 1 > ct_len)
		return false;
	*plain_len = ct_len - 1 - pad;
	return true;
}
