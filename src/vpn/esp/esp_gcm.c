/*
 * esp_gcm — AES-GCM for one ESP SA: seal or open one packet (nonce, AAD,
 * data in place or out of place, 16-byte tag) on a context keyed once.
 *
 * Why not only EVP: with OpenSSL 3.0 a GCM packet through EVP pays, beside
 * the cipher itself, EVP_EncryptInit_ex2's bookkeeping to set the nonce
 * (it asks the provider for the IV length through a parameter lookup on
 * every call: ~55 ns) and the update/final wrappers; a 64-byte packet cost
 * ~200 ns of which ~40 are AES and GHASH. So the SA resolves, once, the
 * cipher's implementation functions from its provider
 * (OSSL_PROVIDER_query_operation: the provider interface of
 * provider-cipher(7), which EVP itself calls) and calls them directly per
 * packet: init with the nonce, update with the AAD, update with the data,
 * final, the tag through the provider's parameters. These are the very
 * calls EVP makes underneath, with the same arguments (GCM's block size is
 * 1, so every out size is the input's length); the algorithm, the
 * constant-time tag check in final and the key schedule are OpenSSL's.
 * When the provider does not offer them (another provider, a missing
 * function), the SA uses an EVP_CIPHER_CTX the plain way instead
 * (gc_evp); esp_gcm_init(..., direct = false) forces that, for tests.
 *
 * Control plane: esp_gcm_init/esp_gcm_free (allocate, may fail). Data
 * plane: esp_gcm_seal/esp_gcm_open (never allocate, never log; one thread
 * at a time per SA, like the rest of the SA). The key schedule lives in
 * the provider's context, which its freectx cleanses.
 */
#include "vpn/esp/esp_internal.h"
#include "base/base.h"

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <string.h>

/* The first name of an algorithm's "NAME:ALIAS:OID" list, into buf. */
static const char *
first_name(const char *names, char *buf, size_t size)
{
	size_t n = strcspn(names, ":");

	if (n >= size)
		return NULL;
	memcpy(buf, names, n);
	buf[n] = '\0';
	return buf;
}

/* Take alg's implementation functions from its provider; false (nothing
 * kept) if the provider does not list alg or lacks one of them. */
static bool
resolve(struct esp_gcm *g, const EVP_CIPHER *alg, bool enc)
{
	const OSSL_PROVIDER *prov = EVP_CIPHER_get0_provider(alg);
	const OSSL_ALGORITHM *algs, *a;
	const OSSL_DISPATCH *d = NULL;
	OSSL_FUNC_cipher_newctx_fn *newctx = NULL;
	int no_store = 0;
	char name[64];

	if (prov == NULL)
		return false;
	algs = OSSL_PROVIDER_query_operation(prov, OSSL_OP_CIPHER, &no_store);
	if (algs == NULL)
		return false;
	for (a = algs; a->algorithm_names != NULL; a++) {
		const char *n = first_name(a->algorithm_names, name, sizeof(name));

		if (n != NULL && EVP_CIPHER_is_a(alg, n)) {
			d = a->implementation;
			break;
		}
	}
	for (; d != NULL && d->function_id != 0; d++) {
		switch (d->function_id) {
		case OSSL_FUNC_CIPHER_NEWCTX:
			newctx = OSSL_FUNC_cipher_newctx(d);
			break;
		case OSSL_FUNC_CIPHER_FREECTX:
			g->gc_freectx = OSSL_FUNC_cipher_freectx(d);
			break;
		case OSSL_FUNC_CIPHER_ENCRYPT_INIT:
			if (enc)
				g->gc_init = OSSL_FUNC_cipher_encrypt_init(d);
			break;
		case OSSL_FUNC_CIPHER_DECRYPT_INIT:
			if (!enc)
				g->gc_init = OSSL_FUNC_cipher_decrypt_init(d);
			break;
		case OSSL_FUNC_CIPHER_UPDATE:
			g->gc_update = OSSL_FUNC_cipher_update(d);
			break;
		case OSSL_FUNC_CIPHER_FINAL:
			g->gc_final = OSSL_FUNC_cipher_final(d);
			break;
		case OSSL_FUNC_CIPHER_GET_CTX_PARAMS:
			g->gc_get_params = OSSL_FUNC_cipher_get_ctx_params(d);
			break;
		case OSSL_FUNC_CIPHER_SET_CTX_PARAMS:
			g->gc_set_params = OSSL_FUNC_cipher_set_ctx_params(d);
			break;
		default:
			break;
		}
	}
	if (newctx != NULL && g->gc_freectx != NULL && g->gc_init != NULL &&
	    g->gc_update != NULL && g->gc_final != NULL && g->gc_get_params != NULL &&
	    g->gc_set_params != NULL)
		g->gc_ctx = newctx(OSSL_PROVIDER_get0_provider_ctx(prov));
	OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_CIPHER, algs);
	return g->gc_ctx != NULL;
}

