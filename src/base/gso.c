/*
 * gso.c — virtio_net_hdr, partial checksums and software TSO (gso.h), for
 * the router and the VPN endpoint alike. Per-packet code: no allocation,
 * no I/O, no log; every offset is checked against the lengths given.
 */
#include "base/gso.h"

#include "base/be.h"

#include <string.h>

#define IPPROTO_TCP_	6
#define TCP_FIN		0x01
#define TCP_PSH		0x08
#define TCP_CWR		0x80

void
vnet_hdr_write(uint8_t *p, uint32_t hlen, const struct vnet_hdr *h)
{
	memset(p, 0, hlen);
	p[0] = h->vh_flags;
	p[1] = h->vh_gso_type;
	memcpy(p + 2, &h->vh_hdr_len, 2);
	memcpy(p + 4, &h->vh_gso_size, 2);
	memcpy(p + 6, &h->vh_csum_start, 2);
	memcpy(p + 8, &h->vh_csum_offset, 2);
}

bool
gso_csum_complete(uint8_t *p, uint32_t end, const struct vnet_hdr *h)
{
	if (!(h->vh_flags & VNET_F_NEEDS_CSUM))
		return true;
	uint32_t start = h->vh_csum_start, at = start + h->vh_csum_offset;
	if (start >= end || at + 2 > end)
		return false;
	/* the field's partial sum is part of the region summed */
	uint16_t c = csum_finish(csum_add_fast(0, p + start, end - start));
	wr16(p + at, c ? c : 0xffff);
	return true;
}

bool
gso_tcp_init(struct gso_tcp_iter *it, const uint8_t *p, uint32_t l3_off, uint32_t l4_off,
	     uint32_t end, uint16_t mss, uint32_t room)
{
	memset(it, 0, sizeof(*it));
	it->gt_done = true;
	/* an IPv4 header (20 bytes at least), a whole TCP header */
	if (mss == 0 || l4_off < l3_off + 20 || l4_off > 0xffff || l4_off + 20 > end)
		return false;
	const uint8_t *tcp = p + l4_off;
	uint32_t thl = (uint32_t)(tcp[12] >> 4) * 4;
	uint32_t hlen = l4_off + thl;
	/* headers + at least one byte of payload fit one segment */
	if (thl < 20 || hlen > end || hlen >= room)
		return false;
	if (mss > room - hlen)
		mss = (uint16_t)(room - hlen);
	it->gt_pkt = p;
	it->gt_hlen = hlen;
	it->gt_end = end;
	it->gt_pos = hlen;
	it->gt_seq = rd32(tcp + 4);
	it->gt_id = rd16(p + l3_off + 4);
	it->gt_mss = mss;
	it->gt_l3_off = (uint16_t)l3_off;
	it->gt_l4_off = (uint16_t)l4_off;
	it->gt_done = false;
	return true;
}

uint32_t
gso_tcp_next(struct gso_tcp_iter *it, uint8_t *out)
{
	if (it->gt_done)
		return 0;
	uint32_t plen = it->gt_end - it->gt_pos;
	if (plen > it->gt_mss)
		plen = it->gt_mss;
	bool first = it->gt_index == 0, last = it->gt_pos + plen >= it->gt_end;
	uint32_t len = it->gt_hlen + plen;

	memcpy(out, it->gt_pkt, it->gt_hlen);
	memcpy(out + it->gt_hlen, it->gt_pkt + it->gt_pos, plen);
	uint8_t *ip = out + it->gt_l3_off, *tcp = out + it->gt_l4_off;
	uint32_t ihl = (uint32_t)it->gt_l4_off - it->gt_l3_off;
	uint32_t l4len = len - it->gt_l4_off;

	wr16(ip + 2, (uint16_t)(len - it->gt_l3_off));
	wr16(ip + 4, (uint16_t)(it->gt_id + it->gt_index));
	wr16(ip + 10, 0);
	wr16(ip + 10, csum_finish(csum_add_fast(0, ip, ihl)));
	wr32(tcp + 4, it->gt_seq + (it->gt_pos - it->gt_hlen));
	if (!last)
		tcp[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);	/* the last segment's */
	if (!first)
		tcp[13] &= (uint8_t)~TCP_CWR;			/* the first segment's */
	wr16(tcp + 16, 0);
	uint32_t sum = csum_pseudo_ipv4(ip, IPPROTO_TCP_, l4len);
	wr16(tcp + 16, csum_finish(csum_add_fast(sum, tcp, l4len)));
	it->gt_pos += plen;
	it->gt_index++;
	it->gt_done = last;
	return len;
}

/* ---- TCP trains ------------------------------------------------------------ */

#define TCP_ACK		0x10

bool
gso_tcp_train_eligible(const uint8_t *p, uint32_t l3_off, uint32_t end, bool csum_good)
{
	if (end < l3_off + 40 || end - l3_off > 0xffff)
		return false;
	const uint8_t *ip = p + l3_off, *tcp = ip + 20;
	uint32_t len = end - l3_off;
	/* IPv4 without options, TCP, not a fragment, the length the packet's */
	if (ip[0] != 0x45 || ip[9] != IPPROTO_TCP_ || (rd16(ip + 6) & 0x3fff) || rd16(ip + 2) != len)
		return false;
	uint32_t thl = (uint32_t)(tcp[12] >> 4) * 4;
	if (thl < 20 || 20 + thl >= len)
		return false;	/* the header does not fit, or no payload */
	if ((tcp[13] & (uint8_t)~TCP_PSH) != TCP_ACK)
		return false;	/* no SYN/FIN/RST/URG/ECE/CWR */
	uint32_t sum = csum_pseudo_ipv4(ip, IPPROTO_TCP_, len - 20);
	if (csum_good)
		return rd16(tcp + 16) == csum_fold(sum);
	return csum_fold(csum_add_fast(sum, tcp, len - 20)) == 0xffff;
}

