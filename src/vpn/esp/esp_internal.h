/*
 * esp_internal — the inside of struct esp_sa and struct esp_sa_table, shared
 * by the files of src/vpn/esp and by its tests. Nothing outside
 * src/vpn/esp and tests/vpn/esp includes this; esp.h is the contract.
 */
#ifndef VPCD_VPN_ESP_ESP_INTERNAL_H
#define VPCD_VPN_ESP_ESP_INTERNAL_H

#include "vpn/esp/esp.h"
#include "vpn/esp/replay.h"

#include <openssl/core_dispatch.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>

#define ESP_HDR_LEN		8u	/* SPI + sequence number */
#define ESP_TRAILER_LEN		2u	/* pad length + next header */
#define ESP_CBC_IV_LEN		16u
#define ESP_GCM_IV_LEN		8u
#define ESP_GCM_SALT_LEN	4u
#define ESP_GCM_ICV_LEN		16u
#define ESP_ICV_MAX		32u
#define ESP_IPV4_HDR_LEN	20u
#define ESP_UDP_HDR_LEN		8u
#define ESP_OUTER_TTL		64u
#define ESP_IPPROTO_ESP		50u
#define ESP_IPPROTO_UDP		17u
#define ESP_HMAC_MAX		64u	/* the longest digest (SHA-512) */
#define ESP_IV_POOL		256u	/* CBC IVs drawn per RAND_bytes call */

#define ESP_GCM_NONCE_LEN	(ESP_GCM_SALT_LEN + ESP_GCM_IV_LEN)

/* AES-GCM keyed once for one direction (esp_gcm.c): the provider's own
 * context and functions, or (gc_evp) an EVP context where the provider
 * does not offer them. */
struct esp_gcm {
	bool					gc_enc;
	void					*gc_ctx;	/* provider's; keyed */
	OSSL_FUNC_cipher_freectx_fn		*gc_freectx;
	OSSL_FUNC_cipher_encrypt_init_fn	*gc_init;	/* or decrypt_init */
	OSSL_FUNC_cipher_update_fn		*gc_update;
	OSSL_FUNC_cipher_final_fn		*gc_final;
	OSSL_FUNC_cipher_get_ctx_params_fn	*gc_get_params;
	OSSL_FUNC_cipher_set_ctx_params_fn	*gc_set_params;
	EVP_CIPHER_CTX				*gc_evp;	/* the fallback */
};

/* Key g for alg (AES-128/256-GCM, 12-byte nonces) in one direction;
 * direct = false forces the EVP fallback (tests). false if OpenSSL
 * refuses; g is then empty (esp_gcm_free is still fine). */
bool esp_gcm_init(struct esp_gcm *g, const EVP_CIPHER *alg, const uint8_t *key,
	size_t key_len, bool enc, bool direct);
void esp_gcm_free(struct esp_gcm *g);
/* True when g calls the provider's functions (not the EVP fallback). */
bool esp_gcm_direct(const struct esp_gcm *g);
/* Encrypt [data, data+len) in place, tag out; false if OpenSSL fails. */
bool esp_gcm_seal(struct esp_gcm *g, const uint8_t nonce[ESP_GCM_NONCE_LEN],
	const uint8_t *aad, size_t aad_len, uint8_t *data, size_t len,
	uint8_t tag[ESP_GCM_ICV_LEN]);
/* Decrypt [in, in+len) into out (may be in) and check the tag: 1 if it
 * verifies, 0 if not (out then holds unauthenticated bytes), -1 if OpenSSL
 * fails before the check. */
int esp_gcm_open(struct esp_gcm *g, const uint8_t nonce[ESP_GCM_NONCE_LEN],
	const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out, size_t len,
	const uint8_t tag[ESP_GCM_ICV_LEN]);

/* A digest's running state, by value (esp_hmac.c copies it per packet). */
union esp_sha_state {
	SHA_CTX			sha1;
	SHA256_CTX		sha256;
	SHA512_CTX		sha512;		/* SHA-384 too */
};

/* HMAC with the key absorbed once: the digest states after K ^ ipad and
 * K ^ opad (secret: wiped with the SA). */
struct esp_hmac {
	enum esp_integ		hm_integ;
	union esp_sha_state	hm_inner;
	union esp_sha_state	hm_outer;
};

/* Keys h for integ (key_len at most the digest's block); false if the
 * integ is NONE, the key too long or OpenSSL fails. */
bool esp_hmac_init(struct esp_hmac *h, enum esp_integ integ, const uint8_t *key,
	size_t key_len);
