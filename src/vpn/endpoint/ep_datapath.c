/*
 * ep_datapath.c — packets between the TUN device and the outside sockets.
 *
 * Outbound: TUN reads (a round of up to EP_BATCH) -> tunnel by route ->
 * CHILD SA by selectors -> MSS clamp, DF clear, fragments -> one
 * esp_encrypt_batch per run of packets for the same SA -> sendmmsg per run
 * of packets for the same socket; on UDP 4500 (NAT-T), a run of datagrams
 * of one size to one peer in one sendmsg with UDP GSO (UDP_SEGMENT).
 * Inbound: recvmmsg (on 4500 with UDP GRO where the kernel takes it:
 * each message a run of one peer's datagrams, cut back here by its
 * UDP_GRO segment size, in place) -> (4500) classify: IKE to the tunnel's IKE peer,
 * ESP collected -> esp_decrypt_batch_to with the address's SA table (a
 * ring side's packets straight into their ring slots) ->
 * selector check -> echo to our inside address answered, a BGP tunnel's
 * inside pair to the BGP side, another tunnel's inside /30 dropped, the
 * rest to TUN.
 * BGP side: reads (rounds of EP_BATCH) -> the BGP tunnel whose inside /30
 * holds the destination, our .1 to the customer's .2 only, while UP ->
 * the same queue as TUN packets.
 *
 * Must never allocate, lock or log per packet: buffers are the endpoint's
 * (allocated at creation), drops are counters. Runs on the loop thread.
 */
#include "vpn/endpoint/ep_internal.h"

#include "vpn/esp/inner.h"

#include "base/base.h"
#include "base/be.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#define EP_FRAG_MAX	8	/* extra fragments of one packet (9000 / 1100) */
#define EP_ROUNDS	4	/* batches per readiness event before yielding */
#define EP_GSO_SEGS	64	/* datagrams per UDP GSO send (the kernel's UDP_MAX_SEGMENTS) */
#define EP_GSO_BYTES	65000	/* payload per UDP GSO send (an IPv4 datagram's limit) */
#define IPPROTO_TCP_	6
#define IPPROTO_UDP_	17
#define INSIDE_BASE	0xa9fe0000u	/* 169.254.0.0/16: tunnels' inside /30s */
#define INSIDE_MASK	0xffff0000u

bool ep_cidr_contains(const struct vpn_cidr *c, uint32_t ip)
{
	uint32_t mask = c->prefix_len ? ~0u << (32 - c->prefix_len) : 0;
	return (ip & mask) == (c->addr & mask);
}

bool ep_ts_covers(const struct ike_ts *ts, uint32_t ip)
{
	return ip >= ts->first && ip <= ts->last;
}

/* Does the IPv4 packet p (already checked by inner_ipv4_ok) go from the
 * `src` selector to the `dst` selector? Ports are compared only when a
 * selector names one and the packet is an unfragmented TCP/UDP head. */
static bool pkt_in_selectors(const uint8_t *p, uint32_t len, const struct ike_ts *src,
			     const struct ike_ts *dst)
{
	uint8_t proto = p[9];
	if (!ep_ts_covers(src, rd32(p + 12)) || !ep_ts_covers(dst, rd32(p + 16)))
		return false;
	if ((src->protocol && src->protocol != proto) || (dst->protocol && dst->protocol != proto))
		return false;
	if (!src->port && !dst->port)
		return true;
	uint32_t hl = (uint32_t)(p[0] & 0xf) * 4;
	if ((proto != IPPROTO_TCP_ && proto != IPPROTO_UDP_) || (rd16(p + 6) & 0x1fff) ||
	    len < hl + 4)
		return false;
	return (!src->port || src->port == rd16(p + hl)) &&
	       (!dst->port || dst->port == rd16(p + hl + 2));
}

/* The newest live CHILD SA of t that may carry p outbound; one whose
 * outbound is held (a rekey we answered, not yet proven installed at the
 * peer) only when no other can. */
static struct ep_child *child_for(struct ep_tunnel *t, const uint8_t *p, uint32_t len)
{
	struct ep_child *held = NULL;
	for (struct ep_child *c = t->t_children; c; c = c->ch_next)
		if (!c->ch_linger_until_ms &&
		    pkt_in_selectors(p, len, &c->ch_ts_local, &c->ch_ts_remote)) {
			if (!c->ch_out_held)
				return c;
			if (!held)
				held = c;
		}
	return held;
}

/* Route p: the tunnel whose routes hold its destination with the longest
 * prefix, an UP one (with a covering SA) before a DOWN one; without any
 * route, a tunnel whose SA selectors cover it (policy-based). Sets *t_out
 * to the chosen tunnel even when it has no SA for p. */
