/*
 * ikev2_peer.c — one tunnel's IKEv2 peer (struct ikev2_peer): configuration, the input
 * dispatcher (header, SA lookup, message-id windows, decryption and
 * reassembly), timers, the scheduler of work an IKE SA owes, the action
 * queue, status and counters.
 *
 * Must never read a clock, touch a socket or keep global state: time comes
 * in as now_ms, packets leave as IKE_ACT_SEND actions.
 */
#include "vpn/ike/ikev2_internal.h"
#include "vpn/ike/ike_config.h"

#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- configuration ---------------------------------------------------- */

struct ikev2_peer *ikev2_peer_new(const struct ike_tunnel_config *cfg)
{
	const char *why = ike_config_check(cfg, IKE_V2);
	if (why) {
		log_error(V2_LOG, "%.*s: invalid configuration: %s", IKE_NAME_MAX, cfg->name, why);
		return NULL;
	}
	struct ikev2_peer *ep = calloc(1, sizeof(*ep));
	if (!ep)
		return NULL;
	ep->cfg = *cfg;
	ike_config_defaults(&ep->cfg);
	ep->active = cfg->startup == IKE_STARTUP_START;
	ep->start_at_ms = ep->active ? 0 : UINT64_MAX;
	rand_bytes(ep->cookie_secret, sizeof(ep->cookie_secret));
	snprintf(ep->cause, sizeof(ep->cause), "not started");
	for (size_t k = 0; k < V2_LOGK_MAX; k++)
		ep->logk[k] = (struct log_limit)LOG_LIMIT_INIT(V2_LOG_INTERVAL_MS,
							       k == V2_LOGK_STATE ? V2_LOG_STATE_BURST : V2_LOG_BURST);
	return ep;
}

void ikev2_peer_free(struct ikev2_peer *ep)
{
	if (!ep)
		return;
	while (ep->sas) {
		struct v2_sa *sa = ep->sas;
		ep->sas = sa->next;
		v2_sa_free(sa);
	}
	while (ep->children) {
		struct v2_child *c = ep->children;
		ep->children = c->next;
		secret_wipe(c, sizeof(*c));
		free(c);
	}
	ike_actq_free(&ep->q);
	secret_wipe(ep, sizeof(*ep));
	free(ep);
}

/* ---- actions and status ---------------------------------------------- */

void v2_emit(struct ikev2_peer *ep, const struct ike_action *act)
{
	ike_actq_emit(&ep->q, act, V2_LOG, ep->cfg.name);
}

void v2_send_raw(struct ikev2_peer *ep, const struct ike_addr *dst, uint16_t src_port,
		 const uint8_t *msg, size_t len)
{
	if (ike_actq_send(&ep->q, dst, src_port, msg, len, V2_LOG, ep->cfg.name))
		ep->st.tx_packets++;
}

bool ikev2_next_action(struct ikev2_peer *ep, struct ike_action *out)
{
	return ike_actq_next(&ep->q, out);
}

void v2_status(struct ikev2_peer *ep, bool up, const char *cause)
{
	if (up)
		cause = "";
	if (ep->up == up && strcmp(ep->cause, cause) == 0)
		return;
	ep->up = up;
	snprintf(ep->cause, sizeof(ep->cause), "%s", cause);
	if (up)
		log_info(V2_LOG, "%s: tunnel UP (IKEv2)", ep->cfg.name);
	else
		log_warn(V2_LOG, "%s: tunnel DOWN: %s", ep->cfg.name, cause);
	struct ike_action a = { .kind = IKE_ACT_STATUS };
	a.status.up = up;
	snprintf(a.status.cause, sizeof(a.status.cause), "%s", ep->cause);
	v2_emit(ep, &a);
}

void v2_update_status(struct ikev2_peer *ep, const char *cause)
{
	const struct v2_sa *sa = v2_current_sa(ep);
	if (sa && ep->children)
		v2_status(ep, true, "");
	else if (!ep->up)	/* keep the first cause while down, unless a new one */
		v2_status(ep, false, cause ? cause : ep->cause);
	else
		v2_status(ep, false, cause ? cause : sa ? "IKE SA up, no CHILD SA" : "no IKE SA");
}

void v2_drop(struct ikev2_peer *ep, enum ike_drop why, const char *detail)
{
	if ((unsigned)why >= IKE_DROP_COUNT)
		why = IKE_DROP_UNEXPECTED;
	ep->st.dropped[why]++;
	/* a forged packet can cause any of these at packet rate */
	log_limited(&ep->logk[why], ep->now_ms, LOG_WARN, V2_LOG, "%s: dropped message: %s%s%s",
		    ep->cfg.name, ike_drop_name(why), detail ? ": " : "", detail ? detail : "");
}

