/*
 * ikev2_child.c — CHILD SAs and the exchanges inside an IKE SA:
 * CREATE_CHILD_SA (new CHILD SA, CHILD SA rekey, IKE SA rekey) and
 * INFORMATIONAL (Delete, liveness, notifications), both roles, and the
 * rekey collisions of RFC 7296 §2.8.1/§2.8.2.
 *
 * Collisions, in one rule: when both sides rekeyed the same SA, the
 * successor made by the exchange holding the lowest of the four nonces is
 * redundant and deleted by the side that initiated that exchange; the
 * other successor survives and the old SA is deleted by the survivor's
 * initiator. Each side records, on the old SA, the successor it made as
 * initiator (our_rekey_*) and the one it made as responder (peer_rekey_*);
 * whichever arrives second decides. Both sides see the same four nonces,
 * so both decide the same.
 */
#include "vpn/ike/ikev2_internal.h"

#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- CHILD SAs -------------------------------------------------------- */

struct v2_child *v2_child_by_in(struct ikev2_peer *ep, uint32_t spi_in)
{
	for (struct v2_child *c = ep->children; c; c = c->next)
		if (c->spi_in == spi_in)
			return c;
	return NULL;
}

struct v2_child *v2_child_by_out(struct ikev2_peer *ep, uint32_t spi_out)
{
	for (struct v2_child *c = ep->children; c; c = c->next)
		if (c->spi_out == spi_out)
			return c;
	return NULL;
}

uint32_t v2_new_spi(struct ikev2_peer *ep)
{
	for (;;) {
		uint32_t spi = rand_u32();
		if (spi > 255 && !v2_child_by_in(ep, spi))	/* 1-255 are reserved */
			return spi;
	}
}

bool v2_ts_pick(const struct v2_ts_list *l, const struct ike_subnet *bound, struct ike_ts *out)
{
	struct ike_ts b = ts_from_subnet(*bound), n;
	bool found = false;
	for (size_t i = 0; i < l->n; i++) {
		if (l->ranged[i] || !ts_narrow(&l->ts[i], &b, &n))
			continue;
		/* the widest intersection: a first selector naming one
		 * packet's host (§2.9) must not shrink the SA to it */
		if (!found || n.last - n.first > out->last - out->first)
			*out = n;
		found = true;
	}
	return found;
}

static const char *const child_state_names[] = {
	[V2C_NONE] = "NONE", [V2C_INSTALLED] = "INSTALLED", [V2C_REKEYING] = "REKEYING",
	[V2C_REPLACED] = "REPLACED", [V2C_DELETED] = "DELETED",
};

const char *v2_child_state_name(enum v2_child_state s)
{
	return (unsigned)s < ARRAY_LEN(child_state_names) ? child_state_names[s] : "?";
}

static void child_set_state(struct ikev2_peer *ep, struct v2_child *c, enum v2_child_state s,
			    const char *cause)
{
	if (c->state == s)
		return;
	log_limited(&ep->logk[V2_LOGK_STATE], ep->now_ms, LOG_INFO, V2_LOG, "%s: CHILD SA %08x/%08x %s -> %s: %s",
		    ep->cfg.name, c->spi_in, c->spi_out, v2_child_state_name(c->state), v2_child_state_name(s),
		    cause);
	c->state = s;
}

void v2_child_note_state(struct ikev2_peer *ep, struct v2_child *c, const char *cause)
{
	child_set_state(ep, c, c->replaced ? V2C_REPLACED : c->rekeying ? V2C_REKEYING : V2C_INSTALLED, cause);
}