static struct ep_child *route_packet(struct vpn_endpoint *ep, unsigned port, const uint8_t *p,
				     uint32_t len, struct ep_tunnel **t_out)
{
	uint32_t dst = rd32(p + 16);
	struct ep_tunnel *best_t = NULL;
	struct ep_child *best_c = NULL;
	int best_len = -1;
	for (struct ep_tunnel *t = ep->tunnels; t; t = t->t_next) {
		if (t->t_spec.plain_port != port)
			continue;
		int plen = -1;
		for (size_t i = 0; i < t->t_spec.n_routes; i++)
			if (ep_cidr_contains(&t->t_spec.routes[i], dst) &&
			    t->t_spec.routes[i].prefix_len > plen)
				plen = t->t_spec.routes[i].prefix_len;
		if (plen < 0 || plen < best_len || (plen == best_len && best_c))
			continue;
		struct ep_child *c = child_for(t, p, len);
		if (plen > best_len || c) {
			best_t = t;
			best_c = c;
			best_len = plen;
		}
	}
	if (!best_t)
		for (struct ep_tunnel *t = ep->tunnels; t && !best_c; t = t->t_next)
			if (t->t_spec.plain_port == port && (best_c = child_for(t, p, len)) != NULL)
				best_t = t;
	*t_out = best_t;
	return best_c;
}

void ep_datapath_forget_child(struct vpn_endpoint *ep, struct ep_child *c)
{
	if (ep->rx_cache == c)
		ep->rx_cache = NULL;
}

/* ---- outbound ------------------------------------------------------------ */

static uint8_t *pool_buf(struct vpn_endpoint *ep, unsigned i)
{
	return ep->pool + (size_t)i * ep->buf_size;
}

static void txq_push(struct vpn_endpoint *ep, const struct esp_pkt *pkt, struct ep_child *c)
{
	struct ep_txq *q = &ep->txq;
	q->q_pkts[q->q_n] = *pkt;
	q->q_child[q->q_n] = c;
	q->q_n++;
}

/* tx_msgs[k, e) to fd, in as few sendmmsg calls as the socket takes. */
static void tx_send_mmsg(struct vpn_endpoint *ep, int fd, unsigned k, unsigned e)
{
	unsigned sent = 0;
	while (k + sent < e) {
		int r = sendmmsg(fd, &ep->tx_msgs[k + sent], e - k - sent, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* skip the one that failed, keep the rest going */
			ep->tx_child[k + sent]->ch_tunnel->t_drops[VPN_DROP_SEND]++;
			sent++;
			continue;
		}
		sent += (unsigned)r;
	}
}

/* Do messages a and b go to the same peer? */
static bool tx_same_peer(const struct vpn_endpoint *ep, unsigned a, unsigned b)
{
	const struct sockaddr_in *x = ep->tx_msgs[a].msg_hdr.msg_name;
	const struct sockaddr_in *y = ep->tx_msgs[b].msg_hdr.msg_name;
	return x == y || (x->sin_addr.s_addr == y->sin_addr.s_addr && x->sin_port == y->sin_port);
}

/* One UDP GSO send (UDP_SEGMENT) of tx_msgs[i, j): datagrams of seg bytes
 * each but the last, which may be shorter; the kernel cuts the payload at
 * those boundaries, so the peer gets the same datagrams. 0, or the errno. */
static int tx_gso_send(struct vpn_endpoint *ep, int fd, unsigned i, unsigned j, uint16_t seg)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct msghdr mh = { .msg_name = ep->tx_msgs[i].msg_hdr.msg_name,
			     .msg_namelen = ep->tx_msgs[i].msg_hdr.msg_namelen,
			     .msg_iov = &ep->tx_iov[i], .msg_iovlen = j - i,
			     .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
	memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
	for (;;) {
		if (sendmsg(fd, &mh, 0) >= 0)
			return 0;
		if (errno != EINTR)
			return errno;
	}
}

/* tx_msgs[k, e) to the UDP socket fd: each run of datagrams to one peer of
 * one size (the last of a run may be shorter), up to EP_GSO_SEGS of them
 * and EP_GSO_BYTES in all, in one sendmsg with UDP GSO; what stands alone
 * goes by sendmmsg, in order. When the kernel refuses GSO for the run (no
 * UDP_SEGMENT, a segment above the device MTU: the kernel then fragments
 * each datagram as before) the run goes by sendmmsg; when it lacks GSO
 * altogether, never again. A run the socket cannot take (buffer full)
 * counts a send drop per datagram, as sendmmsg's failures do. */
static void tx_send_gso(struct vpn_endpoint *ep, int fd, unsigned k, unsigned e)
{
	unsigned single = k;	/* tx_msgs[single, i): not sent yet, alone */
	unsigned i = k;
	while (i < e) {
		size_t seg = ep->tx_iov[i].iov_len, total = seg;
		unsigned j = i + 1;
		while (j < e && j - i < EP_GSO_SEGS && tx_same_peer(ep, i, j) &&
		       ep->tx_iov[j].iov_len <= seg && total + ep->tx_iov[j].iov_len <= EP_GSO_BYTES) {
			total += ep->tx_iov[j].iov_len;
			if (ep->tx_iov[j++].iov_len < seg)
				break;	/* a shorter one ends the run */
		}
		if (j - i < 2 || seg > UINT16_MAX) {
			i++;
			continue;
		}
		if (single < i)
			tx_send_mmsg(ep, fd, single, i);
		int err = tx_gso_send(ep, fd, i, j, (uint16_t)seg);
		if (err == ENOPROTOOPT || err == EOPNOTSUPP || err == EIO)
			ep->gso_off = true;	/* no UDP GSO here: sendmmsg from now on */
		if (err == ENOPROTOOPT || err == EOPNOTSUPP || err == EIO || err == EINVAL ||
		    err == EMSGSIZE) {
			tx_send_mmsg(ep, fd, i, j);
		} else if (err) {
			for (unsigned x = i; x < j; x++)
				ep->tx_child[x]->ch_tunnel->t_drops[VPN_DROP_SEND]++;
		} else {
			ep->gso_sends++;
		}
		i = single = j;
	}
	if (single < e)
		tx_send_mmsg(ep, fd, single, e);
}

