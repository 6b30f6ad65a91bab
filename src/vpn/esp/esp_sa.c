/*
 * esp_sa — creating and freeing an ESP SA: validate the config, key one
 * OpenSSL cipher context (and the HMAC states, esp_hmac.c) for the SA's lifetime,
 * precompute the outer header template. Control plane: allocates and logs,
 * but never logs key material.
 */
#include "vpn/esp/esp_internal.h"
#include "base/csum.h"
#include "base/base.h"

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[ESP_STATUS_COUNT] = {
	[ESP_OK]		= "ok",
	[ESP_E_BAD_LENGTH]	= "bad-length",
	[ESP_E_UNKNOWN_SPI]	= "unknown-spi",
	[ESP_E_REPLAY]		= "replay",
	[ESP_E_AUTH]		= "auth-failed",
	[ESP_E_BAD_PADDING]	= "bad-padding",
	[ESP_E_BAD_INNER]	= "bad-inner",
	[ESP_E_DUMMY]		= "tfc-dummy",
	[ESP_E_SEQ_EXHAUSTED]	= "seq-exhausted",
	[ESP_E_NO_ROOM]		= "no-room",
	[ESP_E_WRONG_DIR]	= "wrong-direction",
	[ESP_E_CRYPTO]		= "crypto-error",
};

const char *
esp_status_name(enum esp_status st)
{
	if ((unsigned)st >= ESP_STATUS_COUNT)
		return "?";
	return status_names[st];
}

struct integ_desc {
	const char	*digest;
	size_t		key_len;
	uint8_t		icv_len;
};

static const struct integ_desc integ_descs[] = {
	[ESP_INTEG_NONE]		= { NULL, 0, 0 },
	[ESP_INTEG_HMAC_SHA1_96]	= { "SHA1", 20, 12 },
	[ESP_INTEG_HMAC_SHA2_256_128]	= { "SHA2-256", 32, 16 },
	[ESP_INTEG_HMAC_SHA2_384_192]	= { "SHA2-384", 48, 24 },
	[ESP_INTEG_HMAC_SHA2_512_256]	= { "SHA2-512", 64, 32 },
};

static bool
config_valid(const struct esp_sa_config *cfg)
{
	size_t aes_len;

	if (cfg->cfg_spi < 256) {
		log_warn("esp", "SA spi 0x%08x: SPIs 0..255 are reserved", cfg->cfg_spi);
		return false;
	}
	if (cfg->cfg_dir != ESP_DIR_IN && cfg->cfg_dir != ESP_DIR_OUT)
		goto bad;
	if (cfg->cfg_encr_key == NULL)
		goto bad;
	switch (cfg->cfg_encr) {
	case ESP_ENCR_AES_CBC:
		aes_len = cfg->cfg_encr_key_len;
		if (cfg->cfg_integ == ESP_INTEG_NONE ||
		    (unsigned)cfg->cfg_integ >= ARRAY_LEN(integ_descs))
			goto bad;
		if (cfg->cfg_integ_key == NULL ||
		    cfg->cfg_integ_key_len != integ_descs[cfg->cfg_integ].key_len)
			goto bad;
		break;
	case ESP_ENCR_AES_GCM16:
		if (cfg->cfg_encr_key_len < ESP_GCM_SALT_LEN)
			goto bad;
		aes_len = cfg->cfg_encr_key_len - ESP_GCM_SALT_LEN;
		if (cfg->cfg_integ != ESP_INTEG_NONE)
			goto bad;
		break;
	default:
		goto bad;
	}
	if (aes_len != 16 && aes_len != 32)
		goto bad;
	if (cfg->cfg_dir == ESP_DIR_IN && cfg->cfg_replay_window > REPLAY_WINDOW_MAX)
		goto bad;
	if ((cfg->cfg_encap_sport == 0) != (cfg->cfg_encap_dport == 0))
		goto bad;
	return true;
bad:
	/* Lengths and algorithm numbers only: never the keys themselves. */
	log_warn("esp", "SA spi 0x%08x: invalid config (encr %d key %zu, integ %d key %zu, "
		"window %u, encap %u/%u)", cfg->cfg_spi, (int)cfg->cfg_encr,
		cfg->cfg_encr_key_len, (int)cfg->cfg_integ, cfg->cfg_integ_key_len,
		cfg->cfg_replay_window, cfg->cfg_encap_sport, cfg->cfg_encap_dport);
	return false;
}

