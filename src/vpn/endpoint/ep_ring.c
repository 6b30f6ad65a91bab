/*
 * ep_ring.c — the endpoint's plaintext sides that are ports of the VPC
 * router in the same process (cfg.use_plain_rings): one pair of SPSC
 * rings per VPN gateway (base/ring.h), no system call per packet.
 *
 * From the router (ring_in[k]): each slot holds an IPv4 packet the router
 * already decided and parsed: the connection its VPN gateway's routes
 * chose (rm_conn, the engine's key of the connection, also in each of the
 * connection's tunnel specs) and the facts (header length, protocol, DF,
 * fragment, TCP SYN). The endpoint only chooses between the connection's
 * two tunnels — the one the router prefers (BGP's choice) or tunnel 1
 * first, the other when the first has no CHILD SA covering the packet:
 * failover is decided here and nowhere else — then clamps, clears DF and
 * fragments with those facts and encrypts in place in the slot (the slot
 * has ESP_HEADROOM before the packet and ESP_TAILROOM after it); the
 * slots go back to the router after the batch is sent. A packet with no
 * connection (rm_conn 0: no gateway route named one) is routed among the
 * side's tunnels as a TUN packet is (ep_route_packet).
 * To the router (ring_out[k]): packets are decrypted straight into the
 * slots they leave in (ep_plain_slot, at RING_HEADROOM, room for the
 * router's Ethernet and virtio headers; copied only when an earlier packet
 * of the batch did not take its slot), published once per receive batch
 * (ep_plain_flush); a full ring drops
 * (the tunnel's "TUN write failed" count, the ring's own drop count).
 *
 * Loop thread only; nothing allocated per packet (ep->conns is rebuilt on
 * tunnel changes, a control-path event). Must never block or log per
 * packet.
 */
#include "vpn/endpoint/ep_internal.h"

#include "base/ring.h"
#include "vpn/esp/inner.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EP_RING_ROUNDS	4	/* batches per side per loop turn before yielding */

_Static_assert(RING_HEADROOM >= ESP_HEADROOM, "ring headroom below ESP's");

int ep_rings_open(struct vpn_endpoint *ep)
{
	const struct vpn_endpoint_config *c = &ep->cfg;
	if (c->n_plain_rings < 1 || c->n_plain_rings > VPN_PLAIN_PORTS_MAX) {
		log_error(EP_LOG, "endpoint: %zu ring sides (1..%d)", c->n_plain_rings,
			  VPN_PLAIN_PORTS_MAX);
		errno = EINVAL;
		return -1;
	}
	for (size_t k = 0; k < c->n_plain_rings; k++) {
		if (!c->plain_rings_in[k] || !c->plain_rings_out[k]) {
			log_error(EP_LOG, "endpoint: ring side %zu without its two rings", k);
			errno = EINVAL;
			return -1;
		}
		ep->ring_in[k] = c->plain_rings_in[k];
		ep->ring_out[k] = c->plain_rings_out[k];
		ep->tun_fds[k] = -1;
		ep->w_ports[k] = (struct ep_watch){ EP_W_RING, NULL, (unsigned)k, NULL };
		if (ep_watch_add(ep, ring_wake_fd(ep->ring_in[k]), &ep->w_ports[k]) < 0)
			return -1;
	}
	ep->n_ports = (unsigned)c->n_plain_rings;
	log_info(EP_LOG, "plaintext sides: %u ring port%s of the VPC router", ep->n_ports,
		 ep->n_ports > 1 ? "s" : "");
	return 0;
}

void ep_rings_free(struct vpn_endpoint *ep)
{
	free(ep->conns);
	ep->conns = NULL;
	ep->n_conns = ep->cap_conns = 0;
}

/* ---- the connections the router names -------------------------------------- */

static int conn_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct ep_conn *)a)->cn_key, y = ((const struct ep_conn *)b)->cn_key;
	return x < y ? -1 : x > y;
}

