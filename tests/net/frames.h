/* frames — builds test frames (Ethernet + IPv4 + TCP/UDP/ICMP, ARP) with
 * correct checksums, for the net unit tests. */
#ifndef VPCD_TESTS_NET_FRAMES_H
#define VPCD_TESTS_NET_FRAMES_H

#include <stdint.h>

extern const uint8_t test_router_mac[6];

struct tframe {
	const uint8_t *dmac, *smac;
	uint32_t src, dst;
	uint8_t proto;
	uint16_t sport, dport;		/* ICMP: sport = identifier */
	uint8_t icmp_type, icmp_code;
	uint8_t tcp_flags;
	uint16_t payload;		/* bytes of zeros after the L4 header */
};

/* Returns the frame length written into out (>= 14 + 20 + 20 + payload). */
uint32_t tframe_build(uint8_t *out, const struct tframe *t);
uint32_t tarp_request(uint8_t *out, const uint8_t smac[6], uint32_t spa, uint32_t tpa);
/* A valid L4 checksum check of the IPv4 packet at p (len bytes). */
int tl4_csum_ok(const uint8_t *p, uint32_t len);

#endif
