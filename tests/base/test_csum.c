/* Tests for base/csum.h: the RFC 1071 example, RFC 1624's incremental
 * update example (where eqn. 2 would go wrong), an IPv4 header and a
 * UDP datagram with its pseudo header whose checksums were computed
 * independently (Python, the RFC 1071 definition), the 32-bit and span
 * updates against full recomputation, and the fast sum against the plain
 * one at every length and alignment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/csum.h"

/* RFC 1071 section 3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to 2ddf0,
 * which folds to ddf2; the checksum is its complement, 220d. */
static void test_rfc1071_example(void **state)
{
	(void)state;
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	assert_int_equal(csum_add_bytes(0, b, sizeof(b)), 0x2ddf0);
	assert_int_equal(csum_fold(0x2ddf0), 0xddf2);
	assert_int_equal(csum_finish(csum_add_bytes(0, b, sizeof(b))), 0x220d);
	assert_int_equal(csum_fold(csum_add_fast(0, b, sizeof(b))), 0xddf2);
	/* byte order independence (RFC 1071 1.2.B): swapped bytes, swapped sum */
	uint8_t sw[sizeof(b)];
	for (size_t i = 0; i < sizeof(b); i += 2) {
		sw[i] = b[i + 1];
		sw[i + 1] = b[i];
	}
	assert_int_equal(csum_fold(csum_add_bytes(0, sw, sizeof(sw))), 0xf2dd);
	/* an odd trailing byte is the high half of a word */
	static const uint8_t odd[] = { 0x12, 0x34, 0x56 };
	assert_int_equal(csum_add_bytes(0, odd, 3), 0x1234 + 0x5600);
	assert_int_equal(csum_add_fast(0, odd, 3), 0x1234 + 0x5600);
}

/* csum_add_fast (native words, swapped back) and csum_add_bytes (big-endian
 * words) agree modulo folding on every length 0..300 at every alignment,
 * from any starting sum, and on the worst case (all 0xff). */
static void test_fast_matches_bytes(void **state)
{
	(void)state;
	uint8_t buf[310];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= 300; len++) {
			uint32_t start = (uint32_t)(len * 2654435761u) & 0xffffff;
			assert_int_equal(csum_fold(csum_add_fast(start, buf + off, len)),
					 csum_fold(csum_add_bytes(start, buf + off, len)));
		}
	static uint8_t ones[65536];
	memset(ones, 0xff, sizeof(ones));
	assert_int_equal(csum_fold(csum_add_fast(0xffffffffu, ones, sizeof(ones))),
			 csum_fold(csum_add_bytes(0xffff, ones, sizeof(ones))));
}

/* RFC 1624 section 4: HC = 0xdd2f, m = 0x5555 -> m' = 0x3285 gives
 * HC' = 0x0000 by eqn. 3 (eqn. 2 gives 0xffff). */
static void test_rfc1624_example(void **state)
{
	(void)state;
	assert_int_equal(csum_replace16(0xdd2f, 0x5555, 0x3285), 0x0000);
	/* and back */
	assert_int_equal(csum_replace16(0x0000, 0x3285, 0x5555), 0xdd2f);
	/* no change, no change */
	assert_int_equal(csum_replace16(0x1234, 0xabcd, 0xabcd), 0x1234);
}

/* An IPv4 header (the well-known 192.168.0.1 -> 192.168.0.199 example):
 * checksum b861; with it in place the header folds to ffff. */