struct v2_child *v2_child_install(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
				  const struct v2_choice *c, uint32_t spi_in, bool we_initiated,
				  const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
				  const uint8_t *gir, size_t gir_len, const struct ike_ts *ts_l,
				  const struct ike_ts *ts_r, uint32_t outbound_hold_ms)
{
	size_t n = 0;
	for (struct v2_child *x = ep->children; x; x = x->next)
		n++;
	struct v2_child *ch = n < V2_MAX_CHILDREN ? calloc(1, sizeof(*ch)) : NULL;
	if (!ch) {
		log_error(V2_LOG, "%s: cannot hold another CHILD SA", ep->cfg.name);
		return NULL;
	}
	size_t el = ikev2_enc_key_len(c->encr);
	size_t il = ike_encr_is_gcm(c->encr) ? 0 : ikev2_integ_key_len(c->integ);
	uint8_t km[2 * (IKEV2_ENC_KEY_MAX + IKEV2_INTEG_KEY_MAX)];
	if (!ikev2_child_keymat(sa->alg.prf, sa->k.sk_d, gir, gir_len, ni, ni_len, nr, nr_len, km,
				2 * (el + il))) {
		free(ch);
		return NULL;
	}
	struct ike_action a = { .kind = IKE_ACT_CHILD_SA_INSTALL };
	struct ike_child_sa_install *in = &a.install;
	/* KEYMAT: initiator-to-responder keys first */
	struct ike_sa_keys *i2r = we_initiated ? &in->out : &in->in;
	struct ike_sa_keys *r2i = we_initiated ? &in->in : &in->out;
	memcpy(i2r->enc_key, km, el);
	memcpy(i2r->auth_key, km + el, il);
	memcpy(r2i->enc_key, km + el + il, el);
	memcpy(r2i->auth_key, km + 2 * el + il, il);
	i2r->enc_key_len = r2i->enc_key_len = el;
	i2r->auth_key_len = r2i->auth_key_len = il;
	secret_wipe(km, sizeof(km));
	in->in.spi = spi_in;
	in->out.spi = get_be32(c->spi);
	in->encr = c->encr;
	in->integ = ike_encr_is_gcm(c->encr) ? IKE_INTEG_NONE : c->integ;
	in->icv_len = ike_icv_len(c->encr, in->integ);
	in->local_ip = ep->cfg.local_ip;
	in->remote_ip = ep->cfg.remote_ip;
	in->ts_local = *ts_l;
	in->ts_remote = *ts_r;
	ch->rekey_ms = v2_rekey_ms(ep, now, ep->cfg.p2_lifetime_s);
	ch->expire_ms = now + (uint64_t)ep->cfg.p2_lifetime_s * 1000;
	in->soft_lifetime_s = (uint32_t)((ch->rekey_ms - now) / 1000);
	in->hard_lifetime_s = ep->cfg.p2_lifetime_s;
	in->replay_window = ep->cfg.replay_window;
	in->udp_encap = sa->nat_here || sa->nat_there;
	in->encap_local_port = IKE_NATT_PORT;
	in->encap_remote_port = in->udp_encap ? sa->peer.port : 0;
	in->outbound_hold_ms = outbound_hold_ms;
	ch->spi_in = spi_in;
	ch->spi_out = in->out.spi;
	ch->alg = *c;
	ch->ts_local = *ts_l;
	ch->ts_remote = *ts_r;
	ch->installed_ms = now;
	ch->next = ep->children;
	ep->children = ch;
	ep->st.p2_established++;
	char name[IKEV2_OFFERED_MAX], tl[48], tr[48];
	v2_choice_name(c, name, sizeof(name));
	ts_name(ts_l, tl, sizeof(tl));
	ts_name(ts_r, tr, sizeof(tr));
	char why[IKEV2_OFFERED_MAX + 256];
	snprintf(why, sizeof(why), "%s (%s, %s === %s%s)",
		 we_initiated ? "our CREATE_CHILD_SA or IKE_AUTH answered" : "the peer's request answered",
		 name, tl, tr, in->udp_encap ? ", UDP-encapsulated" : "");
	child_set_state(ep, ch, V2C_INSTALLED, why);
	v2_emit(ep, &a);
	secret_wipe(&a, sizeof(a));
	return ch;
}

