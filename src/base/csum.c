/*
 * csum.c — the eight-bytes-a-step one's-complement sum (csum.h); the rest
 * of the checksum module is inline in the header.
 */
#include "base/csum.h"

#include <string.h>

uint32_t
csum_add_fast(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t acc = 0;

	/* RFC 1071 2(B): the one's-complement sum does not depend on byte
	 * order but for a swap of the result. Native 32-bit words summed in
	 * 64 bits (no overflow below 2^32 words), four at a time, folded to
	 * 16 bits and swapped back to big-endian: several bytes a cycle
	 * instead of one (a 64 KB super-frame's TCP checksums, TSO). */
	while (len >= 16) {
		uint32_t w[4];
		memcpy(w, p, sizeof(w));
		acc += (uint64_t)w[0] + w[1] + w[2] + w[3];
		p += 16;
		len -= 16;
	}
	while (len >= 4) {
		uint32_t w;
		memcpy(&w, p, sizeof(w));
		acc += w;
		p += 4;
		len -= 4;
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	acc = (acc & 0xff) << 8 | acc >> 8;
#endif
	acc += sum;
	if (len >= 2) {
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
