/*
 * esp_decrypt — inbound ESP, tunnel mode (RFC 4303 3.4), on batches.
 *
 * Per packet, strictly in this order (strongSwan's esp_context.h order):
 *   1. exact length checks, one per property, before any byte is trusted;
 *   2. SPI -> SA (cached across a run of packets with the same SPI);
 *   3. replay_check(): read-only, so a forgery cannot move the window;
 *   4. ICV: HMAC compared with ct_equal() before decrypting (CBC), or the
 *      GCM tag checked by EVP_DecryptFinal;
 *   5. only now replay_advance();
 *   6. decrypt (CBC; GCM already did), then padding, next header and inner
 *      IPv4 checks.
 * Failures leave through one label per cause, each bumping its own counter.
 * Decryption is in place (on success the inner packet is where the
 * ciphertext was) or, with esp_decrypt_batch_to, into a buffer the caller
 * names per packet (e.g. the slot the packet leaves in: no copy after).
 * Never allocates, never logs (counters say why).
 */
#include "vpn/esp/esp_internal.h"
#include "base/csum.h"
#include "base/base.h"

#include <string.h>

/* out: where the plaintext goes (room for pkt->len bytes), NULL: in place. */
static enum esp_status
decrypt_one(struct esp_sa *sa, struct esp_pkt *pkt, uint8_t *out)
{
	uint8_t *esp = pkt->buf + pkt->off;
	uint32_t len = pkt->len;
	uint32_t body_off = ESP_HDR_LEN + sa->sa_iv_len;
	uint32_t ct_len, inner_len, ip_len, seq, pad;
	uint8_t *ct, *icv, next_header;
	int outl;

	/* Header, IV, one aligned unit of ciphertext (a CBC block, or 4 GCM
	 * bytes holding at least the trailer) and the ICV must all be there. */
	if (len < body_off + sa->sa_align + sa->sa_icv_len)
		goto bad_length;
	ct_len = len - body_off - sa->sa_icv_len;
	/* The sender pads the ciphertext to the cipher's alignment (RFC 4303
	 * 2.4: a block for CBC, 4 bytes for GCM); anything else is forged. */
	if (ct_len % sa->sa_align)
		goto bad_length;
	ct = esp + body_off;
	icv = ct + ct_len;
	seq = rd32(esp + 4);
	if (out == NULL)
		out = ct;

	if (replay_check(&sa->sa_replay, seq) != REPLAY_OK)
		goto replayed;

	if (sa->sa_encr == ESP_ENCR_AES_GCM16) {
		uint8_t nonce[ESP_GCM_NONCE_LEN];
		int verified;

		memcpy(nonce, sa->sa_salt, ESP_GCM_SALT_LEN);
		memcpy(nonce + ESP_GCM_SALT_LEN, esp + ESP_HDR_LEN, ESP_GCM_IV_LEN);
		/* Constant-time tag comparison inside OpenSSL's GCM. */
		verified = esp_gcm_open(&sa->sa_gcm, nonce, esp, ESP_HDR_LEN, ct, out, ct_len, icv);
		if (verified < 0)
			goto crypto_error;
		if (verified == 0)
			goto auth_failed;
		if (!replay_advance(&sa->sa_replay, seq))
			goto replayed;
	} else {
		uint8_t mac[ESP_HMAC_MAX], last[ESP_CBC_IV_LEN];

		esp_hmac(&sa->sa_hmac, esp, body_off + ct_len, mac);
		if (!ct_equal(mac, icv, sa->sa_icv_len))
			goto auth_failed;
		if (!replay_advance(&sa->sa_replay, seq))
			goto replayed;
		/* The context is never re-initialised (esp_internal.h): it
		 * decrypts the first block with its chaining value, the last
		 * ciphertext block it saw, so XOR that back out and the IV in.
		 * Keep this packet's last block: in place, it is overwritten. */
		memcpy(last, ct + ct_len - ESP_CBC_IV_LEN, ESP_CBC_IV_LEN);
		if (!EVP_DecryptUpdate(sa->sa_cipher, out, &outl, ct, (int)ct_len) ||
		    (uint32_t)outl != ct_len) {
			esp_sa_cbc_rechain(sa);
			goto crypto_error;
		}
		esp_xor_block(out, sa->sa_cbc_chain, esp + ESP_HDR_LEN);
		memcpy(sa->sa_cbc_chain, last, ESP_CBC_IV_LEN);
	}
	ct = out;	/* the plaintext from here on */

	next_header = ct[ct_len - 1];
	pad = ct[ct_len - 2];
	/* The padding and its 2-byte trailer must fit in the plaintext. */
	if (pad + ESP_TRAILER_LEN > ct_len)
		goto bad_padding;
	inner_len = ct_len - ESP_TRAILER_LEN - pad;
	/* Default padding is 1, 2, 3, ... (RFC 4303 2.4); check it all.
	 * Not constant time: the packet is authentic by now. */
	for (uint32_t i = 0; i < pad; i++)
		if (ct[inner_len + i] != (uint8_t)(i + 1))
			goto bad_padding;
	if (next_header == ESP_NEXT_HEADER_NONE)
		goto dummy_packet;
	if (next_header != ESP_NEXT_HEADER_IPV4)
		goto bad_inner;
	/* An IPv4 header must fit; version 4 and a header length of >= 5. */
	if (inner_len < ESP_IPV4_HDR_LEN || ct[0] >> 4 != 4 || (ct[0] & 0xf) < 5)
		goto bad_inner;
	ip_len = rd16(ct + 2);
	/* Total length covers the header and fits in what was decrypted; any
	 * excess is TFC padding (RFC 4303 2.7) and is cut off. */
	if (ip_len < (uint32_t)(ct[0] & 0xf) * 4 || ip_len > inner_len)
		goto bad_inner;

	if (ct == esp + body_off) {
		pkt->off += body_off;
	} else {
		pkt->buf = ct;
		pkt->size = len;
		pkt->off = 0;
	}
	pkt->len = ip_len;
	sa->sa_stats.st_packets++;
	sa->sa_stats.st_bytes += ip_len;
	return ESP_OK;

bad_length:
	return ESP_E_BAD_LENGTH;
replayed:
	return ESP_E_REPLAY;
auth_failed:
	return ESP_E_AUTH;
bad_padding:
	return ESP_E_BAD_PADDING;
dummy_packet:
	return ESP_E_DUMMY;
bad_inner:
	return ESP_E_BAD_INNER;
crypto_error:
	return ESP_E_CRYPTO;
}

