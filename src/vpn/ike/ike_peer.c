/*
 * ike_peer.c — one tunnel's IKEv1 peer (struct ike_peer): configuration, the input
 * dispatcher, timers, the action queue, status and counters.
 *
 * Must never read a clock, touch a socket or keep global state: time comes
 * in as now_ms, packets leave as IKE_ACT_SEND actions.
 */
#include "vpn/ike/ike_internal.h"
#include "vpn/ike/ike_config.h"

#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint8_t ike_vid_natt_rfc3947[16] = {
	0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45,
	0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f,
};
const uint8_t ike_vid_dpd[16] = {
	0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9,
	0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00,
};

static const char *const drop_names[IKE_DROP_COUNT] = {
	[IKE_DROP_TOO_SHORT] = "too short",
	[IKE_DROP_BAD_MARKER] = "no non-ESP marker",
	[IKE_DROP_BAD_VERSION] = "bad ISAKMP version",
	[IKE_DROP_BAD_LENGTH] = "header length does not match datagram",
	[IKE_DROP_BAD_PAYLOAD] = "malformed payload chain",
	[IKE_DROP_TOO_MANY_PAYLOADS] = "too many payloads",
	[IKE_DROP_UNKNOWN_PEER] = "unknown peer address",
	[IKE_DROP_UNSUPPORTED] = "unsupported exchange",
	[IKE_DROP_NO_SA] = "no matching SA",
	[IKE_DROP_UNEXPECTED] = "unexpected message",
	[IKE_DROP_DECRYPT] = "cannot decrypt",
	[IKE_DROP_BAD_HASH] = "hash mismatch",
	[IKE_DROP_MISSING_PAYLOAD] = "missing payload",
	[IKE_DROP_BAD_PROPOSAL] = "malformed proposal",
	[IKE_DROP_NO_PROPOSAL] = "no acceptable proposal",
	[IKE_DROP_BAD_ID] = "unacceptable identity",
	[IKE_DROP_BAD_KE] = "bad key exchange or nonce",
	[IKE_DROP_REPLAY] = "replayed message id",
	[IKE_DROP_SOURCE_LIMIT] = "source over its budget of new exchanges",
};

const char *ike_drop_name(enum ike_drop why)
{
	return (unsigned)why < IKE_DROP_COUNT ? drop_names[why] : "?";
}

struct ike_peer *ike_peer_new(const struct ike_tunnel_config *cfg)
{
	const char *why = ike_config_check(cfg, IKE_V1);
	if (why) {
		log_error(IKE_LOG, "%.*s: invalid configuration: %s", IKE_NAME_MAX, cfg->name, why);
		return NULL;
	}
	struct ike_peer *ep = calloc(1, sizeof(*ep));
	if (!ep)
		return NULL;
	ep->cfg = *cfg;
	ike_config_defaults(&ep->cfg);
	ep->active = cfg->startup == IKE_STARTUP_START;
	ep->start_at_ms = ep->active ? 0 : UINT64_MAX;
	snprintf(ep->cause, sizeof(ep->cause), "not started");
	for (size_t k = 0; k < IKE_LOGK_MAX; k++)
		ep->logk[k] = (struct log_limit)LOG_LIMIT_INIT(IKE_LOG_INTERVAL_MS,
							       k == IKE_LOGK_STATE ? IKE_LOG_STATE_BURST : IKE_LOG_BURST);
	return ep;
}

void ike_peer_free(struct ike_peer *ep)
{
	if (!ep)
		return;
	while (ep->sas) {
		struct ike_sa *sa = ep->sas;
		ep->sas = sa->next;
		sa_free(sa);
	}
	while (ep->children) {
		struct ike_child *c = ep->children;
		ep->children = c->next;
		free(c);
	}
	ike_actq_free(&ep->q);
	ho_free_all(ep);
	secret_wipe(ep, sizeof(*ep));
	free(ep);
}

/* ---- actions and status ---------------------------------------------- */

void ep_emit(struct ike_peer *ep, const struct ike_action *act)
{
	ike_actq_emit(&ep->q, act, IKE_LOG, ep->cfg.name);
}