/* The full (untruncated) HMAC of [p, p+len) into out. Never fails, never
 * allocates; h is only read, so one SA's h may serve one thread. */
void esp_hmac(const struct esp_hmac *h, const uint8_t *p, size_t len,
	uint8_t out[ESP_HMAC_MAX]);

struct esp_sa {
	uint32_t		sa_spi;
	enum esp_dir		sa_dir;
	enum esp_encr		sa_encr;
	enum esp_integ		sa_integ;
	uint8_t			sa_iv_len;	/* 16 CBC, 8 GCM */
	uint8_t			sa_icv_len;	/* truncated HMAC or 16 (GCM) */
	uint8_t			sa_align;	/* 16 CBC, 4 GCM: pad to this */
	bool			sa_encap;	/* UDP-encapsulated */
	uint8_t			sa_salt[ESP_GCM_SALT_LEN];	/* secret */

	/* Outbound. */
	uint32_t		sa_seq;		/* last sequence number used */
	uint32_t		sa_seq_soft;
	uint16_t		sa_ip_id;	/* outer IPv4 identification */
	uint8_t			sa_tmpl_len;	/* 20 or 28 */
	uint8_t			sa_tmpl[ESP_IPV4_HDR_LEN + ESP_UDP_HDR_LEN];
	uint32_t		sa_tmpl_sum;	/* sum of the constant words */
	/* CBC IVs drawn ahead (esp_encrypt.c); the next is
	 * sa_iv_pool[ESP_IV_POOL - sa_iv_left]. Secret until sent. */
	uint32_t		sa_iv_left;
	uint8_t			sa_iv_pool[ESP_IV_POOL][ESP_CBC_IV_LEN];

	/* Inbound. */
	struct replay_window	sa_replay;

	/* Keyed once in esp_sa_new(), never reallocated. GCM: sa_gcm, given
	 * each packet's nonce (esp_gcm.c). CBC: sa_cipher, never
	 * re-initialised; the context's own chaining value is kept in
	 * sa_cbc_chain (the last ciphertext block it went through) and each
	 * packet's first block is XORed with chain ^ IV, which is CBC with
	 * that IV (esp_encrypt.c). An OpenSSL failure resets it (cbc_rechain).
	 * sa_cipher_alg (both) holds the provider while the SA lives. */
	EVP_CIPHER		*sa_cipher_alg;
	EVP_CIPHER_CTX		*sa_cipher;	/* CBC */
	struct esp_gcm		sa_gcm;		/* GCM */
	uint8_t			sa_cbc_chain[ESP_CBC_IV_LEN];
	struct esp_hmac		sa_hmac;	/* CBC suites; secret */

	struct esp_sa_stats	sa_stats;

	/* Tests only: a fixed CBC IV for known-answer vectors. A fixed IV
	 * makes CBC predictable; nothing but a test may set it. */
	bool			sa_test_fixed_iv;
	uint8_t			sa_test_iv[ESP_CBC_IV_LEN];
};

/* Inbound SA table: linear probing over a power-of-two array of slots,
 * kept at most half full so that probes stay short; deletion shifts the
 * following entries back (no tombstones). An empty slot has sa == NULL. */
struct esp_sa_slot {
	uint32_t		sl_spi;
	struct esp_sa		*sl_sa;
};

struct esp_sa_table {
	uint32_t		tb_mask;	/* slots - 1 */
	uint32_t		tb_count;
	uint32_t		tb_max;		/* at most slots / 2 */
	struct esp_table_stats	tb_stats;
	struct esp_sa_slot	tb_slots[];
};

/* Tests only. */
void esp_sa_test_fix_iv(struct esp_sa *sa, const uint8_t iv[ESP_CBC_IV_LEN]);
void esp_sa_test_set_seq(struct esp_sa *sa, uint32_t seq);

/* CBC, after OpenSSL failed mid-packet: the context's chaining value is
 * unknown, so set it to zeros again (sa_cbc_chain too). */
void esp_sa_cbc_rechain(struct esp_sa *sa);

/* XOR 16 bytes: dst ^= a ^ b (the CBC first-block fix-up). */
static inline void
esp_xor_block(uint8_t *dst, const uint8_t *a, const uint8_t *b)
{
	uint64_t d[2], x[2], y[2];

	memcpy(d, dst, 16);
	memcpy(x, a, 16);
	memcpy(y, b, 16);
	d[0] ^= x[0] ^ y[0];
	d[1] ^= x[1] ^ y[1];
	memcpy(dst, d, 16);
}

#endif