/* Reports what the limits held back, once their windows ended. */
static void v2_log_flush(struct ikev2_peer *ep, uint64_t now)
{
	for (size_t k = 0; k < V2_LOGK_MAX; k++) {
		if (!ep->logk[k].ll_suppressed)
			continue;
		char what[IKE_NAME_MAX + 96];
		snprintf(what, sizeof(what), "%s: %s", ep->cfg.name, k == V2_LOGK_COOKIE ? "asking for a cookie" :
			 k == V2_LOGK_STATE ? "state change" : ike_drop_name((enum ike_drop)k));
		log_limit_flush(&ep->logk[k], now, LOG_WARN, V2_LOG, what);
	}
}

void ikev2_get_stats(const struct ikev2_peer *ep, struct ike_stats *out) { *out = ep->st; }
bool ikev2_is_up(const struct ikev2_peer *ep) { return ep->up; }
const char *ikev2_status_cause(const struct ikev2_peer *ep) { return ep->cause; }
bool ikev2_in_use(const struct ikev2_peer *ep) { return ep->in_use; }

/* ---- helpers ---------------------------------------------------------- */

uint64_t v2_rekey_ms(const struct ikev2_peer *ep, uint64_t now, uint32_t lifetime_s)
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

int v2_nonce_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	size_t n = al < bl ? al : bl;
	int c = memcmp(a, b, n);
	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

struct v2_sa *v2_current_sa(const struct ikev2_peer *ep)
{
	struct v2_sa *best = NULL;
	for (struct v2_sa *sa = ep->sas; sa; sa = sa->next)
		if (sa->state == V2_ESTABLISHED &&
		    (!best || sa->established_ms >= best->established_ms))
			best = sa;
	return best;
}

void v2_msgbuf_free(struct v2_msgbuf *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->d[i]);
	memset(m, 0, sizeof(*m));
}

void v2_msgbuf_send(struct ikev2_peer *ep, const struct v2_sa *sa, const struct v2_msgbuf *m)
{
	for (size_t i = 0; i < m->n; i++)
		v2_send_raw(ep, &sa->peer, sa->local_port, m->d[i], m->len[i]);
}

void v2_req_clear(struct v2_req *r)
{
	v2_msgbuf_free(&r->tx);
	ike_dh_free(r->dh);
	secret_wipe(r, sizeof(*r));
}

static bool msgbuf_add(struct v2_msgbuf *m, const uint8_t *p, size_t len)
{
	if (m->n == V2_FRAG_MAX)
		return false;
	m->d[m->n] = malloc(len);
	if (!m->d[m->n])
		return false;
	memcpy(m->d[m->n], p, len);
	m->len[m->n++] = len;
	return true;
}

/* One SK (total 0) or SKF datagram holding plain[0..len). */
static bool seal_one(struct ikev2_peer *ep, struct v2_sa *sa, uint8_t exch, bool response,
		     uint32_t msgid, uint8_t first_np, const uint8_t *plain, size_t len,
		     uint16_t num, uint16_t total, struct v2_msgbuf *out)
{
	static uint8_t msg[ISAKMP_MSG_MAX + 64];
	enum ike_encr e = sa->alg.encr;
	enum ike_integ h = sa->alg.integ;
	size_t body = ikev2_sk_len(e, h, len);
	size_t fields = total ? 4 : 0;
	size_t whole = IKEV2_HDR_LEN + ISAKMP_GENERIC_LEN + fields + body;
	if (whole > sizeof(msg))
		return false;
	struct isakmp_buf b;
	v2_buf_header(&b, sa->spi_i, sa->spi_r, exch,
		      (uint8_t)((sa->initiator ? V2_FLAG_I : 0) | (response ? V2_FLAG_R : 0)), msgid);
	size_t s = isakmp_buf_begin(&b, total ? V2_PL_SKF : V2_PL_SK);
	b.b[s] = num <= 1 ? first_np : V2_PL_NONE;
	if (total) {
		isakmp_buf_u16(&b, num);
		isakmp_buf_u16(&b, total);
	}
	put_be16(b.b + s + 2, (uint16_t)(ISAKMP_GENERIC_LEN + fields + body));
	put_be32(b.b + 24, (uint32_t)whole);
	memcpy(msg, b.b, b.len);
	uint8_t iv[IKE_BLOCK];
	if (ike_encr_is_gcm(e)) {
		uint64_t seq = ++sa->iv_seq;
		for (int i = 0; i < 8; i++)
			iv[i] = (uint8_t)(seq >> (56 - 8 * i));
	} else {
		rand_bytes(iv, sizeof(iv));
	}
	const uint8_t *ek = sa->initiator ? sa->k.sk_ei : sa->k.sk_er;
	const uint8_t *ak = sa->initiator ? sa->k.sk_ai : sa->k.sk_ar;
	if (!ikev2_sk_seal(e, h, ek, ak, msg, b.len, plain, len, iv))
		return false;
	return msgbuf_add(out, msg, whole);
}

