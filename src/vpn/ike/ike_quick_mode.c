/*
 * ike_quick_mode.c — IKEv1 Quick Mode (RFC 2409 §5.5) with PFS, and the
 * CHILD SAs it creates.
 *
 *   I                                        R
 *   HDR*, HASH(1), SA, Ni [, KE] [, IDci, IDcr]  -->
 *              <--  HDR*, HASH(2), SA, Nr [, KE] [, IDci, IDcr] [, N(RESPONDER-LIFETIME)]
 *   HDR*, HASH(3)                                -->
 *
 * The initiator installs on message 2, the responder on message 3; the
 * responder retransmits message 2 until message 3 arrives, and the
 * initiator answers a repeated message 2 with its cached message 3.
 * A rekey is a new Quick Mode for the same selectors; the old CHILD SA is
 * deleted IKE_REKEY_DELETE_DELAY_MS after the new one was reported
 * installed (make-before-break), so that the peer has installed the new
 * one before it hears of the Delete; and when we rekeyed, the new one
 * sends only once the peer proves it has it (IKE_REKEY_OUTBOUND_HOLD_MS).
 * Each exchange has its own IV (hash of the phase 1 IV and message id),
 * committed only after HASH verified.
 */
#include "vpn/ike/ike_internal.h"

#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void qm_free(struct ike_qm *qm)
{
	if (!qm)
		return;
	ike_dh_free(qm->dh);
	xmit_clear(&qm->tx);
	secret_wipe(qm, sizeof(*qm));
	free(qm);
}

static const char *const qm_state_names[] = {
	[QM_NONE] = "NONE", [QM_I1] = "QM_I1", [QM_R2] = "QM_R2", [QM_DONE] = "QM_DONE",
};

const char *qm_state_name(enum qm_state s)
{
	return (unsigned)s < ARRAY_LEN(qm_state_names) ? qm_state_names[s] : "?";
}

void qm_set_state(struct ike_peer *ep, const struct ike_sa *sa, struct ike_qm *qm, enum qm_state s,
		  enum log_level lvl, const char *cause)
{
	if (qm->state == s)
		return;
	ike_log_limited(ep, IKE_LOGK_STATE, ep->now_ms, lvl, "%s: Quick Mode %08x (ISAKMP SA #%u) %s -> %s: %s",
			ep->cfg.name, qm->msgid, sa->serial, qm_state_name(qm->state), qm_state_name(s), cause);
	qm->state = s;
}

static const char *const child_state_names[] = {
	[CHILD_NONE] = "NONE", [CHILD_INSTALLED] = "INSTALLED", [CHILD_REKEYING] = "REKEYING",
	[CHILD_REPLACED] = "REPLACED", [CHILD_DELETED] = "DELETED",
};

const char *child_state_name(enum child_state s)
{
	return (unsigned)s < ARRAY_LEN(child_state_names) ? child_state_names[s] : "?";
}

void child_set_state(struct ike_peer *ep, struct ike_child *c, enum child_state s, const char *cause)
{
	if (c->state == s)
		return;
	ike_log_limited(ep, IKE_LOGK_STATE, ep->now_ms, LOG_INFO, "%s: CHILD SA %08x/%08x %s -> %s: %s",
			ep->cfg.name, c->spi_in, c->spi_out, child_state_name(c->state), child_state_name(s),
			cause);
	c->state = s;
}

bool ep_has_qm_in_flight(const struct ike_peer *ep)
{
	for (const struct ike_sa *sa = ep->sas; sa; sa = sa->next)
		for (const struct ike_qm *qm = sa->qms; qm; qm = qm->next)
			if (sa->state != SA_DEAD && qm->state != QM_DONE)
				return true;
	return false;
}

static size_t qm_count(const struct ike_sa *sa)
{
	size_t n = 0;
	for (const struct ike_qm *qm = sa->qms; qm; qm = qm->next)
		n++;
	return n;
}

static bool spi_in_use(const struct ike_peer *ep, uint32_t spi)
{
	for (const struct ike_child *c = ep->children; c; c = c->next)
		if (c->spi_in == spi)
			return true;
	for (const struct ike_sa *sa = ep->sas; sa; sa = sa->next)
		for (const struct ike_qm *qm = sa->qms; qm; qm = qm->next)
			if (qm->spi_in == spi)
				return true;
	return false;
}

static uint32_t spi_alloc(const struct ike_peer *ep)
{
	for (;;) {
		uint32_t spi = rand_u32();
		if (spi >= 0x100 && !spi_in_use(ep, spi))	/* 1..255 are reserved */
			return spi;
	}
}

static struct ike_child *child_find_in(struct ike_peer *ep, uint32_t spi_in)
{
	for (struct ike_child *c = ep->children; c; c = c->next)
		if (c->spi_in == spi_in)
			return c;
	return NULL;
}

