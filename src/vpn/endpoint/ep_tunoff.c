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
 * Writes: the TCP segments one receive batch decrypts for the TUN in a
 * row, of one flow, each continuing the last (the next sequence number,
 * the same headers but the payload, the first's size but a shorter last,
 * up to 64 and 64 KB), go as one GSO frame (gso_size the first's payload,
 * the TCP checksum left to the kernel: only segments whose own checksum
 * verified join), so the kernel takes one skb where it took up to 64;
 * anything else goes alone with a zero virtio_net_hdr, in order. A
 * failed train write counts its segments in the endpoint's TUN write
 * drops (the tunnel is no longer known then).
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
#include <sys/uio.h>
#include <unistd.h>

#define VNET_F_NEEDS_CSUM	1
#define VNET_GSO_NONE		0
#define VNET_GSO_TCPV4		1
#define VNET_GSO_ECN		0x80
#define IPPROTO_TCP_		6
#define IPPROTO_UDP_		17
#define TCP_FIN			0x01
#define TCP_PSH			0x08
#define TCP_CWR			0x80
#define EP_TRAIN_MAX		64	/* segments per GSO write (the kernel's GRO) */

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

/* ---- writes: a run of one TCP flow's segments as one GSO frame ---------- */

/* Can the TCP/IPv4 packet p (len bytes, headers ihl + thl) take part in a
 * train: a plain IPv4 header, not a fragment, payload, only ACK (and PSH,
 * which ends a train), and a TCP checksum that verifies (the kernel is told
 * the merged frame's is to be computed: a segment that arrived broken must
 * stay broken, alone)? */
static bool train_eligible(const uint8_t *p, uint32_t len, uint32_t ihl, uint32_t thl)
{
	if (ihl != 20 || rd16(p + 2) != len || len == ihl + thl)
		return false;
	uint8_t fl = p[ihl + 13];
	if ((fl & (uint8_t)~TCP_PSH) != 0x10)	/* ACK, no SYN/FIN/RST/URG/ECE/CWR */
		return false;
	uint32_t sum = csum_pseudo_ipv4(p, IPPROTO_TCP_, len - ihl);
	return csum_fold(csum_add_fast(sum, p + ihl, len - ihl)) == 0xffff;
}

/* Does p continue the train: the same addresses, ports, header bytes
 * (TOS, DF, TTL, ack, window, options: what the kernel's GRO compares),
 * the next sequence number, a payload no longer than the first's, room? */
static bool train_continues(const struct vpn_endpoint *ep, const uint8_t *p, uint32_t len,
			    uint32_t thl)
{
	const uint8_t *f = ep->tun_train + EP_VNET_HDR_LEN;
	uint32_t payload = len - 20 - thl;
	return ep->tt_open && thl == ep->tt_hl - 20 && payload <= ep->tt_seg &&
	       ep->tt_len + payload <= 65535 && ep->tt_n < EP_TRAIN_MAX &&
	       p[1] == f[1] && (p[6] & 0x40) == (f[6] & 0x40) && p[8] == f[8] &&
	       memcmp(p + 12, f + 12, 8) == 0 && memcmp(p + 20, f + 20, 4) == 0 &&
	       rd32(p + 24) == ep->tt_next_seq && memcmp(p + 28, f + 28, 4) == 0 &&
	       memcmp(p + 34, f + 34, 2) == 0 && memcmp(p + 40, f + 40, thl - 20) == 0;
}

bool ep_tun_offload_flush(struct vpn_endpoint *ep)
{
	if (!ep->tt_len)
		return true;
	uint8_t *h = ep->tun_train, *p = h + EP_VNET_HDR_LEN;
	uint32_t len = ep->tt_len;
	memset(h, 0, EP_VNET_HDR_LEN);
	if (ep->tt_n > 1) {
		/* one GSO frame: its IPv4 length and checksum, the last
		 * segment's PSH, the TCP checksum left for the kernel
		 * (NEEDS_CSUM: the field holds the pseudo header's sum) */
		uint32_t ihl = 20, thl = ep->tt_hl - 20;
		wr16(p + 2, (uint16_t)len);
		wr16(p + 10, 0);
		wr16(p + 10, csum_finish(csum_add_bytes(0, p, ihl)));
		p[ihl + 13] |= ep->tt_psh ? TCP_PSH : 0;
		wr16(p + ihl + 16, csum_fold(csum_pseudo_ipv4(p, IPPROTO_TCP_, len - ihl)));
		struct ep_vnet_hdr v = { .flags = VNET_F_NEEDS_CSUM, .gso_type = VNET_GSO_TCPV4,
					 .hdr_len = (uint16_t)(ihl + thl), .gso_size = ep->tt_seg,
					 .csum_start = (uint16_t)ihl, .csum_offset = 16 };
		h[0] = v.flags;
		h[1] = v.gso_type;
		memcpy(h + 2, &v.hdr_len, 2);
		memcpy(h + 4, &v.gso_size, 2);
		memcpy(h + 6, &v.csum_start, 2);
		memcpy(h + 8, &v.csum_offset, 2);
		ep->tun_gro_writes++;
		ep->tun_gro_segments += ep->tt_n;
	}
	bool ok = write(ep->tun_fds[0], h, EP_VNET_HDR_LEN + len) >= 0;
	if (!ok)
		ep->drops[VPN_DROP_TUN_WRITE] += ep->tt_n;
	ep->tt_len = 0;
	ep->tt_n = 0;
	ep->tt_open = false;
	return ok;
}

bool ep_tun_offload_write(struct vpn_endpoint *ep, const uint8_t *p, uint32_t len)
{
	uint32_t ihl, thl;
	bool tcp = len <= 65535 && tcp4_headers(p, len, &ihl, &thl) &&
		   train_eligible(p, len, ihl, thl);
	if (tcp && train_continues(ep, p, len, thl)) {
		uint32_t payload = len - ihl - thl;
		memcpy(ep->tun_train + EP_VNET_HDR_LEN + ep->tt_len, p + ihl + thl, payload);
		ep->tt_len += payload;
		ep->tt_n++;
		ep->tt_next_seq += payload;
		ep->tt_psh = (p[ihl + 13] & TCP_PSH) != 0;
		/* a shorter one or PSH ends it, as the sender's TSO would */
		ep->tt_open = payload == ep->tt_seg && !ep->tt_psh;
		return true;
	}
	bool ok = ep_tun_offload_flush(ep);
	if (tcp) {
		memcpy(ep->tun_train + EP_VNET_HDR_LEN, p, len);
		ep->tt_len = len;
		ep->tt_n = 1;
		ep->tt_hl = ihl + thl;
		ep->tt_seg = (uint16_t)(len - ihl - thl);
		ep->tt_next_seq = rd32(p + ihl + 4) + ep->tt_seg;
		ep->tt_psh = (p[ihl + 13] & TCP_PSH) != 0;
		ep->tt_open = !ep->tt_psh;
		return ok;
	}
	/* anything else alone, after the train: order kept */
	static const uint8_t none[EP_VNET_HDR_LEN];
	struct iovec iov[2] = { { (void *)none, sizeof(none) }, { (void *)p, len } };
	return writev(ep->tun_fds[0], iov, 2) >= 0 && ok;
}