void v2_child_remove(struct ikev2_peer *ep, struct v2_child *c, const char *cause)
{
	for (struct v2_child **pp = &ep->children; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	struct ike_action a = { .kind = IKE_ACT_CHILD_SA_DELETE };
	a.del.spi_in = c->spi_in;
	a.del.spi_out = c->spi_out;
	child_set_state(ep, c, V2C_DELETED, cause);
	v2_emit(ep, &a);
	for (struct v2_child *o = ep->children; o; o = o->next) {
		if (o->our_rekey_spi_in == c->spi_in)
			o->our_rekey_spi_in = 0;
		if (o->peer_rekey_spi_in == c->spi_in)
			o->peer_rekey_spi_in = 0;
	}
	secret_wipe(c, sizeof(*c));
	free(c);
}

void v2_children_clear(struct ikev2_peer *ep, const char *cause)
{
	while (ep->children)
		v2_child_remove(ep, ep->children, cause);
}

static void min_nonce(const uint8_t *a, size_t al, const uint8_t *b, size_t bl, uint8_t *out,
		      size_t *out_len)
{
	bool a_low = v2_nonce_cmp(a, al, b, bl) <= 0;
	memcpy(out, a_low ? a : b, a_low ? al : bl);
	*out_len = a_low ? al : bl;
}

/* Both sides rekeyed `old`: keep one successor (see the file comment). */
static void child_collision(struct ikev2_peer *ep, struct v2_child *old, uint64_t now)
{
	struct v2_child *ours = v2_child_by_in(ep, old->our_rekey_spi_in);
	struct v2_child *theirs = v2_child_by_in(ep, old->peer_rekey_spi_in);
	bool ours_lowest = v2_nonce_cmp(old->our_rekey_min, old->our_rekey_min_len,
					old->peer_rekey_min, old->peer_rekey_min_len) < 0;
	log_info(V2_LOG, "%s: CHILD SA rekey collision on %08x: %s successor is redundant",
		 ep->cfg.name, old->spi_in, ours_lowest ? "our" : "the peer's");
	old->replaced = true;
	v2_child_note_state(ep, old, "rekey collision: a successor stays");
	if (ours_lowest) {
		/* we delete the SA we made; the peer deletes the old one */
		if (ours) {
			ours->replaced = true;
			ours->delete_ms = now;
			v2_child_note_state(ep, ours, "rekey collision: our successor is redundant");
		}
		old->delete_ms = 0;
	} else {
		/* the peer deletes its SA; we delete the old one */
		if (theirs) {
			theirs->replaced = true;
			v2_child_note_state(ep, theirs, "rekey collision: the peer's successor is redundant");
		}
		if (!old->delete_ms)
			old->delete_ms = now + IKEV2_REKEY_DELETE_DELAY_MS;
	}
	old->our_rekey_spi_in = old->peer_rekey_spi_in = 0;
}

/* Both sides rekeyed IKE SA `old`. */
static void ike_collision(struct ikev2_peer *ep, struct v2_sa *old, uint64_t now)
{
	struct v2_sa *ours = old->our_rekey, *theirs = old->peer_rekey;
	bool ours_lowest = v2_nonce_cmp(old->our_rekey_min, old->our_rekey_min_len,
					old->peer_rekey_min, old->peer_rekey_min_len) < 0;
	log_info(V2_LOG, "%s: IKE SA rekey collision on #%u: %s new IKE SA is redundant",
		 ep->cfg.name, old->serial, ours_lowest ? "our" : "the peer's");
	struct v2_sa *loser = ours_lowest ? ours : theirs;
	struct v2_sa *winner = ours_lowest ? theirs : ours;
	if (loser) {
		v2_sa_set_state(ep, loser, V2_REKEYED, "IKE SA rekey collision: the redundant new SA");
		loser->we_delete_old = ours_lowest;	/* its initiator deletes it */
		loser->delete_ms = now;
	}
	if (winner)
		winner->established_ms = now;	/* the current SA from now on */
	v2_sa_set_state(ep, old, V2_REKEYED, "IKE SA rekey collision: replaced by the surviving new SA");
	old->we_delete_old = !ours_lowest;	/* the winner's initiator deletes the old */
	old->delete_ms = now;
	old->our_rekey = old->peer_rekey = NULL;
}

/* ---- CREATE_CHILD_SA, requester --------------------------------------- */

static void child_request_group(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
				uint32_t rekey_spi_in, uint16_t group, unsigned ke_retries)
{
	struct v2_req *r = &sa->req;
	v2_req_clear(r);
	r->kind = rekey_spi_in ? REQ_CHILD_REKEY : REQ_CHILD_NEW;
	r->rekey_spi_in = rekey_spi_in;
	r->ke_retries = ke_retries;
	r->group = group;
	rand_bytes(r->nonce, sizeof(r->nonce));
	r->spi_in = v2_new_spi(ep);
	struct v2_child *old = rekey_spi_in ? v2_child_by_in(ep, rekey_spi_in) : NULL;
	if (old) {
		old->rekeying = true;
		v2_child_note_state(ep, old, "we rekey it (CREATE_CHILD_SA sent)");
		r->ts_l = old->ts_local;
		r->ts_r = old->ts_remote;
	} else {
		r->ts_l = ts_from_subnet(ep->cfg.local_ts);
		r->ts_r = ts_from_subnet(ep->cfg.remote_ts);
	}
	if (group && !(r->dh = ike_dh_new(group))) {
		v2_req_clear(r);
		return;
	}
	struct isakmp_buf b;
	v2_buf_inner(&b);
	if (old) {
		uint8_t spi[4];
		put_be32(spi, rekey_spi_in);
		v2_put_notify(&b, V2_PROTO_ESP, spi, 4, V2N_REKEY_SA, NULL, 0);
	}
	v2_sa_build_esp(&b, &ep->cfg, r->spi_in, group);
	isakmp_buf_simple(&b, V2_PL_NONCE, r->nonce, sizeof(r->nonce));
	if (group)
		v2_put_ke(&b, group, ike_dh_pub(r->dh), ike_dh_pub_len(group));
	v2_put_ts(&b, sa->initiator ? V2_PL_TSI : V2_PL_TSI, &r->ts_l, 1);
	v2_put_ts(&b, V2_PL_TSR, &r->ts_r, 1);
	log_info(V2_LOG, "%s: #%u CREATE_CHILD_SA: %s%s", ep->cfg.name, sa->serial,
		 old ? "rekeying CHILD SA " : "new CHILD SA", old ? "" : "");
	v2_request(ep, sa, V2_CREATE_CHILD_SA, &b, now);
}

void v2_child_request(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
		      uint32_t rekey_spi_in)
{
	child_request_group(ep, sa, now, rekey_spi_in, ep->cfg.p2_dh_n ? ep->cfg.p2_dh[0] : 0, 0);
}

static void ike_rekey_request_group(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
				    uint16_t group, unsigned ke_retries)
{
	struct v2_req *r = &sa->req;
	v2_req_clear(r);
	r->kind = REQ_IKE_REKEY;
	r->group = group;
	r->ke_retries = ke_retries;
	rand_bytes(r->nonce, sizeof(r->nonce));
	rand_bytes(r->new_spi, 8);
	if (!(r->dh = ike_dh_new(group))) {
		v2_req_clear(r);
		return;
	}
	struct isakmp_buf b;
	v2_buf_inner(&b);
	v2_sa_build_ike(&b, &ep->cfg, group, r->new_spi);
	isakmp_buf_simple(&b, V2_PL_NONCE, r->nonce, sizeof(r->nonce));
	v2_put_ke(&b, group, ike_dh_pub(r->dh), ike_dh_pub_len(group));
	log_info(V2_LOG, "%s: #%u CREATE_CHILD_SA: rekeying the IKE SA", ep->cfg.name, sa->serial);
	v2_request(ep, sa, V2_CREATE_CHILD_SA, &b, now);
}

void v2_ike_rekey_request(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now)
{
	ike_rekey_request_group(ep, sa, now, sa->alg.group, 0);
}

static bool group_allowed(const uint16_t *l, size_t n, uint16_t g)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] == g)
			return true;
	return false;
}