void ep_conns_rebuild(struct vpn_endpoint *ep)
{
	size_t n = 0;
	for (struct ep_tunnel *t = ep->tunnels; t; t = t->t_next)
		n++;
	if (n > ep->cap_conns) {
		struct ep_conn *c = realloc(ep->conns, n * sizeof(*c));
		if (!c)
			abort();
		ep->conns = c;
		ep->cap_conns = n;
	}
	ep->n_conns = 0;
	for (struct ep_tunnel *t = ep->tunnels; t; t = t->t_next) {
		uint64_t key = t->t_spec.conn_key;
		unsigned idx = t->t_spec.conn_tunnel;
		if (!key || idx < 1 || idx > 2)
			continue;
		size_t i;
		for (i = 0; i < ep->n_conns && ep->conns[i].cn_key != key; i++)
			;
		if (i == ep->n_conns)
			ep->conns[ep->n_conns++] = (struct ep_conn){ key, { NULL, NULL } };
		if (ep->conns[i].cn_tunnel[idx - 1])
			log_error(EP_LOG, "%s: connection key and tunnel number of %s too: the router's "
				  "packets for it go to %s", t->t_spec.id,
				  ep->conns[i].cn_tunnel[idx - 1]->t_spec.id,
				  ep->conns[i].cn_tunnel[idx - 1]->t_spec.id);
		else
			ep->conns[i].cn_tunnel[idx - 1] = t;
	}
	if (ep->n_conns > 1)	/* qsort wants a pointer even for none */
		qsort(ep->conns, ep->n_conns, sizeof(*ep->conns), conn_cmp);
}

