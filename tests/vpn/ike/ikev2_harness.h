/*
 * ikev2_harness — two IKEv2 peers wired back to back in memory, with a
 * clock the test controls and hooks to drop, duplicate, delay or NAT
 * packets. Shared by test_ikev2_negotiation.c and fuzz_ikev2.c.
 */
#ifndef VPCD_TESTS_IKEV2_HARNESS_H
#define VPCD_TESTS_IKEV2_HARNESS_H

#include "vpn/ike/ikev2.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define V_IP_A	 0xc6336402u	/* 198.51.100.2: the customer gateway */
#define V_IP_B	 0xcb007101u	/* 203.0.113.1: vpcd */
#define V_IP_NAT 0xc0000207u	/* 192.0.2.7: A's NAT, when nat is on */
#define V_MAX_SA 32
#define V_MAX_PKT 64

struct v_side {
	struct ikev2_peer *ep;
	uint32_t ip;
	struct ike_child_sa_install sas[V_MAX_SA];	/* installed now */
	size_t nsas;
	int installs, deletes, statuses;
	bool up;
	char cause[IKE_CAUSE_MAX];
};

struct v_pkt {
	int to;			/* 0 = A, 1 = B */
	struct ike_addr from;
	bool natt;
	size_t len;
	uint8_t data[4200];
};

struct v_net {
	struct v_side s[2];
	uint64_t now;
	bool nat;		/* A sits behind a NAT */
	bool blackhole;
	int dup;		/* deliver every packet this many extra times */
	/* return false to drop; may modify the packet */
	bool (*filter)(struct v_net *n, int from_side, struct v_pkt *p, int idx);
	int sent[2];
	void *user;
	struct v_pkt q[V_MAX_PKT];
	size_t nq;
	/* packets held back by the filter (hold = true) for later */
	struct v_pkt held[V_MAX_PKT];
	size_t nheld;
	bool hold;
};

static inline void v_config(struct ike_tunnel_config *c, int side)
{
	ike_tunnel_config_defaults(c);
	snprintf(c->name, sizeof(c->name), side ? "B" : "A");
	c->local_ip = side ? V_IP_B : V_IP_A;
	c->remote_ip = side ? V_IP_A : V_IP_B;
	memcpy(c->psk, "xyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxy", 32);
	c->psk_len = 32;
	struct ike_subnet cgw = { 0x0a000000u, 24 }, vpc = { 0x0a600000u, 16 };
	c->local_ts = side ? vpc : cgw;
	c->remote_ts = side ? cgw : vpc;
	c->versions = IKE_V2;
	c->startup = side ? IKE_STARTUP_ADD : IKE_STARTUP_START;
}

static inline void v_record(struct v_side *s, const struct ike_action *a)
{
	switch (a->kind) {
	case IKE_ACT_CHILD_SA_INSTALL:
		s->installs++;
		if (s->nsas < V_MAX_SA)
			s->sas[s->nsas++] = a->install;
		break;
	case IKE_ACT_CHILD_SA_DELETE:
		s->deletes++;
		for (size_t i = 0; i < s->nsas; i++)
			if (s->sas[i].in.spi == a->del.spi_in) {
				s->sas[i] = s->sas[--s->nsas];
				break;
			}
		break;
	case IKE_ACT_STATUS:
		s->statuses++;
		s->up = a->status.up;
		snprintf(s->cause, sizeof(s->cause), "%s", a->status.cause);
		break;
	default:
		break;
	}
}

static inline void v_deliver(struct v_net *n, struct v_pkt *p)
{
	ikev2_input(n->s[p->to].ep, n->now, &p->from, p->natt, p->data, p->len);
}

