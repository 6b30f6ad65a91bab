/*
 * offload — what a TAP with IFF_VNET_HDR asks of the router: checking the
 * virtio_net_hdr before each frame against the router's parse, completing
 * a partial checksum, and cutting a GSO TCP frame into MSS-sized segments,
 * for the destinations that cannot take the frame whole (gateway ports
 * carry plain IPv4 packets; an ENI without the header takes 1500-byte
 * frames); and UDP trains, the router's own. The header, the checksum
 * completion and the segmenter themselves are base/gso.h's, shared with
 * the VPN endpoint's offloading TUN: here the router's frames are mapped
 * onto them.
 *
 * ENI -> ENI with headers on both sides never comes here: the frame and
 * its header go on unchanged, and the receiving kernel does the rest.
 * The engine's uplink (a socket with PACKET_VNET_HDR) finishes its frames
 * here too, through net_offload_finish (net.h): one implementation.
 * Nothing here allocates, does I/O, or reads outside the frame; the
 * header is checked against the parsed frame before anything trusts it.
 */
#include "net/net_int.h"

#include "base/csum.h"

#include <stdio.h>
#include <string.h>

_Static_assert(NET_VNET_HDR_LEN == VNET_HDR_LEN, "net.h's header length is base/gso.h's");

/* The router's parse as base/gso.h's packet description. */
static struct gso_pkt
gso_pkt_of(const struct pkt_meta *m)
{
	return (struct gso_pkt){
		.gp_l4_off = m->pm_l4_off,
		.gp_end = (uint32_t)m->pm_l3_off + m->pm_ip_len,
		.gp_proto = m->pm_proto,
		.gp_frag = m->pm_frag != PM_FRAG_NONE,
	};
}

bool
vnet_hdr_check(const struct vnet_hdr *h, const struct pkt_meta *m)
{
	struct gso_pkt pk = gso_pkt_of(m);
	return gso_vnet_check(h, &pk);
}

void
vnet_csum_complete(uint8_t *frame, const struct pkt_meta *m, const struct vnet_hdr *h)
{
	/* within the packet: vnet_hdr_check said so */
	(void)gso_csum_complete(frame, (uint32_t)m->pm_l3_off + m->pm_ip_len, h);
}

bool
tso_init(struct gso_tcp_iter *it, const uint8_t *frame, const struct pkt_meta *m, uint16_t mss)
{
	if (m->pm_proto != IPPROTO_TCP_ || m->pm_l4_off == 0) {
		it->gt_done = true;
		return false;
	}
	return gso_tcp_init(it, frame, m->pm_l3_off, m->pm_l4_off,
			    (uint32_t)m->pm_l3_off + m->pm_ip_len, mss, NET_FRAME_MAX);
}

unsigned
net_offload_finish(uint8_t *frame, uint32_t len, uint32_t l3_off, const uint8_t vnet[NET_VNET_HDR_LEN],
		   uint8_t *const *out, uint32_t *lens, unsigned max)
{
	struct vnet_hdr h;
	struct pkt_meta m;

	if (max == 0 || l3_off > len || len - l3_off < IPV4_HLEN_MIN)
		return 0;
	vnet_hdr_read(vnet, &h);
	uint8_t *ip = frame + l3_off;
	uint8_t gso = h.vh_gso_type & (uint8_t)~VNET_GSO_ECN;
	if (gso == VNET_GSO_NONE && !(h.vh_flags & VNET_F_NEEDS_CSUM)) {
		/* Nothing to finish: the packet as its total length says
		 * (Ethernet may pad), judged by the router's own parse. */
		uint32_t tot = rd16(ip + 2);
		if (tot < IPV4_HLEN_MIN || tot > len - l3_off || tot > NET_PKT_MAX)
			return 0;
		memcpy(out[0], ip, tot);
		lens[0] = tot;
		return 1;
	}
	/* An offload: the header is checked against the parsed packet
	 * before anything trusts it. */
	if (ipv4_parse(frame, len, l3_off, &m) != FRAME_IPV4 || !vnet_hdr_check(&h, &m))
		return 0;
	if (gso == VNET_GSO_NONE) {
		if (m.pm_ip_len > NET_PKT_MAX)
			return 0;
		vnet_csum_complete(frame, &m, &h);
		memcpy(out[0], ip, m.pm_ip_len);
		lens[0] = m.pm_ip_len;
		return 1;
	}
	/* TSO into bare IPv4 packets: the offsets from the IPv4 header */
	struct gso_tcp_iter it;
	if (m.pm_proto != IPPROTO_TCP_ || m.pm_l4_off == 0 ||
	    !gso_tcp_init(&it, ip, 0, m.pm_l4_off - l3_off, m.pm_ip_len, h.vh_gso_size, NET_PKT_MAX))
		return 0;
	unsigned n = 0;
	uint32_t sl;
	while (n < max && (sl = gso_tcp_next(&it, out[n])) > 0)
		lens[n++] = sl;
	return n;
}

/* --- UDP trains ------------------------------------------------------------ */

