/*
 * esp_internal — the inside of struct esp_sa and struct esp_sa_table, shared
 * by the files of src/vpn/esp and by its tests. Nothing outside
 * src/vpn/esp and tests/vpn/esp includes this; esp.h is the contract.
 */
#ifndef VPCD_VPN_ESP_ESP_INTERNAL_H
#define VPCD_VPN_ESP_ESP_INTERNAL_H

#include "vpn/esp/esp.h"
#include "vpn/esp/replay.h"

#include <openssl/evp.h>

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

	/* Inbound. */
	struct replay_window	sa_replay;

	/* Keyed once in esp_sa_new(); re-initialised per packet with a new
	 * IV (cipher) or reset to the same key (HMAC), never reallocated. */
	EVP_CIPHER		*sa_cipher_alg;
	EVP_CIPHER_CTX		*sa_cipher;
	EVP_MAC			*sa_mac_alg;
	EVP_MAC_CTX		*sa_mac;

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

/* Shared by the encrypt and decrypt paths: HMAC over [p, p+len) into out
 * (>= EVP_MAX_MD_SIZE); false if OpenSSL fails. */
bool esp_sa_hmac(struct esp_sa *sa, const uint8_t *p, size_t len, uint8_t *out);

#endif