static void tx_flush(struct vpn_endpoint *ep)
{
	struct ep_txq *q = &ep->txq;
	unsigned m = 0;
	for (unsigned i = 0, j; i < q->q_n; i = j) {
		struct ep_child *c = q->q_child[i];
		for (j = i + 1; j < q->q_n && q->q_child[j] == c; j++)
			;
		(void)esp_encrypt_batch(c->ch_out, &q->q_pkts[i], j - i, ESP_FRAME_ESP);
		struct ep_local *lo = c->ch_tunnel->t_local;
		int fd = c->ch_udp_encap ? lo->lo_fd_natt : lo->lo_fd_esp;
		for (unsigned k = i; k < j; k++) {
			struct esp_pkt *pk = &q->q_pkts[k];
			if (pk->status != ESP_OK) {
				c->ch_tunnel->t_drops[VPN_DROP_ENCRYPT]++;
				continue;
			}
			ep->tx_iov[m] = (struct iovec){ pk->buf + pk->off, pk->len };
			ep->tx_msgs[m].msg_hdr = (struct msghdr){
				.msg_name = &c->ch_peer, .msg_namelen = sizeof(c->ch_peer),
				.msg_iov = &ep->tx_iov[m], .msg_iovlen = 1 };
			ep->tx_fd[m] = fd;
			ep->tx_child[m] = c;
			m++;
		}
	}
	for (unsigned k = 0, e; k < m; k = e) {
		int fd = ep->tx_fd[k];
		for (e = k + 1; e < m && ep->tx_fd[e] == fd; e++)
			;
		if (ep->tx_child[k]->ch_udp_encap && !ep->gso_off)
			tx_send_gso(ep, fd, k, e);
		else
			tx_send_mmsg(ep, fd, k, e);
	}
	q->q_n = 0;
	q->q_pool_used = 0;
}

/* Clamp, clear DF, fragment into pool buffers, queue for c; f: what is
 * known of the packet (parsed once, here or by the VPC router). */
static void tx_enqueue(struct vpn_endpoint *ep, struct esp_pkt *pkt, struct ep_child *c,
		       struct inner_facts *f)
{
	struct ep_txq *q = &ep->txq;
	struct ep_tunnel *t = c->ch_tunnel;
	uint8_t *p = pkt->buf + pkt->off;
	(void)inner_clamp_mss_known(p, f, t->t_spec.tcp_mss);
	(void)inner_clear_df_known(p, f);
	if (pkt->len <= c->ch_inner_mtu) {
		txq_push(ep, pkt, c);
		return;
	}
	struct esp_pkt more[EP_FRAG_MAX];
	unsigned max_more = EP_FRAG_MAX;
	if (max_more > EP_POOL - q->q_pool_used)
		max_more = EP_POOL - q->q_pool_used;
	if (max_more > EP_TXQ - q->q_n - 1)
		max_more = EP_TXQ - q->q_n - 1;
	for (unsigned k = 0; k < max_more; k++)
		more[k] = (struct esp_pkt){ .buf = pool_buf(ep, q->q_pool_used + k),
					    .size = ep->buf_size, .off = ESP_HEADROOM };
	int r = inner_fragment_known(pkt, f, c->ch_inner_mtu, more, max_more);
	if (r < 0) {
		t->t_drops[VPN_DROP_FRAGMENT]++;
		return;
	}
	q->q_pool_used += (unsigned)r;
	txq_push(ep, pkt, c);
	for (int k = 0; k < r; k++)
		txq_push(ep, &more[k], c);
}

static bool tx_room(const struct vpn_endpoint *ep)
{
	return EP_POOL - ep->txq.q_pool_used >= 1 + EP_FRAG_MAX &&
	       EP_TXQ - ep->txq.q_n >= 1 + EP_FRAG_MAX;
}

void ep_tun_packet(struct vpn_endpoint *ep, unsigned port, uint8_t *buf, uint32_t len)
{
	struct esp_pkt pkt = { .buf = buf, .size = ep->buf_size, .off = ESP_HEADROOM, .len = len };
	struct inner_facts f;
	if (!inner_facts_parse(buf + ESP_HEADROOM, pkt.len, &f)) {
		ep->drops[VPN_DROP_BAD_PACKET]++;
		return;
	}
	struct ep_tunnel *t;
	struct ep_child *c = route_packet(ep, port, buf + ESP_HEADROOM, pkt.len, &t);
	if (!c) {
		if (t)
			t->t_drops[VPN_DROP_NO_SA]++;
		else
			ep->drops[VPN_DROP_NO_ROUTE]++;
		return;
	}
	tx_enqueue(ep, &pkt, c, &f);
}

