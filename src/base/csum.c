/*
 * csum.c — the eight-bytes-a-step one's-complement sum (csum.h); the rest
 * of the checksum module is inline in the header.
 */
#include "base/csum.h"

uint32_t
csum_add_fast(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t acc = sum;

	/* Big-endian 16-bit words, summed 4 at a time from 8 bytes: the
	 * 64-bit accumulator cannot overflow below 2^32 steps. */
	while (len >= 8) {
		uint64_t w = (uint64_t)p[0] << 8 | p[1];
		w += (uint64_t)p[2] << 8 | p[3];
		w += (uint64_t)p[4] << 8 | p[5];
		w += (uint64_t)p[6] << 8 | p[7];
		acc += w;
		p += 8;
		len -= 8;
	}
	while (len > 1) {
		acc += (uint64_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		acc += (uint64_t)p[0] << 8;
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}