void ep_send(struct ike_peer *ep, const struct ike_addr *dst, uint16_t src_port,
	     const uint8_t *msg, size_t len)
{
	if (ike_actq_send(&ep->q, dst, src_port, msg, len, IKE_LOG, ep->cfg.name))
		ep->st.tx_packets++;
}

bool ike_next_action(struct ike_peer *ep, struct ike_action *out)
{
	return ike_actq_next(&ep->q, out);
}

void ike_action_wipe(struct ike_action *act)
{
	secret_wipe(act, sizeof(*act));
}

void ep_status(struct ike_peer *ep, bool up, const char *cause)
{
	if (up)
		cause = "";
	if (ep->up == up && strcmp(ep->cause, cause) == 0)
		return;
	ep->up = up;
	snprintf(ep->cause, sizeof(ep->cause), "%s", cause);
	if (up)
		log_info(IKE_LOG, "%s: tunnel UP", ep->cfg.name);
	else
		log_warn(IKE_LOG, "%s: tunnel DOWN: %s", ep->cfg.name, cause);
	struct ike_action a = { .kind = IKE_ACT_STATUS };
	a.status.up = up;
	snprintf(a.status.cause, sizeof(a.status.cause), "%s", ep->cause);
	ep_emit(ep, &a);
}

void ep_down_unless_children(struct ike_peer *ep, const char *cause)
{
	if (!ep->children)
		ep_status(ep, false, cause);
	else
		log_warn(IKE_LOG, "%s: %s (existing CHILD SAs stay up)", ep->cfg.name, cause);
}

void ep_drop(struct ike_peer *ep, enum ike_drop why, const char *detail)
{
	if ((unsigned)why >= IKE_DROP_COUNT)
		why = IKE_DROP_UNEXPECTED;
	ep->st.dropped[why]++;
	/* a forged packet can cause any of these at packet rate */
	ike_log_limited(ep, IKE_LOGK_DROP + why, ep->now_ms, LOG_WARN, "%s: dropped message: %s%s%s",
			ep->cfg.name, ike_drop_name(why), detail ? ": " : "", detail ? detail : "");
}

static const char *log_kind_name(enum ike_log_kind k)
{
	if (k < IKE_LOGK_MM1)
		return ike_drop_name(k - IKE_LOGK_DROP);
	switch (k) {
	case IKE_LOGK_MM1: return "peer initiated Main Mode";
	case IKE_LOGK_HO_EVICT: return "unanswered Main Mode dropped to make room";
	case IKE_LOGK_SRC_LIMIT: return "source over its budget of new exchanges";
	case IKE_LOGK_SA_LIMIT: return "too many ISAKMP SAs";
	case IKE_LOGK_MISMATCH: return "proposal mismatch";
	case IKE_LOGK_STATE: return "state change";
	default: return "?";
	}
}

/* Reports what the log limits held back, once their windows ended. */
static void log_limits_flush(struct ike_peer *ep, uint64_t now)
{
	for (size_t k = 0; k < IKE_LOGK_MAX; k++) {
		if (!ep->logk[k].ll_suppressed)
			continue;
		char what[IKE_NAME_MAX + 96];
		snprintf(what, sizeof(what), "%s: %s%s", ep->cfg.name,
			 k < IKE_LOGK_MM1 ? "dropped message: " : "",
			 log_kind_name((enum ike_log_kind)k));
		log_limit_flush(&ep->logk[k], now, LOG_WARN, IKE_LOG, what);
	}
}

static uint64_t log_limits_deadline(const struct ike_peer *ep)
{
	uint64_t t = UINT64_MAX;
	for (size_t k = 0; k < IKE_LOGK_MAX; k++)
		if (ep->logk[k].ll_suppressed &&
		    ep->logk[k].ll_window_ms + ep->logk[k].ll_interval_ms < t)
			t = ep->logk[k].ll_window_ms + ep->logk[k].ll_interval_ms;
	return t;
}

void ike_get_stats(const struct ike_peer *ep, struct ike_stats *out) { *out = ep->st; }
bool ike_is_up(const struct ike_peer *ep) { return ep->up; }
const char *ike_status_cause(const struct ike_peer *ep) { return ep->cause; }

/* ---- ISAKMP SA status ------------------------------------------------- */

