/*
 * Tests for src/vpn/esp/inner.c: MSS clamping, DF clearing, fragmentation
 * before encryption, the ICMP echo responder. Every checksum is verified
 * from scratch, never with the incremental code under test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vpn/esp/inner.h"
#include "base/csum.h"

static uint16_t
ip_sum_scratch(const uint8_t *p)
{
	return csum_fold(csum_add_bytes(0, p, (uint32_t)(p[0] & 0xf) * 4));
}

/* TCP/UDP/ICMP checksum check over the whole segment (+ pseudo-header). */
static bool
l4_valid(const uint8_t *p, uint32_t len)
{
	uint32_t hl = (uint32_t)(p[0] & 0xf) * 4, sum = 0;

	if (p[9] != 1) {
		sum = csum_add_bytes(0, p + 12, 8);
		sum += p[9];
		sum += len - hl;
	}
	return csum_fold(csum_add_bytes(sum, p + hl, len - hl)) == 0xffff;
}

static void
ip_header(uint8_t *p, uint32_t len, uint8_t proto, uint16_t frag)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	wr16(p + 2, (uint16_t)len);
	wr16(p + 4, 0x4242);
	wr16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	wr32(p + 12, 0x0a60000a);
	wr32(p + 16, 0x0a000005);
	wr16(p + 10, csum_finish(csum_add_bytes(0, p, 20)));
}

static void
l4_checksum_set(uint8_t *p, uint32_t len, uint32_t at)
{
	uint32_t sum = csum_add_bytes(0, p + 12, 8) + p[9] + (len - 20);

	wr16(p + 20 + at, 0);
	wr16(p + 20 + at, csum_finish(csum_add_bytes(sum, p + 20, len - 20)));
}

/* A SYN with the given options (padded to 4 bytes) and some payload. */
static uint32_t
tcp_syn(uint8_t *p, const uint8_t *opts, uint32_t olen, uint8_t flags)
{
	uint32_t doff = 20 + (olen + 3) / 4 * 4, len = 20 + doff + 10;

	memset(p, 0, len);
	ip_header(p, len, 6, 0x4000);
	wr16(p + 20, 40000);
	wr16(p + 22, 443);
	wr32(p + 24, 0x11223344);
	p[32] = (uint8_t)(doff / 4 << 4);
	p[33] = flags;
	wr16(p + 34, 64240);
	memcpy(p + 40, opts, olen);
	for (uint32_t i = 0; i < 10; i++)
		p[20 + doff + i] = (uint8_t)(0xa0 + i * 13);
	l4_checksum_set(p, len, 16);
	return len;
}

static void
test_mss_clamp(void **state)
{
	/* MSS first, word aligned, as Linux sends it */
	static const uint8_t aligned[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10,
		1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 1, 3, 3, 7 };
	/* MSS at an odd offset after a NOP */
	static const uint8_t odd[] = { 1, 2, 4, 0x23, 0x28, 1, 1, 1 };
	/* a lower MSS is left alone */
	static const uint8_t low[] = { 2, 4, 0x04, 0x00 };
	uint8_t p[128], before[128];
	uint32_t len;

	(void)state;
	len = tcp_syn(p, aligned, sizeof(aligned), 0x02);
	assert_true(l4_valid(p, len));
	assert_true(inner_clamp_mss(p, len, 1387));
	assert_int_equal(rd16(p + 42), 1387);
	assert_true(l4_valid(p, len));
	assert_int_equal(ip_sum_scratch(p), 0xffff);
	/* again: nothing left to do */
	assert_false(inner_clamp_mss(p, len, 1387));

	/* SYN-ACK, odd offset: 9000 -> 1387 */
	for (uint16_t mss = 536; mss < 1500; mss += 77) {
		len = tcp_syn(p, odd, sizeof(odd), 0x12);
		assert_true(inner_clamp_mss(p, len, mss));
		assert_int_equal(rd16(p + 43), mss);
		assert_true(l4_valid(p, len));
	}

	len = tcp_syn(p, low, sizeof(low), 0x02);
	memcpy(before, p, len);
	assert_false(inner_clamp_mss(p, len, 1387));
	assert_memory_equal(p, before, len);

	/* not a SYN */
	len = tcp_syn(p, aligned, sizeof(aligned), 0x10);
	memcpy(before, p, len);
	assert_false(inner_clamp_mss(p, len, 1387));
	assert_memory_equal(p, before, len);

	/* truncated: total length says more than we hold */
	len = tcp_syn(p, aligned, sizeof(aligned), 0x02);
	assert_false(inner_clamp_mss(p, len - 1, 1387));
	/* an option length that runs past the header */
	len = tcp_syn(p, (const uint8_t[]){ 1, 8, 40, 2, 4, 0x23, 0x28, 0 }, 8, 0x02);
	assert_false(inner_clamp_mss(p, len, 1387));
	/* data offset beyond the packet */
	len = tcp_syn(p, aligned, sizeof(aligned), 0x02);
	p[32] = 0xf0;
	assert_false(inner_clamp_mss(p, len, 1387));
	/* UDP is not touched */
	len = tcp_syn(p, aligned, sizeof(aligned), 0x02);
	p[9] = 17;
	assert_false(inner_clamp_mss(p, len, 1387));
}

