/*
 * conntrack — the connection table behind stateful security groups.
 *
 * Workload: one lookup per packet, one insert per new flow, on the router
 * thread only (no locks). Bounds: a fixed array of ct_nbuckets buckets of
 * CT_BUCKET entries, allocated once; a flow's bucket comes from a
 * direction-independent seeded hash, so a reply finds its flow in the same
 * bucket. Expiry is lazy: a lookup ignores expired entries and an insert
 * reuses them; a full bucket evicts the entry closest to expiry (counted),
 * so a flood of new flows can push out idle ones but never grows memory.
 * Invariant: an entry with c_expires_ms == 0 is free. Fragment trains
 * (ct_frag_*) live in a second fixed table with the same rules.
 */
#include "net/net_int.h"

#include "base/base.h"

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

/* The same for (src, sport, dst, dport) and (dst, dport, src, sport). */
static uint32_t
ct_bucket_of(const struct conntrack *ct, const struct ct_key *k)
{
	uint64_t a = (uint64_t)k->k_src << 16 | k->k_sport;
	uint64_t b = (uint64_t)k->k_dst << 16 | k->k_dport;
	uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
	uint64_t h = mix64(lo ^ ct->ct_seed);

	h = mix64(h ^ hi);
	h = mix64(h ^ ((uint64_t)k->k_zone << 8 | k->k_proto));
	return (uint32_t)h & (ct->ct_nbuckets - 1);
}

int
ct_init(struct conntrack *ct, uint32_t entries)
{
	uint32_t nb = 1;

	memset(ct, 0, sizeof(*ct));
	if (entries == 0)
		entries = NET_CT_DEFAULT_ENTRIES;
	while (nb * CT_BUCKET < entries && nb < (1u << 26))
		nb <<= 1;
	ct->ct_slots = calloc((size_t)nb * CT_BUCKET, sizeof(*ct->ct_slots));
	ct->ct_frags = calloc((size_t)CT_FRAG_BUCKETS * CT_BUCKET, sizeof(*ct->ct_frags));
	if (!ct->ct_slots || !ct->ct_frags) {
		ct_free(ct);
		return -1;
	}
	ct->ct_nbuckets = nb;
	rand_bytes(&ct->ct_seed, sizeof(ct->ct_seed));
	return 0;
}

void
ct_free(struct conntrack *ct)
{
	free(ct->ct_slots);
	free(ct->ct_frags);
	memset(ct, 0, sizeof(*ct));
}

static bool
key_equal(const struct ct_key *a, const struct ct_key *b)
{
	return a->k_zone == b->k_zone && a->k_src == b->k_src && a->k_dst == b->k_dst &&
	       a->k_sport == b->k_sport && a->k_dport == b->k_dport && a->k_proto == b->k_proto;
}

static bool
key_reverse_equal(const struct ct_key *a, const struct ct_key *b)
{
	return a->k_zone == b->k_zone && a->k_src == b->k_dst && a->k_dst == b->k_src &&
	       a->k_sport == b->k_dport && a->k_dport == b->k_sport && a->k_proto == b->k_proto;
}

struct ct_entry *
ct_lookup(struct conntrack *ct, const struct ct_key *k, uint64_t now_ms, bool *reply)
{
	struct ct_entry *b = ct->ct_slots + (size_t)ct_bucket_of(ct, k) * CT_BUCKET;

	for (unsigned i = 0; i < CT_BUCKET; i++) {
		struct ct_entry *e = &b[i];
		if (e->c_expires_ms == 0)
			continue;
		if (e->c_expires_ms <= now_ms) {
			e->c_expires_ms = 0;	/* lazily expired */
			ct->ct_live--;
			continue;
		}
		if (key_equal(&e->c_key, k)) {
			*reply = false;
			return e;
		}
		if (key_reverse_equal(&e->c_key, k)) {
			*reply = true;
			return e;
		}
	}
	return NULL;
}