/* The partial checksum a datagram of UDP length l4len carries: the
 * pseudo-header sum, folded, not complemented (as the sender's kernel
 * leaves it for CHECKSUM_PARTIAL). */
static uint16_t
udp_partial_field(const uint8_t *ip, uint32_t l4len)
{
	return gso_csum_partial(ip, IPPROTO_UDP_, l4len);
}

bool
udp_train_eligible(const uint8_t *frame, const struct pkt_meta *m, const struct vnet_hdr *h)
{
	if (m->pm_proto != IPPROTO_UDP_ || m->pm_frag != PM_FRAG_NONE || m->pm_l4_off == 0 ||
	    m->pm_l4_off != m->pm_l3_off + IPV4_HLEN_MIN)
		return false;	/* not UDP, a fragment, or IPv4 options */
	if (h->vh_gso_type != VNET_GSO_NONE || !(h->vh_flags & VNET_F_NEEDS_CSUM) ||
	    h->vh_csum_start != m->pm_l4_off || h->vh_csum_offset != 6)
		return false;	/* not a partial checksum at UDP's field */
	const uint8_t *ip = frame + m->pm_l3_off, *udp = frame + m->pm_l4_off;
	uint32_t l4len = (uint32_t)m->pm_ip_len - IPV4_HLEN_MIN;
	/* the UDP length is the packet's (no trailing bytes), with a payload */
	if (rd16(udp + 4) != l4len || l4len <= 8)
		return false;
	return rd16(udp + 6) == udp_partial_field(ip, l4len);
}

void
udp_train_start(struct udp_train *t, uint8_t *frame, const struct pkt_meta *m)
{
	t->ut_frame = frame;
	t->ut_l3_off = m->pm_l3_off;
	t->ut_l4_off = m->pm_l4_off;
	t->ut_len = (uint32_t)m->pm_l3_off + m->pm_ip_len;
	t->ut_mss = (uint16_t)(m->pm_ip_len - IPV4_HLEN_MIN - 8);
	t->ut_segs = 1;
	t->ut_next_id = (uint16_t)(m->pm_ip_id + 1);
	t->ut_ended = false;
}

bool
udp_train_append(struct udp_train *t, const uint8_t *frame, const struct pkt_meta *m)
{
	const uint8_t *f0 = t->ut_frame;
	const uint8_t *ip0 = f0 + t->ut_l3_off, *ip = frame + m->pm_l3_off;
	uint32_t hlen = (uint32_t)t->ut_l4_off + 8;
	uint32_t payload = (uint32_t)m->pm_ip_len - IPV4_HLEN_MIN - 8;

	if (t->ut_ended || t->ut_segs >= UDP_TRAIN_MAX || m->pm_l3_off != t->ut_l3_off ||
	    m->pm_l4_off != t->ut_l4_off || payload > t->ut_mss || m->pm_ip_id != t->ut_next_id ||
	    t->ut_len + payload > NET_GSO_FRAME_MAX)
		return false;
	/* Ethernet header, IPv4 version to TOS, flags to protocol, the
	 * addresses, the ports: all as the first datagram's (the lengths,
	 * the id and the checksums are the segmentation's to write; the
	 * UDP field was checked against this datagram's own length) */
	if (memcmp(frame, f0, t->ut_l3_off) != 0 || memcmp(ip, ip0, 2) != 0 ||
	    memcmp(ip + 6, ip0 + 6, 4) != 0 || memcmp(ip + 12, ip0 + 12, 8) != 0 ||
	    memcmp(frame + t->ut_l4_off, f0 + t->ut_l4_off, 4) != 0)
		return false;
	memcpy(t->ut_frame + t->ut_len, frame + hlen, payload);
	t->ut_len += payload;
	t->ut_segs++;
	t->ut_next_id++;
	if (payload < t->ut_mss)
		t->ut_ended = true;
	return true;
}

bool
udp_trains_supported(const char *release)
{
	unsigned major, minor;

	if (sscanf(release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 2);
}

void
udp_train_finish(struct udp_train *t, struct vnet_hdr *h)
{
	uint8_t *ip = t->ut_frame + t->ut_l3_off, *udp = t->ut_frame + t->ut_l4_off;
	uint32_t l4len = t->ut_len - t->ut_l4_off;

	wr16(ip + 2, (uint16_t)(t->ut_len - t->ut_l3_off));
	wr16(ip + 10, 0);
	wr16(ip + 10, csum_finish(csum_add_bytes(0, ip, IPV4_HLEN_MIN)));
	wr16(udp + 4, (uint16_t)l4len);
	wr16(udp + 6, udp_partial_field(ip, l4len));
	*h = (struct vnet_hdr){
		.vh_flags = VNET_F_NEEDS_CSUM,
		.vh_gso_type = VNET_GSO_UDP_L4,
		.vh_hdr_len = (uint16_t)(t->ut_l4_off + 8),
		.vh_gso_size = t->ut_mss,
		.vh_csum_start = t->ut_l4_off,
		.vh_csum_offset = 6,
	};
}