static void
test_clear_df(void **state)
{
	uint8_t p[60];

	(void)state;
	memset(p, 0x5a, sizeof(p));
	ip_header(p, sizeof(p), 17, 0x4000);
	assert_true(inner_clear_df(p, sizeof(p)));
	assert_int_equal(rd16(p + 6), 0);
	assert_int_equal(ip_sum_scratch(p), 0xffff);
	assert_false(inner_clear_df(p, sizeof(p)));
	/* DF with an offset and MF keeps them */
	ip_header(p, sizeof(p), 17, 0x4000 | 0x2000 | 0x0123);
	assert_true(inner_clear_df(p, sizeof(p)));
	assert_int_equal(rd16(p + 6), 0x2123);
	assert_int_equal(ip_sum_scratch(p), 0xffff);
	/* not IPv4 */
	p[0] = 0x60;
	assert_false(inner_clear_df(p, sizeof(p)));
}

#define FRAG_MAX 64

struct frag_bufs {
	uint8_t		data[FRAG_MAX][2048];
	struct esp_pkt	pkts[FRAG_MAX];
};

static void
frag_bufs_init(struct frag_bufs *fb, uint32_t off)
{
	for (unsigned i = 0; i < FRAG_MAX; i++) {
		memset(&fb->pkts[i], 0, sizeof(fb->pkts[i]));
		fb->pkts[i].buf = fb->data[i];
		fb->pkts[i].size = sizeof(fb->data[i]);
		fb->pkts[i].off = off;
	}
}

/* Check each fragment and put the original back together. */
static void
reassemble_check(const uint8_t *orig, uint32_t orig_len, const struct esp_pkt *first,
	const struct esp_pkt *more, int n, uint32_t mtu, uint16_t base_frag)
{
	uint32_t hl = (uint32_t)(orig[0] & 0xf) * 4, expect_off = 0;
	uint8_t *re = calloc(1, 65536);

	assert_non_null(re);
	for (int i = -1; i < n; i++) {
		const struct esp_pkt *f = i < 0 ? first : &more[i];
		const uint8_t *p = f->buf + f->off;
		uint32_t fhl = (uint32_t)(p[0] & 0xf) * 4, dlen = f->len - fhl;
		uint16_t frag = rd16(p + 6);
		bool last = i == n - 1;

		assert_true(f->len <= mtu);
		assert_int_equal(rd16(p + 2), f->len);
		assert_int_equal(ip_sum_scratch(p), 0xffff);
		assert_memory_equal(p + 4, orig + 4, 2);		/* same ID */
		assert_memory_equal(p + 8, orig + 8, 2);		/* TTL, proto */
		assert_memory_equal(p + 12, orig + 12, 8);		/* addresses */
		assert_int_equal((frag & 0x1fff) * 8, (base_frag & 0x1fff) * 8 + expect_off);
		assert_int_equal(!!(frag & 0x2000), !last || (base_frag & 0x2000));
		assert_int_equal(frag & 0x4000, 0);
		if (!last)
			assert_int_equal(dlen % 8, 0);
		memcpy(re + expect_off, p + fhl, dlen);
		expect_off += dlen;
	}
	assert_int_equal(expect_off, orig_len - hl);
	assert_memory_equal(re, orig + hl, orig_len - hl);
	free(re);
}

