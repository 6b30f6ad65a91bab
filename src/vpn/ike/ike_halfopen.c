/*
 * ike_halfopen.c — what stands between a flood of Main Mode message 1 and
 * the ISAKMP SAs: per-source budgets for new exchanges and a bounded table
 * of exchanges that have not yet proven a reachable peer.
 *
 * The threat: message 1 costs nothing to forge. Anyone can send thousands
 * a second with the customer gateway's address as source (random ports),
 * and we must answer each, since we cannot tell the real one. What we can
 * tell is who answers: message 3 echoes the responder cookie of our
 * message 2, which only a peer that receives at its address has seen. So
 *   - an exchange that has not answered (we sent message 2) lives here, as
 *     a small record (cookies, address, chosen proposal, the initiator's
 *     SA payload which the hashes need, our reply for retransmissions),
 *     IKE_HO_MAX of them in a ring: a new one overwrites the oldest. Under
 *     a flood of R packets/s the real peer's record lives IKE_HO_MAX / R
 *     seconds (8 s at 2,000/s, 0.8 s at 20,000/s, 160 ms at 100,000/s),
 *     which must exceed its round trip; the memory they hold is capped
 *     (IKE_HO_BYTES_MAX). The ring starts at IKE_HO_MIN slots and doubles
 *     while full (~2.3 MB with its indexes at the max, plus the buffers),
 *     and is freed when it is empty again: a tunnel pays only while it is
 *     flooded.
 *   - message 3 with our cookie moves the record to the ISAKMP SAs
 *     (state R2, then R4 when answered): from then on no unproven
 *     exchange can push it out (IKE_SA_MAX, ike_main_mode.c's sa_new).
 *   - each source (address and port) has a token bucket of new exchanges
 *     (IKE_SRC_BURST, then IKE_SRC_PER_S a second), so that one source
 *     cannot fill the ring by itself; a flood from random ports is many
 *     sources, which the ring's size answers instead.
 *   - our own Main Modes never come here and are never refused.
 * What this cannot do: tell the real peer from a forger using the same
 * address AND port (port 500 of a peer not behind NAT). Such a flood
 * shares the real peer's budget; an attacker on the path sees our cookies
 * and is out of scope, as for any IKEv1 responder.
 *
 * Cost per message 1: two hash lookups, one insertion, no DH, no PRF.
 * Every lookup is O(1) expected: ck_r is our random value; ck_i is the
 * peer's, so its index is keyed with a random per-endpoint key.
 */
#include "vpn/ike/ike_internal.h"

#include <stdlib.h>
#include <string.h>

_Static_assert((IKE_HO_MAX & (IKE_HO_MAX - 1)) == 0 && (IKE_HO_MIN & (IKE_HO_MIN - 1)) == 0 &&
	       IKE_HO_MIN <= IKE_HO_MAX, "table sizes: powers of 2");
_Static_assert((IKE_SRC_SLOTS & (IKE_SRC_SLOTS - 1)) == 0, "source slots: a power of 2");

