/*
 * nat.c — the NAT gateways' translation table (nat.h): a pool of
 * entries and two bucketed indexes over it, allocated once.
 *
 * Invariants: an entry is in use iff ne_expires_ms != 0; an entry in use
 * is held by exactly one outbound slot (ne_out_slot) and one inbound slot
 * (ne_in_slot), each holding its index + 1; a free entry is on the free
 * stack and in no slot. An entry in use but expired is reclaimed (slots
 * cleared, pushed on the stack) when a bucket walk or the sweep meets it.
 * Cost per packet: one bucket walk (NAT_BUCKET slots); a new flow adds up
 * to NAT_PORT_TRIES inbound bucket walks and at most NAT_SWEEP_MAX entry
 * checks.
 */
#include "net/nat.h"
#include "net/net_int.h"

#include "base/base.h"
#include "base/csum.h"

#include <stdlib.h>
#include <string.h>

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint32_t
out_bucket(const struct nat_table *t, const struct nat_flow *f)
{
	uint64_t h = t->nt_seed;
	h = mix64(h ^ ((uint64_t)f->nf_zone << 32 | f->nf_nat_ip));
	h = mix64(h ^ ((uint64_t)f->nf_int_ip << 32 | f->nf_rem_ip));
	h = mix64(h ^ ((uint64_t)f->nf_int_port << 32 | (uint64_t)f->nf_rem_port << 16 | f->nf_proto));
	return (uint32_t)h & (t->nt_nbuckets - 1);
}

static uint32_t
in_bucket(const struct nat_table *t, uint32_t zone, uint32_t nat_ip, uint8_t proto, uint16_t port)
{
	uint64_t h = mix64(t->nt_seed ^ 0x9e3779b97f4a7c15ull);
	h = mix64(h ^ ((uint64_t)zone << 32 | nat_ip));
	h = mix64(h ^ ((uint64_t)port << 8 | proto));
	return (uint32_t)h & (t->nt_nbuckets - 1);
}

int
nat_init(struct nat_table *t, uint32_t entries)
{
	memset(t, 0, sizeof(*t));
	if (entries == 0)
		entries = NAT_DEFAULT_ENTRIES;
	uint32_t cap = 64;
	while (cap < entries && cap < (1u << 24))
		cap <<= 1;
	t->nt_cap = cap;
	/* half the slots of the indexes stay empty on average when full */
	t->nt_nbuckets = cap * 2 / NAT_BUCKET;
	t->nt_entries = calloc(cap, sizeof(*t->nt_entries));
	t->nt_out = calloc((size_t)t->nt_nbuckets * NAT_BUCKET, sizeof(uint32_t));
	t->nt_in = calloc((size_t)t->nt_nbuckets * NAT_BUCKET, sizeof(uint32_t));
	t->nt_free = calloc(cap, sizeof(uint32_t));
	if (!t->nt_entries || !t->nt_out || !t->nt_in || !t->nt_free) {
		nat_free(t);
		return -1;
	}
	for (uint32_t i = 0; i < cap; i++)
		t->nt_free[i] = cap - 1 - i;	/* entry 0 first */
	t->nt_nfree = cap;
	rand_bytes(&t->nt_seed, sizeof(t->nt_seed));
	return 0;
}

void
nat_free(struct nat_table *t)
{
	free(t->nt_entries);
	free(t->nt_out);
	free(t->nt_in);
	free(t->nt_free);
	memset(t, 0, sizeof(*t));
}

static void
entry_release(struct nat_table *t, uint32_t idx)
{
	struct nat_entry *e = &t->nt_entries[idx];

	t->nt_out[e->ne_out_slot] = 0;
	t->nt_in[e->ne_in_slot] = 0;
	e->ne_expires_ms = 0;
	t->nt_free[t->nt_nfree++] = idx;
	t->nt_live--;
}

/* The entry in slot s if it is live; reclaims it when it expired. */
static struct nat_entry *
slot_entry(struct nat_table *t, const uint32_t *slots, uint32_t s, uint64_t now_ms)
{
	uint32_t v = slots[s];

	if (v == 0)
		return NULL;
	struct nat_entry *e = &t->nt_entries[v - 1];
	if (e->ne_expires_ms <= now_ms) {
		entry_release(t, v - 1);
		return NULL;
	}
	return e;
}

static bool
flow_eq(const struct nat_flow *a, const struct nat_flow *b)
{
	return a->nf_zone == b->nf_zone && a->nf_nat_ip == b->nf_nat_ip && a->nf_int_ip == b->nf_int_ip &&
	       a->nf_rem_ip == b->nf_rem_ip && a->nf_int_port == b->nf_int_port &&
	       a->nf_rem_port == b->nf_rem_port && a->nf_proto == b->nf_proto;
}

