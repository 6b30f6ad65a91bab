/*
 * Tests for src/vpn/esp: SA creation, batch encrypt/decrypt round trips for
 * every suite, known-answer packets, tampering, truncation, replay,
 * sequence-number exhaustion, the SA table and the outer framing helpers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "vpn/esp/esp.h"
#include "vpn/esp/esp_internal.h"
#include "base/csum.h"
#include "vpn/esp/inner.h"
#include "base/base.h"

#define BUF_SIZE	(ESP_HEADROOM + 65535 + ESP_TAILROOM)

/* Known-answer vectors: printed by tests/vpn/esp/kat_gen.py, which computes
 * them with a pure-Python AES (checked against FIPS-197 C.1), a pure-Python
 * GCM (checked against the GCM spec's test case 4), hashlib's HMAC-SHA1,
 * and cross-checks the CBC part with `openssl enc -aes-128-cbc -nopad`.
 * kat_inner is an 84-byte ICMP echo request 10.96.0.10 -> 10.0.0.5. */
static const uint8_t kat_inner[84] = {
	0x45, 0x00, 0x00, 0x54, 0xbe, 0xef, 0x40, 0x00, 0x3f, 0x01, 0x68, 0x4b,
	0x0a, 0x60, 0x00, 0x0a, 0x0a, 0x00, 0x00, 0x05, 0x08, 0x00, 0x2c, 0xf6,
	0x12, 0x34, 0x00, 0x01, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23,
	0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
	0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b,
	0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
};
static const uint8_t kat_gcm_esp[120] = {
	0x00, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x03, 0x71, 0x1c, 0xa6, 0xd2, 0x6b, 0x37, 0x50,
	0xb8, 0x6d, 0x2e, 0x5c, 0xd1, 0x64, 0x94, 0x6c, 0x1b, 0xf2, 0x19, 0x86,
	0x9e, 0xf5, 0xac, 0x54, 0x7f, 0xc5, 0x8b, 0x11, 0x0c, 0xb7, 0x4d, 0x01,
	0xff, 0xee, 0xd8, 0xbc, 0x3d, 0x28, 0x8a, 0xcc, 0x2c, 0x17, 0xfa, 0xa7,
	0xef, 0x0d, 0x9d, 0x37, 0x96, 0x77, 0xcb, 0xf1, 0x29, 0x69, 0xd3, 0xec,
	0xf4, 0x0f, 0xef, 0x3c, 0x92, 0x69, 0xae, 0x03, 0x17, 0xf8, 0x79, 0xe7,
	0x1e, 0xe3, 0xfb, 0x5d, 0xfc, 0xa3, 0x4a, 0x87, 0x59, 0x59, 0x4a, 0x3b,
	0x9b, 0xd6, 0x41, 0xbc, 0x95, 0x39, 0x41, 0x8b, 0x94, 0xe7, 0x68, 0x26,
	0xf0, 0xd9, 0x83, 0x53, 0xf3, 0xf7, 0x24, 0x87, 0x1c, 0xc8, 0xe8, 0x4f,
};
static const uint8_t kat_cbc_sha1_esp[132] = {
	0x00, 0x00, 0xc0, 0x02, 0x00, 0x00, 0x00, 0x01, 0x40, 0x41, 0x42, 0x43,
	0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f,
	0xce, 0xef, 0x19, 0x0d, 0x78, 0xf9, 0xcc, 0xff, 0xb5, 0x71, 0x19, 0x09,
	0xf0, 0xaf, 0x57, 0xb1, 0x81, 0x29, 0x40, 0xed, 0xec, 0x1d, 0xf9, 0x5e,
	0xe0, 0x10, 0x19, 0x5b, 0x97, 0xb8, 0x8a, 0x83, 0x43, 0x85, 0xc0, 0xa4,
	0x77, 0xd8, 0x07, 0x05, 0x41, 0xc7, 0x25, 0x5b, 0x9d, 0xeb, 0xdb, 0xa5,
	0xf6, 0x98, 0x70, 0x22, 0xde, 0x61, 0x33, 0xf0, 0x9a, 0x5e, 0x11, 0x7d,
	0x8b, 0xd9, 0x1d, 0xa5, 0x83, 0x6a, 0xb9, 0xd1, 0xf1, 0xc8, 0x25, 0x2b,
	0x39, 0x1a, 0x42, 0x69, 0x5c, 0xc6, 0xbe, 0x2e, 0xf3, 0x4b, 0x8a, 0x95,
	0x91, 0x2e, 0x80, 0x4f, 0xeb, 0x37, 0x5f, 0x97, 0x98, 0xd9, 0x5c, 0x4e,
	0x1d, 0x50, 0x69, 0xa1, 0x3e, 0x50, 0xa8, 0xc4, 0xbe, 0xe2, 0x73, 0xaa,
};

struct suite {
	const char	*name;
	enum esp_encr	encr;
	enum esp_integ	integ;
	size_t		encr_key_len;
	size_t		integ_key_len;
};

static const struct suite suites[] = {
	{ "aes128-sha1",   ESP_ENCR_AES_CBC, ESP_INTEG_HMAC_SHA1_96,      16, 20 },
	{ "aes256-sha1",   ESP_ENCR_AES_CBC, ESP_INTEG_HMAC_SHA1_96,      32, 20 },
	{ "aes128-sha256", ESP_ENCR_AES_CBC, ESP_INTEG_HMAC_SHA2_256_128, 16, 32 },
	{ "aes256-sha256", ESP_ENCR_AES_CBC, ESP_INTEG_HMAC_SHA2_256_128, 32, 32 },
	{ "aes128-sha384", ESP_ENCR_AES_CBC, ESP_INTEG_HMAC_SHA2_384_192, 16, 48 },
	{ "aes256-sha384", ESP_ENCR_AES_CBC, ESP_INTEG_HMAC_SHA2_384_192, 32, 48 },
	{ "aes128-sha512", ESP_ENCR_AES_CBC, ESP_INTEG_HMAC_SHA2_512_256, 16, 64 },
	{ "aes256-sha512", ESP_ENCR_AES_CBC, ESP_INTEG_HMAC_SHA2_512_256, 32, 64 },
	{ "aes128gcm16",   ESP_ENCR_AES_GCM16, ESP_INTEG_NONE,            20, 0 },
	{ "aes256gcm16",   ESP_ENCR_AES_GCM16, ESP_INTEG_NONE,            36, 0 },
};

static uint8_t encr_key[36], integ_key[64];