/* The outer IPv4 (+ UDP) header with the per-packet fields (TOS, total
 * length, identification, UDP length) zero, and the sum of the rest. */
static void
template_build(struct esp_sa *sa, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	uint8_t *h = sa->sa_tmpl;

	memset(h, 0, sizeof(sa->sa_tmpl));
	h[0] = 0x45;
	/* flags/fragment offset 0: DF clear, fragments allowed on the path */
	h[8] = ESP_OUTER_TTL;
	h[9] = sa->sa_encap ? ESP_IPPROTO_UDP : ESP_IPPROTO_ESP;
	wr32(h + 12, src);
	wr32(h + 16, dst);
	sa->sa_tmpl_sum = csum_add_bytes(0, h, ESP_IPV4_HDR_LEN);
	sa->sa_tmpl_len = ESP_IPV4_HDR_LEN;
	if (sa->sa_encap) {
		wr16(h + 20, sport);
		wr16(h + 22, dport);
		/* UDP checksum 0: allowed for IPv4 and what RFC 3948 3.1.1 uses */
		sa->sa_tmpl_len += ESP_UDP_HDR_LEN;
	}
}

static bool
cipher_setup(struct esp_sa *sa, const struct esp_sa_config *cfg)
{
	const char *name;
	size_t aes_len = cfg->cfg_encr_key_len;
	int enc = cfg->cfg_dir == ESP_DIR_OUT;

	if (sa->sa_encr == ESP_ENCR_AES_GCM16) {
		aes_len -= ESP_GCM_SALT_LEN;
		name = aes_len == 16 ? "AES-128-GCM" : "AES-256-GCM";
	} else {
		name = aes_len == 16 ? "AES-128-CBC" : "AES-256-CBC";
	}
	sa->sa_cipher_alg = EVP_CIPHER_fetch(NULL, name, NULL);
	if (sa->sa_cipher_alg == NULL)
		return false;
	if (sa->sa_encr == ESP_ENCR_AES_GCM16) {
		memcpy(sa->sa_salt, cfg->cfg_encr_key + aes_len, ESP_GCM_SALT_LEN);
		return esp_gcm_init(&sa->sa_gcm, sa->sa_cipher_alg, cfg->cfg_encr_key, aes_len,
			enc, true);
	} else {
		static const uint8_t zero_iv[ESP_CBC_IV_LEN];

		sa->sa_cipher = EVP_CIPHER_CTX_new();
		if (sa->sa_cipher == NULL)
			return false;
		/* Keyed once with a zero chaining value; packets bring their IVs
		 * through sa_cbc_chain (esp_internal.h). */
		if (!EVP_CipherInit_ex2(sa->sa_cipher, sa->sa_cipher_alg, cfg->cfg_encr_key,
		    zero_iv, enc, NULL))
			return false;
		memset(sa->sa_cbc_chain, 0, sizeof(sa->sa_cbc_chain));
		/* ESP pads itself (RFC 4303 2.4); the cipher must not. */
		if (!EVP_CIPHER_CTX_set_padding(sa->sa_cipher, 0))
			return false;
	}
	return true;
}

void
esp_sa_cbc_rechain(struct esp_sa *sa)
{
	static const uint8_t zero_iv[ESP_CBC_IV_LEN];

	memset(sa->sa_cbc_chain, 0, sizeof(sa->sa_cbc_chain));
	/* If even this fails, the next packet's update fails too and comes
	 * back here: every packet is then a crypto-error drop, none wrong. */
	(void)EVP_CipherInit_ex2(sa->sa_cipher, NULL, NULL, zero_iv, -1, NULL);
}