struct nat_entry *
nat_lookup_out(struct nat_table *t, const struct nat_flow *f, uint64_t now_ms)
{
	uint32_t base = out_bucket(t, f) * NAT_BUCKET;

	for (uint32_t i = 0; i < NAT_BUCKET; i++) {
		struct nat_entry *e = slot_entry(t, t->nt_out, base + i, now_ms);
		if (e && flow_eq(&e->ne_flow, f))
			return e;
	}
	return NULL;
}

/* The live entry holding ext port of (zone, nat_ip, proto), or NULL; *free_slot:
 * an empty slot of its bucket (UINT32_MAX none). */
static struct nat_entry *
in_find(struct nat_table *t, uint32_t zone, uint32_t nat_ip, uint8_t proto, uint16_t port, uint64_t now_ms,
	uint32_t *free_slot)
{
	uint32_t base = in_bucket(t, zone, nat_ip, proto, port) * NAT_BUCKET;

	*free_slot = UINT32_MAX;
	for (uint32_t i = 0; i < NAT_BUCKET; i++) {
		struct nat_entry *e = slot_entry(t, t->nt_in, base + i, now_ms);
		if (!e) {
			if (*free_slot == UINT32_MAX)
				*free_slot = base + i;
			continue;
		}
		const struct nat_flow *g = &e->ne_flow;
		if (g->nf_zone == zone && g->nf_nat_ip == nat_ip && g->nf_proto == proto && e->ne_ext_port == port)
			return e;
	}
	return NULL;
}

struct nat_entry *
nat_lookup_in(struct nat_table *t, uint32_t zone, uint32_t nat_ip, uint8_t proto, uint16_t ext_port,
	      uint32_t rem_ip, uint16_t rem_port, uint64_t now_ms)
{
	uint32_t unused;
	struct nat_entry *e = in_find(t, zone, nat_ip, proto, ext_port, now_ms, &unused);

	if (!e || e->ne_flow.nf_rem_ip != rem_ip || e->ne_flow.nf_rem_port != rem_port)
		return NULL;
	return e;
}

/* Reclaims expired entries among the next NAT_SWEEP_MAX of the pool. */
static void
sweep(struct nat_table *t, uint64_t now_ms)
{
	for (uint32_t n = 0; n < NAT_SWEEP_MAX; n++) {
		uint32_t i = t->nt_sweep;
		t->nt_sweep = (t->nt_sweep + 1) & (t->nt_cap - 1);
		struct nat_entry *e = &t->nt_entries[i];
		if (e->ne_expires_ms && e->ne_expires_ms <= now_ms)
			entry_release(t, i);
	}
}

struct nat_entry *
nat_create(struct nat_table *t, const struct nat_flow *f, uint64_t now_ms)
{
	uint32_t base = out_bucket(t, f) * NAT_BUCKET, out_slot = UINT32_MAX;

	for (uint32_t i = 0; i < NAT_BUCKET && out_slot == UINT32_MAX; i++)
		if (!slot_entry(t, t->nt_out, base + i, now_ms))
			out_slot = base + i;
	if (out_slot == UINT32_MAX)
		goto refused;
	if (t->nt_nfree == 0)
		sweep(t, now_ms);
	if (t->nt_nfree == 0)
		goto refused;
	/* a port from the flow's hash on, the first no live mapping holds */
	uint32_t span = NAT_PORT_MAX - NAT_PORT_MIN + 1;
	uint32_t start = (uint32_t)(mix64(t->nt_seed ^ ((uint64_t)f->nf_int_ip << 32 | f->nf_rem_ip) ^
					  ((uint64_t)f->nf_int_port << 16 | f->nf_rem_port)) % span);
	for (uint32_t k = 0; k < NAT_PORT_TRIES; k++) {
		uint16_t port = (uint16_t)(NAT_PORT_MIN + (start + k) % span);
		uint32_t in_slot;
		if (in_find(t, f->nf_zone, f->nf_nat_ip, f->nf_proto, port, now_ms, &in_slot) ||
		    in_slot == UINT32_MAX)
			continue;
		uint32_t idx = t->nt_free[--t->nt_nfree];
		struct nat_entry *e = &t->nt_entries[idx];
		memset(e, 0, sizeof(*e));
		e->ne_flow = *f;
		e->ne_ext_port = port;
		e->ne_out_slot = out_slot;
		e->ne_in_slot = in_slot;
		e->ne_expires_ms = now_ms + (f->nf_proto == 1 ? NAT_ICMP_MS : f->nf_proto == 6 ? NAT_TCP_SYN_MS
											 : NAT_IDLE_MS);
		t->nt_out[out_slot] = idx + 1;
		t->nt_in[in_slot] = idx + 1;
		t->nt_live++;
		return e;
	}
refused:
	t->nt_refused++;
	return NULL;
}

