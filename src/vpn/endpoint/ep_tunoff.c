/*
 * ep_tunoff.c — the TUN side with offloads (cfg.tun_offload): the TUN is
 * opened with IFF_VNET_HDR and offered checksum and TCP/IPv4 segmentation
 * offload (TUNSETOFFLOAD TUN_F_CSUM | TUN_F_TSO4), so the kernel hands a
 * TCP stream's data as super-frames of up to 64 KB (one read instead of
 * ~45, and no segmentation in the kernel) and leaves checksums partial;
 * this file completes checksums and cuts super-frames into segments
 * (software TSO: IP id + i, sequence advanced, FIN/PSH on the last only,
 * CWR on the first only, IP and TCP checksums in full) straight into the
 * outbound pool buffers, each then taken like one TUN packet.
 * Writes to such a TUN carry a zero virtio_net_hdr (no offload asked).
 *
 * Where the kernel refuses IFF_VNET_HDR or the offloads (an older kernel,
 * a policy), the TUN is the plain one (ep_socket.c) and nothing here runs.
 * Loop thread only; the super-frame buffer is the endpoint's (allocated
 * once); never allocates, locks or logs per packet.
 *
 * The router (src/net/offload.c) has its own TSO on Ethernet frames; the
 * two share base/csum.h, not the frame walk (net is not a dependency of
 * vpn/endpoint).
 */
#include "vpn/endpoint/ep_internal.h"

#include "base/base.h"
#include "base/be.h"
#include "base/csum.h"

#include <string.h>

#define VNET_F_NEEDS_CSUM	1
#define VNET_GSO_NONE		0
#define VNET_GSO_TCPV4		1
#define VNET_GSO_ECN		0x80
#define IPPROTO_TCP_		6
#define IPPROTO_UDP_		17
#define TCP_FIN			0x01
#define TCP_PSH			0x08
#define TCP_CWR			0x80

/* struct virtio_net_hdr, native byte order (the TUN's default). */
struct ep_vnet_hdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

static void vnet_read(const uint8_t *p, struct ep_vnet_hdr *h)
{
	h->flags = p[0];
	h->gso_type = p[1];
	memcpy(&h->hdr_len, p + 2, 2);
	memcpy(&h->gso_size, p + 4, 2);
	memcpy(&h->csum_start, p + 6, 2);
	memcpy(&h->csum_offset, p + 8, 2);
}

/* A partial checksum (NEEDS_CSUM: the field holds the pseudo header's
 * sum) completed over [csum_start, len). false: its place is outside p. */
static bool csum_complete(uint8_t *p, uint32_t len, const struct ep_vnet_hdr *h)
{
	uint32_t start = h->csum_start, at = start + h->csum_offset;
	if (start >= len || at + 2 > len || h->csum_offset > 0xffff - 2)
		return false;
	/* the field's partial sum is part of the region summed */
	uint16_t c = csum_finish(csum_add_fast(0, p + start, len - start));
	wr16(p + at, c ? c : 0xffff);	/* as the kernel: 0 means none for UDP */
	return true;
}

/* The IPv4 (20-60 bytes) and TCP header lengths of the TCP/IPv4 packet p
 * of len bytes; false when it is not one whole. */
static bool tcp4_headers(const uint8_t *p, uint32_t len, uint32_t *ihl, uint32_t *thl)
{
	if (len < 20 || (p[0] >> 4) != 4)
		return false;
	*ihl = (uint32_t)(p[0] & 0xf) * 4;
	if (*ihl < 20 || p[9] != IPPROTO_TCP_ || len < *ihl + 20 || (rd16(p + 6) & 0x3fff))
		return false;	/* not TCP, short, or a fragment */
	*thl = (uint32_t)(p[*ihl + 12] >> 4) * 4;
	return *thl >= 20 && len >= *ihl + *thl;
}

/* Segment k of the super-frame f (flen bytes, headers hl = ihl + thl)
 * with payload [off, off + n) into out: the headers copied and fixed, the
 * payload copied, both checksums in full. */
