/*
 * gso — the one place that finishes offloaded packets, for the router's
 * TAPs and the engine's uplink (src/net/offload.c) and the VPN endpoint's
 * offloading TUN (src/vpn/endpoint/ep_tunoff.c): the virtio_net_hdr a
 * TAP/TUN with IFF_VNET_HDR (or a PACKET_VNET_HDR socket) puts before each
 * packet, its check against the packet, completion of a partial checksum,
 * and software TSO: a TCP/IPv4 super-frame cut into MSS-sized segments,
 * one at a time into the caller's buffer; and its inverse, TCP trains:
 * consecutive segments of one flow joined into one GSO frame.
 *
 * Packets are given as a buffer with the IPv4 header at l3_off (14 after
 * an Ethernet header, 0 for a TUN's bare packet); bytes before l3_off are
 * copied into each segment unchanged. Parsing the packet is the caller's
 * (net has its frame parser, the endpoint its IPv4/TCP walk): what gso
 * needs of it is a struct gso_pkt. Never allocates, does I/O, or reads or
 * writes outside the lengths given; the header is checked (gso_vnet_check)
 * before anything trusts it. Uses base/csum.h; never net/ or vpn/.
 * Tested in tests/base/test_gso.c (segments against a reference cut).
 */
#ifndef VPCD_BASE_GSO_H
#define VPCD_BASE_GSO_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/csum.h"

/* struct virtio_net_hdr (the legacy 10-byte one), in the host's byte
 * order (the device's default: TUNSETVNETLE/BE unset). */
#define VNET_HDR_LEN		10
#define VNET_F_NEEDS_CSUM	1	/* the checksum at csum_start + csum_offset is partial */
#define VNET_F_DATA_VALID	2
#define VNET_GSO_NONE		0
#define VNET_GSO_TCPV4		1
#define VNET_GSO_UDP_L4		5	/* written by the router only (UDP trains) */
#define VNET_GSO_ECN		0x80

struct vnet_hdr {
	uint8_t vh_flags, vh_gso_type;
	uint16_t vh_hdr_len, vh_gso_size, vh_csum_start, vh_csum_offset;
};

/* Reads the 10-byte header at p. Inline: once per frame the router reads. */
static inline void
vnet_hdr_read(const uint8_t *p, struct vnet_hdr *h)
{
	/* The legacy header is in the host's byte order (TUNSETVNETLE/BE
	 * unset), so plain loads are right on either endianness. */
	h->vh_flags = p[0];
	h->vh_gso_type = p[1];
	memcpy(&h->vh_hdr_len, p + 2, 2);
	memcpy(&h->vh_gso_size, p + 4, 2);
	memcpy(&h->vh_csum_start, p + 6, 2);
	memcpy(&h->vh_csum_offset, p + 8, 2);
}
/* Writes the 10-byte header at p and zeroes the rest of hlen (>= 10). */
void vnet_hdr_write(uint8_t *p, uint32_t hlen, const struct vnet_hdr *h);

/* What the header is checked against: the caller's parse of the packet. */
struct gso_pkt {
	uint32_t gp_l4_off;		/* the L4 header in the buffer; 0: none (e.g. a fragment) */
	uint32_t gp_end;		/* the packet's end in the buffer (IPv4 total length) */
	uint8_t gp_proto;		/* IPv4 protocol */
	bool gp_frag;			/* a fragment (MF or an offset) */
};

/* Is h consistent with the packet? A partial checksum's field lies within
 * the packet after the IPv4 header (an L4 checksum: IPv4's own is never
 * offloaded); GSO only as TSO of TCP over unfragmented IPv4, with a
 * segment size and the checksum partial (UFO, USO, TCPv6: never enabled
 * on our devices, refused). */
static inline bool
gso_vnet_check(const struct vnet_hdr *h, const struct gso_pkt *pk)
{
	/* inline: once per frame the router reads */
	if (h->vh_flags & VNET_F_NEEDS_CSUM) {
		/* the field after the IPv4 header, within the packet */
		if (pk->gp_l4_off == 0 || h->vh_csum_start < pk->gp_l4_off ||
		    (uint32_t)h->vh_csum_start + h->vh_csum_offset + 2 > pk->gp_end)
			return false;
	}
	switch (h->vh_gso_type & (uint8_t)~VNET_GSO_ECN) {
	case VNET_GSO_NONE:
		return true;
	case VNET_GSO_TCPV4:
		return pk->gp_proto == 6 /* TCP */ && pk->gp_l4_off != 0 && !pk->gp_frag &&
		       h->vh_gso_size != 0 && (h->vh_flags & VNET_F_NEEDS_CSUM);
	default:
		return false;	/* UFO, USO, TCPv6: never enabled on our devices */
	}
}

/* Completes a partial checksum (VNET_F_NEEDS_CSUM) in place: the field at
 * csum_start + csum_offset holds the pseudo header's sum; the sum from
 * csum_start to end, complemented, is the checksum (as the kernel's
 * skb_checksum_help, 0 written as 0xffff: the same checksum for TCP, and
 * "no checksum" would be wrong for UDP). p is the buffer, end the
 * packet's end in it. Nothing to do without NEEDS_CSUM: true. false (and
 * nothing written) when the field or csum_start lies outside [0, end). */
bool gso_csum_complete(uint8_t *p, uint32_t end, const struct vnet_hdr *h);

/* The partial checksum a kernel leaves in a TCP/UDP field for
 * CHECKSUM_PARTIAL: the pseudo header's sum for l4len bytes of proto,
 * folded, not complemented (what NEEDS_CSUM says the field holds). */