static void
test_fragment(void **state)
{
	static const uint32_t mtus[] = { 1436, 1400, 1000, 576, 68 };
	static struct frag_bufs fb;
	static uint8_t orig[1500], buf[4096];
	struct esp_pkt pkt;

	(void)state;
	ip_header(orig, sizeof(orig), 17, 0);
	for (uint32_t i = 20; i < sizeof(orig); i++)
		orig[i] = (uint8_t)(i * 7 + 3);

	for (unsigned m = 0; m < sizeof(mtus) / sizeof(mtus[0]); m++) {
		int n;

		memset(&pkt, 0, sizeof(pkt));
		pkt.buf = buf;
		pkt.size = sizeof(buf);
		pkt.off = 64;
		pkt.len = sizeof(orig);
		memcpy(buf + 64, orig, sizeof(orig));
		frag_bufs_init(&fb, 64);
		n = inner_fragment(&pkt, mtus[m], fb.pkts, FRAG_MAX);
		assert_true(n >= 1);
		assert_int_equal(n, (int)((1480 + (mtus[m] - 20) / 8 * 8 - 1) / ((mtus[m] - 20) / 8 * 8)) - 1);
		reassemble_check(orig, sizeof(orig), &pkt, fb.pkts, n, mtus[m], 0);
	}

	/* fits: nothing to do */
	pkt.off = 64; pkt.len = sizeof(orig);
	memcpy(buf + 64, orig, sizeof(orig));
	assert_int_equal(inner_fragment(&pkt, 1500, fb.pkts, FRAG_MAX), 0);
	assert_int_equal(pkt.len, sizeof(orig));
	/* too few buffers, or too small ones: refused, pkt unchanged */
	assert_int_equal(inner_fragment(&pkt, 576, fb.pkts, 1), -1);
	frag_bufs_init(&fb, sizeof(fb.data[0]) - 100);
	assert_int_equal(inner_fragment(&pkt, 576, fb.pkts, FRAG_MAX), -1);
	assert_memory_equal(buf + 64, orig, sizeof(orig));
	/* MTU below header + 8 */
	frag_bufs_init(&fb, 64);
	assert_int_equal(inner_fragment(&pkt, 27, fb.pkts, FRAG_MAX), -1);
	/* DF set: the caller must clear it first */
	ip_header(buf + 64, sizeof(orig), 17, 0x4000);
	assert_int_equal(inner_fragment(&pkt, 576, fb.pkts, FRAG_MAX), -1);
}

/* A packet that is itself a middle fragment, with options: later pieces
 * carry only the options with the copied flag. */
