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
 * The virtio_net_hdr, its check, checksum completion and the segmenter
 * are base/gso.h's, the same the router's TAPs use (src/net/offload.c);
 * here, the TUN's packets (IPv4 at offset 0) are walked and mapped onto
 * them, and the TCP trains written (the endpoint's own).
 */
#include "vpn/endpoint/ep_internal.h"

#include "base/base.h"
#include "base/be.h"
#include "base/csum.h"
#include "base/gso.h"

#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define IPPROTO_TCP_		6
#define TCP_PSH			0x08
#define EP_TRAIN_MAX		64	/* segments per GSO write (the kernel's GRO) */

_Static_assert(EP_VNET_HDR_LEN == VNET_HDR_LEN, "the endpoint's header is base/gso.h's");

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

void ep_tun_offload_frame(struct vpn_endpoint *ep, unsigned port, uint8_t *frame, uint32_t len)
{
	struct vnet_hdr h;
	if (len < EP_VNET_HDR_LEN) {
		ep->drops[VPN_DROP_BAD_PACKET]++;
		return;
	}
	vnet_hdr_read(frame, &h);
	uint8_t *p = frame + EP_VNET_HDR_LEN;
	len -= EP_VNET_HDR_LEN;
	uint32_t cap = ep->buf_size - ESP_HEADROOM - ESP_TAILROOM;
	uint8_t gso = h.vh_gso_type & (uint8_t)~VNET_GSO_ECN;
	if (gso == VNET_GSO_NONE) {
		if (!gso_csum_complete(p, len, &h) || len > cap) {
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
	if (!tcp4_headers(p, len, &ihl, &thl)) {
		ep->drops[VPN_DROP_BAD_PACKET]++;
		return;
	}
	/* the IPv4 total length of a super-frame may be anything up to 64 KB;
	 * the read's length is the truth, bounded by it */
	uint32_t ip_len = rd16(p + 2);
	if (ip_len >= ihl + thl && ip_len < len)
		len = ip_len;
	struct gso_pkt pk = { .gp_l4_off = ihl, .gp_end = len, .gp_proto = IPPROTO_TCP_ };
	struct gso_tcp_iter it;
	if (!gso_vnet_check(&h, &pk) || ihl + thl + h.vh_gso_size > cap ||
	    !gso_tcp_init(&it, p, 0, ihl, len, h.vh_gso_size, cap)) {
		ep->drops[VPN_DROP_BAD_PACKET]++;
		return;
	}
	ep->tun_tso_reads++;
	while (gso_tcp_more(&it)) {
		if (!ep_tx_room(ep))
			ep_tx_flush(ep);	/* the frame is ours, not a pool buffer */
		uint8_t *buf = ep_tx_pool_take(ep);
		uint32_t sl = gso_tcp_next(&it, buf + ESP_HEADROOM);
		ep->tun_tso_segments++;
		ep_tun_packet(ep, port, buf, sl);
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
		wr16(p + ihl + 16, gso_csum_partial(p, IPPROTO_TCP_, len - ihl));
		struct vnet_hdr v = { .vh_flags = VNET_F_NEEDS_CSUM, .vh_gso_type = VNET_GSO_TCPV4,
				      .vh_hdr_len = (uint16_t)(ihl + thl), .vh_gso_size = ep->tt_seg,
				      .vh_csum_start = (uint16_t)ihl, .vh_csum_offset = 16 };
		vnet_hdr_write(h, EP_VNET_HDR_LEN, &v);
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