bool v2_seal(struct ikev2_peer *ep, struct v2_sa *sa, uint8_t exch, bool response,
	     uint32_t msgid, const struct isakmp_buf *inner, struct v2_msgbuf *out)
{
	memset(out, 0, sizeof(*out));
	if (inner->overflow || inner->len < 1) {
		log_error(V2_LOG, "%s: message too large to build", ep->cfg.name);
		return false;
	}
	const uint8_t *plain = inner->b + 1;
	size_t len = inner->len - 1;
	/* IP + UDP + marker + IKE header + SKF header + IV + padding + ICV */
	size_t room = IKEV2_FRAGMENT_MTU - 20 - 8 - 4 - IKEV2_HDR_LEN - 8 - 16 - 16 - 32;
	bool ok;
	if (!sa->peer_frag || exch == V2_IKE_SA_INIT ||
	    20 + 8 + 4 + IKEV2_HDR_LEN + 4 + ikev2_sk_len(sa->alg.encr, sa->alg.integ, len) <=
		    IKEV2_FRAGMENT_MTU) {
		ok = seal_one(ep, sa, exch, response, msgid, inner->b[0], plain, len, 0, 0, out);
	} else {
		uint16_t total = (uint16_t)((len + room - 1) / room);
		ok = total <= V2_FRAG_MAX;
		for (uint16_t i = 0; ok && i < total; i++) {
			size_t off = (size_t)i * room;
			size_t n = len - off < room ? len - off : room;
			ok = seal_one(ep, sa, exch, response, msgid, inner->b[0], plain + off, n,
				      (uint16_t)(i + 1), total, out);
		}
	}
	if (!ok) {
		log_error(V2_LOG, "%s: cannot protect %s message", ep->cfg.name, v2_exch_name(exch));
		v2_msgbuf_free(out);
	}
	return ok;
}

void v2_request(struct ikev2_peer *ep, struct v2_sa *sa, uint8_t exch,
		const struct isakmp_buf *inner, uint64_t now)
{
	sa->req.msgid = sa->next_msgid++;
	if (!v2_seal(ep, sa, exch, false, sa->req.msgid, inner, &sa->req.tx)) {
		v2_req_clear(&sa->req);
		return;
	}
	sa->req.tries = 0;
	sa->req.first_ms = now;
	sa->req.next_ms = now + ep->cfg.retransmit_base_ms;
	v2_msgbuf_send(ep, sa, &sa->req.tx);
}

void v2_respond(struct ikev2_peer *ep, struct v2_sa *sa, uint8_t exch,
		const struct isakmp_buf *inner)
{
	v2_msgbuf_free(&sa->resp);
	sa->have_resp = v2_seal(ep, sa, exch, true, sa->peer_msgid, inner, &sa->resp);
	sa->peer_msgid++;
	if (sa->have_resp)
		v2_msgbuf_send(ep, sa, &sa->resp);
}

/* ---- input ------------------------------------------------------------ */

static struct v2_sa *sa_lookup(struct ikev2_peer *ep, const struct v2_hdr *h)
{
	for (struct v2_sa *sa = ep->sas; sa; sa = sa->next)
		if (sa->state != V2_DEAD && memcmp(sa->spi_i, h->spi_i, 8) == 0 &&
		    memcmp(sa->spi_r, h->spi_r, 8) == 0)
			return sa;
	return NULL;
}

static void frags_clear(struct v2_frags *f)
{
	for (size_t i = 0; i < V2_FRAG_MAX; i++) {
		if (f->part[i])
			secret_wipe(f->part[i], f->len[i]);
		free(f->part[i]);
	}
	memset(f, 0, sizeof(*f));
}

/* Decrypt the SK or SKF payload of pkt into plain; for a fragment, keep
 * it and return 0 until the message is whole. 1: plain, plain_len and np
 * hold the inner payloads; -1: dropped (counted). */