/* A rekey we asked for did not happen: try again later. */
static void rekey_later(struct ikev2_peer *ep, struct v2_sa *sa, const struct v2_req *r,
			uint64_t now, uint64_t wait)
{
	if (r->kind == REQ_IKE_REKEY) {
		sa->rekey_ms = now + wait;
		return;
	}
	struct v2_child *old = v2_child_by_in(ep, r->rekey_spi_in);
	if (old && !old->replaced) {
		old->rekeying = false;
		old->rekey_ms = now + wait;
		v2_child_note_state(ep, old, "our rekey did not happen; trying again later");
	}
}

static void ike_rekey_done(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
			   const struct v2_req *r, const struct v2_msg *m)
{
	const struct v2_payload *sap = v2_find(m, V2_PL_SA, 0);
	const struct v2_payload *nrp = v2_find(m, V2_PL_NONCE, 0);
	const struct v2_payload *kep = v2_find(m, V2_PL_KE, 0);
	struct v2_ke ke;
	struct v2_choice c;
	if (!sap || !nrp || !kep || !v2_parse_ke(kep, &ke) || nrp->len < IKEV2_NONCE_MIN ||
	    nrp->len > IKEV2_NONCE_MAX || ke.group != r->group || ke.len != ike_dh_pub_len(r->group) ||
	    v2_sa_check_reply(sap->body, sap->len, &ep->cfg, V2_PROTO_IKE, V2_DH_KE, r->group, &c) !=
		    IKE_DROP_NONE || c.spi_len != 8) {
		log_warn(V2_LOG, "%s: #%u the peer's IKE SA rekey answer is unusable", ep->cfg.name,
			 sa->serial);
		rekey_later(ep, sa, r, now, V2_RETRY_MS);
		return;
	}
	struct v2_sa *n = v2_sa_new(ep, true, now);
	if (!n) {
		rekey_later(ep, sa, r, now, V2_RETRY_MS);
		return;
	}
	memcpy(n->spi_i, r->new_spi, 8);
	memcpy(n->spi_r, c.spi, 8);
	n->alg = c;
	memcpy(n->ni, r->nonce, sizeof(r->nonce));
	n->ni_len = sizeof(r->nonce);
	memcpy(n->nr, nrp->body, nrp->len);
	n->nr_len = nrp->len;
	uint8_t gir[IKE_DH_MAX];
	size_t gir_len = 0;
	bool ok = ike_dh_shared(r->dh, ke.data, ke.len, gir, &gir_len) &&
		  v2_sa_keys(n, gir, gir_len, sa);
	secret_wipe(gir, sizeof(gir));
	if (!ok) {
		v2_sa_set_state(ep, n, V2_DEAD, "cannot derive the new IKE SA's keys");
		rekey_later(ep, sa, r, now, V2_RETRY_MS);
		return;
	}
	n->peer = sa->peer;
	n->local_port = sa->local_port;
	n->nat_here = sa->nat_here;
	n->nat_there = sa->nat_there;
	n->peer_frag = sa->peer_frag;
	n->state = V2_ESTABLISHED;
	n->established_ms = now;
	n->rekey_ms = v2_rekey_ms(ep, now, ep->cfg.p1_lifetime_s);
	n->expire_ms = now + (uint64_t)ep->cfg.p1_lifetime_s * 1000;
	n->keepalive_ms = now + IKEV2_NATT_KEEPALIVE_MS;
	ep->st.p1_established++;
	log_info(V2_LOG, "%s: #%u rekeyed into #%u", ep->cfg.name, sa->serial, n->serial);
	if (sa->peer_rekey) {
		sa->our_rekey = n;
		min_nonce(r->nonce, sizeof(r->nonce), nrp->body, nrp->len, sa->our_rekey_min,
			  &sa->our_rekey_min_len);
		ike_collision(ep, sa, now);
		return;
	}
	v2_sa_set_state(ep, sa, V2_REKEYED, "we rekeyed it (CREATE_CHILD_SA answered)");
	sa->we_delete_old = true;
	sa->delete_ms = now;
}