/* The same keys for both directions, as a pair of peers would hold them. */
static struct esp_sa *
sa_make(const struct suite *su, enum esp_dir dir, uint32_t spi, uint16_t encap)
{
	struct esp_sa_config cfg = {
		.cfg_spi = spi,
		.cfg_dir = dir,
		.cfg_encr = su->encr,
		.cfg_integ = su->integ,
		.cfg_encr_key = encr_key,
		.cfg_encr_key_len = su->encr_key_len,
		.cfg_integ_key = integ_key,
		.cfg_integ_key_len = su->integ_key_len,
		.cfg_replay_window = 64,
		.cfg_encap_sport = encap,
		.cfg_encap_dport = encap,
		.cfg_outer_src = 0xc6336402,	/* 198.51.100.2 */
		.cfg_outer_dst = 0xcb007101,	/* 203.0.113.1 */
	};
	struct esp_sa *sa = esp_sa_new(&cfg);

	assert_non_null(sa);
	return sa;
}

/* A valid IPv4/UDP packet of len bytes (>= 28) with a payload from seed. */
static void
inner_make(uint8_t *p, uint32_t len, uint32_t seed)
{
	memset(p, 0, 28);
	p[0] = 0x45;
	p[1] = (uint8_t)(seed & 0xfc);
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

static void
pkt_load(struct esp_pkt *pkt, uint8_t *buf, const uint8_t *data, uint32_t len, uint32_t off)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->buf = buf;
	pkt->size = BUF_SIZE;
	pkt->off = off;
	pkt->len = len;
	memcpy(buf + off, data, len);
}

static uint8_t *
pkt_data(const struct esp_pkt *pkt)
{
	return pkt->buf + pkt->off;
}

static int
setup(void **state)
{
	(void)state;
	for (unsigned i = 0; i < sizeof(encr_key); i++)
		encr_key[i] = (uint8_t)(0x80 + i);
	for (unsigned i = 0; i < sizeof(integ_key); i++)
		integ_key[i] = (uint8_t)(0xc0 ^ i);
	return 0;
}

/* ---------------------------------------------------------------- */

static void
test_config_refused(void **state)
{
	struct esp_sa_config cfg = {
		.cfg_spi = 0x1000, .cfg_dir = ESP_DIR_OUT, .cfg_encr = ESP_ENCR_AES_CBC,
		.cfg_integ = ESP_INTEG_HMAC_SHA1_96, .cfg_encr_key = encr_key,
		.cfg_encr_key_len = 16, .cfg_integ_key = integ_key, .cfg_integ_key_len = 20,
	};
	struct esp_sa_config bad;
	struct esp_sa *sa;

	(void)state;
	log_set_level(LOG_ERROR);
	sa = esp_sa_new(&cfg);
	assert_non_null(sa);
	esp_sa_free(sa);

	bad = cfg; bad.cfg_spi = 200;
	assert_null(esp_sa_new(&bad));
	bad = cfg; bad.cfg_encr_key_len = 24;
	assert_null(esp_sa_new(&bad));
	bad = cfg; bad.cfg_integ = ESP_INTEG_NONE;
	assert_null(esp_sa_new(&bad));
	bad = cfg; bad.cfg_integ_key_len = 32;
	assert_null(esp_sa_new(&bad));
	bad = cfg; bad.cfg_encr = ESP_ENCR_AES_GCM16;	/* GCM with an integ */
	assert_null(esp_sa_new(&bad));
	bad = cfg; bad.cfg_encr = ESP_ENCR_AES_GCM16; bad.cfg_integ = ESP_INTEG_NONE;
	assert_null(esp_sa_new(&bad));			/* no room for the salt */
	bad = cfg; bad.cfg_dir = ESP_DIR_IN; bad.cfg_replay_window = 4096;
	assert_null(esp_sa_new(&bad));
	bad = cfg; bad.cfg_encap_sport = 4500;		/* only one port */
	assert_null(esp_sa_new(&bad));
	esp_sa_free(NULL);
	log_set_level(LOG_INFO);
}

/* Encrypt a batch of packets of many sizes, decrypt through the table,
 * compare; both frames, with and without UDP encapsulation. */
static void
round_trip(const struct suite *su, uint16_t encap, enum esp_frame frame)
{
	static const uint32_t sizes[] = { 20, 21, 28, 29, 31, 32, 33, 84, 100, 576,
		1387, 1400, 1436, 1500, 9000, 65535 - 128 };
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	struct esp_sa *out = sa_make(su, ESP_DIR_OUT, 0x1000 + su->encr, encap);
	struct esp_sa *in = sa_make(su, ESP_DIR_IN, 0x1000 + su->encr, encap);
	struct esp_sa_table *t = esp_sa_table_new(16);
	struct esp_pkt pkts[N];
	uint8_t *bufs[N], *orig[N];
	uint64_t bytes = 0;

	assert_non_null(t);
	assert_int_equal(esp_sa_table_insert(t, in), 0);
	for (unsigned i = 0; i < N; i++) {
		bufs[i] = malloc(BUF_SIZE);
		orig[i] = malloc(sizes[i] < 28 ? 28 : sizes[i]);
		assert_non_null(bufs[i]);
		assert_non_null(orig[i]);
		inner_make(orig[i], sizes[i] < 28 ? 28 : sizes[i], i);
		if (sizes[i] < 28)	/* shorter: an IPv4 header and a few bytes */
			wr16(orig[i] + 2, (uint16_t)sizes[i]);
		pkt_load(&pkts[i], bufs[i], orig[i], sizes[i], ESP_HEADROOM);
		bytes += sizes[i];
	}

	assert_int_equal(esp_encrypt_batch(out, pkts, N, frame), N);
	for (unsigned i = 0; i < N; i++) {
		uint32_t hdr = frame == ESP_FRAME_IPV4 ? (encap ? 28 : 20) : 0;
		uint32_t iv = su->encr == ESP_ENCR_AES_GCM16 ? 8 : 16;

		assert_int_equal(pkts[i].status, ESP_OK);
		assert_true(pkts[i].len > sizes[i] + hdr + 8 + iv);
		assert_int_equal((pkts[i].len - hdr - 8 - iv) % 4, 0);
		assert_int_equal(rd32(pkt_data(&pkts[i]) + hdr), esp_sa_spi(out));
		assert_int_equal(rd32(pkt_data(&pkts[i]) + hdr + 4), i + 1);
		if (frame == ESP_FRAME_IPV4) {
			struct esp_outer o;
			const uint8_t *h = pkt_data(&pkts[i]);

			/* a valid outer header, verified from scratch */
			assert_int_equal(csum_fold(csum_add_bytes(0, h, 20)), 0xffff);
			assert_int_equal(rd16(h + 2), pkts[i].len);
			assert_int_equal(h[1], orig[i][1]);	/* TOS copied */
			assert_int_equal(h[9], encap ? 17 : 50);
			assert_int_equal(esp_outer_parse(h, pkts[i].len, &o), 0);
			assert_int_equal(o.out_src, 0xc6336402);
			assert_int_equal(o.out_dst, 0xcb007101);
			assert_int_equal(o.out_sport, encap);
			assert_int_equal(o.out_esp_off, hdr);
			if (encap)
				assert_int_equal(rd16(h + 24), pkts[i].len - 20);
			pkts[i].off += o.out_esp_off;
			pkts[i].len = o.out_esp_len;
		}
	}

	assert_int_equal(esp_decrypt_batch(t, pkts, N), N);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(pkts[i].status, ESP_OK);
		assert_ptr_equal(pkts[i].sa, in);
		assert_int_equal(pkts[i].len, sizes[i]);
		assert_memory_equal(pkt_data(&pkts[i]), orig[i], sizes[i]);
		free(bufs[i]);
		free(orig[i]);
	}
	assert_int_equal(esp_sa_stats(out)->st_packets, N);
	assert_int_equal(esp_sa_stats(in)->st_packets, N);
	assert_int_equal(esp_sa_stats(out)->st_bytes, bytes);
	assert_int_equal(esp_sa_stats(in)->st_bytes, bytes);
	assert_int_equal(esp_sa_seq(in), N);
	esp_sa_table_free(t);
	esp_sa_free(in);
	esp_sa_free(out);
}