static void test_ipv4_header(void **state)
{
	(void)state;
	uint8_t ip[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
			   0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	assert_int_equal(csum_finish(csum_add_bytes(0, ip, sizeof(ip))), 0xb861);
	wr16(ip + 10, 0xb861);
	assert_int_equal(csum_fold(csum_add_bytes(0, ip, sizeof(ip))), 0xffff);
	assert_int_equal(rd16(ip + 10), 0xb861);
	/* TTL 64 -> 63 (the word 0x4011 -> 0x3f11), incrementally */
	uint16_t c = csum_replace16(rd16(ip + 10), rd16(ip + 8), 0x3f11);
	ip[8] = 0x3f;
	wr16(ip + 10, 0);
	assert_int_equal(c, csum_finish(csum_add_bytes(0, ip, sizeof(ip))));
}

/* UDP 192.0.2.1:5000 -> 198.51.100.2:53, payload "vpcd checksum" (13
 * bytes, so an odd length): checksum 5951 over the pseudo header; with
 * the destination changed to 203.0.113.9, 477d. */
static void test_udp_pseudo_header(void **state)
{
	(void)state;
	uint8_t p[20 + 8 + 13] = { 0x45, 0, 0, sizeof(p), 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2 };
	uint8_t *udp = p + 20;
	wr16(udp, 5000);
	wr16(udp + 2, 53);
	wr16(udp + 4, 8 + 13);
	memcpy(udp + 8, "vpcd checksum", 13);
	uint32_t sum = csum_pseudo_ipv4(p, 17, 8 + 13);
	assert_int_equal(csum_finish(csum_add_bytes(sum, udp, 8 + 13)), 0x5951);
	assert_int_equal(csum_finish(csum_add_fast(sum, udp, 8 + 13)), 0x5951);
	wr16(udp + 6, 0x5951);
	assert_int_equal(csum_fold(csum_add_bytes(csum_pseudo_ipv4(p, 17, 21), udp, 21)), 0xffff);
	/* the destination address rewritten: one 32-bit incremental update */
	uint32_t nd = 203u << 24 | 113u << 8 | 9u;
	assert_int_equal(csum_replace32(rd16(udp + 6), rd32(p + 16), nd), 0x477d);
	/* a length over 16 bits is summed as two words */
	uint8_t big[20] = { 0 };
	assert_int_equal(csum_pseudo_ipv4(big, 6, 0x12345), 6 + 0x2345 + 0x1);
}

/* Random regions: csum_replace32 and csum_replace_span (odd offsets)
 * agree with recomputing the checksum from scratch. */
static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void test_incremental_matches_full(void **state)
{
	(void)state;
	uint32_t seed = 7;
	uint8_t r[64];
	for (int round = 0; round < 2000; round++) {
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (uint8_t)lcg(&seed);
		uint16_t check = csum_finish(csum_add_bytes(0, r, sizeof(r)));
		if (round % 2) {
			uint32_t at = (lcg(&seed) % 30) * 2, nv = lcg(&seed) ^ lcg(&seed) << 16;
			check = csum_replace32(check, rd32(r + at), nv);
			wr32(r + at, nv);
		} else {
			uint32_t o = lcg(&seed) % 60, n = 1 + lcg(&seed) % (uint32_t)(sizeof(r) - o - 1);
			uint8_t old[sizeof(r) + 2];
			uint32_t start = o & ~1u, end = (o + n + 1) & ~1u;
			memcpy(old, r + start, end - start);
			for (uint32_t k = o; k < o + n; k++)
				r[k] = (uint8_t)lcg(&seed);
			check = csum_replace_span(check, r, o, n, old);
		}
		uint16_t full = csum_finish(csum_add_bytes(0, r, sizeof(r)));
		/* 0 and 0xffff are the same one's-complement number */
		if (check != full)
			assert_true((check == 0 && full == 0xffff) || (check == 0xffff && full == 0));
	}
}

/* The fast sum equals the plain one at every length and alignment. */
static void test_fast_matches_plain(void **state)
{
	(void)state;
	uint32_t seed = 99;
	uint8_t buf[300];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)lcg(&seed);
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len++)
			assert_int_equal(csum_fold(csum_add_fast(0x1234, buf + off, len)),
					 csum_fold(csum_add_bytes(0x1234, buf + off, len)));
	/* all-ones data: the 64-bit accumulator folds without loss */
	static uint8_t ones[65536];
	memset(ones, 0xff, sizeof(ones));
	assert_int_equal(csum_fold(csum_add_fast(0, ones, sizeof(ones))), 0xffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1071_example),
		cmocka_unit_test(test_rfc1624_example),
		cmocka_unit_test(test_fast_matches_bytes),
		cmocka_unit_test(test_ipv4_header),
		cmocka_unit_test(test_udp_pseudo_header),
		cmocka_unit_test(test_incremental_matches_full),
		cmocka_unit_test(test_fast_matches_plain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
