/*
 * fuzz_esp — fuzz target for the ESP receive path: outer framing, the
 * decapsulation parser (lengths, SPI, replay, ICV) and, through authentic
 * packets built from the input, everything after the ICV (padding, next
 * header, inner IPv4) and the inner-packet helpers.
 *
 * Input: byte 0 chooses the mode, the rest is the material.
 *   mode % 3 == 0: the rest is an ESP packet starting at the SPI;
 *   mode % 3 == 1: the rest is an outer IPv4 datagram (esp_outer_parse);
 *   mode % 3 == 2: the rest is the *plaintext* of an authentic AES-GCM ESP
 *                  packet (trailer included, unpadded), sealed here with
 *                  OpenSSL so that the checks after the ICV are reached.
 * (mode / 3) % 2 == 1: decrypted out of place (esp_decrypt_batch_to) into a
 * buffer of exactly the packet's length, as the endpoint does into a ring
 * slot; else in place. Whatever decrypts is run through the inner.h helpers.
 *
 * Built two ways (tests/vpn/esp/meson.build): with fuzz_replay.c as an
 * ordinary program (gcc, a unit test that replays seeds and mutations), and
 * under clang as a libFuzzer target:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     tests/vpn/esp/fuzz_esp.c src/vpn/esp/ *.c src/base/base.c -lcrypto
 */
#include "vpn/esp/esp.h"
#include "vpn/esp/esp_internal.h"
#include "vpn/esp/inner.h"
#include "base/csum.h"
#include "base/base.h"
#include "fuzz_esp.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_BUF	(ESP_HEADROOM + 70000 + ESP_TAILROOM)

static const uint8_t fuzz_encr_key[36] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98,
	0x76, 0x54, 0x32, 0x10, 0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
	0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0, 0xca, 0xfe, 0xba, 0xbe,
};
static const uint8_t fuzz_integ_key[64] = { 0x42 };

static const struct esp_sa_config fuzz_sas[FUZZ_SA_COUNT] = {
	{ .cfg_spi = FUZZ_SPI_GCM, .cfg_encr = ESP_ENCR_AES_GCM16, .cfg_integ = ESP_INTEG_NONE,
	  .cfg_encr_key = fuzz_encr_key, .cfg_encr_key_len = 20, .cfg_replay_window = 64 },
	{ .cfg_spi = FUZZ_SPI_CBC_SHA1, .cfg_encr = ESP_ENCR_AES_CBC,
	  .cfg_integ = ESP_INTEG_HMAC_SHA1_96, .cfg_encr_key = fuzz_encr_key,
	  .cfg_encr_key_len = 16, .cfg_integ_key = fuzz_integ_key, .cfg_integ_key_len = 20,
	  .cfg_replay_window = 128 },
	{ .cfg_spi = FUZZ_SPI_CBC_SHA256, .cfg_encr = ESP_ENCR_AES_CBC,
	  .cfg_integ = ESP_INTEG_HMAC_SHA2_256_128, .cfg_encr_key = fuzz_encr_key,
	  .cfg_encr_key_len = 32, .cfg_integ_key = fuzz_integ_key, .cfg_integ_key_len = 32,
	  .cfg_replay_window = 2048 },
};

unsigned fuzz_esp_decrypted;

static struct esp_sa_table *table;
static struct esp_sa *in_sas[FUZZ_SA_COUNT];
static uint8_t *buf;
static EVP_CIPHER_CTX *sealer;

static void
fuzz_cleanup(void)
{
	esp_sa_table_free(table);
	for (unsigned i = 0; i < FUZZ_SA_COUNT; i++)
		esp_sa_free(in_sas[i]);
	EVP_CIPHER_CTX_free(sealer);
	free(buf);
}

static void
fuzz_init(void)
{
	log_set_level(LOG_ERROR);
	table = esp_sa_table_new(8);
	buf = malloc(FUZZ_BUF);
	sealer = EVP_CIPHER_CTX_new();
	if (table == NULL || buf == NULL || sealer == NULL)
		abort();
	for (unsigned i = 0; i < FUZZ_SA_COUNT; i++) {
		struct esp_sa_config cfg = fuzz_sas[i];

		cfg.cfg_dir = ESP_DIR_IN;
		in_sas[i] = esp_sa_new(&cfg);
		if (in_sas[i] == NULL || esp_sa_table_insert(table, in_sas[i]) != 0)
			abort();
	}
	atexit(fuzz_cleanup);
}