struct esp_sa *
esp_sa_new(const struct esp_sa_config *cfg)
{
	struct esp_sa *sa;

	if (!config_valid(cfg))
		return NULL;
	sa = calloc(1, sizeof(*sa));
	if (sa == NULL)
		return NULL;
	sa->sa_spi = cfg->cfg_spi;
	sa->sa_dir = cfg->cfg_dir;
	sa->sa_encr = cfg->cfg_encr;
	sa->sa_integ = cfg->cfg_integ;
	sa->sa_encap = cfg->cfg_encap_sport != 0;
	if (sa->sa_encr == ESP_ENCR_AES_GCM16) {
		sa->sa_iv_len = ESP_GCM_IV_LEN;
		sa->sa_icv_len = ESP_GCM_ICV_LEN;
		sa->sa_align = 4;
	} else {
		sa->sa_iv_len = ESP_CBC_IV_LEN;
		sa->sa_icv_len = integ_descs[sa->sa_integ].icv_len;
		sa->sa_align = 16;
	}
	sa->sa_seq_soft = cfg->cfg_seq_soft_limit ? cfg->cfg_seq_soft_limit
						  : ESP_SEQ_SOFT_DEFAULT;
	replay_init(&sa->sa_replay, cfg->cfg_replay_window);
	template_build(sa, cfg->cfg_outer_src, cfg->cfg_outer_dst, cfg->cfg_encap_sport,
		cfg->cfg_encap_dport);

	if (!cipher_setup(sa, cfg))
		goto err;
	if (sa->sa_integ != ESP_INTEG_NONE &&
	    !esp_hmac_init(&sa->sa_hmac, sa->sa_integ, cfg->cfg_integ_key,
		cfg->cfg_integ_key_len))
		goto err;
	log_debug("esp", "SA spi 0x%08x %s created", sa->sa_spi,
		sa->sa_dir == ESP_DIR_IN ? "in" : "out");
	return sa;
err:
	log_error("esp", "SA spi 0x%08x: OpenSSL refused the cipher or MAC", cfg->cfg_spi);
	esp_sa_free(sa);
	return NULL;
}

void
esp_sa_free(struct esp_sa *sa)
{
	if (sa == NULL)
		return;
	/* The cipher context cleanses its key schedule when freed; the salt,
	 * the HMAC states and the CBC chaining value go with the wipe. */
	EVP_CIPHER_CTX_free(sa->sa_cipher);
	esp_gcm_free(&sa->sa_gcm);
	EVP_CIPHER_free(sa->sa_cipher_alg);
	secret_wipe(sa, sizeof(*sa));
	free(sa);
}

uint32_t
esp_sa_spi(const struct esp_sa *sa)
{
	return sa->sa_spi;
}

enum esp_dir
esp_sa_dir(const struct esp_sa *sa)
{
	return sa->sa_dir;
}

const struct esp_sa_stats *
esp_sa_stats(const struct esp_sa *sa)
{
	return &sa->sa_stats;
}

uint32_t
esp_sa_seq(const struct esp_sa *sa)
{
	return sa->sa_dir == ESP_DIR_OUT ? sa->sa_seq : sa->sa_replay.rw_highest;
}

enum esp_rekey
esp_sa_rekey_state(const struct esp_sa *sa)
{
	uint32_t seq = esp_sa_seq(sa);

	if (sa->sa_dir == ESP_DIR_OUT && seq >= ESP_SEQ_LAST)
		return ESP_REKEY_HARD;
	if (seq >= sa->sa_seq_soft)
		return ESP_REKEY_SOFT;
	return ESP_REKEY_NONE;
}

uint32_t
esp_sa_inner_mtu(const struct esp_sa *sa, uint32_t outer_mtu)
{
	uint32_t fixed = sa->sa_tmpl_len + ESP_HDR_LEN + sa->sa_iv_len + sa->sa_icv_len;
	uint32_t room;

	if (outer_mtu <= fixed + sa->sa_align)
		return 0;
	/* The encrypted part is a multiple of sa_align and holds the inner
	 * packet plus the 2-byte trailer. */
	room = (outer_mtu - fixed) / sa->sa_align * sa->sa_align;
	return room - ESP_TRAILER_LEN;
}

int
esp_sa_update_peer(struct esp_sa *sa, uint32_t outer_dst, uint16_t encap_dport)
{
	if (sa->sa_dir != ESP_DIR_OUT || sa->sa_encap != (encap_dport != 0))
		return -1;
	template_build(sa, rd32(sa->sa_tmpl + 12), outer_dst,
		sa->sa_encap ? rd16(sa->sa_tmpl + 20) : 0, encap_dport);
	log_info("esp", "SA spi 0x%08x: peer now %u.%u.%u.%u port %u", sa->sa_spi,
		outer_dst >> 24, (outer_dst >> 16) & 0xff, (outer_dst >> 8) & 0xff,
		outer_dst & 0xff, encap_dport);
	return 0;
}

void
esp_sa_test_fix_iv(struct esp_sa *sa, const uint8_t iv[ESP_CBC_IV_LEN])
{
	sa->sa_test_fixed_iv = true;
	memcpy(sa->sa_test_iv, iv, ESP_CBC_IV_LEN);
}

void
esp_sa_test_set_seq(struct esp_sa *sa, uint32_t seq)
{
	sa->sa_seq = seq;
}
