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
