/*
 * csum — the Internet checksum, in one place for the router (src/net),
 * ESP and the inner-packet helpers (src/vpn/esp) and the uplink
 * (src/engine): the one's-complement sum (RFC 1071), its incremental
 * update when a field changes (RFC 1624, eqn. 3), and the IPv4
 * pseudo-header sum that TCP and UDP checksums start from (RFC 768/793).
 *
 * A sum is carried unfolded in 32 bits between calls (csum_add_* may be
 * chained; fold once at the end); csum_finish gives the value for the
 * checksum field, host order (write it with wr16). Never allocates, never
 * reads past len. Tested against the RFCs' examples in
 * tests/base/test_csum.c.
 *
 * Cost: csum_add_bytes is a plain two-bytes-a-step loop, for headers;
 * csum_add_fast (csum.c) takes eight bytes a step, for payloads (software
 * checksum completion, TSO). Both give the same sum modulo folding.
 */
#ifndef VPCD_BASE_CSUM_H
#define VPCD_BASE_CSUM_H

#include <stddef.h>
#include <stdint.h>

#include "base/be.h"

/* One's-complement sum of len bytes, big-endian 16-bit words (an odd last
 * byte is the high half of a word), added to sum; not folded. Keep the
 * chained total below 2^32: fine for anything under 64 KiB plus a few
 * such additions. */
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

/* The same sum, eight bytes a step (csum.c); the result is folded to 32
 * bits, so any len is safe. Chains with csum_add_bytes. */
uint32_t csum_add_fast(uint32_t sum, const uint8_t *p, size_t len);

/* The 16-bit one's-complement sum of an unfolded sum. A region whose
 * checksum is right folds (with its checksum field) to 0xffff. */
static inline uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The checksum field value (host order) for a region whose sum (with the
 * field taken as zero) is sum. UDP writes 0xffff where this gives 0. */
static inline uint16_t
csum_finish(uint32_t sum)
{
	return (uint16_t)~csum_fold(sum);
}

/* RFC 1624 eqn. 3: the checksum check after a 16-bit word of the region
 * changed from old_word to new_word: HC' = ~(~HC + ~m + m'). Host-order
 * values. (Eqn. 2 would give 0xffff where 0 is right.) */
static inline uint16_t
csum_replace16(uint16_t check, uint16_t old_word, uint16_t new_word)
{
	uint32_t sum = (uint16_t)~check;

	sum += (uint16_t)~old_word;
	sum += new_word;
	return (uint16_t)~csum_fold(sum);
}

/* The same for a 32-bit field on a 16-bit boundary (an IPv4 address). */
static inline uint16_t
csum_replace32(uint16_t check, uint32_t old_val, uint32_t new_val)
{
	check = csum_replace16(check, (uint16_t)(old_val >> 16), (uint16_t)(new_val >> 16));
	return csum_replace16(check, (uint16_t)old_val, (uint16_t)new_val);
}

/* The same for bytes [o, o + n) of region r that changed from old_words
 * (a copy of the 16-bit-aligned words covering them, taken before the
 * change): fields at odd offsets, as TCP options can be. */
static inline uint16_t
csum_replace_span(uint16_t check, const uint8_t *r, uint32_t o, uint32_t n, const uint8_t *old_words)
{
	uint32_t start = o & ~1u, end = (o + n + 1) & ~1u;

	for (uint32_t k = start; k < end; k += 2)
		check = csum_replace16(check, rd16(old_words + (k - start)), rd16(r + k));
	return check;
}

/* The IPv4 pseudo header's sum (source, destination, zero, protocol,
 * L4 length) for the IPv4 header at ip (its addresses at 12..19);
 * not folded. Add the L4 bytes with the checksum field zero, then
 * csum_finish. */
static inline uint32_t
csum_pseudo_ipv4(const uint8_t *ip, uint8_t proto, uint32_t l4len)
{
	return csum_add_bytes(0, ip + 12, 8) + proto + (l4len & 0xffff) + (l4len >> 16);
}

#endif