void
gso_tcp_train_start(struct gso_tcp_train *t, uint8_t *buf, const uint8_t *p, uint32_t l3_off,
		    uint32_t end)
{
	const uint8_t *tcp = p + l3_off + 20;
	uint32_t hlen = l3_off + 20 + (uint32_t)(tcp[12] >> 4) * 4;

	t->gtt_buf = buf;
	t->gtt_first = p;
	t->gtt_len = end;
	t->gtt_l3_off = (uint16_t)l3_off;
	t->gtt_hlen = (uint16_t)hlen;
	t->gtt_seg = (uint16_t)(end - hlen);
	t->gtt_n = 1;
	t->gtt_next_seq = rd32(tcp + 4) + t->gtt_seg;
	t->gtt_next_id = (uint16_t)(rd16(p + l3_off + 4) + 1);
	t->gtt_open = !(tcp[13] & TCP_PSH);
}

bool
gso_tcp_train_append(struct gso_tcp_train *t, const uint8_t *p, uint32_t l3_off, uint32_t end)
{
	const uint8_t *f = t->gtt_first;
	uint32_t l4 = l3_off + 20, hlen = t->gtt_hlen;

	if (!t->gtt_len || !t->gtt_open || t->gtt_n >= GSO_TRAIN_MAX || l3_off != t->gtt_l3_off ||
	    end <= hlen || l4 + (uint32_t)(p[l4 + 12] >> 4) * 4 != hlen)
		return false;
	uint32_t payload = end - hlen;
	if (payload > t->gtt_seg || t->gtt_len - l3_off + payload > 0xffff)
		return false;
	/* the bytes before IPv4; IPv4 version to TOS, flags to protocol,
	 * the addresses, the next id; TCP ports, then ack to the end of
	 * the options but flags and checksum, the next sequence number */
	if (memcmp(p, f, l3_off) != 0 || memcmp(p + l3_off, f + l3_off, 2) != 0 ||
	    memcmp(p + l3_off + 6, f + l3_off + 6, 4) != 0 ||
	    memcmp(p + l3_off + 12, f + l3_off + 12, 8) != 0 ||
	    rd16(p + l3_off + 4) != t->gtt_next_id || memcmp(p + l4, f + l4, 4) != 0 ||
	    rd32(p + l4 + 4) != t->gtt_next_seq || memcmp(p + l4 + 8, f + l4 + 8, 5) != 0 ||
	    memcmp(p + l4 + 14, f + l4 + 14, 2) != 0 ||
	    memcmp(p + l4 + 18, f + l4 + 18, hlen - l4 - 18) != 0)
		return false;
	if (t->gtt_n == 1 && t->gtt_first != t->gtt_buf) {
		memcpy(t->gtt_buf, t->gtt_first, t->gtt_len);
		t->gtt_first = t->gtt_buf;
	}
	memcpy(t->gtt_buf + t->gtt_len, p + hlen, payload);
	t->gtt_len += payload;
	t->gtt_n++;
	t->gtt_next_seq += payload;
	t->gtt_next_id++;
	/* a shorter one or PSH ends it, as the sender's TSO would */
	bool psh = (p[l4 + 13] & TCP_PSH) != 0;
	if (psh)
		t->gtt_buf[l4 + 13] |= TCP_PSH;
	t->gtt_open = payload == t->gtt_seg && !psh;
	return true;
}

const uint8_t *
gso_tcp_train_finish(struct gso_tcp_train *t, uint32_t *len, struct vnet_hdr *h)
{
	const uint8_t *out = t->gtt_first;

	memset(h, 0, sizeof(*h));
	*len = t->gtt_len;
	if (!t->gtt_len)
		return NULL;
	if (t->gtt_n > 1) {
		uint8_t *ip = t->gtt_buf + t->gtt_l3_off;
		uint32_t l4len = t->gtt_len - t->gtt_l3_off - 20;
		wr16(ip + 2, (uint16_t)(t->gtt_len - t->gtt_l3_off));
		wr16(ip + 10, 0);
		wr16(ip + 10, csum_finish(csum_add_bytes(0, ip, 20)));
		wr16(ip + 20 + 16, gso_csum_partial(ip, IPPROTO_TCP_, l4len));
		*h = (struct vnet_hdr){
			.vh_flags = VNET_F_NEEDS_CSUM,
			.vh_gso_type = VNET_GSO_TCPV4,
			.vh_hdr_len = t->gtt_hlen,
			.vh_gso_size = t->gtt_seg,
			.vh_csum_start = (uint16_t)(t->gtt_l3_off + 20),
			.vh_csum_offset = 16,
		};
	}
	t->gtt_len = 0;
	t->gtt_n = 0;
	t->gtt_open = false;
	return out;
}