static void
test_round_trip_all_suites(void **state)
{
	(void)state;
	for (unsigned i = 0; i < ARRAY_LEN(suites); i++) {
		round_trip(&suites[i], 0, ESP_FRAME_ESP);
		round_trip(&suites[i], 0, ESP_FRAME_IPV4);
		round_trip(&suites[i], 4500, ESP_FRAME_IPV4);
		round_trip(&suites[i], 4500, ESP_FRAME_ESP);
	}
}

/* esp_decrypt_batch_to: plaintext where the caller says (the ciphertext
 * left as it was), in place where it says NULL; a forged packet with a
 * destination fails as in place (AUTH, window unmoved, pkt not moved). */
static void
test_decrypt_to(void **state)
{
	static const uint32_t sizes[3] = { 100, 1400, 60 };
	(void)state;
	for (unsigned s = 0; s < ARRAY_LEN(suites); s++) {
		struct esp_sa *out = sa_make(&suites[s], ESP_DIR_OUT, 0x3000 + s, 0);
		struct esp_sa *in = sa_make(&suites[s], ESP_DIR_IN, 0x3000 + s, 0);
		struct esp_sa_table *t = esp_sa_table_new(16);
		static uint8_t bufs[3][BUF_SIZE], orig[3][1400], ct[3][BUF_SIZE], dst[3][BUF_SIZE];
		struct esp_pkt pkts[3];

		assert_non_null(t);
		assert_int_equal(esp_sa_table_insert(t, in), 0);
		for (unsigned i = 0; i < 3; i++) {
			inner_make(orig[i], sizes[i], i);
			pkt_load(&pkts[i], bufs[i], orig[i], sizes[i], ESP_HEADROOM);
		}
		assert_int_equal(esp_encrypt_batch(out, pkts, 3, ESP_FRAME_ESP), 3);
		pkt_data(&pkts[2])[pkts[2].len - 1] ^= 1;	/* its ICV */
		uint32_t ct_len[3], ct_off[3];
		for (unsigned i = 0; i < 3; i++) {
			ct_len[i] = pkts[i].len;
			ct_off[i] = pkts[i].off;
			memcpy(ct[i], pkt_data(&pkts[i]), ct_len[i]);
		}
		uint8_t *to[3] = { dst[0], NULL, dst[2] };
		assert_int_equal(esp_decrypt_batch_to(t, pkts, to, 3), 2);
		assert_int_equal(pkts[0].status, ESP_OK);
		assert_ptr_equal(pkts[0].buf, dst[0]);
		assert_int_equal(pkts[0].off, 0);
		assert_int_equal(pkts[0].size, ct_len[0]);
		assert_int_equal(pkts[0].len, sizes[0]);
		assert_memory_equal(dst[0], orig[0], sizes[0]);
		assert_memory_equal(bufs[0] + ct_off[0], ct[0], ct_len[0]);	/* left alone */
		assert_int_equal(pkts[1].status, ESP_OK);
		assert_ptr_equal(pkts[1].buf, bufs[1]);
		assert_int_equal(pkts[1].len, sizes[1]);
		assert_memory_equal(pkt_data(&pkts[1]), orig[1], sizes[1]);
		assert_int_equal(pkts[2].status, ESP_E_AUTH);
		assert_ptr_equal(pkts[2].buf, bufs[2]);
		assert_memory_equal(pkt_data(&pkts[2]), ct[2], ct_len[2]);
		assert_int_equal(esp_sa_seq(in), 2);
		assert_int_equal(esp_sa_stats(in)->st_drops[ESP_E_AUTH], 1);
		esp_sa_table_free(t);
		esp_sa_free(in);
		esp_sa_free(out);
	}
}

/* CBC IVs are random per packet: the same plaintext twice differs. */
static void
test_cbc_iv_random(void **state)
{
	struct esp_sa *out = sa_make(&suites[0], ESP_DIR_OUT, 0x2000, 0);
	static uint8_t b1[BUF_SIZE], b2[BUF_SIZE];
	struct esp_pkt p[2];

	(void)state;
	pkt_load(&p[0], b1, kat_inner, sizeof(kat_inner), ESP_HEADROOM);
	pkt_load(&p[1], b2, kat_inner, sizeof(kat_inner), ESP_HEADROOM);
	assert_int_equal(esp_encrypt_batch(out, p, 2, ESP_FRAME_ESP), 2);
	assert_memory_not_equal(pkt_data(&p[0]) + 8, pkt_data(&p[1]) + 8, 16);
	esp_sa_free(out);
}