static inline uint16_t
gso_csum_partial(const uint8_t *ip, uint8_t proto, uint32_t l4len)
{
	return csum_fold(csum_pseudo_ipv4(ip, proto, l4len));
}

/* Software TSO: cuts a TCP/IPv4 super-frame into segments of at most mss
 * payload bytes, each a complete packet: the bytes before l3_off and the
 * headers copied, IPv4 total length, id (the first's + i) and checksum,
 * sequence number advanced, FIN/PSH on the last only, CWR on the first
 * only, the TCP checksum in full. A super-frame without payload gives one
 * segment (its headers). Reads the super-frame, never writes it; the
 * super-frame must outlive the iterator. */
struct gso_tcp_iter {
	const uint8_t *gt_pkt;
	uint32_t gt_hlen;		/* bytes before l3_off + IPv4 + TCP headers */
	uint32_t gt_end;		/* the packet's end */
	uint32_t gt_pos;		/* the next payload byte */
	uint32_t gt_seq;		/* the first segment's sequence number */
	uint16_t gt_id;			/* the first segment's IPv4 id */
	uint16_t gt_mss;
	uint16_t gt_index;
	uint16_t gt_l3_off, gt_l4_off;
	bool gt_done;
};

/* Starts cutting the packet in p (IPv4 at l3_off, TCP at l4_off, the
 * packet ends at end) into segments of at most room bytes each (from the
 * buffer's start, so room - headers bounds mss). false (it unusable) when
 * mss is 0, the offsets or the TCP header do not fit end, or the headers
 * leave no room for one byte of payload. */
bool gso_tcp_init(struct gso_tcp_iter *it, const uint8_t *p, uint32_t l3_off, uint32_t l4_off,
		  uint32_t end, uint16_t mss, uint32_t room);
/* Writes the next segment into out (room bytes); its length, 0 when the
 * cut is done. */
uint32_t gso_tcp_next(struct gso_tcp_iter *it, uint8_t *out);
/* Is there a segment left (take the buffer, then gso_tcp_next)? */
static inline bool
gso_tcp_more(const struct gso_tcp_iter *it)
{
	return !it->gt_done;
}

/* TCP trains (the inverse of the cut above, for writes to a TAP/TUN with
 * a virtio_net_hdr): consecutive TCP/IPv4 segments of one flow go as one
 * VNET_GSO_TCPV4 frame, so the receiving kernel builds one skb (its TCP
 * takes it as GRO would have) where it built one per segment, and its
 * segmentation (when it forwards) gives back exactly the segments. A
 * segment joins only when that holds (the rules the kernel's GRO uses,
 * and what its TSO rewrites): an IPv4 header without options, not a
 * fragment, the total length the packet's, a payload, flags ACK only
 * (PSH allowed on the last: it ends the train), a TCP checksum that
 * verifies (or a partial one known good: the caller says so); to
 * continue, the same bytes before l3_off (Ethernet), the same IPv4
 * header but for total length, id and checksum (TOS, DF, TTL, addresses),
 * the next IPv4 id, the same TCP header but for the sequence number,
 * flags and checksum (ports, ack, window, options), the next sequence
 * number, a payload no longer than the first's (nothing after a shorter
 * one), at most GSO_TRAIN_MAX segments and 64 KB of IPv4.
 * The first packet is kept where it is until a second joins; then it is
 * copied into the caller's buffer (nothing when it is there already) and
 * each further payload appended. */
#define GSO_TRAIN_MAX		64	/* segments per frame (the kernel's GRO: 64) */

struct gso_tcp_train {
	uint8_t *gtt_buf;		/* the caller's: gtt_l3_off + 65535 bytes */
	const uint8_t *gtt_first;	/* the first packet (gtt_buf once a second joined) */
	uint32_t gtt_len;		/* frame bytes so far (0: no train) */
	uint32_t gtt_next_seq;		/* the sequence number that continues it */
	uint16_t gtt_l3_off, gtt_hlen;	/* the IPv4 header; all headers' end */
	uint16_t gtt_seg;		/* the first segment's payload (gso_size) */
	uint16_t gtt_n;			/* segments in it */
	uint16_t gtt_next_id;		/* the IPv4 id that continues it */
	bool gtt_open;			/* may take more (no PSH, none shorter) */
};

/* Can the packet p (IPv4 at l3_off, end its end in p) be in a train?
 * csum_good: its TCP field holds a partial checksum already checked
 * against the pseudo header (a virtio_net_hdr's NEEDS_CSUM), so the
 * sum over the payload is not taken; else the TCP checksum must verify
 * (the frame's checksum is left to the kernel: a segment that arrived
 * broken must stay broken, alone). */
bool gso_tcp_train_eligible(const uint8_t *p, uint32_t l3_off, uint32_t end, bool csum_good);
/* Starts train t in buf with the eligible packet p (which must stay
 * unchanged until gso_tcp_train_finish or the next append). */
void gso_tcp_train_start(struct gso_tcp_train *t, uint8_t *buf, const uint8_t *p,
			 uint32_t l3_off, uint32_t end);
/* Appends the eligible packet p when it continues t: true; false and t
 * unchanged when it does not. Never writes p. */
bool gso_tcp_train_append(struct gso_tcp_train *t, const uint8_t *p, uint32_t l3_off,
			  uint32_t end);
/* Ends t: the frame to write (the first packet itself when alone, with
 * h all zero; else gtt_buf with its IPv4 length and checksum, the last
 * segment's PSH, the TCP field's pseudo-header sum, and h the GSO
 * header), its length in *len; t is empty after. NULL when t was. */
const uint8_t *gso_tcp_train_finish(struct gso_tcp_train *t, uint32_t *len, struct vnet_hdr *h);

#endif