#define TCP_FIN 0x01
#define TCP_RST 0x04

void
nat_touch(struct nat_entry *e, bool inbound, uint8_t tcp_flags, uint64_t now_ms)
{
	uint8_t proto = e->ne_flow.nf_proto;

	if (inbound)
		e->ne_replied = true;
	if (proto == 6 && (tcp_flags & (TCP_FIN | TCP_RST)))
		e->ne_closing = true;
	uint64_t ttl;
	if (proto == 1)
		ttl = NAT_ICMP_MS;
	else if (proto == 6)
		ttl = e->ne_closing ? NAT_TCP_CLOSING_MS : e->ne_replied ? NAT_IDLE_MS : NAT_TCP_SYN_MS;
	else
		ttl = NAT_IDLE_MS;
	e->ne_expires_ms = now_ms + ttl;
}

/* --- rewriting a packet's port ---------------------------------------------- */

/* (Declared in net_int.h: they work on a parsed packet.) The TCP/UDP
 * checksum covers the ports; the ICMP checksum covers the identifier. */
static void
l4_rewrite_port(uint8_t *p, struct pkt_meta *m, bool src, uint16_t port)
{
	if (m->pm_l4_off == 0)
		return;
	uint8_t *l4 = p + m->pm_l4_off;
	uint8_t *field, *csum;
	if (m->pm_proto == IPPROTO_TCP_) {
		field = l4 + (src ? 0 : 2);
		csum = l4 + 16;
	} else if (m->pm_proto == IPPROTO_UDP_) {
		field = l4 + (src ? 0 : 2);
		csum = l4 + 6;
	} else if (m->pm_proto == IPPROTO_ICMP_ && !m->pm_icmp_error) {
		field = l4 + 4;		/* echo identifier */
		csum = l4 + 2;
	} else {
		return;
	}
	uint16_t old = rd16(field);
	wr16(field, port);
	uint16_t c = rd16(csum);
	if (!(m->pm_proto == IPPROTO_UDP_ && c == 0)) {	/* UDP without a checksum stays so */
		c = csum_replace16(c, old, port);
		if (m->pm_proto == IPPROTO_UDP_ && c == 0)
			c = 0xffff;
		wr16(csum, c);
	}
	if (m->pm_proto == IPPROTO_ICMP_) {
		m->pm_sport = m->pm_dport = port;
	} else if (src) {
		m->pm_sport = port;
	} else {
		m->pm_dport = port;
	}
}

void
l4_rewrite_sport(uint8_t *p, struct pkt_meta *m, uint16_t port)
{
	l4_rewrite_port(p, m, true, port);
}

void
l4_rewrite_dport(uint8_t *p, struct pkt_meta *m, uint16_t port)
{
	l4_rewrite_port(p, m, false, port);
}

void
l4_rewrite_inner_sport(uint8_t *p, struct pkt_meta *m, uint16_t port)
{
	if (!m->pm_inner_ok || m->pm_l4_off == 0)
		return;
	uint8_t *icmp = p + m->pm_l4_off;
	uint8_t *l4 = p + m->pm_inner_l4_off;
	uint32_t end = (uint32_t)m->pm_l3_off + m->pm_ip_len;
	uint16_t ic = rd16(icmp + 2);
	uint8_t *field, *csum = NULL;
	if (m->pm_inner_proto == IPPROTO_TCP_ || m->pm_inner_proto == IPPROTO_UDP_) {
		field = l4;
		uint32_t cpos = m->pm_inner_proto == IPPROTO_TCP_ ? 16 : 6;
		/* the quoted L4 checksum, when the quote reaches it */
		if ((uint32_t)m->pm_inner_l4_off + cpos + 2 <= end)
			csum = l4 + cpos;
	} else if (m->pm_inner_proto == IPPROTO_ICMP_) {
		field = l4 + 4;		/* echo identifier */
		if ((uint32_t)m->pm_inner_l4_off + 4 <= end)
			csum = l4 + 2;
	} else {
		return;
	}
	uint16_t old = rd16(field);
	wr16(field, port);
	ic = csum_replace16(ic, old, port);
	if (csum) {
		uint16_t c = rd16(csum);
		if (!(m->pm_inner_proto == IPPROTO_UDP_ && c == 0)) {
			uint16_t nc = csum_replace16(c, old, port);
			if (m->pm_inner_proto == IPPROTO_UDP_ && nc == 0)
				nc = 0xffff;
			wr16(csum, nc);
			ic = csum_replace16(ic, c, nc);
		}
	}
	wr16(icmp + 2, ic);
	m->pm_inner_sport = port;
	if (m->pm_inner_proto == IPPROTO_ICMP_)
		m->pm_inner_dport = port;
}