static int unprotect(struct ikev2_peer *ep, struct v2_sa *sa, const uint8_t *pkt, size_t len,
		     const struct v2_hdr *h, uint8_t *plain, size_t *plain_len, uint8_t *np)
{
	struct v2_msg outer = { .n = 0 };
	enum ike_drop r = v2_payloads_parse(h->np, pkt + IKEV2_HDR_LEN, len - IKEV2_HDR_LEN, &outer);
	if (r != IKE_DROP_NONE) {
		v2_drop(ep, r, v2_exch_name(h->exch));
		return -1;
	}
	/* the Encrypted payload must be the only outer payload */
	if (outer.n != 1 || (outer.pl[0].type != V2_PL_SK && outer.pl[0].type != V2_PL_SKF)) {
		v2_drop(ep, IKE_DROP_MISSING_PAYLOAD, "no Encrypted payload");
		return -1;
	}
	const struct v2_payload *sk = &outer.pl[0];
	bool peer_is_i = !sa->initiator;
	const uint8_t *ek = peer_is_i ? sa->k.sk_ei : sa->k.sk_er;
	const uint8_t *ak = peer_is_i ? sa->k.sk_ai : sa->k.sk_ar;
	size_t aad = (size_t)(sk->body - pkt);
	if (sk->type == V2_PL_SK) {
		if (!ikev2_sk_open(sa->alg.encr, sa->alg.integ, ek, ak, pkt, aad, sk->len, plain,
				   plain_len)) {
			v2_drop(ep, IKE_DROP_BAD_HASH, "integrity check of the Encrypted payload");
			return -1;
		}
		*np = sk->raw[0];
		return 1;
	}
	uint16_t num, total;
	if (!v2_parse_skf(sk, &num, &total) || total > V2_FRAG_MAX) {
		v2_drop(ep, IKE_DROP_BAD_PAYLOAD, "Encrypted Fragment numbers");
		return -1;
	}
	size_t part_len;
	if (!ikev2_sk_open(sa->alg.encr, sa->alg.integ, ek, ak, pkt, aad + 4, sk->len - 4, plain,
			   &part_len)) {
		v2_drop(ep, IKE_DROP_BAD_HASH, "integrity check of an Encrypted Fragment");
		return -1;
	}
	struct v2_frags *f = &sa->frags;
	bool response = h->flags & V2_FLAG_R;
	if (f->have && (f->msgid != h->msgid || f->response != response || f->total != total))
		frags_clear(f);	/* a newer message: the old one is abandoned */
	f->msgid = h->msgid;
	f->response = response;
	f->total = total;
	if (num == 1)
		f->first_np = sk->raw[0];
	if (!f->part[num - 1]) {
		f->part[num - 1] = malloc(part_len ? part_len : 1);
		if (!f->part[num - 1])
			return -1;
		memcpy(f->part[num - 1], plain, part_len);
		f->len[num - 1] = part_len;
		f->have++;
	}
	if (f->have < total)
		return 0;
	size_t off = 0;
	for (size_t i = 0; i < total; i++) {
		if (off + f->len[i] > V2_MSG_MAX) {
			frags_clear(f);
			v2_drop(ep, IKE_DROP_BAD_LENGTH, "reassembled message too large");
			return -1;
		}
		memcpy(plain + off, f->part[i], f->len[i]);
		off += f->len[i];
	}
	*plain_len = off;
	*np = f->first_np;
	frags_clear(f);
	return 1;
}

static void reap(struct ikev2_peer *ep)
{
	for (struct v2_sa **pp = &ep->sas; *pp;) {
		struct v2_sa *sa = *pp;
		if (sa->state == V2_DEAD) {
			*pp = sa->next;
			for (struct v2_sa *o = ep->sas; o; o = o->next)
				if (o->peer_rekey == sa)
					o->peer_rekey = NULL;
				else if (o->our_rekey == sa)
					o->our_rekey = NULL;
			v2_sa_free(sa);
		} else {
			pp = &sa->next;
		}
	}
}