void child_delete(struct ike_peer *ep, struct ike_child *c, uint64_t now, bool send_delete,
		  const char *cause)
{
	for (struct ike_child **pp = &ep->children; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	char why[IKE_CAUSE_MAX + 32];
	snprintf(why, sizeof(why), "%s%s", cause, send_delete && ep_best_sa(ep) ? " (Delete sent)" : "");
	child_set_state(ep, c, CHILD_DELETED, why);
	struct ike_action a = { .kind = IKE_ACT_CHILD_SA_DELETE };
	a.del.spi_in = c->spi_in;
	a.del.spi_out = c->spi_out;
	ep_emit(ep, &a);
	struct ike_sa *sa = ep_best_sa(ep);
	if (send_delete && sa) {
		uint8_t spi[4];
		put_be32(spi, c->spi_in);	/* the SPI the peer sends to */
		info_send_delete(ep, sa, PROTO_ESP, spi, 4);
	}
	free(c);
}

void child_schedule_delete(struct ike_peer *ep, struct ike_child *c, uint64_t now)
{
	uint64_t at = now + IKE_REKEY_DELETE_DELAY_MS;
	c->rekeying = true;	/* replaced: never rekey it again */
	c->delete_ms = at < c->expire_ms ? at : c->expire_ms;
	char why[80];
	snprintf(why, sizeof(why), "our rekey made its successor; we delete it in %llu ms",
		 (unsigned long long)(c->delete_ms - now));
	child_set_state(ep, c, CHILD_REPLACED, why);
}

void qm_fail(struct ike_peer *ep, struct ike_sa *sa, struct ike_qm *qm, uint64_t now,
	     const char *cause)
{
	char why[IKE_CAUSE_MAX + 16];
	snprintf(why, sizeof(why), "failed: %s", cause);
	qm_set_state(ep, sa, qm, QM_DONE, LOG_WARN, why);
	qm->done_ms = now;
	qm->tx.active = false;
	if (!qm->initiator)
		return;
	struct ike_child *old = qm->rekey_spi_in ? child_find_in(ep, qm->rekey_spi_in) : NULL;
	if (old) {
		old->rekeying = false;
		old->rekey_ms = now + IKE_RETRY_MS;	/* try again before it expires */
		log_warn(IKE_LOG, "%s: rekey failed, CHILD SA %08x stays until it expires",
			 ep->cfg.name, old->spi_in);
		child_set_state(ep, old, CHILD_INSTALLED, "our rekey failed; trying again later");
		return;
	}
	ep_down_unless_children(ep, cause);
	if (ep->active && !ep->children && ep->start_at_ms == UINT64_MAX)
		ep->start_at_ms = now + IKE_RETRY_MS;
}

/* ---- building --------------------------------------------------------- */

/* Write a HASH payload of zeros; returns where its data goes. */
static size_t hash_placeholder(struct isakmp_buf *b, size_t prf_len)
{
	static const uint8_t zeros[IKE_PRF_MAX];
	size_t s = isakmp_buf_simple(b, PL_HASH, zeros, prf_len);
	return s + ISAKMP_GENERIC_LEN;
}

static void add_nonce_ke(struct isakmp_buf *b, const uint8_t *nonce, size_t nonce_len,
			 const struct ike_dh *dh, uint16_t group)
{
	isakmp_buf_simple(b, PL_NONCE, nonce, nonce_len);
	if (dh)
		isakmp_buf_simple(b, PL_KE, ike_dh_pub(dh), ike_dh_pub_len(group));
}

struct ike_qm *qm_initiate(struct ike_peer *ep, struct ike_sa *sa, uint64_t now,
			   const struct ike_ts *local, const struct ike_ts *remote,
			   uint32_t rekey_spi_in)
{
	if (qm_count(sa) >= IKE_QM_MAX)
		return NULL;
	struct ike_qm *qm = calloc(1, sizeof(*qm));
	if (!qm)
		return NULL;
	bool unique;
	do {
		qm->msgid = rand_u32();
		unique = qm->msgid != 0;
		for (struct ike_qm *o = sa->qms; o && unique; o = o->next)
			unique = o->msgid != qm->msgid;
	} while (!unique);
	qm->initiator = true;
	qm->created_ms = now;
	qm->spi_in = spi_alloc(ep);
	qm->ni_len = IKE_NONCE_LEN;
	rand_bytes(qm->ni, qm->ni_len);
	qm->group = ep->cfg.p2_dh_n ? ep->cfg.p2_dh[0] : 0;
	qm->ts_local = *local;
	qm->ts_remote = *remote;
	qm->rekey_spi_in = rekey_spi_in;
	if (qm->group && !(qm->dh = ike_dh_new(qm->group)))
		goto err;
	uint16_t encap = sa->nat_here || sa->nat_there ? ENCAP_UDP_TUNNEL : ENCAP_TUNNEL;
	struct isakmp_buf b;
	isakmp_buf_header(&b, sa->ck_i, sa->ck_r, EXCH_QUICK, 0, qm->msgid);
	size_t hd = hash_placeholder(&b, sa->prf_len);
	p2_sa_build(&b, &ep->cfg, qm->spi_in, encap, qm->group);
	add_nonce_ke(&b, qm->ni, qm->ni_len, qm->dh, qm->group);
	ts_build_id(&b, &qm->ts_local);
	ts_build_id(&b, &qm->ts_remote);
	if (b.overflow)
		goto err;
	size_t rest = hd + sa->prf_len;
	if (!ike_qm_hash1(sa->alg.integ, sa->skeyid_a, qm->msgid, b.b + rest, b.len - rest,
			  b.b + hd) ||
	    !ike_iv_phase2(sa->alg.integ, sa->iv, qm->msgid, qm->iv) || !sa_encrypt(sa, qm->iv, &b))
		goto err;
	qm->next = sa->qms;
	sa->qms = qm;
	char l[48], r[48], why[160];
	ts_name(local, l, sizeof(l));
	ts_name(remote, r, sizeof(r));
	if (rekey_spi_in)
		snprintf(why, sizeof(why), "we initiate for %s === %s, rekeying CHILD SA %08x", l, r, rekey_spi_in);
	else
		snprintf(why, sizeof(why), "we initiate for %s === %s", l, r);
	qm_set_state(ep, sa, qm, QM_I1, LOG_INFO, why);
	xmit_start(ep, sa, &qm->tx, &b, true, now);
	return qm;
err:
	log_error(IKE_LOG, "%s: cannot build quick mode", ep->cfg.name);
	qm_free(qm);
	return NULL;
}

/* ---- receiving -------------------------------------------------------- */

struct qm_opened {
	uint8_t *plain;			/* owned; wiped and freed by qm_close */
	size_t len;
	struct isakmp_msg m;
	const uint8_t *hash;		/* HASH payload data, prf_len bytes */
	const uint8_t *rest;		/* payloads after HASH */
	size_t rest_len;
	uint8_t next_iv[IKE_BLOCK];
};

static void qm_close(struct qm_opened *o)
{
	if (o->plain) {
		secret_wipe(o->plain, o->len);
		free(o->plain);
	}
	o->plain = NULL;
}

/* Decrypt with iv and split off the leading HASH payload. */
static bool qm_open(struct ike_peer *ep, const struct ike_sa *sa, const uint8_t iv[IKE_BLOCK],
		    const uint8_t *pkt, size_t len, const struct isakmp_hdr *h,
		    struct qm_opened *o)
{
	memset(o, 0, sizeof(*o));
	o->plain = malloc(len);
	o->len = len;
	if (!o->plain)
		return false;
	if (!sa_decrypt(sa, iv, pkt, len, o->plain, o->next_iv)) {
		ep_drop(ep, IKE_DROP_DECRYPT, "ciphertext is not whole blocks");
		goto err;
	}
	enum ike_drop why = isakmp_payloads_parse(h->np, o->plain + ISAKMP_HDR_LEN,
						  len - ISAKMP_HDR_LEN, &o->m);
	if (why != IKE_DROP_NONE) {
		ep_drop(ep, why, "after decryption");
		goto err;
	}
	/* HASH must come first (RFC 2409 §5.5) and be a PRF output */
	if (o->m.n == 0 || o->m.pl[0].type != PL_HASH || o->m.pl[0].len != sa->prf_len) {
		ep_drop(ep, IKE_DROP_MISSING_PAYLOAD, "HASH first");
		goto err;
	}
	o->hash = o->m.pl[0].body;
	o->rest = o->m.pl[0].raw + o->m.pl[0].raw_len;
	o->rest_len = o->m.used - o->m.pl[0].raw_len;
	return true;
err:
	qm_close(o);
	return false;
}

static void qm_mark_rx(struct ike_qm *qm, const uint8_t *digest)
{
	memcpy(qm->rx_digest, digest, IKE_DIGEST_LEN);
	qm->rx_digest_set = true;
}

/* Two CHILD SAs for the same selectors whose Quick Modes overlapped in
 * time: both sides started one at once (start or rekey collision). An
 * older SA installed before this Quick Mode began is not a collision but
 * the SA being rekeyed, which its rekeyer deletes. The pair whose larger
 * SPI is smaller is dropped, with a Delete; both sides pick the same pair,
 * and if only one side saw the overlap its Delete tells the other. So the
 * number of CHILD SAs does not grow with every collision. */
static void resolve_collision(struct ike_peer *ep, struct ike_child *c, uint64_t now)
{
	for (struct ike_child *o = ep->children; o; o = o->next) {
		if (o == c || !ts_equal(&o->ts_local, &c->ts_local) ||
		    !ts_equal(&o->ts_remote, &c->ts_remote) ||
		    o->installed_ms < c->qm_started_ms || o->rekeying)
			continue;
		uint32_t kc = c->spi_in > c->spi_out ? c->spi_in : c->spi_out;
		uint32_t ko = o->spi_in > o->spi_out ? o->spi_in : o->spi_out;
		struct ike_child *loser = kc < ko ? c : o;
		child_delete(ep, loser, now, true, "Quick Mode collision: the duplicate with the smaller SPI");
		return;
	}
}

/* The peer made c for the selectors of an older CHILD SA: that is the
 * peer's rekey of it. We stop rekeying the old one ourselves (it would
 * only breed a third SA) and leave it to the peer's Delete or its expiry. */
static void mark_superseded(struct ike_peer *ep, const struct ike_child *c)
{
	for (struct ike_child *o = ep->children; o; o = o->next)
		if (o != c && ts_equal(&o->ts_local, &c->ts_local) &&
		    ts_equal(&o->ts_remote, &c->ts_remote) && o->installed_ms < c->qm_started_ms &&
		    !o->rekeying) {
			o->rekeying = true;
			child_set_state(ep, o, CHILD_REPLACED, "the peer's Quick Mode made its successor; "
					"its Delete or expiry ends it");
		}
}

/* KEYMAT for both directions, and the CHILD_SA_INSTALL action. */
static bool child_install(struct ike_peer *ep, struct ike_sa *sa, struct ike_qm *qm,
			  uint64_t now)
{
	struct ike_child *c = calloc(1, sizeof(*c));
	if (!c)
		return false;
	bool gcm = ike_encr_is_gcm(qm->alg.encr);
	size_t enc_len = ike_key_len(qm->alg.encr) + (gcm ? 4 : 0);
	size_t auth_len = gcm ? 0 : ike_hash_len(qm->alg.integ);
	uint8_t km[IKE_KEY_MAX + IKE_AUTH_KEY_MAX];
	const uint8_t *ni = qm->ni, *nr = qm->nr;
	const uint8_t *gxy = qm->group ? qm->gxy : NULL;
	struct ike_action a = { .kind = IKE_ACT_CHILD_SA_INSTALL };
	struct ike_child_sa_install *in = &a.install;
	bool ok = true;
	struct ike_sa_keys *dirs[2] = { &in->in, &in->out };
	uint32_t spis[2] = { qm->spi_in, qm->spi_out };
	for (int d = 0; d < 2 && ok; d++) {
		ok = ike_keymat(sa->alg.integ, sa->skeyid_d, gxy, qm->gxy_len, PROTO_ESP, spis[d],
				ni, qm->ni_len, nr, qm->nr_len, km, enc_len + auth_len);
		dirs[d]->spi = spis[d];
		memcpy(dirs[d]->enc_key, km, enc_len);
		dirs[d]->enc_key_len = enc_len;
		memcpy(dirs[d]->auth_key, km + enc_len, auth_len);
		dirs[d]->auth_key_len = auth_len;
	}
	secret_wipe(km, sizeof(km));
	secret_wipe(qm->gxy, sizeof(qm->gxy));
	if (!ok) {
		secret_wipe(&a, sizeof(a));
		free(c);
		return false;
	}
	in->encr = qm->alg.encr;
	in->integ = gcm ? IKE_INTEG_NONE : qm->alg.integ;
	in->icv_len = ike_icv_len(qm->alg.encr, qm->alg.integ);
	in->local_ip = ep->cfg.local_ip;
	in->remote_ip = sa->peer.ip;
	in->ts_local = qm->ts_local;
	in->ts_remote = qm->ts_remote;
	c->rekey_ms = ep_rekey_ms(ep, now, qm->alg.lifetime_s);
	in->soft_lifetime_s = (uint32_t)((c->rekey_ms - now) / 1000);
	in->hard_lifetime_s = qm->alg.lifetime_s;
	in->life_kbytes = qm->alg.life_kbytes;
	in->replay_window = ep->cfg.replay_window;
	/* our rekey: the peer installs it only on message 3 */
	in->outbound_hold_ms = qm->initiator && qm->rekey_spi_in ? IKE_REKEY_OUTBOUND_HOLD_MS : 0;
	in->udp_encap = qm->alg.encap == ENCAP_UDP_TUNNEL || qm->alg.encap == ENCAP_UDP_TUNNEL_DRAFT;
	if (in->udp_encap) {
		in->encap_local_port = sa->local_port;
		in->encap_remote_port = sa->peer.port;
	}
	ep_emit(ep, &a);
	secret_wipe(&a, sizeof(a));

	c->spi_in = qm->spi_in;
	c->spi_out = qm->spi_out;
	c->alg = qm->alg;
	c->ts_local = qm->ts_local;
	c->ts_remote = qm->ts_remote;
	c->installed_ms = now;
	c->qm_started_ms = qm->created_ms;
	c->expire_ms = now + (uint64_t)qm->alg.lifetime_s * 1000;
	c->next = ep->children;
	ep->children = c;
	ep->st.p2_established++;
	char alg[64], l[48], r[48];
	p2_choice_name(&qm->alg, alg, sizeof(alg));
	ts_name(&qm->ts_local, l, sizeof(l));
	ts_name(&qm->ts_remote, r, sizeof(r));
	char why[256];
	snprintf(why, sizeof(why), "%s Quick Mode %08x completed (%s === %s, %s, %us%s)",
		 qm->initiator ? "our" : "the peer's", qm->msgid, l, r, alg, qm->alg.lifetime_s,
		 in->udp_encap ? ", UDP-encapsulated" : "");
	child_set_state(ep, c, CHILD_INSTALLED, why);
	ep_status(ep, true, "");
	if (!qm->initiator)
		mark_superseded(ep, c);
	resolve_collision(ep, c, now);
	return true;
}

static void qm_reject(struct ike_peer *ep, struct ike_sa *sa, uint16_t notify,
		      const char *cause)
{
	info_send_notify(ep, sa, PROTO_ESP, NULL, 0, notify, NULL, 0);
	ep_down_unless_children(ep, cause);
}

static uint32_t min_life(uint32_t a, uint32_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

static void on_qm1(struct ike_peer *ep, struct ike_sa *sa, uint64_t now,
		   const struct isakmp_hdr *h, const uint8_t *pkt, size_t len,
		   const uint8_t *digest)
{
	if (qm_count(sa) >= IKE_QM_MAX) {
		ep_drop(ep, IKE_DROP_UNEXPECTED, "too many quick modes in flight");
		return;
	}
	uint8_t iv[IKE_BLOCK], want[IKE_PRF_MAX];
	struct qm_opened o;
	if (!ike_iv_phase2(sa->alg.integ, sa->iv, h->msgid, iv) || !qm_open(ep, sa, iv, pkt, len, h, &o))
		return;
	struct ike_qm *qm = NULL;
	if (!ike_qm_hash1(sa->alg.integ, sa->skeyid_a, h->msgid, o.rest, o.rest_len, want) ||
	    !ct_equal(want, o.hash, sa->prf_len)) {
		ep_drop(ep, IKE_DROP_BAD_HASH, "quick mode HASH(1)");
		goto out;
	}
	ep->last_rx_ms = now;
	const struct isakmp_payload *sap = isakmp_find(&o.m, PL_SA, 0);
	const struct isakmp_payload *np = isakmp_find(&o.m, PL_NONCE, 0);
	const struct isakmp_payload *ke = isakmp_find(&o.m, PL_KE, 0);
	const struct isakmp_payload *idci = isakmp_find(&o.m, PL_ID, 0);
	const struct isakmp_payload *idcr = isakmp_find(&o.m, PL_ID, 1);
	if (!sap || !np) {
		ep_drop(ep, IKE_DROP_MISSING_PAYLOAD, "quick mode SA and nonce");
		goto out;
	}
	if (np->len < IKE_NONCE_MIN || np->len > IKE_NONCE_MAX) {
		ep_drop(ep, IKE_DROP_BAD_KE, "nonce size");
		goto out;
	}
	if ((idci && !idcr) || isakmp_find(&o.m, PL_ID, 2)) {
		ep_drop(ep, IKE_DROP_BAD_ID, "quick mode needs zero or two IDs");
		goto out;
	}
	/* selectors: the peer's view is IDci = its side, IDcr = ours */
	struct ike_ts want_r, want_l, r, l;
	if (idci) {
		if (!ts_parse_id(idci->body, idci->len, &want_r) ||
		    !ts_parse_id(idcr->body, idcr->len, &want_l)) {
			ep_drop(ep, IKE_DROP_BAD_ID, "unsupported ID type in quick mode");
			qm_reject(ep, sa, N_INVALID_ID_INFORMATION, "traffic selectors unsupported");
			goto out;
		}
	} else {
		want_r = ts_host(sa->peer.ip);
		want_l = ts_host(ep->cfg.local_ip);
	}
	struct ike_ts bound_l = ts_from_subnet(ep->cfg.local_ts);
	struct ike_ts bound_r = ts_from_subnet(ep->cfg.remote_ts);
	if (!ts_narrow(&want_r, &bound_r, &r) || !ts_narrow(&want_l, &bound_l, &l) ||
	    (!idci && (!ts_equal(&r, &want_r) || !ts_equal(&l, &want_l)))) {
		char a[48], b2[48], cause[IKE_CAUSE_MAX];
		ts_name(&want_l, a, sizeof(a));
		ts_name(&want_r, b2, sizeof(b2));
		snprintf(cause, sizeof(cause), "traffic selectors mismatch: peer proposed %s === %s",
			 a, b2);
		ep_drop(ep, IKE_DROP_BAD_ID, cause);
		qm_reject(ep, sa, N_INVALID_ID_INFORMATION, cause);
		goto out;
	}
	struct p2_choice c;
	struct sa_pick pick;
	char offered[IKE_CAUSE_MAX], cause[IKE_CAUSE_MAX];
	enum ike_drop why = p2_sa_select(sap->body, sap->len, &ep->cfg, ke != NULL, &c, &pick,
					 offered, sizeof(offered) - 32);
	if (why == IKE_DROP_NO_PROPOSAL) {
		ep->st.proposal_mismatches++;
		snprintf(cause, sizeof(cause), "proposal mismatch: offered %.120s", offered);
		ep_drop(ep, why, cause);
		qm_reject(ep, sa, N_NO_PROPOSAL_CHOSEN, cause);
		goto out;
	}
	if (why != IKE_DROP_NONE) {
		ep_drop(ep, why, "quick mode SA");
		goto out;
	}
	if (ke && ke->len != ike_dh_pub_len(c.group)) {
		ep_drop(ep, IKE_DROP_BAD_KE, "KE size does not match the group");
		goto out;
	}
	qm = calloc(1, sizeof(*qm));
	if (!qm)
		goto out;
	qm->msgid = h->msgid;
	qm->created_ms = now;
	qm->alg = c;
	uint32_t ours = ep->cfg.p2_lifetime_s;
	bool tell_lifetime = c.lifetime_s > ours;
	qm->alg.lifetime_s = min_life(c.lifetime_s, ours);
	qm->spi_out = pick.spi;
	qm->spi_in = spi_alloc(ep);
	qm->ts_local = l;
	qm->ts_remote = r;
	memcpy(qm->ni, np->body, np->len);
	qm->ni_len = np->len;
	qm->nr_len = IKE_NONCE_LEN;
	rand_bytes(qm->nr, qm->nr_len);
	qm->group = c.group;
	if (qm->group) {
		if (!(qm->dh = ike_dh_new(qm->group)) ||
		    !ike_dh_shared(qm->dh, ke->body, ke->len, qm->gxy, &qm->gxy_len)) {
			ep_drop(ep, IKE_DROP_BAD_KE, "PFS key exchange failed");
			goto out;
		}
	}
	memcpy(qm->iv, o.next_iv, IKE_BLOCK);

	struct isakmp_buf b;
	isakmp_buf_header(&b, sa->ck_i, sa->ck_r, EXCH_QUICK, 0, qm->msgid);
	size_t hd = hash_placeholder(&b, sa->prf_len);
	p2_sa_build_reply(&b, &pick, qm->spi_in);
	add_nonce_ke(&b, qm->nr, qm->nr_len, qm->dh, qm->group);
	if (idci) {
		ts_build_id(&b, &r);
		ts_build_id(&b, &l);
	}
	if (tell_lifetime) {
		size_t s = isakmp_buf_begin(&b, PL_N);
		isakmp_buf_u32(&b, DOI_IPSEC);
		isakmp_buf_u8(&b, PROTO_ESP);
		isakmp_buf_u8(&b, 4);
		isakmp_buf_u16(&b, N_RESPONDER_LIFETIME);
		isakmp_buf_u32(&b, qm->spi_in);
		isakmp_buf_attr(&b, P2A_LIFE_TYPE, LIFE_SECONDS, true);
		isakmp_buf_attr(&b, P2A_LIFE_DURATION, ours, false);
		isakmp_buf_end(&b, s);
	}
	size_t rest = hd + sa->prf_len;
	if (b.overflow ||
	    !ike_qm_hash2(sa->alg.integ, sa->skeyid_a, qm->msgid, qm->ni, qm->ni_len, b.b + rest,
			  b.len - rest, b.b + hd) ||
	    !sa_encrypt(sa, qm->iv, &b)) {
		log_error(IKE_LOG, "%s: cannot build quick mode reply", ep->cfg.name);
		goto out;
	}
	ike_dh_free(qm->dh);
	qm->dh = NULL;
	qm_mark_rx(qm, digest);
	qm->next = sa->qms;
	sa->qms = qm;
	char ln[48], rn[48], state_cause[160];
	ts_name(&qm->ts_local, ln, sizeof(ln));
	ts_name(&qm->ts_remote, rn, sizeof(rn));
	snprintf(state_cause, sizeof(state_cause), "peer's message 1 accepted for %s === %s, message 2 sent", ln, rn);
	qm_set_state(ep, sa, qm, QM_R2, LOG_INFO, state_cause);
	xmit_start(ep, sa, &qm->tx, &b, true, now);
	qm = NULL;
out:
	qm_free(qm);
	qm_close(&o);
}

/* RESPONDER-LIFETIME (RFC 2407 §4.6.3.1): the responder's lower lifetime. */
static void read_responder_lifetime(const struct isakmp_msg *m, struct p2_choice *alg)
{
	const struct isakmp_payload *n;
	for (size_t i = 0; (n = isakmp_find(m, PL_N, i)); i++) {
		/* DOI, protocol, SPI size, type, SPI */
		if (n->len < 8 || get_be16(n->body + 6) != N_RESPONDER_LIFETIME ||
		    n->len - 8 < n->body[5])
			continue;
		size_t off = 8 + (size_t)n->body[5];
		struct isakmp_attr a;
		size_t ao = 0;
		uint64_t type = 0;
		while (isakmp_attr_next(n->body + off, n->len - off, &ao, &a) == 1) {
			if (a.type == P2A_LIFE_TYPE)
				type = a.value;
			else if (a.type == P2A_LIFE_DURATION && type == LIFE_SECONDS && a.value &&
				 a.value < alg->lifetime_s)
				alg->lifetime_s = (uint32_t)a.value;
			else if (a.type == P2A_LIFE_DURATION && type == LIFE_KILOBYTES && a.value &&
				 (!alg->life_kbytes || a.value < alg->life_kbytes))
				alg->life_kbytes = a.value;
		}
	}
}

static void on_qm2(struct ike_peer *ep, struct ike_sa *sa, struct ike_qm *qm, uint64_t now,
		   const struct isakmp_hdr *h, const uint8_t *pkt, size_t len,
		   const uint8_t *digest)
{
	uint8_t want[IKE_PRF_MAX];
	struct qm_opened o;
	if (!qm_open(ep, sa, qm->iv, pkt, len, h, &o))
		return;
	if (!ike_qm_hash2(sa->alg.integ, sa->skeyid_a, qm->msgid, qm->ni, qm->ni_len, o.rest,
			  o.rest_len, want) ||
	    !ct_equal(want, o.hash, sa->prf_len)) {
		ep_drop(ep, IKE_DROP_BAD_HASH, "quick mode HASH(2)");
		goto out;
	}
	ep->last_rx_ms = now;
	const struct isakmp_payload *sap = isakmp_find(&o.m, PL_SA, 0);
	const struct isakmp_payload *np = isakmp_find(&o.m, PL_NONCE, 0);
	const struct isakmp_payload *ke = isakmp_find(&o.m, PL_KE, 0);
	const struct isakmp_payload *idci = isakmp_find(&o.m, PL_ID, 0);
	const struct isakmp_payload *idcr = isakmp_find(&o.m, PL_ID, 1);
	if (!sap || !np || (qm->group && !ke)) {
		ep_drop(ep, IKE_DROP_MISSING_PAYLOAD, "quick mode reply SA, nonce, KE");
		goto out;
	}
	if (np->len < IKE_NONCE_MIN || np->len > IKE_NONCE_MAX) {
		ep_drop(ep, IKE_DROP_BAD_KE, "nonce size");
		goto out;
	}
	struct p2_choice c;
	uint32_t spi_out = 0;
	enum ike_drop why = p2_sa_check_reply(sap->body, sap->len, &ep->cfg, ke != NULL, &c, &spi_out);
	if (why == IKE_DROP_NONE && c.group != qm->group)
		why = IKE_DROP_NO_PROPOSAL;
	if (why != IKE_DROP_NONE) {
		ep_drop(ep, why, "quick mode reply SA");
		if (why == IKE_DROP_NO_PROPOSAL) {
			qm_fail(ep, sa, qm, now, "proposal mismatch: responder chose a transform we "
						 "did not offer");
		}
		goto out;
	}
	struct ike_ts l = qm->ts_local, r = qm->ts_remote;
	if (idci && idcr) {
		struct ike_ts pl, pr;
		if (!ts_parse_id(idci->body, idci->len, &pl) || !ts_parse_id(idcr->body, idcr->len, &pr) ||
		    !ts_within(&pl, &qm->ts_local) || !ts_within(&pr, &qm->ts_remote)) {
			ep_drop(ep, IKE_DROP_BAD_ID, "responder's selectors are not within ours");
			goto out;
		}
		l = pl;
		r = pr;
	}
	if (ke && (ke->len != ike_dh_pub_len(qm->group) ||
		   !ike_dh_shared(qm->dh, ke->body, ke->len, qm->gxy, &qm->gxy_len))) {
		ep_drop(ep, IKE_DROP_BAD_KE, "PFS key exchange failed");
		goto out;
	}
	/* verified and acceptable: commit */
	memcpy(qm->iv, o.next_iv, IKE_BLOCK);
	qm->alg = c;
	qm->alg.lifetime_s = min_life(c.lifetime_s, ep->cfg.p2_lifetime_s);
	read_responder_lifetime(&o.m, &qm->alg);
	qm->spi_out = spi_out;
	qm->ts_local = l;
	qm->ts_remote = r;
	memcpy(qm->nr, np->body, np->len);
	qm->nr_len = np->len;
	ike_dh_free(qm->dh);
	qm->dh = NULL;
	qm_mark_rx(qm, digest);

	struct isakmp_buf b;
	isakmp_buf_header(&b, sa->ck_i, sa->ck_r, EXCH_QUICK, 0, qm->msgid);
	size_t hd = hash_placeholder(&b, sa->prf_len);
	if (!ike_qm_hash3(sa->alg.integ, sa->skeyid_a, qm->msgid, qm->ni, qm->ni_len, qm->nr,
			  qm->nr_len, b.b + hd) ||
	    !sa_encrypt(sa, qm->iv, &b)) {
		log_error(IKE_LOG, "%s: cannot build quick mode message 3", ep->cfg.name);
		goto out;
	}
	qm_set_state(ep, sa, qm, QM_DONE, LOG_INFO, "peer's message 2 accepted, message 3 sent");
	qm->done_ms = now;
	if (!child_install(ep, sa, qm, now)) {
		log_error(IKE_LOG, "%s: cannot derive CHILD SA keys", ep->cfg.name);
		goto out;
	}
	xmit_start(ep, sa, &qm->tx, &b, false, now);
	struct ike_child *old = qm->rekey_spi_in ? child_find_in(ep, qm->rekey_spi_in) : NULL;
	if (old)
		child_schedule_delete(ep, old, now);
out:
	qm_close(&o);
}

static void on_qm3(struct ike_peer *ep, struct ike_sa *sa, struct ike_qm *qm, uint64_t now,
		   const struct isakmp_hdr *h, const uint8_t *pkt, size_t len,
		   const uint8_t *digest)
{
	uint8_t want[IKE_PRF_MAX];
	struct qm_opened o;
	if (!qm_open(ep, sa, qm->iv, pkt, len, h, &o))
		return;
	if (!ike_qm_hash3(sa->alg.integ, sa->skeyid_a, qm->msgid, qm->ni, qm->ni_len, qm->nr,
			  qm->nr_len, want) ||
	    !ct_equal(want, o.hash, sa->prf_len)) {
		ep_drop(ep, IKE_DROP_BAD_HASH, "quick mode HASH(3)");
		goto out;
	}
	ep->last_rx_ms = now;
	memcpy(qm->iv, o.next_iv, IKE_BLOCK);
	qm_mark_rx(qm, digest);
	qm_set_state(ep, sa, qm, QM_DONE, LOG_INFO, "peer's message 3 accepted");
	qm->done_ms = now;
	qm->tx.active = false;
	if (!child_install(ep, sa, qm, now))
		log_error(IKE_LOG, "%s: cannot derive CHILD SA keys", ep->cfg.name);
out:
	qm_close(&o);
}

void qm_input(struct ike_peer *ep, struct ike_sa *sa, uint64_t now, const uint8_t *pkt,
	      size_t len, const struct isakmp_hdr *h)
{
	struct ike_qm *qm = sa->qms;
	while (qm && qm->msgid != h->msgid)
		qm = qm->next;
	uint8_t digest[IKE_DIGEST_LEN];
	ep_digest(pkt, len, digest);
	if (qm && qm->rx_digest_set && memcmp(qm->rx_digest, digest, IKE_DIGEST_LEN) == 0) {
		/* the peer repeated itself: it lost our answer */
		if (qm->tx.buf && (qm->state == QM_R2 || (qm->initiator && qm->state == QM_DONE))) {
			ep->st.duplicates_answered++;
			xmit_resend(ep, sa, &qm->tx);
		}
		return;
	}
	if (!qm)
		on_qm1(ep, sa, now, h, pkt, len, digest);
	else if (qm->initiator && qm->state == QM_I1)
		on_qm2(ep, sa, qm, now, h, pkt, len, digest);
	else if (!qm->initiator && qm->state == QM_R2)
		on_qm3(ep, sa, qm, now, h, pkt, len, digest);
	else
		ep_drop(ep, IKE_DROP_UNEXPECTED, "quick mode message in the wrong state");
}