static uint64_t mix64(uint64_t x)
{
	/* splitmix64's finaliser */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t load64(const uint8_t b[8])
{
	uint64_t v;
	memcpy(&v, b, 8);
	return v;
}

static uint32_t bucket_r(const struct ike_peer *ep, const uint8_t ck_r[8])
{
	return (uint32_t)(load64(ck_r) & (ep->ho_cap - 1));	/* ours: random */
}

static uint32_t bucket_i(const struct ike_peer *ep, const uint8_t ck_i[8],
			 const struct ike_addr *from)
{
	uint64_t h = mix64(load64(ck_i) ^ ep->ho_hash_key);
	h = mix64(h ^ ((uint64_t)from->ip << 16 | from->port));
	return (uint32_t)(h & (ep->ho_cap - 1));
}

static void ho_link(struct ike_peer *ep, int32_t idx)
{
	struct ike_ho *h = &ep->ho[idx];
	uint32_t br = bucket_r(ep, h->ho_ck_r), bi = bucket_i(ep, h->ho_ck_i, &h->ho_peer);
	h->ho_next_r = ep->ho_by_r[br];
	ep->ho_by_r[br] = idx;
	h->ho_next_i = ep->ho_by_i[bi];
	ep->ho_by_i[bi] = idx;
}

static void ho_release(struct ike_peer *ep)
{
	free(ep->ho);
	free(ep->ho_by_r);
	free(ep->ho_by_i);
	ep->ho = NULL;
	ep->ho_by_r = ep->ho_by_i = NULL;
	ep->ho_cap = ep->ho_next = 0;
	ep->ho_bytes = 0;
}

/* A table of cap slots holding the entries of the old one (if any) in
 * age order from slot 0, ho_next after the last. O(cap), at most
 * log2(IKE_HO_MAX / IKE_HO_MIN) times per flood. */
static bool ho_resize(struct ike_peer *ep, uint32_t cap)
{
	struct ike_ho *tab = calloc(cap, sizeof(*tab));
	int32_t *by_r = malloc(cap * sizeof(int32_t)), *by_i = malloc(cap * sizeof(int32_t));
	if (!tab || !by_r || !by_i) {
		free(tab);
		free(by_r);
		free(by_i);
		return false;
	}
	if (!ep->ho_hash_key)	/* before any entry is linked with it */
		rand_bytes(&ep->ho_hash_key, sizeof(ep->ho_hash_key));
	uint32_t n = 0;
	for (uint32_t k = 0; k < ep->ho_cap; k++) {
		struct ike_ho *h = &ep->ho[(ep->ho_next + k) % ep->ho_cap];
		if (h->ho_used)
			tab[n++] = *h;	/* buffers move with it */
	}
	free(ep->ho);
	free(ep->ho_by_r);
	free(ep->ho_by_i);
	ep->ho = tab;
	ep->ho_by_r = by_r;
	ep->ho_by_i = by_i;
	ep->ho_cap = cap;
	ep->ho_next = n % cap;
	for (uint32_t i = 0; i < cap; i++)
		by_r[i] = by_i[i] = -1;
	for (uint32_t i = 0; i < n; i++)
		ho_link(ep, (int32_t)i);
	return true;
}

/* ---- sources ---------------------------------------------------------- */

bool src_admit(struct ike_peer *ep, const struct ike_addr *from, uint64_t now)
{
	if (!ep->srcs) {
		ep->srcs = calloc(IKE_SRC_SLOTS, sizeof(*ep->srcs));
		if (!ep->srcs)
			return true;	/* no memory for budgets: no budgets */
		if (!ep->ho_hash_key)
			rand_bytes(&ep->ho_hash_key, sizeof(ep->ho_hash_key));
	}
	uint64_t h = mix64(((uint64_t)from->ip << 16 | from->port) ^ ep->ho_hash_key);
	struct ike_src *s = &ep->srcs[h & (IKE_SRC_SLOTS - 1)];
	const uint32_t full = IKE_SRC_BURST * 1000u;
	if (!s->src_used || s->src_addr.ip != from->ip || s->src_addr.port != from->port) {
		/* a new source takes the slot with a full bucket: under a flood
		 * of random ports slots churn, and nobody is limited by it */
		s->src_used = true;
		s->src_addr = *from;
		s->src_tokens_milli = full;
		s->src_last_ms = now;
	} else if (now > s->src_last_ms) {
		uint64_t add = (now - s->src_last_ms) * IKE_SRC_PER_S;	/* ms x 1/s = milli */
		s->src_tokens_milli = add >= full - s->src_tokens_milli ? full :
				      s->src_tokens_milli + (uint32_t)add;
		s->src_last_ms = now;
	}
	if (s->src_tokens_milli < 1000)
		return false;
	s->src_tokens_milli -= 1000;
	return true;
}

/* ---- the table -------------------------------------------------------- */

static void unlink_chain(int32_t *head, struct ike_ho *tab, int32_t idx, bool by_r)
{
	for (int32_t *pp = head; *pp >= 0;) {
		int32_t *next = by_r ? &tab[*pp].ho_next_r : &tab[*pp].ho_next_i;
		if (*pp == idx) {
			*pp = *next;
			return;
		}
		pp = next;
	}
}

void ho_remove(struct ike_peer *ep, struct ike_ho *h)
{
	if (!h || !h->ho_used)
		return;
	int32_t idx = (int32_t)(h - ep->ho);
	unlink_chain(&ep->ho_by_r[bucket_r(ep, h->ho_ck_r)], ep->ho, idx, true);
	unlink_chain(&ep->ho_by_i[bucket_i(ep, h->ho_ck_i, &h->ho_peer)], ep->ho, idx, false);
	ep->ho_bytes -= h->ho_sai_len + h->ho_reply_len;
	free(h->ho_sai);
	free(h->ho_reply);
	memset(h, 0, sizeof(*h));
	ep->ho_count--;
}

struct ike_ho *ho_find_retransmit(struct ike_peer *ep, const uint8_t ck_i[8],
				  const struct ike_addr *from, const uint8_t *digest)
{
	if (!ep->ho)
		return NULL;
	for (int32_t i = ep->ho_by_i[bucket_i(ep, ck_i, from)]; i >= 0; i = ep->ho[i].ho_next_i) {
		struct ike_ho *h = &ep->ho[i];
		if (memcmp(h->ho_ck_i, ck_i, 8) == 0 && h->ho_peer.ip == from->ip &&
		    h->ho_peer.port == from->port && memcmp(h->ho_digest, digest, IKE_DIGEST_LEN) == 0)
			return h;
	}
	return NULL;
}

struct ike_ho *ho_find(struct ike_peer *ep, const uint8_t ck_i[8], const uint8_t ck_r[8],
		       uint32_t peer_ip)
{
	if (!ep->ho)
		return NULL;
	for (int32_t i = ep->ho_by_r[bucket_r(ep, ck_r)]; i >= 0; i = ep->ho[i].ho_next_r) {
		struct ike_ho *h = &ep->ho[i];
		if (memcmp(h->ho_ck_r, ck_r, 8) == 0 && memcmp(h->ho_ck_i, ck_i, 8) == 0 &&
		    h->ho_peer.ip == peer_ip)
			return h;
	}
	return NULL;
}

/* Makes room in the byte budget for `bytes` more: the oldest go first. */
static void make_room(struct ike_peer *ep, size_t bytes)
{
	uint32_t evicted = 0;
	for (uint32_t scan = 0; scan < ep->ho_cap && ep->ho_bytes + bytes > IKE_HO_BYTES_MAX;
	     scan++) {
		/* the ring's order is the age order: from ho_next onwards */
		struct ike_ho *h = &ep->ho[(ep->ho_next + scan) % ep->ho_cap];
		if (h->ho_used && h->ho_sai_len + h->ho_reply_len) {
			ho_remove(ep, h);
			ep->st.halfopen_evicted++;
			evicted++;
		}
	}
	if (evicted)
		ike_log_limited(ep, IKE_LOGK_HO_EVICT, ep->now_ms, LOG_WARN,
				"%s: unanswered Main Mode exchanges hold %u KB: %u oldest dropped "
				"(a flood of message 1?)", ep->cfg.name, IKE_HO_BYTES_MAX / 1024,
				evicted);
}

struct ike_ho *ho_insert(struct ike_peer *ep, const uint8_t ck_i[8], const struct ike_addr *from,
			 uint64_t now)
{
	if (!ep->ho && !ho_resize(ep, IKE_HO_MIN))
		return NULL;
	/* a ring: the slot at ho_next is the oldest (or empty). Full, it
	 * doubles until IKE_HO_MAX; from then on an entry lives through the
	 * next IKE_HO_MAX - 1 insertions at least */
	if (ep->ho[ep->ho_next].ho_used && ep->ho_cap < IKE_HO_MAX)
		(void)ho_resize(ep, ep->ho_cap * 2);	/* else: evict, as at the max */
	struct ike_ho *h = &ep->ho[ep->ho_next];
	if (h->ho_used) {
		ho_remove(ep, h);
		ep->st.halfopen_evicted++;
		ike_log_limited(ep, IKE_LOGK_HO_EVICT, now, LOG_WARN,
				"%s: %u Main Mode exchanges unanswered: the oldest dropped to make "
				"room (a flood of message 1?)", ep->cfg.name, ep->ho_cap);
	}
	ep->ho_next = (ep->ho_next + 1) % ep->ho_cap;
	h->ho_used = true;
	memcpy(h->ho_ck_i, ck_i, 8);
	h->ho_peer = *from;
	h->ho_created_ms = now;
	/* a responder cookie that no live entry has */
	do
		rand_bytes(h->ho_ck_r, 8);
	while (ho_find(ep, ck_i, h->ho_ck_r, from->ip));
	ho_link(ep, (int32_t)(h - ep->ho));
	ep->ho_count++;
	return h;
}

bool ho_set_buffers(struct ike_peer *ep, struct ike_ho *h, uint8_t *sai, size_t sai_len,
		    uint8_t *reply, size_t reply_len)
{
	size_t bytes = sai_len + reply_len;
	if (bytes > IKE_HO_BYTES_MAX / 4) {
		free(sai);
		free(reply);
		ho_remove(ep, h);
		return false;
	}
	/* older entries make room; h holds no bytes yet, so make_room
	 * passes it by */
	make_room(ep, bytes);
	h->ho_sai = sai;
	h->ho_sai_len = sai_len;
	h->ho_reply = reply;
	h->ho_reply_len = reply_len;
	ep->ho_bytes += bytes;
	return true;
}

void ho_expire(struct ike_peer *ep, uint64_t now)
{
	if (!ep->ho)
		return;
	/* oldest first, from ho_next; stop at the first young one */
	for (uint32_t scan = 0; scan < ep->ho_cap && ep->ho_count; scan++) {
		struct ike_ho *h = &ep->ho[(ep->ho_next + scan) % ep->ho_cap];
		if (!h->ho_used)
			continue;
		if (now < h->ho_created_ms + IKE_HALF_OPEN_MS)
			break;
		ho_remove(ep, h);
	}
	if (!ep->ho_count)	/* the flood (or the exchange) is over */
		ho_release(ep);
}

void ho_free_all(struct ike_peer *ep)
{
	if (ep->ho)
		for (uint32_t i = 0; i < ep->ho_cap; i++)
			ho_remove(ep, &ep->ho[i]);
	ho_release(ep);
	free(ep->srcs);
	ep->srcs = NULL;
}