void ikev2_input(struct ikev2_peer *ep, uint64_t now, const struct ike_addr *from, bool natt,
		 const uint8_t *pkt, size_t len)
{
	static uint8_t plain[V2_MSG_MAX];
	ep->st.rx_packets++;
	ep->now_ms = now;
	if (natt && len == 1 && pkt[0] == 0xff) {	/* NAT-keepalive (RFC 3948) */
		ep->st.rx_keepalives++;
		return;
	}
	if (natt) {
		/* the non-ESP marker */
		if (len < IKE_NON_ESP_MARKER_LEN) {
			v2_drop(ep, IKE_DROP_TOO_SHORT, NULL);
			return;
		}
		if (get_be32(pkt) != 0) {
			v2_drop(ep, IKE_DROP_BAD_MARKER, NULL);
			return;
		}
		pkt += IKE_NON_ESP_MARKER_LEN;
		len -= IKE_NON_ESP_MARKER_LEN;
	}
	if (from->ip != ep->cfg.remote_ip) {
		v2_drop(ep, IKE_DROP_UNKNOWN_PEER, NULL);
		return;
	}
	struct v2_hdr h;
	enum ike_drop r = v2_hdr_parse(pkt, len, &h);
	if (r != IKE_DROP_NONE) {
		v2_drop(ep, r, NULL);
		return;
	}
	bool response = h.flags & V2_FLAG_R;
	struct v2_msg m = { .n = 0 };
	if (h.exch == V2_IKE_SA_INIT) {
		r = v2_payloads_parse(h.np, pkt + IKEV2_HDR_LEN, len - IKEV2_HDR_LEN, &m);
		if (r != IKE_DROP_NONE) {
			v2_drop(ep, r, "IKE_SA_INIT");
			goto out;
		}
		/* a request has I set and no responder SPI; a response is for
		 * an SA we began */
		if (!response) {
			if (!(h.flags & V2_FLAG_I) || h.msgid != 0) {
				v2_drop(ep, IKE_DROP_UNEXPECTED, "IKE_SA_INIT flags or message id");
				goto out;
			}
			v2_init_request(ep, now, from, natt, pkt, len, &h, &m);
		} else {
			struct v2_sa *sa = NULL;
			for (struct v2_sa *s = ep->sas; s && !sa; s = s->next)
				if (s->state == V2_INIT_I && memcmp(s->spi_i, h.spi_i, 8) == 0)
					sa = s;
			if (!sa || h.msgid != 0 || (h.flags & V2_FLAG_I)) {
				v2_drop(ep, IKE_DROP_NO_SA, "IKE_SA_INIT response");
				goto out;
			}
			v2_init_response(ep, sa, now, from, natt, pkt, len, &m);
		}
		goto out;
	}
	struct v2_sa *sa = sa_lookup(ep, &h);
	if (!sa || !sa->have_keys) {
		v2_drop(ep, IKE_DROP_NO_SA, v2_exch_name(h.exch));
		goto out;
	}
	/* the I flag says who sent it: never ourselves */
	if (!!(h.flags & V2_FLAG_I) == sa->initiator) {
		v2_drop(ep, IKE_DROP_UNEXPECTED, "I flag");
		goto out;
	}
	bool retransmit = false;
	if (response) {
		if (sa->req.kind == REQ_NONE || h.msgid != sa->req.msgid) {
			v2_drop(ep, IKE_DROP_REPLAY, "response to no request in flight");
			goto out;
		}
	} else if (sa->have_resp && h.msgid + 1 == sa->peer_msgid) {
		retransmit = true;
	} else if (h.msgid != sa->peer_msgid) {
		v2_drop(ep, IKE_DROP_REPLAY, "request message id outside the window");
		goto out;
	}
	size_t plain_len = 0;
	uint8_t np = 0;
	int u = unprotect(ep, sa, pkt, len, &h, plain, &plain_len, &np);
	if (u <= 0)
		goto out;
	sa->last_rx_ms = now;
	if (retransmit) {
		ep->st.duplicates_answered++;
		v2_msgbuf_send(ep, sa, &sa->resp);
		goto out;
	}
	r = v2_payloads_parse(np, plain, plain_len, &m);
	if (r != IKE_DROP_NONE) {
		v2_drop(ep, r, v2_exch_name(h.exch));
		goto out;
	}
	/* the peer moved (NAT mapping changed): follow it on 4500 */
	if (natt && (sa->peer.ip != from->ip || sa->peer.port != from->port)) {
		sa->peer = *from;
		sa->local_port = IKE_NATT_PORT;
	}
	const struct v2_payload *crit = v2_unknown_critical(&m);
	if (crit && !response) {
		struct isakmp_buf b;
		v2_buf_inner(&b);
		uint8_t t = crit->type;
		v2_put_notify(&b, 0, NULL, 0, V2N_UNSUPPORTED_CRITICAL_PAYLOAD, &t, 1);
		v2_respond(ep, sa, h.exch, &b);
		goto out;
	}
	switch (h.exch) {
	case V2_IKE_AUTH:
		if (!response && sa->state == V2_INIT_R)
			v2_auth_request(ep, sa, now, &m);
		else if (response && sa->state == V2_AUTH_I)
			v2_auth_response(ep, sa, now, &m);
		else
			v2_drop(ep, IKE_DROP_UNEXPECTED, "IKE_AUTH");
		break;
	case V2_CREATE_CHILD_SA:
		if (sa->state != V2_ESTABLISHED && sa->state != V2_REKEYED) {
			v2_drop(ep, IKE_DROP_UNEXPECTED, "CREATE_CHILD_SA before IKE_AUTH");
			break;
		}
		if (response)
			v2_create_child_response(ep, sa, now, &m);
		else
			v2_create_child_input(ep, sa, now, &m);
		break;
	case V2_INFORMATIONAL:
		if (sa->state != V2_ESTABLISHED && sa->state != V2_REKEYED) {
			v2_drop(ep, IKE_DROP_UNEXPECTED, "INFORMATIONAL before IKE_AUTH");
			break;
		}
		if (response)
			v2_info_response(ep, sa, now, &m);
		else
			v2_info_input(ep, sa, now, &m);
		break;
	default:
		v2_drop(ep, IKE_DROP_UNSUPPORTED, "exchange type");
		break;
	}
	struct v2_sa *cur = v2_current_sa(ep);
	if (cur)
		ikev2_schedule(ep, cur, now);
	for (struct v2_sa *s = ep->sas; s; s = s->next)
		if (s != cur && s->state == V2_REKEYED)
			ikev2_schedule(ep, s, now);
out:
	reap(ep);
}