static void
test_fragment_options_and_refragment(void **state)
{
	static struct frag_bufs fb;
	static uint8_t orig[1024], buf[4096];
	struct esp_pkt pkt;
	uint16_t base = 0x2000 | 100;	/* MF, offset 800 */
	int n;

	(void)state;
	memset(orig, 0, 32);
	orig[0] = 0x48;			/* 32-byte header */
	wr16(orig + 2, sizeof(orig));
	wr16(orig + 4, 0x7777);
	wr16(orig + 6, base);
	orig[8] = 30;
	orig[9] = 17;
	wr32(orig + 12, 0x0a60000a);
	wr32(orig + 16, 0x0a000005);
	/* record route (7, not copied), len 7; NOP; security-like (0x82, copied) len 4 */
	memcpy(orig + 20, (const uint8_t[]){ 7, 7, 4, 0, 0, 0, 0, 1, 0x82, 4, 0xab, 0xcd }, 12);
	wr16(orig + 10, csum_finish(csum_add_bytes(0, orig, 32)));
	for (uint32_t i = 32; i < sizeof(orig); i++)
		orig[i] = (uint8_t)(i ^ 0x5c);

	memset(&pkt, 0, sizeof(pkt));
	pkt.buf = buf;
	pkt.size = sizeof(buf);
	pkt.off = 64;
	pkt.len = sizeof(orig);
	memcpy(buf + 64, orig, sizeof(orig));
	frag_bufs_init(&fb, 64);
	n = inner_fragment(&pkt, 300, fb.pkts, FRAG_MAX);
	assert_true(n >= 3);
	/* first keeps all options; later ones: only 0x82, padded to 24 bytes */
	assert_int_equal(buf[64] & 0xf, 8);
	for (int i = 0; i < n; i++) {
		const uint8_t *f = fb.pkts[i].buf + fb.pkts[i].off;

		assert_int_equal(f[0], 0x46);
		assert_memory_equal(f + 20, ((const uint8_t[]){ 0x82, 4, 0xab, 0xcd }), 4);
	}
	reassemble_check(orig, sizeof(orig), &pkt, fb.pkts, n, 300, base);
}

/* An ICMP echo request to 169.254.44.1 as a Cisco router's ip sla sends. */
static uint32_t
echo_request(uint8_t *p, uint32_t dst, uint32_t payload)
{
	uint32_t len = 28 + payload;

	ip_header(p, len, 1, 0);
	wr32(p + 12, 0xa9fe2c02);
	wr32(p + 16, dst);
	wr16(p + 10, 0);
	wr16(p + 10, csum_finish(csum_add_bytes(0, p, 20)));
	memset(p + 20, 0, 8);
	p[20] = 8;
	wr16(p + 24, 0x0042);
	wr16(p + 26, 7);
	for (uint32_t i = 0; i < payload; i++)
		p[28 + i] = (uint8_t)(0xab + i);
	wr16(p + 22, csum_finish(csum_add_bytes(0, p + 20, len - 20)));
	return len;
}

static void
test_icmp_echo(void **state)
{
	uint8_t p[200], req[200];
	uint32_t len;

	(void)state;
	for (uint32_t payload = 0; payload < 100; payload += 33) {
		len = echo_request(p, 0xa9fe2c01, payload);
		memcpy(req, p, len);
		assert_true(inner_icmp_echo_reply(p, len, 0xa9fe2c01));
		assert_int_equal(rd32(p + 12), 0xa9fe2c01);
		assert_int_equal(rd32(p + 16), 0xa9fe2c02);
		assert_int_equal(p[20], 0);
		assert_int_equal(ip_sum_scratch(p), 0xffff);
		assert_true(l4_valid(p, len));
		/* identifier, sequence and data echoed unchanged */
		assert_memory_equal(p + 24, req + 24, len - 24);
	}
	/* not to us */
	len = echo_request(p, 0xa9fe2c05, 16);
	assert_false(inner_icmp_echo_reply(p, len, 0xa9fe2c01));
	/* bad ICMP checksum */
	len = echo_request(p, 0xa9fe2c01, 16);
	p[30] ^= 1;
	assert_false(inner_icmp_echo_reply(p, len, 0xa9fe2c01));
	/* a reply is not answered */
	len = echo_request(p, 0xa9fe2c01, 16);
	p[20] = 0;
	assert_false(inner_icmp_echo_reply(p, len, 0xa9fe2c01));
	/* too short for the ICMP header */
	len = echo_request(p, 0xa9fe2c01, 0);
	wr16(p + 2, 24);
	assert_false(inner_icmp_echo_reply(p, 24, 0xa9fe2c01));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mss_clamp),
		cmocka_unit_test(test_clear_df),
		cmocka_unit_test(test_fragment),
		cmocka_unit_test(test_fragment_options_and_refragment),
		cmocka_unit_test(test_icmp_echo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