static void
test_kat_gcm(void **state)
{
	static const uint8_t key[20] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
		0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xa0, 0xa1, 0xa2, 0xa3 };
	struct esp_sa_config cfg = {
		.cfg_spi = 0xc001, .cfg_dir = ESP_DIR_OUT, .cfg_encr = ESP_ENCR_AES_GCM16,
		.cfg_integ = ESP_INTEG_NONE, .cfg_encr_key = key, .cfg_encr_key_len = 20,
		.cfg_replay_window = 64,
	};
	static uint8_t buf[BUF_SIZE];
	struct esp_pkt pkt;
	struct esp_sa *out, *in;

	(void)state;
	out = esp_sa_new(&cfg);
	cfg.cfg_dir = ESP_DIR_IN;
	in = esp_sa_new(&cfg);
	assert_non_null(out);
	assert_non_null(in);

	pkt_load(&pkt, buf, kat_inner, sizeof(kat_inner), ESP_HEADROOM);
	assert_int_equal(esp_encrypt_batch(out, &pkt, 1, ESP_FRAME_ESP), 1);
	assert_int_equal(pkt.len, sizeof(kat_gcm_esp));
	assert_memory_equal(pkt_data(&pkt), kat_gcm_esp, sizeof(kat_gcm_esp));

	pkt_load(&pkt, buf, kat_gcm_esp, sizeof(kat_gcm_esp), 0);
	assert_int_equal(esp_decrypt_batch_sa(in, &pkt, 1), 1);
	assert_int_equal(pkt.len, sizeof(kat_inner));
	assert_memory_equal(pkt_data(&pkt), kat_inner, sizeof(kat_inner));
	esp_sa_free(in);
	esp_sa_free(out);
}

static void
test_kat_cbc_sha1(void **state)
{
	uint8_t key[16], mkey[20], iv[16];
	struct esp_sa_config cfg = {
		.cfg_spi = 0xc002, .cfg_dir = ESP_DIR_OUT, .cfg_encr = ESP_ENCR_AES_CBC,
		.cfg_integ = ESP_INTEG_HMAC_SHA1_96, .cfg_encr_key = key,
		.cfg_encr_key_len = 16, .cfg_integ_key = mkey, .cfg_integ_key_len = 20,
		.cfg_replay_window = 64,
	};
	static uint8_t buf[BUF_SIZE];
	struct esp_pkt pkt;
	struct esp_sa *out, *in;

	(void)state;
	for (unsigned i = 0; i < 16; i++) {
		key[i] = (uint8_t)(0x10 + i);
		iv[i] = (uint8_t)(0x40 + i);
	}
	for (unsigned i = 0; i < 20; i++)
		mkey[i] = (uint8_t)(0x20 + i);
	out = esp_sa_new(&cfg);
	cfg.cfg_dir = ESP_DIR_IN;
	in = esp_sa_new(&cfg);
	assert_non_null(out);
	assert_non_null(in);
	esp_sa_test_fix_iv(out, iv);

	pkt_load(&pkt, buf, kat_inner, sizeof(kat_inner), ESP_HEADROOM);
	assert_int_equal(esp_encrypt_batch(out, &pkt, 1, ESP_FRAME_ESP), 1);
	assert_int_equal(pkt.len, sizeof(kat_cbc_sha1_esp));
	assert_memory_equal(pkt_data(&pkt), kat_cbc_sha1_esp, sizeof(kat_cbc_sha1_esp));

	pkt_load(&pkt, buf, kat_cbc_sha1_esp, sizeof(kat_cbc_sha1_esp), 0);
	assert_int_equal(esp_decrypt_batch_sa(in, &pkt, 1), 1);
	assert_int_equal(pkt.len, sizeof(kat_inner));
	assert_memory_equal(pkt_data(&pkt), kat_inner, sizeof(kat_inner));
	esp_sa_free(in);
	esp_sa_free(out);
}

/* One encrypted packet (ESP frame) of an 84-byte inner, into esp/len. */
static uint32_t
seal_one(struct esp_sa *out, uint8_t *esp)
{
	static uint8_t buf[BUF_SIZE];
	struct esp_pkt pkt;

	pkt_load(&pkt, buf, kat_inner, sizeof(kat_inner), ESP_HEADROOM);
	assert_int_equal(esp_encrypt_batch(out, &pkt, 1, ESP_FRAME_ESP), 1);
	memcpy(esp, pkt_data(&pkt), pkt.len);
	return pkt.len;
}

static enum esp_status
open_one(struct esp_sa *in, const uint8_t *esp, uint32_t len)
{
	static uint8_t buf[BUF_SIZE];
	struct esp_pkt pkt;

	pkt_load(&pkt, buf, esp, len, 0);
	esp_decrypt_batch_sa(in, &pkt, 1);
	if (pkt.status == ESP_OK) {
		assert_int_equal(pkt.len, sizeof(kat_inner));
		assert_memory_equal(pkt_data(&pkt), kat_inner, sizeof(kat_inner));
	}
	return pkt.status;
}

/* Any changed byte fails the ICV; the window does not move, so the genuine
 * packet is still accepted afterwards, exactly once. */
static void
test_tamper(void **state)
{
	(void)state;
	for (unsigned s = 0; s < ARRAY_LEN(suites); s++) {
		struct esp_sa *out = sa_make(&suites[s], ESP_DIR_OUT, 0x3000, 0);
		struct esp_sa *in = sa_make(&suites[s], ESP_DIR_IN, 0x3000, 0);
		uint8_t esp[256], bad[256];
		uint32_t len = seal_one(out, esp);

		/* every byte after the SPI, one at a time */
		for (uint32_t i = 4; i < len; i++) {
			memcpy(bad, esp, len);
			bad[i] ^= 0x01;
			/* in the sequence number, 0 or an old value may be a replay */
			if (i < 8 && rd32(bad + 4) == 0)
				assert_int_equal(open_one(in, bad, len), ESP_E_REPLAY);
			else
				assert_int_equal(open_one(in, bad, len), ESP_E_AUTH);
			assert_int_equal(esp_sa_seq(in), 0);
		}
		/* a forged sequence number far ahead did not slide the window */
		assert_int_equal(esp_sa_stats(in)->st_drops[ESP_E_AUTH], len - 4 - 1);
		assert_int_equal(open_one(in, esp, len), ESP_OK);
		assert_int_equal(esp_sa_seq(in), 1);
		assert_int_equal(open_one(in, esp, len), ESP_E_REPLAY);
		assert_int_equal(esp_sa_stats(in)->st_drops[ESP_E_REPLAY], 2);
		assert_int_equal(esp_sa_stats(in)->st_packets, 1);
		esp_sa_free(in);
		esp_sa_free(out);
	}
}

/* Every truncation of a valid packet is refused, by length when it can be
 * told from the length alone, else by the ICV; never read out of bounds
 * (the sanitizer run checks that). */