/* ---- timers ----------------------------------------------------------- */

/* The peer has not answered: AWS's DPD timeout action. */
static void peer_dead(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now)
{
	ep->st.dpd_timeouts++;
	log_warn(V2_LOG, "%s: #%u peer not responding for %u s (DPD), action %s", ep->cfg.name,
		 sa->serial, ep->cfg.dpd_timeout_s,
		 ep->cfg.dpd_action == IKE_DPD_CLEAR ? "clear" :
		 ep->cfg.dpd_action == IKE_DPD_RESTART ? "restart" : "none");
	if (ep->cfg.dpd_action == IKE_DPD_NONE) {
		v2_req_clear(&sa->req);
		sa->last_rx_ms = now;	/* check again later */
		return;
	}
	for (struct v2_sa *s = ep->sas; s; s = s->next)
		v2_sa_set_state(ep, s, V2_DEAD, "peer not responding (DPD)");
	v2_children_clear(ep, "peer not responding (DPD)");
	v2_status(ep, false, "peer not responding (DPD timeout)");
	if (ep->cfg.dpd_action == IKE_DPD_RESTART)
		ep->start_at_ms = now;
	else if (ep->active)
		ep->start_at_ms = now + V2_RETRY_MS;
}

static bool has_sa(const struct ikev2_peer *ep)
{
	for (struct v2_sa *sa = ep->sas; sa; sa = sa->next)
		if (sa->state != V2_DEAD)
			return true;
	return false;
}

static void req_timeout(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now)
{
	char cause[IKE_CAUSE_MAX];
	switch (sa->req.kind) {
	case REQ_INIT:
	case REQ_AUTH:
		snprintf(cause, sizeof(cause), "no response to %s",
			 sa->req.kind == REQ_INIT ? "IKE_SA_INIT" : "IKE_AUTH");
		v2_sa_fail(ep, sa, now, cause);
		break;
	default:
		if (sa->state == V2_REKEYED) {	/* old SA: no one cares any more */
			v2_sa_set_state(ep, sa, V2_DEAD, "rekeyed SA: its Delete was not answered");
			break;
		}
		peer_dead(ep, sa, now);
		break;
	}
}

void ikev2_tick(struct ikev2_peer *ep, uint64_t now)
{
	ep->now_ms = now;
	v2_log_flush(ep, now);
	if (now >= ep->start_at_ms && !has_sa(ep)) {
		ep->start_at_ms = UINT64_MAX;
		v2_initiate(ep, now);
	}
	for (struct v2_sa *sa = ep->sas; sa; sa = sa->next) {
		if (sa->state == V2_DEAD)
			continue;
		if (sa->req.kind != REQ_NONE) {
			bool established = sa->state == V2_ESTABLISHED;
			if (established && now >= sa->last_rx_ms + ep->cfg.dpd_timeout_s * 1000ull &&
			    sa->req.tries > 0) {
				peer_dead(ep, sa, now);
				continue;
			}
			if (now >= sa->req.next_ms) {
				if (sa->req.tries >= ep->cfg.retransmit_tries) {
					req_timeout(ep, sa, now);
					continue;
				}
				sa->req.tries++;
				ep->st.retransmits++;
				uint64_t wait = (uint64_t)ep->cfg.retransmit_base_ms << sa->req.tries;
				sa->req.next_ms = now + wait;
				v2_msgbuf_send(ep, sa, &sa->req.tx);
			}
		}
		if (sa->state == V2_INIT_R && now >= sa->created_ms + V2_HALF_OPEN_MS) {
			v2_sa_set_state(ep, sa, V2_DEAD, "half-open IKE SA expired");
			continue;
		}
		if (sa->state == V2_REKEYED) {
			if (!sa->we_delete_old && now >= sa->delete_ms + V2_OLD_SA_MS)
				v2_sa_set_state(ep, sa, V2_DEAD, "rekeyed SA: the peer did not delete it");
			else
				ikev2_schedule(ep, sa, now);
			continue;
		}
		if (sa->state == V2_ESTABLISHED && now >= sa->expire_ms) {
			v2_sa_fail(ep, sa, now, "IKE SA lifetime expired");
			continue;
		}
		if (sa->state == V2_ESTABLISHED && sa->nat_here && now >= sa->keepalive_ms) {
			/* one byte 0xFF from 4500, no marker, keeps the NAT's mapping */
			static const uint8_t ka = 0xff;
			struct ike_act_node *n = ike_actq_push(&ep->q, 1, V2_LOG, ep->cfg.name);
			if (n) {
				n->data[0] = ka;
				n->act.kind = IKE_ACT_SEND;
				n->act.send.dst = sa->peer;
				n->act.send.src_port = IKE_NATT_PORT;
				n->act.send.len = 1;
				ep->st.tx_packets++;
			}
			sa->keepalive_ms = now + IKEV2_NATT_KEEPALIVE_MS;
		}
	}
	/* CHILD SAs past their hard lifetime go, the peer is told */
	struct v2_sa *cur = v2_current_sa(ep);
	for (struct v2_child *c = ep->children, *next; c; c = next) {
		next = c->next;
		if (now >= c->expire_ms) {
			log_warn(V2_LOG, "%s: CHILD SA %08x/%08x expired", ep->cfg.name, c->spi_in,
				 c->spi_out);
			if (!c->delete_ms)
				c->delete_ms = now;	/* the scheduler tells the peer */
			if (!cur) {
				v2_child_remove(ep, c, "expired, no IKE SA to tell the peer");
				v2_update_status(ep, "CHILD SA expired");
			}
		}
	}
	if (cur && cur->state != V2_DEAD)
		ikev2_schedule(ep, cur, now);
	reap(ep);
}