static void
account(struct esp_sa *sa, struct esp_pkt *pkt, enum esp_status st)
{
	pkt->status = (uint16_t)st;
	pkt->sa = st == ESP_OK ? sa : NULL;
	if (st != ESP_OK)
		sa->sa_stats.st_drops[st]++;
}

/* The packet must lie inside its buffer and hold at least SPI + SEQ. */
static bool
header_present(const struct esp_pkt *pkt)
{
	return pkt->off <= pkt->size && pkt->len <= pkt->size - pkt->off &&
	       pkt->len >= ESP_HDR_LEN;
}

unsigned
esp_decrypt_batch_sa(struct esp_sa *sa, struct esp_pkt *pkts, unsigned n)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++) {
		struct esp_pkt *pkt = &pkts[i];
		enum esp_status st;

		if (sa->sa_dir != ESP_DIR_IN)
			st = ESP_E_WRONG_DIR;
		else if (!header_present(pkt))
			st = ESP_E_BAD_LENGTH;
		else if (rd32(pkt->buf + pkt->off) != sa->sa_spi)
			st = ESP_E_UNKNOWN_SPI;
		else
			st = decrypt_one(sa, pkt, NULL);
		account(sa, pkt, st);
		ok += st == ESP_OK;
	}
	return ok;
}

unsigned
esp_decrypt_batch(struct esp_sa_table *t, struct esp_pkt *pkts, unsigned n)
{
	return esp_decrypt_batch_to(t, pkts, NULL, n);
}

unsigned
esp_decrypt_batch_to(struct esp_sa_table *t, struct esp_pkt *pkts, uint8_t *const *dst,
	unsigned n)
{
	struct esp_table_stats *ts = &t->tb_stats;
	struct esp_sa *sa = NULL;
	uint32_t cached_spi = 0;	/* 0 is never a valid SPI */
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++) {
		struct esp_pkt *pkt = &pkts[i];
		uint32_t spi;
		enum esp_status st;

		if (!header_present(pkt)) {
			ts->ts_drop_bad_length++;
			pkt->status = ESP_E_BAD_LENGTH;
			pkt->sa = NULL;
			continue;
		}
		spi = rd32(pkt->buf + pkt->off);
		if (spi != cached_spi || sa == NULL) {
			sa = esp_sa_table_lookup(t, spi);
			cached_spi = spi;
		}
		if (sa == NULL) {
			ts->ts_drop_unknown_spi++;
			pkt->status = ESP_E_UNKNOWN_SPI;
			pkt->sa = NULL;
			continue;
		}
		st = decrypt_one(sa, pkt, dst ? dst[i] : NULL);
		account(sa, pkt, st);
		ok += st == ESP_OK;
	}
	return ok;
}