/* Drain both endpoints' actions and deliver packets until quiet. */
static inline void v_pump(struct v_net *n)
{
	for (int round = 0; round < 1000; round++) {
		n->nq = 0;
		for (int i = 0; i < 2; i++) {
			struct ike_action a;
			while (ikev2_next_action(n->s[i].ep, &a)) {
				if (a.kind != IKE_ACT_SEND) {
					v_record(&n->s[i], &a);
					ike_action_wipe(&a);
					continue;
				}
				int idx = n->sent[i]++;
				if (n->nq == V_MAX_PKT || a.send.len > sizeof(n->q[0].data))
					continue;
				struct v_pkt *p = &n->q[n->nq];
				p->to = !i;
				p->natt = a.send.src_port == 4500;
				p->from.ip = n->s[i].ip;
				p->from.port = a.send.src_port;
				if (i == 0 && n->nat) {
					p->from.ip = V_IP_NAT;
					p->from.port = a.send.src_port == 500 ? 40000 : 40001;
				}
				p->len = a.send.len;
				memcpy(p->data, a.send.data, a.send.len);
				n->hold = false;
				if (n->blackhole || (n->filter && !n->filter(n, i, p, idx))) {
					if (n->hold && n->nheld < V_MAX_PKT)
						n->held[n->nheld++] = *p;
					continue;
				}
				n->nq++;
			}
		}
		if (n->nq == 0)
			return;
		for (size_t k = 0; k < n->nq; k++)
			for (int d = 0; d <= n->dup; d++)
				v_deliver(n, &n->q[k]);
	}
}

/* Deliver what the filter held back, in order. */
static inline void v_release(struct v_net *n)
{
	size_t k = n->nheld;
	n->nheld = 0;
	for (size_t i = 0; i < k; i++)
		v_deliver(n, &n->held[i]);
	v_pump(n);
}

/* Run the clock to `until`, ticking whenever an endpoint asks. */
static inline void v_run(struct v_net *n, uint64_t until)
{
	v_pump(n);
	for (int steps = 0; steps < 200000; steps++) {
		uint64_t a = ikev2_next_deadline(n->s[0].ep), b = ikev2_next_deadline(n->s[1].ep);
		uint64_t next = a < b ? a : b;
		if (next > until)
			break;
		if (next > n->now)
			n->now = next;
		ikev2_tick(n->s[0].ep, n->now);
		ikev2_tick(n->s[1].ep, n->now);
		v_pump(n);
	}
	if (until > n->now)
		n->now = until;
}

static inline bool v_init(struct v_net *n, const struct ike_tunnel_config *ca,
			  const struct ike_tunnel_config *cb)
{
	memset(n, 0, sizeof(*n));
	n->now = 1000;
	n->s[0].ip = V_IP_A;
	n->s[1].ip = V_IP_B;
	n->s[0].ep = ikev2_peer_new(ca);
	n->s[1].ep = ikev2_peer_new(cb);
	return n->s[0].ep && n->s[1].ep;
}

static inline void v_free(struct v_net *n)
{
	ikev2_peer_free(n->s[0].ep);
	ikev2_peer_free(n->s[1].ep);
	n->s[0].ep = n->s[1].ep = NULL;
}

/* Every SA one side sends on has its twin on the other side: same SPI,
 * same keys, crossed directions. */
static inline bool v_sas_match(const struct v_net *n)
{
	for (int i = 0; i < 2; i++)
		for (size_t k = 0; k < n->s[i].nsas; k++) {
			const struct ike_child_sa_install *x = &n->s[i].sas[k];
			bool found = false;
			for (size_t j = 0; j < n->s[!i].nsas && !found; j++) {
				const struct ike_child_sa_install *y = &n->s[!i].sas[j];
				found = x->out.spi == y->in.spi && x->in.spi == y->out.spi &&
					x->out.enc_key_len == y->in.enc_key_len &&
					memcmp(x->out.enc_key, y->in.enc_key, x->out.enc_key_len) == 0 &&
					memcmp(x->out.auth_key, y->in.auth_key, x->out.auth_key_len) == 0 &&
					memcmp(x->in.enc_key, y->out.enc_key, x->in.enc_key_len) == 0 &&
					x->encr == y->encr && x->integ == y->integ;
			}
			if (!found)
				return false;
		}
	return true;
}

#endif