void ikev2_schedule(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now)
{
	if (sa->req.kind != REQ_NONE)
		return;
	if (sa->state == V2_REKEYED) {
		if (sa->we_delete_old && now >= sa->delete_ms)
			v2_delete_ike_request(ep, sa, now);
		return;
	}
	if (sa->state != V2_ESTABLISHED || sa != v2_current_sa(ep))
		return;
	uint32_t spis[IKEV2_MAX_SPIS];
	size_t n = 0;
	for (struct v2_child *c = ep->children; c && n < IKEV2_MAX_SPIS; c = c->next)
		if (c->delete_ms && now >= c->delete_ms)
			spis[n++] = c->spi_in;
	if (n) {
		v2_delete_children_request(ep, sa, now, spis, n);
		return;
	}
	bool ike_rekey_busy = false;
	for (struct v2_sa *s = ep->sas; s; s = s->next)
		ike_rekey_busy |= s != sa && s->state == V2_REKEYED && s->we_delete_old;
	if (now >= sa->rekey_ms && !ike_rekey_busy) {
		v2_ike_rekey_request(ep, sa, now);
		return;
	}
	for (struct v2_child *c = ep->children; c; c = c->next)
		if (now >= c->rekey_ms && !c->rekeying && !c->replaced && !c->delete_ms) {
			v2_child_request(ep, sa, now, c->spi_in);
			return;
		}
	if (!ep->children && ep->active && now >= ep->child_retry_ms) {
		ep->child_retry_ms = now + V2_RETRY_MS;
		v2_child_request(ep, sa, now, 0);
		return;
	}
	if (ep->cfg.dpd_delay_s && now >= sa->last_rx_ms + ep->cfg.dpd_delay_s * 1000ull)
		v2_liveness_request(ep, sa, now);
}

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

uint64_t ikev2_next_deadline(const struct ikev2_peer *ep)
{
	uint64_t d = UINT64_MAX;
	if (!has_sa(ep))
		d = ep->start_at_ms;
	const struct v2_sa *cur = v2_current_sa(ep);
	for (const struct v2_sa *sa = ep->sas; sa; sa = sa->next) {
		if (sa->state == V2_DEAD)
			continue;
		bool free_window = sa->req.kind == REQ_NONE;
		if (!free_window) {
			d = min64(d, sa->req.next_ms);
			if (sa->state == V2_ESTABLISHED)
				d = min64(d, sa->last_rx_ms + ep->cfg.dpd_timeout_s * 1000ull);
		}
		if (sa->state == V2_INIT_R)
			d = min64(d, sa->created_ms + V2_HALF_OPEN_MS);
		if (sa->state == V2_REKEYED)
			d = min64(d, sa->we_delete_old ? (free_window ? sa->delete_ms : UINT64_MAX)
						       : sa->delete_ms + V2_OLD_SA_MS);
		if (sa->state == V2_ESTABLISHED)
			d = min64(d, sa->expire_ms);
		if (sa->state == V2_ESTABLISHED && sa->nat_here)
			d = min64(d, sa->keepalive_ms);
		if (sa != cur || !free_window)
			continue;
		d = min64(d, sa->rekey_ms);
		if (ep->cfg.dpd_delay_s)
			d = min64(d, sa->last_rx_ms + ep->cfg.dpd_delay_s * 1000ull);
		if (!ep->children && ep->active)
			d = min64(d, ep->child_retry_ms);
		for (const struct v2_child *c = ep->children; c; c = c->next) {
			if (c->delete_ms)
				d = min64(d, c->delete_ms);
			else if (!c->rekeying && !c->replaced)
				d = min64(d, c->rekey_ms);
		}
	}
	for (const struct v2_child *c = ep->children; c; c = c->next)
		if (!c->delete_ms)	/* once due, the deletion's own deadline rules */
			d = min64(d, c->expire_ms);
	return d;
}

/* ---- control ---------------------------------------------------------- */

