/*
 * ike_harness — two IKEv1 peers wired back to back in memory, with a
 * clock the test controls and hooks to drop, corrupt or NAT packets.
 * Shared by test_ike_negotiation.c and fuzz_ike.c.
 */
#ifndef VPCD_TESTS_IKE_HARNESS_H
#define VPCD_TESTS_IKE_HARNESS_H

#include "vpn/ike/ike.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H_IP_A	 0xc6336402u	/* 198.51.100.2: the customer gateway */
#define H_IP_B	 0xcb007101u	/* 203.0.113.1: vpcd */
#define H_IP_NAT 0xc0000207u	/* 192.0.2.7: A's NAT, when nat is on */
#define H_MAX_SA 32
#define H_MAX_PKT 64

struct h_side {
	struct ike_peer *ep;
	uint32_t ip;
	struct ike_child_sa_install sas[H_MAX_SA];	/* installed now */
	size_t nsas;
	int installs, deletes, statuses;
	bool up;
	char cause[IKE_CAUSE_MAX];
	enum ike_action_kind log[512];	/* kinds in order, SEND excluded */
	size_t nlog;
};

struct h_pkt {
	int to;			/* 0 = A, 1 = B */
	struct ike_addr from;
	bool natt;
	size_t len;
	uint8_t data[4100];
};

struct h_net {
	struct h_side s[2];
	uint64_t now;
	bool nat;		/* A sits behind a NAT */
	bool blackhole;		/* drop everything */
	/* return false to drop; may modify the packet */
	bool (*filter)(struct h_net *n, int from_side, struct h_pkt *p, int idx);
	int sent[2];		/* packets sent by each side */
	void *user;
	struct h_pkt q[H_MAX_PKT];
	size_t nq;
};

static inline void h_config(struct ike_tunnel_config *c, int side)
{
	ike_tunnel_config_defaults(c);
	snprintf(c->name, sizeof(c->name), side ? "B" : "A");
	c->local_ip = side ? H_IP_B : H_IP_A;
	c->remote_ip = side ? H_IP_A : H_IP_B;
	memcpy(c->psk, "xyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxy", 32);
	c->psk_len = 32;
	struct ike_subnet cgw = { 0x0a000000u, 24 }, vpc = { 0x0a600000u, 16 };
	c->local_ts = side ? vpc : cgw;
	c->remote_ts = side ? cgw : vpc;
}

static inline void h_record(struct h_side *s, const struct ike_action *a)
{
	if (s->nlog < sizeof(s->log) / sizeof(s->log[0]))
		s->log[s->nlog++] = a->kind;
	switch (a->kind) {
	case IKE_ACT_CHILD_SA_INSTALL:
		s->installs++;
		if (s->nsas < H_MAX_SA)
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

/* Drain both endpoints' actions and deliver packets until quiet. */
static inline void h_pump(struct h_net *n)
{
	for (int round = 0; round < 1000; round++) {
		n->nq = 0;
		for (int i = 0; i < 2; i++) {
			struct ike_action a;
			while (ike_next_action(n->s[i].ep, &a)) {
				if (a.kind != IKE_ACT_SEND) {
					h_record(&n->s[i], &a);
					ike_action_wipe(&a);
					continue;
				}
				int idx = n->sent[i]++;
				if (n->nq == H_MAX_PKT || a.send.len > sizeof(n->q[0].data))
					continue;
				struct h_pkt *p = &n->q[n->nq];
				p->to = !i;
				p->natt = a.send.src_port == 4500;	/* marker present */
				p->from.ip = n->s[i].ip;
				p->from.port = a.send.src_port;
				if (i == 0 && n->nat) {
					p->from.ip = H_IP_NAT;
					p->from.port = a.send.src_port == 500 ? 40000 : 40001;
				}
				p->len = a.send.len;
				memcpy(p->data, a.send.data, a.send.len);
				if (n->blackhole || (n->filter && !n->filter(n, i, p, idx)))
					continue;
				n->nq++;
			}
		}
		if (n->nq == 0)
			return;
		for (size_t k = 0; k < n->nq; k++) {
			struct h_pkt *p = &n->q[k];
			ike_input(n->s[p->to].ep, n->now, &p->from, p->natt, p->data, p->len);
		}
	}
}

/* Run the clock to `until`, ticking whenever an endpoint asks. */
static inline void h_run(struct h_net *n, uint64_t until)
{
	h_pump(n);
	for (int steps = 0; steps < 100000; steps++) {
		uint64_t a = ike_next_deadline(n->s[0].ep), b = ike_next_deadline(n->s[1].ep);
		uint64_t next = a < b ? a : b;
		if (next > until)
			break;
		if (next > n->now)
			n->now = next;
		ike_tick(n->s[0].ep, n->now);
		ike_tick(n->s[1].ep, n->now);
		h_pump(n);
	}
	if (until > n->now)
		n->now = until;
}

static inline bool h_init(struct h_net *n, const struct ike_tunnel_config *ca,
			  const struct ike_tunnel_config *cb)
{
	memset(n, 0, sizeof(*n));
	n->now = 1000;
	n->s[0].ip = H_IP_A;
	n->s[1].ip = H_IP_B;
	n->s[0].ep = ike_peer_new(ca);
	n->s[1].ep = ike_peer_new(cb);
	return n->s[0].ep && n->s[1].ep;
}

static inline void h_free(struct h_net *n)
{
	ike_peer_free(n->s[0].ep);
	ike_peer_free(n->s[1].ep);
	n->s[0].ep = n->s[1].ep = NULL;
}

#endif