static void tso_segment(const uint8_t *f, uint32_t ihl, uint32_t thl, uint32_t off, uint32_t n,
			unsigned k, bool last, uint8_t *out)
{
	uint32_t hl = ihl + thl;
	memcpy(out, f, hl);
	memcpy(out + hl, f + hl + off, n);
	wr16(out + 2, (uint16_t)(hl + n));
	wr16(out + 4, (uint16_t)(rd16(f + 4) + k));
	wr16(out + 10, 0);
	wr16(out + 10, csum_finish(csum_add_bytes(0, out, ihl)));
	uint8_t *t = out + ihl;
	wr32(t + 4, rd32(f + ihl + 4) + off);
	uint8_t fl = t[13];
	if (!last)
		fl &= (uint8_t)~(TCP_FIN | TCP_PSH);
	if (k)
		fl &= (uint8_t)~TCP_CWR;
	t[13] = fl;
	wr16(t + 16, 0);
	uint32_t sum = csum_pseudo_ipv4(out, IPPROTO_TCP_, thl + n);
	sum = csum_add_bytes(sum, t, thl);
	sum = csum_add_fast(sum, out + hl, n);
	wr16(t + 16, csum_finish(sum));
}

void ep_tun_offload_frame(struct vpn_endpoint *ep, unsigned port, uint8_t *frame, uint32_t len)
{
	struct ep_vnet_hdr h;
	if (len < EP_VNET_HDR_LEN) {
		ep->drops[VPN_DROP_BAD_PACKET]++;
		return;
	}
	vnet_read(frame, &h);
	uint8_t *p = frame + EP_VNET_HDR_LEN;
	len -= EP_VNET_HDR_LEN;
	uint32_t cap = ep->buf_size - ESP_HEADROOM - ESP_TAILROOM;
	uint8_t gso = h.gso_type & (uint8_t)~VNET_GSO_ECN;
	if (gso == VNET_GSO_NONE) {
		if ((h.flags & VNET_F_NEEDS_CSUM) && !csum_complete(p, len, &h)) {
			ep->drops[VPN_DROP_BAD_PACKET]++;
			return;
		}
		if (len > cap) {
			ep->drops[VPN_DROP_BAD_PACKET]++;
			return;
		}
		if (!ep_tx_room(ep))
			ep_tx_flush(ep);
		uint8_t *buf = ep_tx_pool_take(ep);
		memcpy(buf + ESP_HEADROOM, p, len);
		ep_tun_packet(ep, port, buf, len);
		return;
	}
	uint32_t ihl, thl;
	if (gso != VNET_GSO_TCPV4 || !h.gso_size || !tcp4_headers(p, len, &ihl, &thl) ||
	    ihl + thl + h.gso_size > cap) {
		ep->drops[VPN_DROP_BAD_PACKET]++;
		return;
	}
	/* the IPv4 total length of a super-frame may be anything up to 64 KB;
	 * the read's length is the truth, bounded by it */
	uint32_t ip_len = rd16(p + 2);
	if (ip_len >= ihl + thl && ip_len < len)
		len = ip_len;
	uint32_t payload = len - ihl - thl;
	ep->tun_tso_reads++;
	unsigned k = 0;
	for (uint32_t off = 0; off < payload || (payload == 0 && k == 0); k++) {
		uint32_t n = payload - off < h.gso_size ? payload - off : h.gso_size;
		if (!ep_tx_room(ep))
			ep_tx_flush(ep);	/* the frame is ours, not a pool buffer */
		uint8_t *buf = ep_tx_pool_take(ep);
		tso_segment(p, ihl, thl, off, n, k, off + n >= payload, buf + ESP_HEADROOM);
		ep->tun_tso_segments++;
		ep_tun_packet(ep, port, buf, ihl + thl + n);
		off += n;
		if (payload == 0)
			break;
	}
}