uint8_t *ep_tx_pool_take(struct vpn_endpoint *ep)
{
	return pool_buf(ep, ep->txq.q_pool_used++);
}

void ep_tun_readable(struct vpn_endpoint *ep, unsigned port, uint64_t now)
{
	int fd = ep->tun_fds[port];
	uint32_t cap = ep->buf_size - ESP_HEADROOM - ESP_TAILROOM;
	bool vnet = port == 0 && ep->tun_vnet;
	for (int round = 0; round < EP_ROUNDS; round++) {
		bool drained = false;
		for (unsigned got = 0; got < EP_BATCH; got++) {
			if (vnet) {
				/* a super-frame may take the whole pool: read
				 * aside, cut into pool buffers (ep_tunoff.c) */
				ssize_t r = read(fd, ep->tun_frame, EP_TUN_FRAME_MAX);
				if (r < 0) {
					drained = true;
					break;
				}
				ep_tun_offload_frame(ep, port, ep->tun_frame, (uint32_t)r);
				continue;
			}
			if (!tx_room(ep))
				tx_flush(ep);
			uint8_t *buf = pool_buf(ep, ep->txq.q_pool_used);
			ssize_t r = read(fd, buf + ESP_HEADROOM, cap);
			if (r < 0) {
				drained = true;	/* EAGAIN (or an error: epoll tells again) */
				break;
			}
			ep->txq.q_pool_used++;
			ep_tun_packet(ep, port, buf, (uint32_t)r);
		}
		tx_flush(ep);
		if (drained)
			break;
	}
	(void)now;
}

/* The BGP tunnel whose inside /30 holds dst: an UP one before a DOWN one
 * (two connections of different gateways may share a /30). */
static struct ep_tunnel *bgp_tunnel_for(struct vpn_endpoint *ep, uint32_t dst)
{
	struct ep_tunnel *down = NULL;
	for (struct ep_tunnel *t = ep->tunnels; t; t = t->t_next)
		if (t->t_spec.bgp && t->t_inside_ours && ep_cidr_contains(&t->t_spec.inside, dst)) {
			if (t->t_up)
				return t;
			if (!down)
				down = t;
		}
	return down;
}

void ep_bgp_readable(struct vpn_endpoint *ep, uint64_t now)
{
	uint32_t cap = ep->buf_size - ESP_HEADROOM - ESP_TAILROOM;
	for (int round = 0; round < EP_ROUNDS && ep->bgp_fd >= 0; round++) {
		bool drained = false;
		for (unsigned got = 0; got < EP_BATCH; got++) {
			if (!tx_room(ep))
				tx_flush(ep);
			uint8_t *buf = pool_buf(ep, ep->txq.q_pool_used);
			uint8_t *p = buf + ESP_HEADROOM;
			ssize_t r = read(ep->bgp_fd, p, cap);
			if (r < 0) {
				drained = true;	/* EAGAIN (or an error: epoll tells again) */
				break;
			}
			ep->txq.q_pool_used++;
			struct esp_pkt pkt = { .buf = buf, .size = ep->buf_size,
					       .off = ESP_HEADROOM, .len = (uint32_t)r };
			/* IPv4 with a whole header and its total length: anything
			 * else (short, IPv6, a lying length) stops here */
			struct inner_facts f;
			if (!inner_facts_parse(p, pkt.len, &f)) {
				ep->drops[VPN_DROP_BAD_PACKET]++;
				continue;
			}
			struct ep_tunnel *t = bgp_tunnel_for(ep, rd32(p + 16));
			if (!t) {
				ep->drops[VPN_DROP_BGP_NO_TUNNEL]++;
				continue;
			}
			/* only our .1 to the customer's .2 */
			if (rd32(p + 12) != t->t_inside_ours || rd32(p + 16) != t->t_inside_ours + 1) {
				t->t_drops[VPN_DROP_BGP_NOT_PEER]++;
				continue;
			}
			struct ep_child *c = t->t_up ? child_for(t, p, pkt.len) : NULL;
			if (!c) {
				t->t_drops[VPN_DROP_BGP_DOWN]++;
				continue;
			}
			ep->bgp_from_side++;
			tx_enqueue(ep, &pkt, c, &f);
		}
		tx_flush(ep);
		if (drained)
			break;
	}
	(void)now;
}

/* For ep_ring.c (the ring sides use the same choices and queue). */
struct ep_child *ep_route_packet(struct vpn_endpoint *ep, unsigned port, const uint8_t *p,
				 uint32_t len, struct ep_tunnel **t_out)
{
	return route_packet(ep, port, p, len, t_out);
}

struct ep_child *ep_child_for(struct ep_tunnel *t, const uint8_t *p, uint32_t len)
{
	return child_for(t, p, len);
}