void v2_create_child_response(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
			      const struct v2_msg *m)
{
	struct v2_req r = sa->req;
	memset(&sa->req, 0, sizeof(sa->req));
	struct v2_notify n;
	uint16_t err = v2_error_notify(m, &n);
	bool ike = r.kind == REQ_IKE_REKEY;
	if (err == V2N_INVALID_KE_PAYLOAD) {
		uint16_t g = n.len == 2 ? get_be16(n.data) : 0;
		bool ok = ike ? group_allowed(ep->cfg.p1_dh, ep->cfg.p1_dh_n, g)
			      : group_allowed(ep->cfg.p2_dh, ep->cfg.p2_dh_n, g);
		if (ok && g != r.group && r.ke_retries < V2_KE_RETRIES) {
			log_info(V2_LOG, "%s: #%u INVALID_KE_PAYLOAD: retrying with %s", ep->cfg.name,
				 sa->serial, ike_dh_name(g));
			if (ike)
				ike_rekey_request_group(ep, sa, now, g, r.ke_retries + 1);
			else
				child_request_group(ep, sa, now, r.rekey_spi_in, g, r.ke_retries + 1);
			v2_req_clear(&r);
			return;
		}
	}
	if (err) {
		log_warn(V2_LOG, "%s: #%u CREATE_CHILD_SA refused: %s (%u)", ep->cfg.name, sa->serial,
			 v2_notify_name(err), err);
		if (err == V2N_CHILD_SA_NOT_FOUND) {
			/* the peer no longer has it (its Delete crossed our rekey) */
			struct v2_child *old = v2_child_by_in(ep, r.rekey_spi_in);
			if (old && !old->replaced)
				v2_child_remove(ep, old, "the peer no longer has it (CHILD_SA_NOT_FOUND)");
			v2_update_status(ep, "CHILD SA gone at the peer");
		} else if (err == V2N_TEMPORARY_FAILURE) {
			rekey_later(ep, sa, &r, now, 1000 + rand_uniform(4000));
		} else {
			char cause[IKE_CAUSE_MAX];
			if (err == V2N_NO_PROPOSAL_CHOSEN) {
				char ours[IKEV2_OFFERED_MAX];
				ep->st.proposal_mismatches++;
				if (ike)
					v2_offer_name_ike(&ep->cfg, ours, sizeof(ours));
				else
					v2_offer_name_esp(&ep->cfg, r.group != 0, ours, sizeof(ours));
				snprintf(cause, sizeof(cause), "IKEv2 proposal mismatch (%s): peer accepts none of %.90s",
					 ike ? "IKE SA rekey" : "CHILD SA", ours);
			} else {
				snprintf(cause, sizeof(cause), "CREATE_CHILD_SA refused: %s",
					 v2_notify_name(err));
			}
			rekey_later(ep, sa, &r, now, V2_RETRY_MS);
			if (r.kind == REQ_CHILD_NEW)
				ep->child_retry_ms = now + V2_RETRY_MS;
			if (!ep->up)
				v2_status(ep, false, cause);
		}
		v2_req_clear(&r);
		return;
	}
	if (ike) {
		ike_rekey_done(ep, sa, now, &r, m);
		v2_req_clear(&r);
		v2_update_status(ep, NULL);
		return;
	}
	const struct v2_payload *sap = v2_find(m, V2_PL_SA, 0);
	const struct v2_payload *nrp = v2_find(m, V2_PL_NONCE, 0);
	const struct v2_payload *kep = v2_find(m, V2_PL_KE, 0);
	const struct v2_payload *tsi = v2_find(m, V2_PL_TSI, 0);
	const struct v2_payload *tsr = v2_find(m, V2_PL_TSR, 0);
	struct v2_ts_list li, lr;
	struct v2_ke ke;
	struct v2_choice c;
	uint8_t gir[IKE_DH_MAX];
	size_t gir_len = 0;
	bool ok = sap && nrp && tsi && tsr && nrp->len >= IKEV2_NONCE_MIN &&
		  nrp->len <= IKEV2_NONCE_MAX && v2_parse_ts(tsi, &li) && v2_parse_ts(tsr, &lr) &&
		  li.n == 1 && lr.n == 1 && !li.ranged[0] && !lr.ranged[0] &&
		  ts_within(&li.ts[0], &r.ts_l) && ts_within(&lr.ts[0], &r.ts_r) &&
		  v2_sa_check_reply(sap->body, sap->len, &ep->cfg, V2_PROTO_ESP,
				    r.group ? V2_DH_KE : V2_DH_NONE, r.group, &c) == IKE_DROP_NONE;
	if (ok && r.group)
		ok = kep && v2_parse_ke(kep, &ke) && ke.group == r.group &&
		     ke.len == ike_dh_pub_len(r.group) &&
		     ike_dh_shared(r.dh, ke.data, ke.len, gir, &gir_len);
	struct v2_child *ch = NULL;
	if (ok)
		ch = v2_child_install(ep, sa, now, &c, r.spi_in, true, r.nonce, sizeof(r.nonce),
				      nrp->body, nrp->len, r.group ? gir : NULL, gir_len, &li.ts[0],
				      &lr.ts[0], 0);
	secret_wipe(gir, sizeof(gir));
	if (!ch) {
		log_warn(V2_LOG, "%s: #%u the peer's CREATE_CHILD_SA answer is unusable", ep->cfg.name,
			 sa->serial);
		rekey_later(ep, sa, &r, now, V2_RETRY_MS);
		v2_req_clear(&r);
		return;
	}
	struct v2_child *old = r.rekey_spi_in ? v2_child_by_in(ep, r.rekey_spi_in) : NULL;
	if (old) {
		old->our_rekey_spi_in = ch->spi_in;
		min_nonce(r.nonce, sizeof(r.nonce), nrp->body, nrp->len, old->our_rekey_min,
			  &old->our_rekey_min_len);
		if (old->peer_rekey_spi_in) {
			child_collision(ep, old, now);
		} else {
			/* make-before-break: the old one goes a little later */
			old->replaced = true;
			old->delete_ms = now + IKEV2_REKEY_DELETE_DELAY_MS;
			v2_child_note_state(ep, old, "our rekey made its successor");
		}
	}
	v2_req_clear(&r);
	v2_update_status(ep, NULL);
}

/* ---- CREATE_CHILD_SA, responder --------------------------------------- */