static enum ike_isakmp_state isakmp_state_of(enum sa_state s)
{
	switch (s) {
	case SA_I1: return IKE_ISAKMP_MM_NO_STATE;
	case SA_I3:
	case SA_R2: return IKE_ISAKMP_MM_SA_SETUP;
	case SA_I5:
	case SA_R4: return IKE_ISAKMP_MM_KEY_EXCH;
	case SA_ESTABLISHED: return IKE_ISAKMP_QM_IDLE;
	case SA_DEAD: break;
	}
	return IKE_ISAKMP_NONE;
}

const char *ike_isakmp_state_name(enum ike_isakmp_state s)
{
	switch (s) {
	case IKE_ISAKMP_NONE: return "NONE";
	case IKE_ISAKMP_MM_NO_STATE: return "MM_NO_STATE";
	case IKE_ISAKMP_MM_SA_SETUP: return "MM_SA_SETUP";
	case IKE_ISAKMP_MM_KEY_EXCH: return "MM_KEY_EXCH";
	case IKE_ISAKMP_QM_IDLE: return "QM_IDLE";
	}
	return "?";
}

static uint32_t seconds_until(uint64_t at, uint64_t now)
{
	uint64_t s = at > now ? (at - now) / 1000 : 0;
	return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

void ike_get_isakmp_status(const struct ike_peer *ep, uint64_t now,
			   struct ike_isakmp_status *out)
{
	memset(out, 0, sizeof(*out));
	const struct ike_sa *best = ep_best_sa(ep), *sa = best;
	for (const struct ike_sa *s = ep->sas; s; s = s->next) {
		if (s->state == SA_DEAD)
			continue;
		out->n_sas++;
		if (!best && (!sa || s->serial > sa->serial))
			sa = s;		/* newest in Main Mode */
	}
	if (!sa)
		return;
	out->state = isakmp_state_of(sa->state);
	out->conn_id = sa->serial;
	out->initiator = sa->initiator;
	memcpy(out->cookie_i, sa->ck_i, 8);
	memcpy(out->cookie_r, sa->ck_r, 8);
	out->local.ip = ep->cfg.local_ip;
	out->local.port = sa->local_port;
	out->peer = sa->peer;
	out->nat_local = sa->nat_here;
	out->nat_peer = sa->nat_there;
	out->peer_dpd = sa->peer_dpd;
	if (sa->state != SA_I1) {
		out->encr = sa->alg.encr;
		out->integ = sa->alg.integ;
		out->dh_group = sa->alg.group;
		out->lifetime_s = sa->alg.lifetime_s;
	}
	for (const struct ike_qm *qm = sa->qms; qm; qm = qm->next)
		out->qm_in_flight += qm->state != QM_DONE;
	if (sa->state == SA_ESTABLISHED) {
		out->established_s = now > sa->established_ms ?
			(uint32_t)((now - sa->established_ms) / 1000) : 0;
		out->remaining_s = seconds_until(sa->expire_ms, now);
		out->reauth_in_s = sa->rekey_started ? 0 : seconds_until(sa->rekey_ms, now);
	}
}

/* ---- helpers ---------------------------------------------------------- */

uint64_t ep_rekey_ms(const struct ike_peer *ep, uint64_t now, uint32_t lifetime_s)
{
	uint64_t life = (uint64_t)lifetime_s * 1000;
	uint64_t margin = (uint64_t)ep->cfg.rekey_margin_s * 1000;
	if (margin >= life / 2)
		margin = life / 4;	/* a margin larger than the life makes no sense */
	uint64_t fuzz = margin * ep->cfg.rekey_fuzz_pct / 100;
	if (fuzz > UINT32_MAX - 1)
		fuzz = UINT32_MAX - 1;
	uint64_t r = fuzz ? rand_uniform((uint32_t)fuzz + 1) : 0;
	return now + life - margin - r;
}

void ep_digest(const uint8_t *pkt, size_t len, uint8_t out[IKE_DIGEST_LEN])
{
	struct ike_chunk c = { pkt, len };
	if (!ike_hash(IKE_INTEG_SHA256, &c, 1, out))
		memset(out, 0, IKE_DIGEST_LEN);
}

void xmit_clear(struct ike_xmit *x)
{
	free(x->buf);
	memset(x, 0, sizeof(*x));
}

void xmit_start(struct ike_peer *ep, struct ike_sa *sa, struct ike_xmit *x,
		const struct isakmp_buf *b, bool retransmit, uint64_t now)
{
	xmit_clear(x);
	if (b->overflow) {
		log_error(IKE_LOG, "%s: message too large to build", ep->cfg.name);
		return;
	}
	x->buf = malloc(b->len);
	if (!x->buf)
		return;
	memcpy(x->buf, b->b, b->len);
	x->len = b->len;
	x->active = retransmit;
	x->tries = 0;
	x->next_ms = now + ep->cfg.retransmit_base_ms;
	ep_send(ep, &sa->peer, sa->local_port, x->buf, x->len);
}

void xmit_resend(struct ike_peer *ep, struct ike_sa *sa, struct ike_xmit *x)
{
	if (x->buf)
		ep_send(ep, &sa->peer, sa->local_port, x->buf, x->len);
}

struct ike_sa *ep_best_sa(const struct ike_peer *ep)
{
	struct ike_sa *best = NULL;
	for (struct ike_sa *sa = ep->sas; sa; sa = sa->next)
		if (sa->state == SA_ESTABLISHED && (!best || sa->established_ms >= best->established_ms))
			best = sa;
	return best;
}

bool ep_mm_in_progress(const struct ike_peer *ep)
{
	for (struct ike_sa *sa = ep->sas; sa; sa = sa->next)
		if (sa->state != SA_ESTABLISHED && sa->state != SA_DEAD)
			return true;
	return false;
}

static bool child_rekey_due(const struct ike_child *c, uint64_t now)
{
	return !c->rekeying && now >= c->rekey_ms;
}

/* Our Quick Mode for c's selectors is under way. */
static void child_rekey_begun(struct ike_peer *ep, struct ike_child *c)
{
	c->rekeying = true;
	child_set_state(ep, c, CHILD_REKEYING, "we rekey it (Quick Mode sent)");
}

void ep_after_established(struct ike_peer *ep, struct ike_sa *sa, uint64_t now)
{
	/* rekeys that waited for an ISAKMP SA */
	for (struct ike_child *c = ep->children; c; c = c->next)
		if (child_rekey_due(c, now) &&
		    qm_initiate(ep, sa, now, &c->ts_local, &c->ts_remote, c->spi_in))
			child_rekey_begun(ep, c);
	/* the tunnel we were asked to bring up */
	if (ep->active && !ep->children && !ep_has_qm_in_flight(ep)) {
		struct ike_ts l = ts_from_subnet(ep->cfg.local_ts);
		struct ike_ts r = ts_from_subnet(ep->cfg.remote_ts);
		qm_initiate(ep, sa, now, &l, &r, 0);
	}
}

void ep_clear(struct ike_peer *ep, uint64_t now, bool send_deletes, const char *cause)
{
	while (ep->children)
		child_delete(ep, ep->children, now, send_deletes, cause);
	for (struct ike_sa *sa = ep->sas; sa; sa = sa->next) {
		if (send_deletes && sa->state == SA_ESTABLISHED) {
			uint8_t spi[16];
			memcpy(spi, sa->ck_i, 8);
			memcpy(spi + 8, sa->ck_r, 8);
			info_send_delete(ep, sa, PROTO_ISAKMP, spi, 16);
		}
		sa_set_state(ep, sa, SA_DEAD, cause);
	}
	ep->dpd_outstanding = false;
}

static void reap(struct ike_peer *ep)
{
	struct ike_sa **pp = &ep->sas;
	while (*pp) {
		struct ike_sa *sa = *pp;
		if (sa->state == SA_DEAD) {
			*pp = sa->next;
			sa_free(sa);
		} else {
			pp = &sa->next;
		}
	}
}

/* ---- input ------------------------------------------------------------ */

void ike_input(struct ike_peer *ep, uint64_t now, const struct ike_addr *from,
	       bool via_nat_t_port, const uint8_t *pkt, size_t len)
{
	ep->st.rx_packets++;
	ep->now_ms = now;
	if (via_nat_t_port) {
		if (len == 1 && pkt[0] == 0xff) {	/* NAT-keepalive, RFC 3948 §2.3 */
			ep->st.rx_keepalives++;
			return;
		}
		/* non-ESP marker: four zero bytes before the ISAKMP header */
		if (len < IKE_NON_ESP_MARKER_LEN) {
			ep_drop(ep, IKE_DROP_TOO_SHORT, "port 4500");
			return;
		}
		if (pkt[0] | pkt[1] | pkt[2] | pkt[3]) {
			ep_drop(ep, IKE_DROP_BAD_MARKER, NULL);
			return;
		}
		pkt += IKE_NON_ESP_MARKER_LEN;
		len -= IKE_NON_ESP_MARKER_LEN;
	}
	if (from->ip != ep->cfg.remote_ip) {
		ep_drop(ep, IKE_DROP_UNKNOWN_PEER, NULL);
		return;
	}
	struct isakmp_hdr h;
	if (!isakmp_hdr_parse(pkt, len, &h)) {
		ep_drop(ep, IKE_DROP_TOO_SHORT, NULL);
		return;
	}
	if ((h.version >> 4) != 1) {
		ep_drop(ep, IKE_DROP_BAD_VERSION, NULL);
		return;
	}
	/* the header's length must be the datagram's: no trailing bytes that
	 * the hashes would not cover, no message longer than what arrived */
	if (h.length != len) {
		ep_drop(ep, IKE_DROP_BAD_LENGTH, NULL);
		return;
	}
	switch (h.exch) {
	case EXCH_IDPROT:
		mm_input(ep, now, from, via_nat_t_port, pkt, len, &h);
		break;
	case EXCH_QUICK:
	case EXCH_INFO: {
		struct ike_sa *sa = NULL;
		for (struct ike_sa *s = ep->sas; s; s = s->next)
			if (memcmp(s->ck_i, h.ck_i, 8) == 0 && memcmp(s->ck_r, h.ck_r, 8) == 0 &&
			    s->state != SA_DEAD)
				sa = s;
		if (!(h.flags & ISAKMP_FLAG_E)) {
			if (h.exch == EXCH_INFO)
				info_plain_input(ep, now, pkt, len, &h);
			else
				ep_drop(ep, IKE_DROP_DECRYPT, "quick mode without encryption");
			break;
		}
		if (!sa) {
			ep_drop(ep, IKE_DROP_NO_SA, NULL);
			break;
		}
		if (sa->state != SA_ESTABLISHED) {
			ep_drop(ep, IKE_DROP_UNEXPECTED, "ISAKMP SA not established");
			break;
		}
		if (h.msgid == 0) {
			ep_drop(ep, IKE_DROP_UNEXPECTED, "message id 0 outside Main Mode");
			break;
		}
		/* a NAT may have changed the peer's port since Main Mode */
		if (via_nat_t_port && sa->local_port == IKE_NATT_PORT)
			sa->peer.port = from->port;
		if (h.exch == EXCH_QUICK)
			qm_input(ep, sa, now, pkt, len, &h);
		else
			info_input(ep, sa, now, pkt, len, &h);
		break;
	}
	case EXCH_AGGRESSIVE:
		ep_drop(ep, IKE_DROP_UNSUPPORTED, "aggressive mode is not supported");
		break;
	default: {
		char d[32];
		snprintf(d, sizeof(d), "exchange type %u", h.exch);
		ep_drop(ep, IKE_DROP_UNSUPPORTED, d);
		break;
	}
	}
	reap(ep);
}

/* ---- timers ----------------------------------------------------------- */

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

static uint64_t qm_deadline(const struct ike_qm *qm)
{
	uint64_t t = UINT64_MAX;
	if (qm->tx.active)
		t = qm->tx.next_ms;
	if (qm->state == QM_DONE)
		t = min64(t, qm->done_ms + IKE_QM_LINGER_MS);
	return t;
}

uint64_t ike_next_deadline(const struct ike_peer *ep)
{
	uint64_t t = ep->start_at_ms;
	for (const struct ike_sa *sa = ep->sas; sa; sa = sa->next) {
		if (sa->tx.active)
			t = min64(t, sa->tx.next_ms);
		if (sa->state == SA_ESTABLISHED) {
			if (!sa->rekey_started)
				t = min64(t, sa->rekey_ms);
			t = min64(t, sa->expire_ms);
		} else if (!sa->initiator) {
			t = min64(t, sa->created_ms + IKE_HALF_OPEN_MS);
		}
		for (const struct ike_qm *qm = sa->qms; qm; qm = qm->next)
			t = min64(t, qm_deadline(qm));
	}
	for (const struct ike_child *c = ep->children; c; c = c->next) {
		if (!c->rekeying)
			t = min64(t, c->rekey_ms);
		if (c->delete_ms)
			t = min64(t, c->delete_ms);
		t = min64(t, c->expire_ms);
	}
	t = min64(t, log_limits_deadline(ep));
	return min64(t, dpd_deadline(ep));
}

static void retransmit_due(struct ike_peer *ep, struct ike_sa *sa, struct ike_xmit *x,
			   uint64_t now, bool *gave_up)
{
	*gave_up = false;
	if (!x->active || now < x->next_ms)
		return;
	if (x->tries >= ep->cfg.retransmit_tries) {
		x->active = false;
		*gave_up = true;
		return;
	}
	x->tries++;
	x->next_ms = now + ((uint64_t)ep->cfg.retransmit_base_ms << (x->tries < 16 ? x->tries : 16));
	ep->st.retransmits++;
	log_debug(IKE_LOG, "%s: retransmit #%u", ep->cfg.name, x->tries);
	xmit_resend(ep, sa, x);
}

static void tick_sa(struct ike_peer *ep, struct ike_sa *sa, uint64_t now)
{
	bool gave_up;
	retransmit_due(ep, sa, &sa->tx, now, &gave_up);
	if (gave_up) {
		if (sa->state == SA_I5)
			sa_fail(ep, sa, now, "authentication failed: peer did not accept our "
					     "identity (pre-shared key mismatch?)");
		else
			sa_fail(ep, sa, now, "no response");
		return;
	}
	if (sa->state != SA_ESTABLISHED) {
		/* our own Main Mode ends by its retransmissions; the peer's
		 * ends here, without a status change: that is the peer's story */
		if (!sa->initiator && now >= sa->created_ms + IKE_HALF_OPEN_MS) {
			log_info(IKE_LOG, "%s: ISAKMP SA #%u: peer did not complete Main Mode, "
				 "dropped", ep->cfg.name, sa->serial);
			sa_set_state(ep, sa, SA_DEAD, "peer did not complete Main Mode");
		}
		return;
	}
	for (struct ike_qm **pp = &sa->qms; *pp;) {
		struct ike_qm *qm = *pp;
		retransmit_due(ep, sa, &qm->tx, now, &gave_up);
		if (gave_up)
			qm_fail(ep, sa, qm, now, qm->initiator ? "no response (quick mode)" :
						 "peer did not complete quick mode");
		if (gave_up || (qm->state == QM_DONE && now >= qm->done_ms + IKE_QM_LINGER_MS)) {
			*pp = qm->next;
			qm_set_state(ep, sa, qm, QM_NONE, LOG_DEBUG,
				     gave_up ? "gave up" : "finished; no longer answers retransmissions");
			qm_free(qm);
			continue;
		}
		pp = &qm->next;
	}
	if (now >= sa->expire_ms) {
		log_info(IKE_LOG, "%s: ISAKMP SA #%u lifetime expired", ep->cfg.name, sa->serial);
		uint8_t spi[16];
		memcpy(spi, sa->ck_i, 8);
		memcpy(spi + 8, sa->ck_r, 8);
		info_send_delete(ep, sa, PROTO_ISAKMP, spi, 16);
		sa_set_state(ep, sa, SA_DEAD, "lifetime expired");
		return;
	}
	if (!sa->rekey_started && now >= sa->rekey_ms) {
		sa->rekey_started = true;
		if (ep->active || ep->children) {
			log_info(IKE_LOG, "%s: re-authenticating ISAKMP SA #%u", ep->cfg.name,
				 sa->serial);
			mm_initiate(ep, now, true);
		}
	}
}

/* A Quick Mode for c's selectors, or first the Main Mode it needs. */
static void child_rekey_start(struct ike_peer *ep, struct ike_child *c, uint64_t now)
{
	struct ike_sa *sa = ep_best_sa(ep);
	if (sa) {
		if (qm_initiate(ep, sa, now, &c->ts_local, &c->ts_remote, c->spi_in))
			child_rekey_begun(ep, c);
	} else if (!ep_mm_in_progress(ep)) {
		mm_initiate(ep, now, false);
	}
}

bool ike_child_sa_rekey(struct ike_peer *ep, uint32_t spi_in, uint64_t now)
{
	struct ike_child *c = ep->children;
	while (c && c->spi_in != spi_in)
		c = c->next;
	if (!c)
		return false;
	if (c->rekeying)	/* under way, or already replaced */
		return true;
	ep->now_ms = now;
	log_info(IKE_LOG, "%s: CHILD SA %08x/%08x: rekey requested", ep->cfg.name, c->spi_in,
		 c->spi_out);
	if (c->rekey_ms > now)
		c->rekey_ms = now;	/* due: the tick retries if it cannot start now */
	child_rekey_start(ep, c, now);
	reap(ep);
	return true;
}

/* A CHILD SA installed after c for the same selectors: c's replacement. */
static const struct ike_child *child_newer_same_selectors(const struct ike_peer *ep,
							  const struct ike_child *c)
{
	for (const struct ike_child *o = ep->children; o; o = o->next)
		if (o != c && o->installed_ms >= c->installed_ms &&
		    ts_equal(&o->ts_local, &c->ts_local) && ts_equal(&o->ts_remote, &c->ts_remote) &&
		    o->expire_ms > c->expire_ms)
			return o;
	return NULL;
}

void ike_tick(struct ike_peer *ep, uint64_t now)
{
	ep->now_ms = now;
	ho_expire(ep, now);
	log_limits_flush(ep, now);
	if (now >= ep->start_at_ms) {
		ep->start_at_ms = UINT64_MAX;
		if (!ep_best_sa(ep) && !ep_mm_in_progress(ep))
			mm_initiate(ep, now, false);
		else if (ep_best_sa(ep))
			ep_after_established(ep, ep_best_sa(ep), now);
	}
	/* tick_sa may start a new Main Mode, which links a new SA at the head
	 * of the list: walk a snapshot of the successors */
	for (struct ike_sa *sa = ep->sas, *next; sa; sa = next) {
		next = sa->next;
		if (sa->state != SA_DEAD)
			tick_sa(ep, sa, now);
	}
	for (struct ike_child *c = ep->children, *next; c; c = next) {
		next = c->next;
		if (c->delete_ms && now >= c->delete_ms && now < c->expire_ms) {
			child_delete(ep, c, now, true, "replaced by our rekey");
			continue;
		}
		if (now >= c->expire_ms) {
			const struct ike_child *newer = child_newer_same_selectors(ep, c);
			if (newer) {
				/* the normal end of an SA that was rekeyed (by the
				 * peer, whose Delete we did not get) */
				char why[80];
				snprintf(why, sizeof(why), "lifetime expired, replaced by %08x/%08x",
					 newer->spi_in, newer->spi_out);
				child_delete(ep, c, now, true, why);
				continue;
			}
			child_delete(ep, c, now, true, "lifetime expired");
			ep_down_unless_children(ep, "CHILD SA expired");
			continue;
		}
		if (child_rekey_due(c, now))
			child_rekey_start(ep, c, now);
	}
	dpd_tick(ep, now);
	reap(ep);
}

void ike_start(struct ike_peer *ep, uint64_t now)
{
	ep->active = true;
	ep->start_at_ms = now;
	ike_tick(ep, now);
}

void ike_stop(struct ike_peer *ep, uint64_t now)
{
	ep->now_ms = now;
	ep->active = false;
	ep->start_at_ms = UINT64_MAX;
	ep_clear(ep, now, true, "stopped");
	ep_status(ep, false, "stopped");
	reap(ep);
}

void ike_child_sa_used(struct ike_peer *ep, uint32_t spi_in, uint64_t now)
{
	for (struct ike_child *c = ep->children; c; c = c->next)
		if (c->spi_in == spi_in) {
			if (now > ep->last_rx_ms)
				ep->last_rx_ms = now;
			ep->dpd_outstanding = false;
			return;
		}
}
