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
 * row, of one flow, each continuing the last, go as one GSO frame: a
 * TCP train (base/gso.h's rules, the same the router's TAP writes use:
 * the next sequence number and IPv4 id, the same headers but the
 * payload, the first's size but a shorter last, up to 64 and 64 KB, only
 * segments whose own checksum verified), so the kernel takes one skb
 * where it took up to 64;
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
 * them; the TCP trains are gso_tcp_train_*'s too, written here.
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
	if (ep->tun_tso_reads++ == 0)	/* once: tests and operators see it works */
		log_info(EP_LOG, "TUN %s: first TCP super-frame read (%u bytes, MSS %u), cut here",
			 ep->cfg.tun_name, len, h.vh_gso_size);
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

bool ep_tun_offload_flush(struct vpn_endpoint *ep)
{
	struct vnet_hdr v;
	uint32_t len;
	uint16_t n = ep->tun_tt.gtt_n;
	if (!gso_tcp_train_finish(&ep->tun_tt, &len, &v))
		return true;
	/* the train is in tun_train after the header (started there) */
	uint8_t *h = ep->tun_train;
	vnet_hdr_write(h, EP_VNET_HDR_LEN, &v);
	if (n > 1) {
		if (ep->tun_gro_writes == 0)
			log_info(EP_LOG, "TUN %s: first TCP train written (%u segments as one GSO frame)",
				 ep->cfg.tun_name, n);
		ep->tun_gro_writes++;
		ep->tun_gro_segments += n;
	}
	bool ok = write(ep->tun_fds[0], h, EP_VNET_HDR_LEN + len) >= 0;
	if (!ok)
		ep->drops[VPN_DROP_TUN_WRITE] += n;
	return ok;
}

bool ep_tun_offload_write(struct vpn_endpoint *ep, const uint8_t *p, uint32_t len)
{
	bool tcp = len <= 65535 && gso_tcp_train_eligible(p, 0, len, false);
	if (tcp && gso_tcp_train_append(&ep->tun_tt, p, 0, len))
		return true;
	bool ok = ep_tun_offload_flush(ep);
	if (tcp) {
		/* p is the caller's only for this call: the first is copied */
		uint8_t *buf = ep->tun_train + EP_VNET_HDR_LEN;
		memcpy(buf, p, len);
		gso_tcp_train_start(&ep->tun_tt, buf, buf, 0, len);
		return ok;
	}
	/* anything else alone, after the train: order kept */
	static const uint8_t none[EP_VNET_HDR_LEN];
	struct iovec iov[2] = { { (void *)none, sizeof(none) }, { (void *)p, len } };
	return writev(ep->tun_fds[0], iov, 2) >= 0 && ok;
}
