/*
 * csum — the Internet checksum (RFC 1071) and its incremental update
 * (RFC 1624), for the outer IPv4 header and the inner-packet helpers.
 * Header-only, inline; never allocates, never reads past len.
 */
#ifndef VPCD_VPN_ESP_CSUM_H
#define VPCD_VPN_ESP_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* One's-complement sum of len bytes, big-endian 16-bit words, not folded. */
static inline uint32_t
csum_add_bytes(uint32_t sum, const uint8_t *p, size_t len)
{
	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static inline uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The checksum field value (host order) for a region whose sum is sum. */
static inline uint16_t
csum_finish(uint32_t sum)
{
	return (uint16_t)~csum_fold(sum);
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), all host-order 16-bit values. */
static inline uint16_t
csum_replace16(uint16_t check, uint16_t old_word, uint16_t new_word)
{
	uint32_t sum = (uint16_t)~check;

	sum += (uint16_t)~old_word;
	sum += new_word;
	return (uint16_t)~csum_fold(sum);
}

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