void ep_tx_enqueue(struct vpn_endpoint *ep, struct esp_pkt *pkt, struct ep_child *c,
		   struct inner_facts *f)
{
	tx_enqueue(ep, pkt, c, f);
}

bool ep_tx_room(const struct vpn_endpoint *ep)
{
	return tx_room(ep);
}

void ep_tx_flush(struct vpn_endpoint *ep)
{
	tx_flush(ep);
}

/* ---- inbound ------------------------------------------------------------- */

/* Does another live CHILD SA of t (the same peer, authenticated by the
 * same IKE SA) have selectors that cover this inbound packet? strongSwan's
 * userspace ESP (libipsec, 5.9) picks the outbound SA by a request id that
 * it gives to both of a tunnel's CHILD SAs after they are renegotiated (a
 * vpcd restart), and then sends one child's traffic into the other's SA:
 * refusing it would keep the office cut off until the router's SAs are
 * rekeyed. The boundary that matters — which peer may put which packets
 * into this tunnel's VPC — is kept: only the tunnel's own selectors count. */
static bool tunnel_selectors_cover(const struct ep_tunnel *t, const struct ep_child *got,
				   const uint8_t *p, uint32_t len)
{
	for (const struct ep_child *c = t->t_children; c; c = c->ch_next)
		if (c != got && !c->ch_linger_until_ms &&
		    pkt_in_selectors(p, len, &c->ch_ts_remote, &c->ch_ts_local))
			return true;
	return false;
}

/* The other tunnel of t's VPN connection (ids "<connection>#N", the same
 * peer, the same plaintext side) when the packet is that tunnel's inside
 * pair — its customer's .2 to its .1 — and a live CHILD SA of that tunnel
 * covers it; else NULL. strongSwan's libipsec (5.9) picks an outbound SA
 * by request id alone, and after a tunnel's CHILD SAs are renegotiated (a
 * vpcd restart) it gave both tunnels' inside CHILD SAs one reqid: the
 * router's BGP packets and pings for tunnel 1's inside address went into
 * tunnel 2's SA, and tunnel 1's session never came back (seen with IKEv1
 * and IKEv2). Taken as the other tunnel's, they reach its BGP session or
 * its echo answer; nothing else crosses, and never between connections. */
static struct ep_tunnel *inside_sibling(struct vpn_endpoint *ep, const struct ep_tunnel *t,
					const uint8_t *p, uint32_t len)
{
	const char *hash = strrchr(t->t_spec.id, '#');
	uint32_t src = rd32(p + 12), dst = rd32(p + 16);
	if (!hash)
		return NULL;
	size_t conn_len = (size_t)(hash - t->t_spec.id) + 1;	/* "<connection>#" */
	for (struct ep_tunnel *o = ep->tunnels; o; o = o->t_next)
		if (o != t && o->t_inside_ours && dst == o->t_inside_ours && src == dst + 1 &&
		    o->t_spec.remote_ip == t->t_spec.remote_ip &&
		    o->t_spec.plain_port == t->t_spec.plain_port &&
		    strncmp(o->t_spec.id, t->t_spec.id, conn_len) == 0 &&
		    tunnel_selectors_cover(o, NULL, p, len))
			return o;
	return NULL;
}

/* The child whose inbound SA is sa (cached across a run). */
static struct ep_child *child_of_sa(struct vpn_endpoint *ep, struct ep_local *lo,
				    const struct esp_sa *sa)
{
	if (ep->rx_cache && ep->rx_cache->ch_in == sa)
		return ep->rx_cache;
	for (struct ep_tunnel *t = ep->tunnels; t; t = t->t_next) {
		if (t->t_local != lo)
			continue;
		for (struct ep_child *c = t->t_children; c; c = c->ch_next)
			if (c->ch_in == sa)
				return ep->rx_cache = c;
	}
	return NULL;
}

/* A decrypted packet from t to an inside address (169.254/16, not an echo
 * to ours, which is answered): true when it is taken here — to the BGP
 * side (t is a BGP tunnel and the packet goes from the customer's .2 to
 * our .1) or dropped (a BGP tunnel's .1 from anywhere else; another
 * tunnel's inside /30: a tunnel's peer never reaches another's inside
 * pair). false: not an inside address of ours, on as before. */
static bool inside_taken(struct vpn_endpoint *ep, struct ep_tunnel *t, const uint8_t *p,
			 uint32_t len)
{
	uint32_t dst = rd32(p + 16);
	if (t->t_inside_ours && dst == t->t_inside_ours) {
		if (!t->t_spec.bgp)
			return false;	/* a static tunnel's: as before */
		if (rd32(p + 12) != t->t_inside_ours + 1) {
			t->t_drops[VPN_DROP_BGP_NOT_PEER]++;
			return true;
		}
		if (ep->bgp_fd < 0) {
			t->t_drops[VPN_DROP_BGP_NO_SIDE]++;
			return true;
		}
		if (write(ep->bgp_fd, p, len) < 0)
			t->t_drops[VPN_DROP_TUN_WRITE]++;
		else
			ep->bgp_to_side++;
		return true;
	}
	for (const struct ep_tunnel *o = ep->tunnels; o; o = o->t_next)
		if (o != t && o->t_inside_ours && ep_cidr_contains(&o->t_spec.inside, dst)) {
			t->t_drops[VPN_DROP_INSIDE_OTHER]++;
			return true;
		}
	return false;
}