struct esp_sa *
fuzz_esp_outbound(unsigned which)
{
	struct esp_sa_config cfg = fuzz_sas[which];

	cfg.cfg_dir = ESP_DIR_OUT;
	return esp_sa_new(&cfg);
}

/* An authentic GCM packet (SPI FUZZ_SPI_GCM, seq 1) around plaintext pt. */
static uint32_t
seal_gcm(uint8_t *out, const uint8_t *pt, uint32_t pt_len)
{
	uint8_t nonce[12];
	int outl;

	wr32(out, FUZZ_SPI_GCM);
	wr32(out + 4, 1);
	memset(out + 8, 0, 7);
	out[15] = 1;
	memcpy(nonce, fuzz_encr_key + 16, 4);
	memcpy(nonce + 4, out + 8, 8);
	if (!EVP_EncryptInit_ex2(sealer, EVP_aes_128_gcm(), fuzz_encr_key, nonce, NULL) ||
	    !EVP_EncryptUpdate(sealer, NULL, &outl, out, 8) ||
	    !EVP_EncryptUpdate(sealer, out + 16, &outl, pt, (int)pt_len) ||
	    !EVP_EncryptFinal_ex(sealer, out + 16 + outl, &outl) ||
	    !EVP_CIPHER_CTX_ctrl(sealer, EVP_CTRL_AEAD_GET_TAG, 16, out + 16 + pt_len))
		abort();
	return 16 + pt_len + 16;
}

static void
exercise_inner(struct esp_pkt *pkt)
{
	static struct esp_pkt more[8];
	static uint8_t frag_bufs[8][1600];
	uint8_t *p = pkt->buf + pkt->off;

	inner_clamp_mss(p, pkt->len, 1387);
	inner_clear_df(p, pkt->len);
	/* answer as the packet's destination, so that echo requests match */
	inner_icmp_echo_reply(p, pkt->len, pkt->len >= 20 ? rd32(p + 16) : 0);
	for (unsigned i = 0; i < 8; i++) {
		more[i].buf = frag_bufs[i];
		more[i].size = sizeof(frag_bufs[i]);
		more[i].off = ESP_HEADROOM;
	}
	inner_fragment(pkt, 576, more, 8);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct esp_pkt pkt = { 0 };
	struct esp_outer outer;
	uint32_t len;

	if (table == NULL)
		fuzz_init();
	if (size < 1 || size > 65536)
		return 0;
	/* A fresh window per input: each run stands alone. */
	for (unsigned i = 0; i < FUZZ_SA_COUNT; i++)
		replay_init(&in_sas[i]->sa_replay, in_sas[i]->sa_replay.rw_size);

	switch (data[0] % 3) {
	case 0:
		len = (uint32_t)size - 1;
		memcpy(buf, data + 1, len);
		break;
	case 1:
		if (esp_outer_parse(data + 1, (uint32_t)size - 1, &outer) != 0)
			return 0;
		len = outer.out_esp_len;
		memcpy(buf, data + 1 + outer.out_esp_off, len);
		break;
	default:
		len = seal_gcm(buf, data + 1, (uint32_t)size - 1);
		break;
	}
	/* Exactly the bytes we have: ASan sees any read past them. */
	pkt.buf = buf;
	pkt.size = len;
	pkt.len = len;
	/* In place, or (the next bit of the first byte) out of place into a
	 * buffer of exactly len bytes, as the endpoint decrypts into a ring
	 * slot: ASan sees any write past it. */
	uint8_t *out = (data[0] / 3) % 2 ? malloc(len ? len : 1) : NULL;
	if (esp_decrypt_batch_to(table, &pkt, &out, 1) == 1) {
		/* the inner packet lies within the buffer it was written to */
		if (out ? pkt.buf != out || pkt.off != 0 || pkt.size != len || pkt.len > len :
			  pkt.off + pkt.len > len)
			abort();
		fuzz_esp_decrypted++;
		exercise_inner(&pkt);
	}
	free(out);
	return 0;
}