static struct ep_conn *conn_find(struct vpn_endpoint *ep, uint64_t key)
{
	size_t lo = 0, hi = ep->n_conns;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ep->conns[mid].cn_key == key)
			return &ep->conns[mid];
		if (ep->conns[mid].cn_key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The CHILD SA for p among connection key's tunnels on side port: the
 * preferred tunnel first (0: tunnel 1), the other when the first has no
 * SA covering p. *t_out: the tunnel chosen, also without an SA (NULL: the
 * side has no such connection). */
static struct ep_child *conn_choose(struct vpn_endpoint *ep, unsigned port, uint64_t key,
				    uint8_t prefer, const uint8_t *p, uint32_t len,
				    struct ep_tunnel **t_out)
{
	struct ep_conn *cn = conn_find(ep, key);
	*t_out = NULL;
	if (!cn)
		return NULL;
	unsigned first = prefer == 2 ? 1 : 0;
	for (unsigned k = 0; k < 2; k++) {
		struct ep_tunnel *t = cn->cn_tunnel[(first + k) % 2];
		/* a gateway's packets only into that gateway's tunnels */
		if (!t || t->t_spec.plain_port != port)
			continue;
		if (!*t_out)
			*t_out = t;
		struct ep_child *c = ep_child_for(t, p, len);
		if (c) {
			*t_out = t;
			return c;
		}
	}
	return NULL;
}

/* ---- from the router ---------------------------------------------------------- */

/* The facts the router parsed, as inner.h takes them; false when there
 * are none or they do not fit the slot's packet (then parsed here). */
static bool facts_of(const struct ring_slot *sl, struct inner_facts *f)
{
	const struct ring_meta *m = &sl->rs_meta;
	if (!(m->rm_flags & RING_F_PARSED) || m->rm_hlen < 20 || m->rm_hlen > sl->rs_len ||
	    sl->rs_len > UINT16_MAX)
		return false;
	f->if_len = (uint16_t)sl->rs_len;
	f->if_hlen = m->rm_hlen;
	f->if_proto = m->rm_proto;
	f->if_df = (m->rm_flags & RING_F_DF) != 0;
	f->if_fragment = (m->rm_flags & RING_F_FRAGMENT) != 0;
	f->if_tcp_syn = (m->rm_flags & RING_F_TCP_SYN) != 0;
	return true;
}

/* One batch of side port's ring; returns how many slots it took. */
static unsigned ring_batch(struct vpn_endpoint *ep, unsigned port)
{
	struct ring *r = ep->ring_in[port];
	struct ring_slot *slots[EP_BATCH];
	unsigned n = ring_peek(r, slots, EP_BATCH);

	for (unsigned i = 0; i < n; i++) {
		struct ring_slot *sl = slots[i];
		/* ESP's head- and tailroom around the packet, within the slot */
		if (sl->rs_off < ESP_HEADROOM || sl->rs_off > RING_SLOT_BYTES ||
		    sl->rs_len > RING_SLOT_BYTES - sl->rs_off ||
		    RING_SLOT_BYTES - sl->rs_off - sl->rs_len < ESP_TAILROOM) {
			ep->drops[VPN_DROP_BAD_PACKET]++;
			continue;
		}
		uint8_t *p = sl->rs_buf + sl->rs_off;
		struct inner_facts f;
		if (!facts_of(sl, &f) && !inner_facts_parse(p, sl->rs_len, &f)) {
			ep->drops[VPN_DROP_BAD_PACKET]++;
			continue;
		}
		if (i + 1 < n)
			__builtin_prefetch(slots[i + 1]->rs_buf + slots[i + 1]->rs_off);
		struct ep_tunnel *t;
		struct ep_child *c = sl->rs_meta.rm_conn ?
			conn_choose(ep, port, sl->rs_meta.rm_conn, sl->rs_meta.rm_tunnel, p, sl->rs_len, &t) :
			ep_route_packet(ep, port, p, sl->rs_len, &t);
		if (!c) {
			if (t)
				t->t_drops[VPN_DROP_NO_SA]++;
			else
				ep->drops[VPN_DROP_NO_ROUTE]++;
			continue;
		}
		if (!ep_tx_room(ep))
			ep_tx_flush(ep);
		struct esp_pkt pkt = { .buf = sl->rs_buf, .size = RING_SLOT_BYTES, .off = sl->rs_off,
				       .len = sl->rs_len };
		ep_tx_enqueue(ep, &pkt, c, &f);
	}
	ep_tx_flush(ep);	/* encrypted and sent from the slots: now theirs again */
	ring_release(r, n);
	return n;
}

bool ep_rings_sleep(struct vpn_endpoint *ep)
{
	bool sleep = true;
	for (unsigned k = 0; k < ep->n_ports; k++)
		if (ep->ring_in[k] && !ring_sleep_prepare(ep->ring_in[k]))
			sleep = false;
	return sleep;
}

void ep_ring_woken(struct vpn_endpoint *ep, unsigned port)
{
	if (port < ep->n_ports && ep->ring_in[port])
		ring_wake_clear(ep->ring_in[port]);
}

void ep_rings_poll(struct vpn_endpoint *ep, uint64_t now)
{
	(void)now;
	for (unsigned k = 0; k < ep->n_ports; k++) {
		if (!ep->ring_in[k])
			continue;
		for (int round = 0; round < EP_RING_ROUNDS; round++)
			if (ring_batch(ep, k) < EP_BATCH)
				break;
	}
}

/* ---- to the router -------------------------------------------------------------- */

bool ep_plain_write(struct vpn_endpoint *ep, unsigned port, const uint8_t *p, uint32_t len)
{
	if (port >= ep->n_ports)
		return false;
	if (!ep->ring_out[port] && port == 0 && ep->tun_vnet)
		return ep_tun_offload_write(ep, p, len);	/* a TUN with offloads */
	if (!ep->ring_out[port])
		return write(ep->tun_fds[port], p, len) >= 0;
	unsigned have = ep->ring_out_pending[port];
	/* the slot after those already filled in this batch */
	struct ring_slot *s = len <= RING_SLOT_BYTES - RING_HEADROOM ?
		ring_reserve_nth(ep->ring_out[port], have) : NULL;
	if (!s) {
		ep->ring_out_dropped[port]++;
		return false;
	}
	s->rs_off = RING_HEADROOM;
	s->rs_len = len;
	s->rs_meta = (struct ring_meta){ 0 };	/* the router parses what we decrypted */
	if (p != s->rs_buf + RING_HEADROOM)	/* not decrypted in place (ep_plain_slot) */
		memcpy(s->rs_buf + RING_HEADROOM, p, len);
	ep->ring_out_pending[port] = have + 1;
	return true;
}

uint8_t *ep_plain_slot(struct vpn_endpoint *ep, unsigned port, unsigned k, uint32_t len)
{
	if (port >= ep->n_ports || !ep->ring_out[port] || len > RING_SLOT_BYTES - RING_HEADROOM)
		return NULL;
	struct ring_slot *s = ring_reserve_nth(ep->ring_out[port], ep->ring_out_pending[port] + k);
	return s ? s->rs_buf + RING_HEADROOM : NULL;
}

void ep_plain_flush(struct vpn_endpoint *ep)
{
	if (ep->tun_vnet)
		(void)ep_tun_offload_flush(ep);	/* failures counted there */
	for (unsigned k = 0; k < ep->n_ports; k++) {
		if (!ep->ring_out[k] || (!ep->ring_out_pending[k] && !ep->ring_out_dropped[k]))
			continue;
		ring_commit(ep->ring_out[k], ep->ring_out_pending[k], ep->ring_out_dropped[k]);
		ep->ring_out_pending[k] = ep->ring_out_dropped[k] = 0;
	}
}
