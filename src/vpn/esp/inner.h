/*
 * inner — what the tunnel does to plaintext IPv4 packets before it
 * encrypts them or after it decrypts them, as AWS's VPN endpoint does:
 * TCP MSS clamping (AWS: 1387), clearing DF, fragmenting before encryption,
 * and answering ping on our inside tunnel address (169.254.x.x/30).
 *
 * All work in place on the caller's bytes, fix checksums incrementally
 * (RFC 1624) where a field changes, read nothing past len, allocate nothing
 * and log nothing. Each one first checks that the packet is an IPv4 packet
 * whose header fits in len and whose total length equals len (a packet
 * straight out of TUN or esp_decrypt_batch); anything else is left alone.
 *
 * Typical outbound order: inner_clamp_mss(); inner_clear_df(); then, if the
 * packet is longer than esp_sa_inner_mtu(), inner_fragment(); then
 * esp_encrypt_batch() on the pieces. Inbound: esp_decrypt_batch(); then
 * inner_clamp_mss() (SYN-ACKs too), and inner_icmp_echo_reply() for
 * packets to our inside address.
 */
#ifndef VPCD_VPN_ESP_INNER_H
#define VPCD_VPN_ESP_INNER_H

#include "vpn/esp/esp.h"

#include <stdbool.h>
#include <stdint.h>

/* IPv4, header within len, total length == len. */
bool inner_ipv4_ok(const uint8_t *p, uint32_t len);

/* What the functions below need to know of a packet, parsed once: by
 * inner_facts_parse() from the bytes (a packet from a TUN), or by whoever
 * parsed the packet already (the VPC router, whose decision comes with
 * it: vpn/endpoint's ring ports), so that nothing is parsed again. The
 * *_known variants trust the facts (they are checked against nothing but
 * if_len and if_hlen); the plain ones parse, then call them. */
struct inner_facts {
	uint16_t if_len;	/* IPv4 total length == the bytes held */
	uint8_t if_hlen;	/* IPv4 header length, 20..60, <= if_len */
	uint8_t if_proto;
	bool if_df;		/* Don't Fragment set */
	bool if_fragment;	/* MF set or a fragment offset */
	bool if_tcp_syn;	/* TCP, SYN set, unfragmented or the first fragment,
				 * its header (to its data offset) within if_len */
};

/* The facts of p (len bytes); false (nothing set) when !inner_ipv4_ok. */
bool inner_facts_parse(const uint8_t *p, uint32_t len, struct inner_facts *f);
bool inner_clamp_mss_known(uint8_t *p, const struct inner_facts *f, uint16_t mss);
/* Also clears f->if_df. */
bool inner_clear_df_known(uint8_t *p, struct inner_facts *f);
/* pkt->len must be f->if_len. */
int inner_fragment_known(struct esp_pkt *pkt, const struct inner_facts *f, uint32_t mtu,
	struct esp_pkt *more, unsigned max_more);

/* If p is a TCP segment with SYN set whose MSS option exceeds mss, lower
 * the option to mss and fix the TCP checksum. True if it changed. */
bool inner_clamp_mss(uint8_t *p, uint32_t len, uint16_t mss);

/* Clear the Don't Fragment bit and fix the header checksum. True if it
 * was set. */
bool inner_clear_df(uint8_t *p, uint32_t len);

/* Split the IPv4 packet in pkt into fragments of at most mtu bytes
 * (RFC 791): pkt is cut down in place to the first fragment, the others
 * are written into more[0..], each at its own off, within its own buffer
 * (which the caller owns and sized; give each ESP_HEADROOM and
 * ESP_TAILROOM around mtu bytes). Options without the copy flag appear
 * only in the first fragment. An already fragmented packet is split
 * further with correct offsets and MF.
 * Returns the number of extra fragments written to more (0 when the packet
 * already fits, and then nothing changes), or -1 when the packet is not
 * valid IPv4, has DF set (the caller clears DF or answers ICMP "fragmentation
 * needed"), mtu is below header + 8 bytes, or more[] is too short or too
 * small; on -1 pkt is unchanged. */
int inner_fragment(struct esp_pkt *pkt, uint32_t mtu, struct esp_pkt *more,
	unsigned max_more);

/* If p is an ICMP echo request (with a valid ICMP checksum and no IP
 * options) to our_addr (host order), turn it into the echo reply in place:
 * addresses swapped, type 0, TTL 64, checksums fixed. True if it did;
 * the caller then sends it back into the tunnel. */
bool inner_icmp_echo_reply(uint8_t *p, uint32_t len, uint32_t our_addr);

#endif