static void
test_truncated(void **state)
{
	(void)state;
	for (unsigned s = 0; s < ARRAY_LEN(suites); s++) {
		struct esp_sa *out = sa_make(&suites[s], ESP_DIR_OUT, 0x4000, 0);
		struct esp_sa *in = sa_make(&suites[s], ESP_DIR_IN, 0x4000, 0);
		struct esp_sa_table *t = esp_sa_table_new(4);
		uint8_t esp[256];
		uint32_t len = seal_one(out, esp);
		uint32_t align = suites[s].encr == ESP_ENCR_AES_GCM16 ? 4 : 16;
		uint32_t iv = suites[s].encr == ESP_ENCR_AES_GCM16 ? 8 : 16;
		uint32_t icv = len - 8 - iv - (sizeof(kat_inner) + 2 + align - 1) / align * align;

		assert_int_equal(esp_sa_table_insert(t, in), 0);
		for (uint32_t cut = 0; cut < len; cut++) {
			uint8_t *copy = malloc(cut ? cut : 1);	/* exact size for ASan */
			struct esp_pkt pkt = { .buf = copy, .size = cut, .off = 0, .len = cut };
			enum esp_status want;

			memcpy(copy, esp, cut);
			if (cut < 8 + iv + align + icv || (cut - 8 - iv - icv) % align)
				want = ESP_E_BAD_LENGTH;
			else
				want = ESP_E_AUTH;
			assert_int_equal(esp_decrypt_batch(t, &pkt, 1), 0);
			assert_int_equal(pkt.status, want);
			free(copy);
		}
		assert_int_equal(esp_sa_table_stats(t)->ts_drop_bad_length, 8);
		assert_int_equal(esp_sa_seq(in), 0);
		esp_sa_table_free(t);
		esp_sa_free(in);
		esp_sa_free(out);
	}
}

/* Packets in a batch arrive out of order; the window takes them, once. */
static void
test_replay_through_sa(void **state)
{
	struct esp_sa *out = sa_make(&suites[8], ESP_DIR_OUT, 0x5000, 0);
	struct esp_sa *in = sa_make(&suites[8], ESP_DIR_IN, 0x5000, 0);
	static uint8_t esp[200][256];
	uint32_t len[200];

	(void)state;
	for (unsigned i = 0; i < 200; i++)
		len[i] = seal_one(out, esp[i]);
	assert_int_equal(open_one(in, esp[99], len[99]), ESP_OK);	/* seq 100 */
	assert_int_equal(open_one(in, esp[50], len[50]), ESP_OK);
	assert_int_equal(open_one(in, esp[36], len[36]), ESP_OK);	/* edge: 37 */
	assert_int_equal(open_one(in, esp[35], len[35]), ESP_E_REPLAY);
	assert_int_equal(open_one(in, esp[50], len[50]), ESP_E_REPLAY);
	assert_int_equal(open_one(in, esp[199], len[199]), ESP_OK);
	assert_int_equal(open_one(in, esp[99], len[99]), ESP_E_REPLAY);
	assert_int_equal(esp_sa_stats(in)->st_drops[ESP_E_REPLAY], 3);
	esp_sa_free(in);
	esp_sa_free(out);
}

static void
test_seq_exhausted(void **state)
{
	struct esp_sa_config cfg = {
		.cfg_spi = 0x6000, .cfg_dir = ESP_DIR_OUT, .cfg_encr = ESP_ENCR_AES_GCM16,
		.cfg_integ = ESP_INTEG_NONE, .cfg_encr_key = encr_key, .cfg_encr_key_len = 20,
		.cfg_seq_soft_limit = 10,
	};
	static uint8_t bufs[4][BUF_SIZE];
	struct esp_pkt pkts[4];
	struct esp_sa *out = esp_sa_new(&cfg);

	(void)state;
	assert_non_null(out);
	for (unsigned i = 0; i < 9; i++) {
		uint8_t esp[256];

		seal_one(out, esp);
	}
	assert_int_equal(esp_sa_rekey_state(out), ESP_REKEY_NONE);
	for (unsigned i = 0; i < 4; i++)
		pkt_load(&pkts[i], bufs[i], kat_inner, sizeof(kat_inner), ESP_HEADROOM);
	assert_int_equal(esp_encrypt_batch(out, pkts, 1, ESP_FRAME_ESP), 1);
	assert_int_equal(esp_sa_rekey_state(out), ESP_REKEY_SOFT);

	/* two left before the last number; the batch of four sends two */
	esp_sa_test_set_seq(out, ESP_SEQ_LAST - 2);
	for (unsigned i = 0; i < 4; i++)
		pkt_load(&pkts[i], bufs[i], kat_inner, sizeof(kat_inner), ESP_HEADROOM);
	assert_int_equal(esp_encrypt_batch(out, pkts, 4, ESP_FRAME_ESP), 2);
	assert_int_equal(pkts[0].status, ESP_OK);
	assert_int_equal(rd32(pkt_data(&pkts[1]) + 4), ESP_SEQ_LAST);
	assert_int_equal(pkts[2].status, ESP_E_SEQ_EXHAUSTED);
	assert_int_equal(pkts[3].status, ESP_E_SEQ_EXHAUSTED);
	/* refused packets are untouched, and no number was consumed */
	assert_int_equal(pkts[2].off, ESP_HEADROOM);
	assert_memory_equal(pkt_data(&pkts[2]), kat_inner, sizeof(kat_inner));
	assert_int_equal(esp_sa_seq(out), ESP_SEQ_LAST);
	assert_int_equal(esp_sa_rekey_state(out), ESP_REKEY_HARD);
	assert_int_equal(esp_sa_stats(out)->st_drops[ESP_E_SEQ_EXHAUSTED], 2);
	esp_sa_free(out);
}