bool
esp_gcm_init(struct esp_gcm *g, const EVP_CIPHER *alg, const uint8_t *key, size_t key_len,
	bool enc, bool direct)
{
	size_t nonce_len = ESP_GCM_NONCE_LEN;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &nonce_len),
		OSSL_PARAM_construct_end(),
	};

	memset(g, 0, sizeof(*g));
	g->gc_enc = enc;
	if (direct && resolve(g, alg, enc)) {
		if (g->gc_init(g->gc_ctx, key, key_len, NULL, 0, params))
			return true;
		esp_gcm_free(g);
		return false;
	}
	memset(g, 0, sizeof(*g));
	g->gc_enc = enc;
	g->gc_evp = EVP_CIPHER_CTX_new();
	if (g->gc_evp == NULL ||
	    !EVP_CipherInit_ex2(g->gc_evp, alg, key, NULL, enc, params)) {
		esp_gcm_free(g);
		return false;
	}
	return true;
}

void
esp_gcm_free(struct esp_gcm *g)
{
	if (g->gc_ctx != NULL)
		g->gc_freectx(g->gc_ctx);
	EVP_CIPHER_CTX_free(g->gc_evp);
	memset(g, 0, sizeof(*g));
}

bool
esp_gcm_direct(const struct esp_gcm *g)
{
	return g->gc_ctx != NULL;
}

bool
esp_gcm_seal(struct esp_gcm *g, const uint8_t nonce[ESP_GCM_NONCE_LEN], const uint8_t *aad,
	size_t aad_len, uint8_t *data, size_t len, uint8_t tag[ESP_GCM_ICV_LEN])
{
	OSSL_PARAM tag_param[] = {
		OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag,
			ESP_GCM_ICV_LEN),
		OSSL_PARAM_construct_end(),
	};
	size_t outl;
	int outi;

	if (g->gc_ctx != NULL)
		return g->gc_init(g->gc_ctx, NULL, 0, nonce, ESP_GCM_NONCE_LEN, NULL) &&
		       g->gc_update(g->gc_ctx, NULL, &outl, aad_len, aad, aad_len) &&
		       g->gc_update(g->gc_ctx, data, &outl, len, data, len) &&
		       outl == len &&
		       g->gc_final(g->gc_ctx, data + len, &outl, 0) &&
		       g->gc_get_params(g->gc_ctx, tag_param);
	return EVP_EncryptInit_ex2(g->gc_evp, NULL, NULL, nonce, NULL) &&
	       EVP_EncryptUpdate(g->gc_evp, NULL, &outi, aad, (int)aad_len) &&
	       EVP_EncryptUpdate(g->gc_evp, data, &outi, data, (int)len) &&
	       (size_t)outi == len &&
	       EVP_EncryptFinal_ex(g->gc_evp, data + len, &outi) &&
	       EVP_CIPHER_CTX_get_params(g->gc_evp, tag_param);
}

int
esp_gcm_open(struct esp_gcm *g, const uint8_t nonce[ESP_GCM_NONCE_LEN], const uint8_t *aad,
	size_t aad_len, const uint8_t *in, uint8_t *out, size_t len,
	const uint8_t tag[ESP_GCM_ICV_LEN])
{
	OSSL_PARAM tag_param[] = {
		OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, (void *)tag,
			ESP_GCM_ICV_LEN),
		OSSL_PARAM_construct_end(),
	};
	size_t outl;
	int outi;

	if (g->gc_ctx != NULL) {
		if (!g->gc_init(g->gc_ctx, NULL, 0, nonce, ESP_GCM_NONCE_LEN, NULL) ||
		    !g->gc_update(g->gc_ctx, NULL, &outl, aad_len, aad, aad_len) ||
		    !g->gc_update(g->gc_ctx, out, &outl, len, in, len) || outl != len ||
		    !g->gc_set_params(g->gc_ctx, tag_param))
			return -1;
		/* The tag is compared in constant time inside OpenSSL's GCM. */
		return g->gc_final(g->gc_ctx, out + len, &outl, 0) ? 1 : 0;
	}
	if (!EVP_DecryptInit_ex2(g->gc_evp, NULL, NULL, nonce, NULL) ||
	    !EVP_DecryptUpdate(g->gc_evp, NULL, &outi, aad, (int)aad_len) ||
	    !EVP_DecryptUpdate(g->gc_evp, out, &outi, in, (int)len) || (size_t)outi != len ||
	    !EVP_CIPHER_CTX_set_params(g->gc_evp, tag_param))
		return -1;
	return EVP_DecryptFinal_ex(g->gc_evp, out + len, &outi) > 0 ? 1 : 0;
}