void ikev2_start(struct ikev2_peer *ep, uint64_t now)
{
	ep->active = true;
	if (!v2_current_sa(ep))
		v2_initiate(ep, now);
}

void ikev2_stop(struct ikev2_peer *ep, uint64_t now)
{
	for (struct v2_sa *sa = ep->sas; sa; sa = sa->next) {
		if (sa->state == V2_ESTABLISHED || sa->state == V2_REKEYED) {
			/* one Delete, not retransmitted: we are going away */
			v2_req_clear(&sa->req);
			v2_delete_ike_request(ep, sa, now);
		}
		v2_sa_set_state(ep, sa, V2_DEAD, "stopped");
	}
	v2_children_clear(ep, "stopped");
	ep->active = false;
	ep->start_at_ms = UINT64_MAX;
	v2_status(ep, false, "stopped");
	reap(ep);
}

void ikev2_child_sa_used(struct ikev2_peer *ep, uint32_t spi_in, uint64_t now)
{
	struct v2_child *c = v2_child_by_in(ep, spi_in);
	struct v2_sa *sa = v2_current_sa(ep);
	if (c && sa && now > sa->last_rx_ms)
		sa->last_rx_ms = now;
}

bool ikev2_child_sa_rekey(struct ikev2_peer *ep, uint32_t spi_in, uint64_t now)
{
	struct v2_child *c = v2_child_by_in(ep, spi_in);
	if (!c)
		return false;
	if (!c->rekeying && !c->replaced && c->rekey_ms > now)
		c->rekey_ms = now;
	struct v2_sa *sa = v2_current_sa(ep);
	if (sa)
		ikev2_schedule(ep, sa, now);
	return true;
}

bool ikev2_ike_sa_rekey(struct ikev2_peer *ep, uint64_t now)
{
	struct v2_sa *sa = v2_current_sa(ep);
	if (!sa)
		return false;
	if (sa->rekey_ms > now)
		sa->rekey_ms = now;
	ikev2_schedule(ep, sa, now);
	return true;
}

/* ---- status ----------------------------------------------------------- */

const char *ikev2_sa_state_name(enum ikev2_sa_state s)
{
	switch (s) {
	case IKEV2_SA_NONE: return "NONE";
	case IKEV2_SA_CONNECTING: return "CONNECTING";
	case IKEV2_SA_ESTABLISHED: return "ESTABLISHED";
	case IKEV2_SA_REKEYING: return "REKEYING";
	case IKEV2_SA_DELETING: return "DELETING";
	}
	return "?";
}

static uint32_t seconds_until(uint64_t at, uint64_t now)
{
	uint64_t s = at > now ? (at - now) / 1000 : 0;
	return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

void ikev2_get_sa_status(const struct ikev2_peer *ep, uint64_t now,
			 struct ikev2_sa_status *out)
{
	memset(out, 0, sizeof(*out));
	const struct v2_sa *sa = v2_current_sa(ep);
	for (const struct v2_sa *s = ep->sas; s; s = s->next) {
		if (s->state == V2_DEAD)
			continue;
		out->n_sas++;
		if (!v2_current_sa(ep) && (!sa || s->serial > sa->serial))
			sa = s;
	}
	if (!sa)
		return;
	switch (sa->state) {
	case V2_INIT_I:
	case V2_AUTH_I:
	case V2_INIT_R: out->state = IKEV2_SA_CONNECTING; break;
	case V2_ESTABLISHED:
		out->state = sa->req.kind == REQ_IKE_REKEY ? IKEV2_SA_REKEYING : IKEV2_SA_ESTABLISHED;
		break;
	case V2_REKEYED:
	case V2_DEAD: out->state = IKEV2_SA_DELETING; break;
	}
	out->serial = sa->serial;
	out->initiator = sa->initiator;
	memcpy(out->spi_i, sa->spi_i, 8);
	memcpy(out->spi_r, sa->spi_r, 8);
	out->local.ip = ep->cfg.local_ip;
	out->local.port = sa->local_port;
	out->peer = sa->peer;
	out->nat_local = sa->nat_here;
	out->nat_peer = sa->nat_there;
	if (sa->have_keys) {
		out->encr = sa->alg.encr;
		out->integ = sa->alg.integ;
		out->prf = sa->alg.prf;
		out->dh_group = sa->alg.group;
	}
	out->lifetime_s = ep->cfg.p1_lifetime_s;
	out->msgid_out = sa->next_msgid;
	out->msgid_in = sa->peer_msgid;
	if (sa->state == V2_ESTABLISHED) {
		out->established_s = now > sa->established_ms ?
			(uint32_t)((now - sa->established_ms) / 1000) : 0;
		out->rekey_in_s = seconds_until(sa->rekey_ms, now);
		out->remaining_s = seconds_until(sa->expire_ms, now);
	}
}