static void
test_no_room_and_wrong_dir(void **state)
{
	struct esp_sa *out = sa_make(&suites[0], ESP_DIR_OUT, 0x7000, 4500);
	struct esp_sa *in = sa_make(&suites[0], ESP_DIR_IN, 0x7000, 4500);
	static uint8_t buf[BUF_SIZE];
	struct esp_pkt pkt;

	(void)state;
	/* 28 + 8 + 16 = 52 bytes of headroom needed for the IPv4 frame */
	pkt_load(&pkt, buf, kat_inner, sizeof(kat_inner), 51);
	assert_int_equal(esp_encrypt_batch(out, &pkt, 1, ESP_FRAME_IPV4), 0);
	assert_int_equal(pkt.status, ESP_E_NO_ROOM);
	pkt_load(&pkt, buf, kat_inner, sizeof(kat_inner), 52);
	assert_int_equal(esp_encrypt_batch(out, &pkt, 1, ESP_FRAME_IPV4), 1);
	/* tailroom: 84 + 2 -> 96, + 12 ICV = 108 needed from off */
	pkt_load(&pkt, buf, kat_inner, sizeof(kat_inner), ESP_HEADROOM);
	pkt.size = ESP_HEADROOM + 107;
	assert_int_equal(esp_encrypt_batch(out, &pkt, 1, ESP_FRAME_ESP), 0);
	assert_int_equal(pkt.status, ESP_E_NO_ROOM);
	pkt.size = ESP_HEADROOM + 108;
	assert_int_equal(esp_encrypt_batch(out, &pkt, 1, ESP_FRAME_ESP), 1);
	/* not IPv4 */
	pkt_load(&pkt, buf, kat_inner, sizeof(kat_inner), ESP_HEADROOM);
	buf[ESP_HEADROOM] = 0x60;
	assert_int_equal(esp_encrypt_batch(out, &pkt, 1, ESP_FRAME_ESP), 0);
	assert_int_equal(pkt.status, ESP_E_BAD_INNER);

	pkt_load(&pkt, buf, kat_inner, sizeof(kat_inner), ESP_HEADROOM);
	assert_int_equal(esp_encrypt_batch(in, &pkt, 1, ESP_FRAME_ESP), 0);
	assert_int_equal(pkt.status, ESP_E_WRONG_DIR);
	assert_int_equal(esp_decrypt_batch_sa(out, &pkt, 1), 0);
	assert_int_equal(pkt.status, ESP_E_WRONG_DIR);
	assert_int_equal(esp_sa_stats(out)->st_drops[ESP_E_NO_ROOM], 2);
	esp_sa_free(in);
	esp_sa_free(out);
}

/* Craft GCM packets with plaintexts the encrypt path would never produce,
 * with OpenSSL directly, to reach the checks after the ICV. */
static uint32_t
gcm_craft(uint8_t *esp, uint32_t spi, uint32_t seq, const uint8_t *pt, uint32_t pt_len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t nonce[12];
	int outl;

	wr32(esp, spi);
	wr32(esp + 4, seq);
	memset(esp + 8, 0, 4);
	wr32(esp + 12, seq);
	memcpy(nonce, encr_key + 16, 4);
	memcpy(nonce + 4, esp + 8, 8);
	assert_true(EVP_EncryptInit_ex2(c, EVP_aes_128_gcm(), encr_key, nonce, NULL));
	assert_true(EVP_EncryptUpdate(c, NULL, &outl, esp, 8));
	assert_true(EVP_EncryptUpdate(c, esp + 16, &outl, pt, (int)pt_len));
	assert_true(EVP_EncryptFinal_ex(c, esp + 16 + outl, &outl));
	assert_true(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, esp + 16 + pt_len));
	EVP_CIPHER_CTX_free(c);
	return 16 + pt_len + 16;
}

static void
test_after_icv_checks(void **state)
{
	struct esp_sa *in = sa_make(&suites[8], ESP_DIR_IN, 0x8000, 0);
	uint8_t pt[256], esp[512];
	uint32_t n = sizeof(kat_inner), len, seq = 1;

	(void)state;
	/* good: 84 + pad 2 (1, 2) + 2, next header 4 */
	memcpy(pt, kat_inner, n);
	pt[n] = 1; pt[n + 1] = 2; pt[n + 2] = 2; pt[n + 3] = 4;
	len = gcm_craft(esp, 0x8000, seq++, pt, n + 4);
	assert_int_equal(open_one(in, esp, len), ESP_OK);

	/* pad bytes not 1, 2 */
	pt[n + 1] = 7;
	len = gcm_craft(esp, 0x8000, seq++, pt, n + 4);
	assert_int_equal(open_one(in, esp, len), ESP_E_BAD_PADDING);
	/* pad length longer than the plaintext */
	pt[n + 1] = 2; pt[n + 2] = 200;
	len = gcm_craft(esp, 0x8000, seq++, pt, n + 4);
	assert_int_equal(open_one(in, esp, len), ESP_E_BAD_PADDING);
	/* next header 59: a TFC dummy packet */
	pt[n + 2] = 2; pt[n + 3] = 59;
	len = gcm_craft(esp, 0x8000, seq++, pt, n + 4);
	assert_int_equal(open_one(in, esp, len), ESP_E_DUMMY);
	/* next header 41 (IPv6): not what this tunnel carries */
	pt[n + 3] = 41;
	len = gcm_craft(esp, 0x8000, seq++, pt, n + 4);
	assert_int_equal(open_one(in, esp, len), ESP_E_BAD_INNER);
	/* inner total length larger than what was decrypted */
	pt[n + 3] = 4;
	wr16(pt + 2, (uint16_t)(n + 1));
	len = gcm_craft(esp, 0x8000, seq++, pt, n + 4);
	assert_int_equal(open_one(in, esp, len), ESP_E_BAD_INNER);
	/* TFC padding: 8 extra bytes after the inner packet are cut off */
	memcpy(pt, kat_inner, n);
	memset(pt + n, 0xee, 8);
	pt[n + 8] = 1; pt[n + 9] = 2; pt[n + 10] = 2; pt[n + 11] = 4;
	len = gcm_craft(esp, 0x8000, seq++, pt, n + 12);
	assert_int_equal(open_one(in, esp, len), ESP_OK);
	/* all authentic: the window moved for each of them */
	assert_int_equal(esp_sa_seq(in), seq - 1);
	assert_int_equal(esp_sa_stats(in)->st_drops[ESP_E_BAD_PADDING], 2);
	assert_int_equal(esp_sa_stats(in)->st_drops[ESP_E_DUMMY], 1);
	assert_int_equal(esp_sa_stats(in)->st_drops[ESP_E_BAD_INNER], 2);
	assert_int_equal(esp_sa_stats(in)->st_packets, 2);
	esp_sa_free(in);
}

static void
test_inner_mtu(void **state)
{
	(void)state;
	for (unsigned s = 0; s < ARRAY_LEN(suites); s++) {
		struct esp_sa *out = sa_make(&suites[s], ESP_DIR_OUT, 0x9000, 4500);
		static uint8_t buf[BUF_SIZE], inner[2000];
		struct esp_pkt pkt;
		uint32_t m = esp_sa_inner_mtu(out, 1500);

		assert_true(m > 1300 && m < 1500);
		inner_make(inner, m, 1);
		pkt_load(&pkt, buf, inner, m, ESP_HEADROOM);
		assert_int_equal(esp_encrypt_batch(out, &pkt, 1, ESP_FRAME_IPV4), 1);
		assert_true(pkt.len <= 1500);
		inner_make(inner, m + 1, 1);
		pkt_load(&pkt, buf, inner, m + 1, ESP_HEADROOM);
		assert_int_equal(esp_encrypt_batch(out, &pkt, 1, ESP_FRAME_IPV4), 1);
		assert_true(pkt.len > 1500);
		esp_sa_free(out);
	}
}