/* Where each of the m packets in rx_pkts is decrypted to (dst[i]; NULL: in
 * place): for a packet whose SA's tunnel has a ring side, the next slot of
 * that ring, in packet order, so that ep_plain_write finds it there and
 * copies nothing. A packet that goes elsewhere (an echo, the BGP side, a
 * drop) leaves its slot to the next one, which ep_plain_write then copies
 * down: only then. */
static void rx_slots(struct vpn_endpoint *ep, struct ep_local *lo, unsigned m,
		     uint8_t *dst[EP_BATCH])
{
	unsigned taken[VPN_PLAIN_PORTS_MAX] = { 0 };
	bool full[VPN_PLAIN_PORTS_MAX] = { false };
	const struct esp_sa *sa = NULL;
	uint32_t spi = 0;	/* never a valid SPI */
	for (unsigned i = 0; i < m; i++) {
		const struct esp_pkt *pk = &ep->rx_pkts[i];
		dst[i] = NULL;
		if (pk->len < 8)
			continue;	/* esp counts it */
		uint32_t s = rd32(pk->buf + pk->off);
		if (s != spi || !sa) {
			sa = esp_sa_table_lookup(lo->lo_table, s);
			spi = s;
		}
		struct ep_child *c = sa ? child_of_sa(ep, lo, sa) : NULL;
		if (!c)
			continue;
		unsigned port = c->ch_tunnel->t_spec.plain_port;
		if (port >= VPN_PLAIN_PORTS_MAX || full[port])
			continue;
		if ((dst[i] = ep_plain_slot(ep, port, taken[port], pk->len)) != NULL)
			taken[port]++;
		else	/* an fd side, or the ring full (or the packet too long):
			 * no later packet of this batch takes a slot, which one
			 * decrypted in place and written first could be copied
			 * into once the router frees room */
			full[port] = true;
	}
}

/* Decrypt the m packets collected in rx_pkts and deliver them. */
static void rx_deliver(struct vpn_endpoint *ep, struct ep_local *lo, unsigned m)
{
	if (!m)
		return;
	uint8_t *dst[EP_BATCH] = { 0 }, *home[EP_BATCH];
	for (unsigned i = 0; i < m; i++)
		home[i] = ep->rx_pkts[i].buf;
	rx_slots(ep, lo, m, dst);
	(void)esp_decrypt_batch_to(lo->lo_table, ep->rx_pkts, dst, m);
	for (unsigned i = 0; i < m; i++) {
		struct esp_pkt *pk = &ep->rx_pkts[i];
		if (pk->status != ESP_OK)
			continue;	/* counted by esp (per SA or in the table) */
		struct ep_child *c = child_of_sa(ep, lo, pk->sa);
		if (!c)
			continue;
		struct ep_tunnel *t = c->ch_tunnel;
		uint8_t *p = pk->buf + pk->off;
		/* the other tunnel's inside pair, sent into this one's SA */
		struct ep_tunnel *sib = NULL;
		if ((rd32(p + 16) & INSIDE_MASK) == INSIDE_BASE && rd32(p + 16) != t->t_inside_ours)
			sib = inside_sibling(ep, t, p, pk->len);
		/* inner_ipv4_ok was checked by esp; the selectors are ours */
		if (!sib && !pkt_in_selectors(p, pk->len, &c->ch_ts_remote, &c->ch_ts_local) &&
		    !tunnel_selectors_cover(t, c, p, pk->len)) {
			t->t_drops[VPN_DROP_SELECTOR]++;
			continue;
		}
		c->ch_rx_seen = true;
		c->ch_out_held = false;	/* the peer uses it: it has it */
		/* RFC 3948: the peer's NAT mapping may move; follow it */
		const struct sockaddr_in *from = &ep->rx_from_esp[i];
		if (c->ch_udp_encap && from->sin_port != c->ch_peer.sin_port &&
		    from->sin_addr.s_addr == c->ch_peer.sin_addr.s_addr && from->sin_port) {
			if (esp_sa_update_peer(c->ch_out, ntohl(from->sin_addr.s_addr),
					       ntohs(from->sin_port)) == 0) {
				c->ch_peer.sin_port = from->sin_port;
				c->ch_encap_rport = ntohs(from->sin_port);
			}
		}
		if (sib) {
			ep->inside_sibling++;
			if (!t->t_for_other++ || !c->ch_for_other_logged)
				log_info(EP_LOG, "tunnel %s: CHILD SA %08x carries tunnel %s's inside "
					 "pair (the peer's outbound SA choice, e.g. strongSwan's "
					 "shared reqid): taken as %s's", t->t_spec.id, c->ch_spi_in,
					 sib->t_spec.id, sib->t_spec.id);
			c->ch_for_other_logged = true;
			t = sib;
		}
		struct inner_facts f;
		if (inner_facts_parse(p, pk->len, &f))	/* checked by esp: parsed once */
			(void)inner_clamp_mss_known(p, &f, t->t_spec.tcp_mss);
		if (t->t_inside_ours && inner_icmp_echo_reply(p, pk->len, t->t_inside_ours)) {
			if (ep->rx_packed[i]) {
				/* one of a GRO message's datagrams, with its
				 * neighbours' bytes around it: the reply is
				 * encrypted in a pool buffer of its own */
				if (!tx_room(ep))
					tx_flush(ep);
				uint8_t *b = pool_buf(ep, ep->txq.q_pool_used++);
				memcpy(b + ESP_HEADROOM, p, pk->len);
				*pk = (struct esp_pkt){ .buf = b, .size = ep->buf_size,
							.off = ESP_HEADROOM, .len = pk->len };
				p = pk->buf + pk->off;
			} else if (pk->buf != home[i]) {
				/* decrypted into a ring slot, which the next packet
				 * may take: back to the receive buffer, whose headroom
				 * the reply is encrypted in at tx_flush */
				memcpy(home[i] + ESP_HEADROOM, p, pk->len);
				*pk = (struct esp_pkt){ .buf = home[i], .size = ep->buf_size,
							.off = ESP_HEADROOM, .len = pk->len };
				p = pk->buf + pk->off;
			}
			struct ep_child *back = child_for(t, p, pk->len);
			if (!back) {
				t->t_drops[VPN_DROP_NO_SA]++;
				continue;
			}
			(void)inner_facts_parse(p, pk->len, &f);	/* the reply's */
			if (!tx_room(ep))
				tx_flush(ep);
			tx_enqueue(ep, pk, back, &f);
			continue;
		}
		if ((rd32(p + 16) & INSIDE_MASK) == INSIDE_BASE && inside_taken(ep, t, p, pk->len))
			continue;
		if (!ep_plain_write(ep, t->t_spec.plain_port, p, pk->len))
			t->t_drops[VPN_DROP_TUN_WRITE]++;
	}
	ep_plain_flush(ep);
	if (ep->txq.q_n)
		tx_flush(ep);
}