struct ct_entry *
ct_insert(struct conntrack *ct, const struct ct_key *k, uint64_t now_ms)
{
	struct ct_entry *b = ct->ct_slots + (size_t)ct_bucket_of(ct, k) * CT_BUCKET;
	struct ct_entry *victim = NULL;

	for (unsigned i = 0; i < CT_BUCKET; i++) {
		struct ct_entry *e = &b[i];
		if (e->c_expires_ms != 0 && e->c_expires_ms <= now_ms) {
			e->c_expires_ms = 0;
			ct->ct_live--;
		}
		if (e->c_expires_ms == 0) {
			victim = e;
			break;
		}
		if (!victim || e->c_expires_ms < victim->c_expires_ms)
			victim = e;
	}
	if (victim->c_expires_ms != 0)
		ct->ct_evictions++;
	else
		ct->ct_live++;
	memset(victim, 0, sizeof(*victim));
	victim->c_key = *k;
	victim->c_expires_ms = now_ms + 1;	/* ct_touch sets the real timeout */
	return victim;
}

void
ct_touch(struct ct_entry *e, bool reply, uint8_t tcp_flags, uint64_t now_ms)
{
	uint64_t t;

	if (reply)
		e->c_replied = true;
	switch (e->c_key.k_proto) {
	case IPPROTO_TCP_:
		if (tcp_flags & 0x04) {			/* RST */
			e->c_fin = true;
			t = CT_TCP_RST_MS;
			break;
		}
		if (tcp_flags & 0x01)			/* FIN */
			e->c_fin = true;
		t = e->c_fin ? CT_TCP_CLOSING_MS : e->c_replied ? CT_TCP_EST_MS : CT_TCP_SYN_MS;
		break;
	case IPPROTO_UDP_:
		t = e->c_replied ? CT_UDP_STREAM_MS : CT_UDP_MS;
		break;
	default:
		t = CT_ICMP_MS;
		break;
	}
	e->c_expires_ms = now_ms + t;
}

/* --- fragment trains ------------------------------------------------------------ */

static struct ct_frag *
frag_bucket(const struct conntrack *ct, const struct ct_frag_key *k)
{
	uint64_t h = mix64(((uint64_t)k->f_src << 32 | k->f_dst) ^ ct->ct_seed);

	h = mix64(h ^ ((uint64_t)k->f_zone << 24 | (uint64_t)k->f_id << 8 | k->f_proto));
	return ct->ct_frags + (size_t)(h & (CT_FRAG_BUCKETS - 1)) * CT_BUCKET;
}

static bool
frag_key_equal(const struct ct_frag_key *a, const struct ct_frag_key *b)
{
	return a->f_zone == b->f_zone && a->f_src == b->f_src && a->f_dst == b->f_dst &&
	       a->f_id == b->f_id && a->f_proto == b->f_proto;
}

void
ct_frag_note(struct conntrack *ct, const struct ct_frag_key *k, uint64_t now_ms)
{
	struct ct_frag *b = frag_bucket(ct, k), *victim = NULL;

	for (unsigned i = 0; i < CT_BUCKET; i++) {
		struct ct_frag *f = &b[i];
		if (f->fr_expires_ms != 0 && f->fr_expires_ms <= now_ms)
			f->fr_expires_ms = 0;
		if (f->fr_expires_ms != 0 && frag_key_equal(&f->fr_key, k)) {
			victim = f;	/* the id came round: a new train */
			break;
		}
		if (!victim || f->fr_expires_ms < victim->fr_expires_ms)
			victim = f;
	}
	if (victim->fr_expires_ms != 0 && !frag_key_equal(&victim->fr_key, k))
		ct->ct_frag_evictions++;
	victim->fr_key = *k;
	victim->fr_expires_ms = now_ms + CT_FRAG_TRAIN_MS;
}

bool
ct_frag_follows(struct conntrack *ct, const struct ct_frag_key *k, bool last, uint64_t now_ms)
{
	struct ct_frag *b = frag_bucket(ct, k);

	for (unsigned i = 0; i < CT_BUCKET; i++) {
		struct ct_frag *f = &b[i];
		if (f->fr_expires_ms == 0 || !frag_key_equal(&f->fr_key, k))
			continue;
		if (f->fr_expires_ms <= now_ms) {
			f->fr_expires_ms = 0;
			return false;
		}
		if (last && f->fr_expires_ms > now_ms + CT_FRAG_TAIL_MS)
			f->fr_expires_ms = now_ms + CT_FRAG_TAIL_MS;
		return true;
	}
	return false;
}