/* The outbound order the tunnel glue follows (inner.h): clamp MSS, clear
 * DF, fragment to the SA's inner MTU, encrypt the pieces in one batch;
 * every ESP datagram fits the outer MTU and the far side gets back the
 * clamped packet. */
static void
test_fragment_then_encrypt(void **state)
{
	enum { MAXF = 8 };
	struct esp_sa *out = sa_make(&suites[0], ESP_DIR_OUT, 0xb000, 4500);
	struct esp_sa *in = sa_make(&suites[0], ESP_DIR_IN, 0xb000, 4500);
	static uint8_t bufs[MAXF][BUF_SIZE], orig[1500], re[1500];
	struct esp_pkt pkts[MAXF];
	uint32_t mtu = esp_sa_inner_mtu(out, 1500), got = 0;
	int n;

	(void)state;
	inner_make(orig, sizeof(orig), 3);
	orig[9] = 6;				/* TCP SYN, MSS 1460 */
	wr16(orig + 6, 0x4000);
	orig[32] = 0x60;
	orig[33] = 0x02;
	memcpy(orig + 40, (const uint8_t[]){ 2, 4, 0x05, 0xb4 }, 4);
	wr16(orig + 10, 0);
	wr16(orig + 10, csum_finish(csum_add_bytes(0, orig, 20)));
	wr16(orig + 36, 0);
	wr16(orig + 36, csum_finish(csum_add_bytes(6 + 1480 +
		csum_add_bytes(0, orig + 12, 8), orig + 20, 1480)));

	pkt_load(&pkts[0], bufs[0], orig, sizeof(orig), ESP_HEADROOM);
	assert_true(inner_clamp_mss(pkt_data(&pkts[0]), pkts[0].len, 1387));
	assert_true(inner_clear_df(pkt_data(&pkts[0]), pkts[0].len));
	memcpy(orig, pkt_data(&pkts[0]), sizeof(orig));	/* what must arrive */
	for (unsigned i = 1; i < MAXF; i++)
		pkt_load(&pkts[i], bufs[i], orig, 0, ESP_HEADROOM);
	n = inner_fragment(&pkts[0], mtu, &pkts[1], MAXF - 1);
	assert_int_equal(n, 1);
	assert_int_equal(esp_encrypt_batch(out, pkts, (unsigned)n + 1, ESP_FRAME_IPV4),
		(unsigned)n + 1);
	for (int i = 0; i <= n; i++) {
		struct esp_outer o;

		assert_true(pkts[i].len <= 1500);
		assert_int_equal(esp_outer_parse(pkt_data(&pkts[i]), pkts[i].len, &o), 0);
		pkts[i].off += o.out_esp_off;
		pkts[i].len = o.out_esp_len;
	}
	assert_int_equal(esp_decrypt_batch_sa(in, pkts, (unsigned)n + 1), (unsigned)n + 1);
	for (int i = 0; i <= n; i++) {
		const uint8_t *p = pkt_data(&pkts[i]);
		uint32_t off = (rd16(p + 6) & 0x1fff) * 8u;

		memcpy(re + 20 + off, p + 20, pkts[i].len - 20);
		got += pkts[i].len - 20;
	}
	assert_int_equal(got, sizeof(orig) - 20);
	assert_memory_equal(re + 20, orig + 20, sizeof(orig) - 20);
	esp_sa_free(in);
	esp_sa_free(out);
}

static void
test_table(void **state)
{
	enum { N = 300 };
	struct esp_sa *sas[N];
	struct esp_sa_table *t = esp_sa_table_new(N);

	(void)state;
	assert_non_null(t);
	for (unsigned i = 0; i < N; i++) {
		/* sequential and clustered SPIs, the worst case for a weak hash */
		sas[i] = sa_make(&suites[8], ESP_DIR_IN, 0x100 + i * (i % 2 ? 1 : 4096), 0);
		assert_int_equal(esp_sa_table_insert(t, sas[i]), 0);
	}
	assert_int_equal(esp_sa_table_count(t), N);
	/* full; duplicates refused */
	assert_int_equal(esp_sa_table_insert(t, sas[0]), -1);
	for (unsigned i = 0; i < N; i++)
		assert_ptr_equal(esp_sa_table_lookup(t, esp_sa_spi(sas[i])), sas[i]);
	assert_null(esp_sa_table_lookup(t, 0xdeadbeef));
	/* remove every third, the rest must still be found */
	for (unsigned i = 0; i < N; i += 3)
		assert_ptr_equal(esp_sa_table_remove(t, esp_sa_spi(sas[i])), sas[i]);
	assert_null(esp_sa_table_remove(t, esp_sa_spi(sas[0])));
	for (unsigned i = 0; i < N; i++) {
		if (i % 3 == 0)
			assert_null(esp_sa_table_lookup(t, esp_sa_spi(sas[i])));
		else
			assert_ptr_equal(esp_sa_table_lookup(t, esp_sa_spi(sas[i])), sas[i]);
	}
	/* and they go back in */
	for (unsigned i = 0; i < N; i += 3)
		assert_int_equal(esp_sa_table_insert(t, sas[i]), 0);
	for (unsigned i = 0; i < N; i++) {
		assert_ptr_equal(esp_sa_table_lookup(t, esp_sa_spi(sas[i])), sas[i]);
		assert_ptr_equal(esp_sa_table_remove(t, esp_sa_spi(sas[i])), sas[i]);
		esp_sa_free(sas[i]);
	}
	assert_int_equal(esp_sa_table_count(t), 0);
	/* outbound SAs do not belong in it */
	sas[0] = sa_make(&suites[8], ESP_DIR_OUT, 0x5555, 0);
	assert_int_equal(esp_sa_table_insert(t, sas[0]), -1);
	esp_sa_free(sas[0]);
	esp_sa_table_free(t);
}

/* A batch mixing two SAs, an unknown SPI and a runt: each is accounted
 * where it belongs. */