static void respond_notify(struct ikev2_peer *ep, struct v2_sa *sa, uint8_t exch,
			   uint16_t type, const void *data, size_t len)
{
	struct isakmp_buf b;
	v2_buf_inner(&b);
	v2_put_notify(&b, 0, NULL, 0, type, data, len);
	v2_respond(ep, sa, exch, &b);
}

static void ike_rekey_input(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
			    const struct v2_msg *m)
{
	const struct v2_payload *sap = v2_find(m, V2_PL_SA, 0);
	const struct v2_payload *nip = v2_find(m, V2_PL_NONCE, 0);
	const struct v2_payload *kep = v2_find(m, V2_PL_KE, 0);
	struct v2_ke ke;
	if (!nip || !kep || !v2_parse_ke(kep, &ke) || nip->len < IKEV2_NONCE_MIN ||
	    nip->len > IKEV2_NONCE_MAX) {
		respond_notify(ep, sa, V2_CREATE_CHILD_SA, V2N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	if (sa->state != V2_ESTABLISHED) {
		respond_notify(ep, sa, V2_CREATE_CHILD_SA, V2N_TEMPORARY_FAILURE, NULL, 0);
		return;
	}
	struct v2_choice c;
	char offered[IKEV2_OFFERED_MAX];
	enum ike_drop r = v2_sa_select(sap->body, sap->len, &ep->cfg, V2_PROTO_IKE, V2_DH_KE,
				       ke.group, &c, offered, sizeof(offered));
	if (r == IKE_DROP_BAD_KE) {
		uint8_t g[2];
		put_be16(g, c.group);
		respond_notify(ep, sa, V2_CREATE_CHILD_SA, V2N_INVALID_KE_PAYLOAD, g, 2);
		return;
	}
	if (r != IKE_DROP_NONE || c.spi_len != 8 || ke.len != ike_dh_pub_len(c.group)) {
		if (r == IKE_DROP_NO_PROPOSAL)
			ep->st.proposal_mismatches++;
		respond_notify(ep, sa, V2_CREATE_CHILD_SA, V2N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return;
	}
	struct v2_sa *n = v2_sa_new(ep, false, now);
	if (!n) {
		respond_notify(ep, sa, V2_CREATE_CHILD_SA, V2N_TEMPORARY_FAILURE, NULL, 0);
		return;
	}
	memcpy(n->spi_i, c.spi, 8);
	n->alg = c;
	memcpy(n->ni, nip->body, nip->len);
	n->ni_len = nip->len;
	n->nr_len = V2_NONCE_LEN;
	rand_bytes(n->nr, n->nr_len);
	uint8_t gir[IKE_DH_MAX];
	size_t gir_len = 0;
	n->dh = ike_dh_new(c.group);
	bool ok = n->dh && ike_dh_shared(n->dh, ke.data, ke.len, gir, &gir_len) &&
		  v2_sa_keys(n, gir, gir_len, sa);
	secret_wipe(gir, sizeof(gir));
	if (!ok) {
		v2_sa_set_state(ep, n, V2_DEAD, "cannot derive the new IKE SA's keys");
		respond_notify(ep, sa, V2_CREATE_CHILD_SA, V2N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	struct isakmp_buf b;
	v2_buf_inner(&b);
	v2_sa_build_reply(&b, &c, n->spi_r, 8);
	isakmp_buf_simple(&b, V2_PL_NONCE, n->nr, n->nr_len);
	v2_put_ke(&b, c.group, ike_dh_pub(n->dh), ike_dh_pub_len(c.group));
	v2_respond(ep, sa, V2_CREATE_CHILD_SA, &b);
	ike_dh_free(n->dh);
	n->dh = NULL;
	n->peer = sa->peer;
	n->local_port = sa->local_port;
	n->nat_here = sa->nat_here;
	n->nat_there = sa->nat_there;
	n->peer_frag = sa->peer_frag;
	n->state = V2_ESTABLISHED;
	n->established_ms = now;
	n->rekey_ms = v2_rekey_ms(ep, now, ep->cfg.p1_lifetime_s);
	n->expire_ms = now + (uint64_t)ep->cfg.p1_lifetime_s * 1000;
	n->keepalive_ms = now + IKEV2_NATT_KEEPALIVE_MS;
	ep->st.p1_established++;
	log_info(V2_LOG, "%s: #%u rekeyed by the peer into #%u", ep->cfg.name, sa->serial,
		 n->serial);
	if (sa->req.kind == REQ_IKE_REKEY) {
		/* ours is in flight too: decided when its answer comes */
		sa->peer_rekey = n;
		min_nonce(n->ni, n->ni_len, n->nr, n->nr_len, sa->peer_rekey_min,
			  &sa->peer_rekey_min_len);
		return;
	}
	if (sa->our_rekey) {
		/* ours already finished: decide now */
		sa->peer_rekey = n;
		min_nonce(n->ni, n->ni_len, n->nr, n->nr_len, sa->peer_rekey_min,
			  &sa->peer_rekey_min_len);
		ike_collision(ep, sa, now);
		return;
	}
	v2_sa_set_state(ep, sa, V2_REKEYED, "the peer rekeyed it (CREATE_CHILD_SA)");
	sa->we_delete_old = false;	/* the peer, which rekeyed it, deletes it */
	sa->delete_ms = now;
}

static bool proposes_ike(const struct v2_payload *sap)
{
	/* first proposal: last/more, reserved, length, number, protocol */
	return sap && sap->len >= 8 && sap->body[5] == V2_PROTO_IKE;
}

void v2_create_child_input(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
			   const struct v2_msg *m)
{
	const struct v2_payload *sap = v2_find(m, V2_PL_SA, 0);
	if (!sap) {
		respond_notify(ep, sa, V2_CREATE_CHILD_SA, V2N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	if (proposes_ike(sap)) {
		ike_rekey_input(ep, sa, now, m);
		v2_update_status(ep, NULL);
		return;
	}
	const struct v2_payload *nip = v2_find(m, V2_PL_NONCE, 0);
	const struct v2_payload *kep = v2_find(m, V2_PL_KE, 0);
	const struct v2_payload *tsi = v2_find(m, V2_PL_TSI, 0);
	const struct v2_payload *tsr = v2_find(m, V2_PL_TSR, 0);
	const struct v2_payload *rk = v2_find_notify(m, V2N_REKEY_SA);
	struct v2_ts_list li, lr;
	struct v2_ke ke = { 0 };
	if (!nip || !tsi || !tsr || nip->len < IKEV2_NONCE_MIN || nip->len > IKEV2_NONCE_MAX ||
	    !v2_parse_ts(tsi, &li) || !v2_parse_ts(tsr, &lr) || (kep && !v2_parse_ke(kep, &ke))) {
		respond_notify(ep, sa, V2_CREATE_CHILD_SA, V2N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	struct v2_child *old = NULL;
	if (rk) {
		struct v2_notify n;
		if (!v2_parse_notify(rk, &n) || n.proto != V2_PROTO_ESP || n.spi_len != 4) {
			respond_notify(ep, sa, V2_CREATE_CHILD_SA, V2N_INVALID_SYNTAX, NULL, 0);
			return;
		}
		old = v2_child_by_out(ep, get_be32(n.spi));
		if (!old) {
			uint8_t spi[4];
			memcpy(spi, n.spi, 4);
			struct isakmp_buf b;
			v2_buf_inner(&b);
			v2_put_notify(&b, V2_PROTO_ESP, spi, 4, V2N_CHILD_SA_NOT_FOUND, NULL, 0);
			v2_respond(ep, sa, V2_CREATE_CHILD_SA, &b);
			return;
		}
	}
	struct v2_choice c;
	char offered[IKEV2_OFFERED_MAX];
	enum ike_drop r = v2_sa_select(sap->body, sap->len, &ep->cfg, V2_PROTO_ESP,
				       kep ? V2_DH_KE : V2_DH_NONE, ke.group, &c, offered,
				       sizeof(offered));
	if (r == IKE_DROP_BAD_KE) {
		uint8_t g[2];
		put_be16(g, c.group);
		respond_notify(ep, sa, V2_CREATE_CHILD_SA, V2N_INVALID_KE_PAYLOAD, g, 2);
		return;
	}
	if (r != IKE_DROP_NONE) {
		if (r == IKE_DROP_NO_PROPOSAL) {
			char ours[IKEV2_OFFERED_MAX];
			v2_offer_name_esp(&ep->cfg, ep->cfg.p2_dh_n > 0, ours, sizeof(ours));
			ep->st.proposal_mismatches++;
			log_warn(V2_LOG, "%s: CHILD SA proposal mismatch: peer offered %s; tunnel allows %s",
				 ep->cfg.name, offered, ours);
		}
		respond_notify(ep, sa, V2_CREATE_CHILD_SA, V2N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return;
	}
	struct ike_ts ts_r, ts_l;
	if (!v2_ts_pick(&li, &ep->cfg.remote_ts, &ts_r) || !v2_ts_pick(&lr, &ep->cfg.local_ts, &ts_l)) {
		respond_notify(ep, sa, V2_CREATE_CHILD_SA, V2N_TS_UNACCEPTABLE, NULL, 0);
		return;
	}
	if (kep && ke.len != ike_dh_pub_len(c.group)) {
		respond_notify(ep, sa, V2_CREATE_CHILD_SA, V2N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	uint8_t nr[V2_NONCE_LEN], gir[IKE_DH_MAX];
	size_t gir_len = 0;
	rand_bytes(nr, sizeof(nr));
	struct ike_dh *dh = NULL;
	if (kep && (!(dh = ike_dh_new(c.group)) ||
		    !ike_dh_shared(dh, ke.data, ke.len, gir, &gir_len))) {
		ike_dh_free(dh);
		respond_notify(ep, sa, V2_CREATE_CHILD_SA, V2N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	uint32_t spi_in = v2_new_spi(ep);
	uint8_t spib[4];
	put_be32(spib, spi_in);
	struct isakmp_buf b;
	v2_buf_inner(&b);
	v2_sa_build_reply(&b, &c, spib, 4);
	isakmp_buf_simple(&b, V2_PL_NONCE, nr, sizeof(nr));
	if (dh)
		v2_put_ke(&b, c.group, ike_dh_pub(dh), ike_dh_pub_len(c.group));
	v2_put_ts(&b, V2_PL_TSI, &ts_r, 1);
	v2_put_ts(&b, V2_PL_TSR, &ts_l, 1);
	v2_respond(ep, sa, V2_CREATE_CHILD_SA, &b);
	ike_dh_free(dh);
	struct v2_child *ch = NULL;
	if (sa->have_resp)
		ch = v2_child_install(ep, sa, now, &c, spi_in, false, nip->body, nip->len, nr,
				      sizeof(nr), kep ? gir : NULL, gir_len, &ts_l, &ts_r,
				      old ? V2_OUTBOUND_HOLD_MS : 0);
	secret_wipe(gir, sizeof(gir));
	if (ch && old) {
		old->peer_rekey_spi_in = ch->spi_in;
		min_nonce(nip->body, nip->len, nr, sizeof(nr), old->peer_rekey_min,
			  &old->peer_rekey_min_len);
		if (old->our_rekey_spi_in)
			child_collision(ep, old, now);	/* ours finished first */
		else if (!(sa->req.kind == REQ_CHILD_REKEY && sa->req.rekey_spi_in == old->spi_in)) {
			old->replaced = true;	/* the peer deletes it */
			v2_child_note_state(ep, old, "the peer's rekey made its successor");
		}
		/* else ours is in flight: decided when its answer comes */
	}
	v2_update_status(ep, NULL);
}

/* ---- INFORMATIONAL ---------------------------------------------------- */

void v2_delete_children_request(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
				const uint32_t *spis, size_t n)
{
	struct v2_req *r = &sa->req;
	v2_req_clear(r);
	r->kind = REQ_DELETE_CHILD;
	struct isakmp_buf b;
	v2_buf_inner(&b);
	v2_put_delete_esp(&b, spis, n);
	for (size_t i = 0; i < n; i++) {
		r->del_spis[r->n_del++] = spis[i];
		struct v2_child *c = v2_child_by_in(ep, spis[i]);
		if (c)
			v2_child_remove(ep, c, "we delete it");	/* ESP lingers on its own */
	}
	v2_request(ep, sa, V2_INFORMATIONAL, &b, now);
	v2_update_status(ep, "CHILD SA deleted");
}

void v2_delete_ike_request(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now)
{
	v2_req_clear(&sa->req);
	sa->req.kind = REQ_DELETE_IKE;
	struct isakmp_buf b;
	v2_buf_inner(&b);
	v2_put_delete_ike(&b);
	log_info(V2_LOG, "%s: #%u deleting the IKE SA", ep->cfg.name, sa->serial);
	v2_request(ep, sa, V2_INFORMATIONAL, &b, now);
}

void v2_liveness_request(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now)
{
	v2_req_clear(&sa->req);
	sa->req.kind = REQ_LIVENESS;
	struct isakmp_buf b;
	v2_buf_inner(&b);
	ep->st.dpd_sent++;
	v2_request(ep, sa, V2_INFORMATIONAL, &b, now);
}

void v2_info_response(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
		      const struct v2_msg *m)
{
	enum v2_req_kind kind = sa->req.kind;
	v2_req_clear(&sa->req);
	switch (kind) {
	case REQ_LIVENESS:
		ep->st.dpd_answered++;
		break;
	case REQ_DELETE_IKE:
		v2_sa_set_state(ep, sa, V2_DEAD, "our Delete answered");
		break;
	default:
		break;
	}
}

void v2_info_input(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
		   const struct v2_msg *m)
{
	uint32_t ours[IKEV2_MAX_SPIS];
	size_t n_ours = 0;
	bool delete_ike = false;
	for (size_t i = 0; i < m->n; i++) {
		const struct v2_payload *p = &m->pl[i];
		struct v2_notify n;
		struct v2_delete d;
		if (p->type == V2_PL_N && v2_parse_notify(p, &n)) {
			log_info(V2_LOG, "%s: #%u peer notifies %s (%u)", ep->cfg.name, sa->serial,
				 v2_notify_name(n.type), n.type);
		} else if (p->type == V2_PL_D && v2_parse_delete(p, &d)) {
			if (d.proto == V2_PROTO_IKE) {
				delete_ike = true;
				continue;
			}
			for (size_t k = 0; k < d.n_spis; k++) {
				struct v2_child *c = v2_child_by_out(ep, d.spis[k]);
				if (!c)
					continue;	/* ours crossed it: already gone */
				if (n_ours < IKEV2_MAX_SPIS)
					ours[n_ours++] = c->spi_in;
				v2_child_remove(ep, c, "deleted by the peer");
			}
		}
	}
	struct isakmp_buf b;
	v2_buf_inner(&b);
	if (n_ours)
		v2_put_delete_esp(&b, ours, n_ours);
	v2_respond(ep, sa, V2_INFORMATIONAL, &b);
	if (delete_ike) {
		bool was_current = sa == v2_current_sa(ep);
		v2_sa_set_state(ep, sa, V2_DEAD, "deleted by the peer");
		if (was_current && !v2_current_sa(ep)) {
			v2_children_clear(ep, "the peer deleted the IKE SA");
			v2_update_status(ep, "peer deleted the IKE SA");
			if (ep->active)
				ep->start_at_ms = now + 1000;
		}
		return;
	}
	if (n_ours) {
		if (!ep->children)
			ep->child_retry_ms = now;
		v2_update_status(ep, "peer deleted the CHILD SA");
	}
}