static int rx_batch(struct vpn_endpoint *ep, int fd)
{
	for (unsigned i = 0; i < EP_BATCH; i++) {
		ep->rx_iov[i] = (struct iovec){ ep->rxbuf + (size_t)i * ep->buf_size + ESP_HEADROOM,
						EP_RX_MAX };
		ep->rx_msgs[i].msg_hdr = (struct msghdr){
			.msg_name = &ep->rx_from[i], .msg_namelen = sizeof(ep->rx_from[i]),
			.msg_iov = &ep->rx_iov[i], .msg_iovlen = 1 };
		ep->rx_msgs[i].msg_len = 0;
	}
	int n;
	do
		n = recvmmsg(fd, ep->rx_msgs, EP_BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	return n;
}

static void ike_deliver(struct vpn_endpoint *ep, struct ep_local *lo,
			const struct sockaddr_in *from, bool natt, const uint8_t *p, uint32_t len,
			uint64_t now)
{
	struct ep_tunnel *t = ep_tunnel_by_peer(ep, lo->lo_ip, ntohl(from->sin_addr.s_addr));
	if (!t) {
		lo->lo_rx_unknown_peer++;
		return;
	}
	struct ike_addr a = { ntohl(from->sin_addr.s_addr), ntohs(from->sin_port) };
	ep_ike_input(ep, t, now, &a, natt, p, len);
}

/* recvmmsg into rx_gro_msgs messages of EP_GRO_MSG_MAX bytes each
 * (rxgro), each with room for its UDP_GRO segment size. */
static int rx_batch_gro(struct vpn_endpoint *ep, int fd)
{
	for (unsigned i = 0; i < ep->rx_gro_msgs; i++) {
		ep->rx_iov[i] = (struct iovec){ ep->rxgro + (size_t)i * EP_GRO_SLOT + ESP_HEADROOM,
						EP_GRO_MSG_MAX };
		ep->rx_msgs[i].msg_hdr = (struct msghdr){
			.msg_name = &ep->rx_from[i], .msg_namelen = sizeof(ep->rx_from[i]),
			.msg_iov = &ep->rx_iov[i], .msg_iovlen = 1,
			.msg_control = ep->rx_ctl[i].buf, .msg_controllen = sizeof(ep->rx_ctl[i].buf) };
		ep->rx_msgs[i].msg_len = 0;
	}
	int n;
	do
		n = recvmmsg(fd, ep->rx_msgs, ep->rx_gro_msgs, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	return n;
}

/* The UDP_GRO segment size of received message i: every datagram it holds
 * is that long but the last, which may be shorter; 0 when the message is
 * one datagram (no such control message). */
static uint32_t rx_gro_size(struct vpn_endpoint *ep, int i)
{
	struct msghdr *mh = &ep->rx_msgs[i].msg_hdr;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm))
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int seg;
			memcpy(&seg, CMSG_DATA(cm), sizeof(seg));
			return seg > 0 ? (uint32_t)seg : 0;
		}
	return 0;
}