static void
test_batch_mixed(void **state)
{
	struct esp_sa *o1 = sa_make(&suites[0], ESP_DIR_OUT, 0xa001, 0);
	struct esp_sa *o2 = sa_make(&suites[9], ESP_DIR_OUT, 0xa002, 0);
	struct esp_sa *i1 = sa_make(&suites[0], ESP_DIR_IN, 0xa001, 0);
	struct esp_sa *i2 = sa_make(&suites[9], ESP_DIR_IN, 0xa002, 0);
	struct esp_sa_table *t = esp_sa_table_new(4);
	static uint8_t bufs[6][BUF_SIZE];
	uint8_t esp[6][256];
	uint32_t len[6];
	struct esp_pkt pkts[6];

	(void)state;
	esp_sa_table_insert(t, i1);
	esp_sa_table_insert(t, i2);
	len[0] = seal_one(o1, esp[0]);
	len[1] = seal_one(o1, esp[1]);
	len[2] = seal_one(o2, esp[2]);
	len[3] = seal_one(o1, esp[3]);
	memcpy(esp[4], esp[3], len[3]);
	wr32(esp[4], 0xa003);
	len[4] = len[3];
	len[5] = 7;
	memcpy(esp[5], esp[0], 7);
	for (unsigned i = 0; i < 6; i++)
		pkt_load(&pkts[i], bufs[i], esp[i], len[i], 0);
	assert_int_equal(esp_decrypt_batch(t, pkts, 6), 4);
	assert_ptr_equal(pkts[0].sa, i1);
	assert_ptr_equal(pkts[1].sa, i1);
	assert_ptr_equal(pkts[2].sa, i2);
	assert_ptr_equal(pkts[3].sa, i1);
	assert_int_equal(pkts[4].status, ESP_E_UNKNOWN_SPI);
	assert_int_equal(pkts[5].status, ESP_E_BAD_LENGTH);
	assert_int_equal(esp_sa_table_stats(t)->ts_drop_unknown_spi, 1);
	assert_int_equal(esp_sa_table_stats(t)->ts_drop_bad_length, 1);
	assert_int_equal(esp_sa_stats(i1)->st_packets, 3);
	assert_int_equal(esp_sa_stats(i2)->st_packets, 1);
	esp_sa_table_free(t);
	esp_sa_free(i1);
	esp_sa_free(i2);
	esp_sa_free(o1);
	esp_sa_free(o2);
}

/* NAT-T: the peer floats to a new address and port; the template follows. */
static void
test_update_peer(void **state)
{
	struct esp_sa *out = sa_make(&suites[8], ESP_DIR_OUT, 0xc000, 4500);
	struct esp_sa *raw = sa_make(&suites[8], ESP_DIR_OUT, 0xc001, 0);
	static uint8_t buf[BUF_SIZE];
	struct esp_pkt pkt;
	struct esp_outer o;

	(void)state;
	log_set_level(LOG_WARN);
	assert_int_equal(esp_sa_update_peer(out, 0xcb007109, 61000), 0);
	pkt_load(&pkt, buf, kat_inner, sizeof(kat_inner), ESP_HEADROOM);
	assert_int_equal(esp_encrypt_batch(out, &pkt, 1, ESP_FRAME_IPV4), 1);
	assert_int_equal(csum_fold(csum_add_bytes(0, pkt_data(&pkt), 20)), 0xffff);
	assert_int_equal(esp_outer_parse(pkt_data(&pkt), pkt.len, &o), 0);
	assert_int_equal(o.out_src, 0xc6336402);
	assert_int_equal(o.out_dst, 0xcb007109);
	assert_int_equal(o.out_sport, 4500);
	assert_int_equal(o.out_dport, 61000);
	/* a raw-ESP SA has no port to change; an encapsulated one needs one */
	assert_int_equal(esp_sa_update_peer(raw, 0xcb007109, 4500), -1);
	assert_int_equal(esp_sa_update_peer(out, 0xcb007109, 0), -1);
	assert_int_equal(esp_sa_update_peer(raw, 0xcb007109, 0), 0);
	log_set_level(LOG_INFO);
	esp_sa_free(raw);
	esp_sa_free(out);
}

static void
test_outer_helpers(void **state)
{
	uint8_t p[64] = { 0 };
	struct esp_outer o;

	(void)state;
	assert_int_equal(esp_udp_classify((const uint8_t *)"\xff", 1), ESP_UDP_KEEPALIVE);
	assert_int_equal(esp_udp_classify(p, 3), ESP_UDP_INVALID);
	assert_int_equal(esp_udp_classify(p, 40), ESP_UDP_IKE);
	p[3] = 1;
	assert_int_equal(esp_udp_classify(p, 8), ESP_UDP_ESP);
	assert_int_equal(esp_udp_classify(p, 7), ESP_UDP_INVALID);

	/* IPv4/UDP 4500 carrying IKE (non-ESP marker) is not ESP */
	memset(p, 0, sizeof(p));
	p[0] = 0x45; wr16(p + 2, 48); p[9] = 17;
	wr16(p + 20, 4500); wr16(p + 22, 4500); wr16(p + 24, 28);
	assert_int_equal(esp_outer_parse(p, 48, &o), -1);
	wr32(p + 28, 0x1234);
	assert_int_equal(esp_outer_parse(p, 48, &o), 0);
	assert_int_equal(o.out_esp_off, 28);
	assert_int_equal(o.out_esp_len, 20);
	/* UDP length beyond the datagram */
	wr16(p + 24, 29);
	assert_int_equal(esp_outer_parse(p, 48, &o), -1);
	/* total length beyond what was received */
	wr16(p + 24, 28);
	assert_int_equal(esp_outer_parse(p, 47, &o), -1);
	/* fragment */
	wr16(p + 6, 0x2000);
	assert_int_equal(esp_outer_parse(p, 48, &o), -1);
	/* raw ESP */
	wr16(p + 6, 0);
	p[9] = 50;
	assert_int_equal(esp_outer_parse(p, 48, &o), 0);
	assert_int_equal(o.out_esp_off, 20);
	assert_int_equal(o.out_esp_len, 28);
	p[9] = 6;
	assert_int_equal(esp_outer_parse(p, 48, &o), -1);
	assert_string_equal(esp_status_name(ESP_E_AUTH), "auth-failed");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_refused),
		cmocka_unit_test(test_round_trip_all_suites),
		cmocka_unit_test(test_decrypt_to),
		cmocka_unit_test(test_cbc_iv_random),
		cmocka_unit_test(test_kat_gcm),
		cmocka_unit_test(test_kat_cbc_sha1),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_replay_through_sa),
		cmocka_unit_test(test_seq_exhausted),
		cmocka_unit_test(test_no_room_and_wrong_dir),
		cmocka_unit_test(test_after_icv_checks),
		cmocka_unit_test(test_inner_mtu),
		cmocka_unit_test(test_fragment_then_encrypt),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_batch_mixed),
		cmocka_unit_test(test_update_peer),
		cmocka_unit_test(test_outer_helpers),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