/* One datagram from port 4500 at p: ESP collected into rx_pkts (packed:
 * it shares its buffer with the datagrams of its GRO message), IKE and
 * keepalives to the tunnel, the rest counted. *m is the count collected;
 * rx_pkts is delivered first when full. */
static void natt_datagram(struct vpn_endpoint *ep, struct ep_local *lo, int i, uint8_t *buf,
			  uint32_t off, uint32_t len, bool packed, unsigned *m, uint64_t now)
{
	const uint8_t *p = buf + off;
	switch (esp_udp_classify(p, len)) {
	case ESP_UDP_ESP:
		if (*m == EP_BATCH) {
			rx_deliver(ep, lo, *m);
			*m = 0;
		}
		/* a packed datagram's buffer is itself alone: esp may rewrite
		 * nothing of its neighbours */
		ep->rx_pkts[*m] = packed ? (struct esp_pkt){ .buf = buf + off, .size = len,
							     .off = 0, .len = len }
					 : (struct esp_pkt){ .buf = buf, .size = ep->buf_size,
							     .off = off, .len = len };
		ep->rx_packed[*m] = packed;
		ep->rx_from_esp[*m] = ep->rx_from[i];
		(*m)++;
		break;
	case ESP_UDP_IKE:
	case ESP_UDP_KEEPALIVE:
		ike_deliver(ep, lo, &ep->rx_from[i], true, p, len, now);
		break;
	case ESP_UDP_INVALID:
		lo->lo_rx_invalid++;
		break;
	}
}

void ep_natt_readable(struct vpn_endpoint *ep, struct ep_local *lo, uint64_t now)
{
	for (int round = 0; round < EP_ROUNDS; round++) {
		unsigned want = lo->lo_gro ? ep->rx_gro_msgs : EP_BATCH;
		int n = lo->lo_gro ? rx_batch_gro(ep, lo->lo_fd_natt) : rx_batch(ep, lo->lo_fd_natt);
		if (n <= 0)
			return;
		unsigned m = 0;
		for (int i = 0; i < n; i++) {
			uint8_t *buf = lo->lo_gro ? ep->rxgro + (size_t)i * EP_GRO_SLOT
						  : ep->rxbuf + (size_t)i * ep->buf_size;
			uint32_t len = ep->rx_msgs[i].msg_len;
			if (ep->rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				lo->lo_rx_invalid++;
				continue;
			}
			uint32_t seg = lo->lo_gro ? rx_gro_size(ep, i) : 0;
			if (!seg || seg >= len) {
				natt_datagram(ep, lo, i, buf, ESP_HEADROOM, len, lo->lo_gro, &m, now);
				continue;
			}
			/* several datagrams, cut back where the sender's were */
			ep->gro_receives++;
			for (uint32_t o = 0; o < len; o += seg) {
				uint32_t l = len - o < seg ? len - o : seg;
				natt_datagram(ep, lo, i, buf, ESP_HEADROOM + o, l, true, &m, now);
				ep->gro_datagrams++;
			}
		}
		rx_deliver(ep, lo, m);
		if ((unsigned)n < want)
			return;
	}
}

void ep_esp_readable(struct vpn_endpoint *ep, struct ep_local *lo, uint64_t now)
{
	(void)now;
	for (int round = 0; round < EP_ROUNDS; round++) {
		int n = rx_batch(ep, lo->lo_fd_esp);
		if (n <= 0)
			return;
		unsigned m = 0;
		for (int i = 0; i < n; i++) {
			uint8_t *buf = ep->rxbuf + (size_t)i * ep->buf_size;
			struct esp_outer o;
			if ((ep->rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ||
			    esp_outer_parse(buf + ESP_HEADROOM, ep->rx_msgs[i].msg_len, &o) < 0) {
				lo->lo_rx_invalid++;
				continue;
			}
			ep->rx_pkts[m] = (struct esp_pkt){ .buf = buf, .size = ep->buf_size,
				.off = ESP_HEADROOM + o.out_esp_off, .len = o.out_esp_len };
			ep->rx_packed[m] = false;
			ep->rx_from_esp[m] = (struct sockaddr_in){ .sin_family = AF_INET,
				.sin_addr.s_addr = htonl(o.out_src) };
			m++;
		}
		rx_deliver(ep, lo, m);
		if (n < EP_BATCH)
			return;
	}
}

void ep_ike_readable(struct vpn_endpoint *ep, struct ep_local *lo, uint64_t now)
{
	/* in batches (recvmmsg), like port 4500: under a flood of forged
	 * Main Mode 1 the system calls are most of the cost of a datagram */
	for (int round = 0; round < EP_ROUNDS; round++) {
		int n = rx_batch(ep, lo->lo_fd_ike);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			if (ep->rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				lo->lo_rx_invalid++;
				continue;
			}
			ike_deliver(ep, lo, &ep->rx_from[i], false,
				    ep->rxbuf + (size_t)i * ep->buf_size + ESP_HEADROOM,
				    ep->rx_msgs[i].msg_len, now);
		}
		if (n < EP_BATCH)
			return;
	}
}
