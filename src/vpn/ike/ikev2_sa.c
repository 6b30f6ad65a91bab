/*
 * ikev2_sa.c — the IKE SA's life: IKE_SA_INIT and IKE_AUTH in both roles
 * (PSK, ID_IPV4_ADDR), cookies, INVALID_KE_PAYLOAD retries, NAT detection
 * and the float to port 4500, the first CHILD SA, failure and teardown.
 *
 * Every message is checked before it changes anything: a response that
 * does not verify leaves the SA as it was (the retransmission timer still
 * runs), a request that does not verify is answered with the RFC's error
 * notify and leaves no state behind.
 */
#include "vpn/ike/ikev2_internal.h"

#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t zero_spi[8];

const char *v2_state_name(enum v2_state s)
{
	switch (s) {
	case V2_INIT_I: return "INIT_I";
	case V2_AUTH_I: return "AUTH_I";
	case V2_INIT_R: return "INIT_R";
	case V2_ESTABLISHED: return "ESTABLISHED";
	case V2_REKEYED: return "REKEYED";
	case V2_DEAD: return "DEAD";
	}
	return "?";
}

void v2_sa_set_state(struct ikev2_peer *ep, struct v2_sa *sa, enum v2_state s, const char *cause)
{
	if (sa->state == s)
		return;
	log_limited(&ep->logk[V2_LOGK_STATE], ep->now_ms, LOG_INFO, V2_LOG, "%s: IKE SA #%u %s -> %s: %s",
		    ep->cfg.name, sa->serial, v2_state_name(sa->state), v2_state_name(s), cause);
	sa->state = s;
	if (s == V2_DEAD && sa->req.kind == REQ_CHILD_REKEY) {
		/* the rekey died with its IKE SA: let the next SA try again */
		struct v2_child *c = v2_child_by_in(ep, sa->req.rekey_spi_in);
		if (c && !c->replaced) {
			c->rekeying = false;
			v2_child_note_state(ep, c, "its rekey died with its IKE SA");
		}
	}
}

struct v2_sa *v2_sa_new(struct ikev2_peer *ep, bool initiator, uint64_t now)
{
	size_t n = 0;
	for (struct v2_sa *s = ep->sas; s; s = s->next)
		n += s->state != V2_DEAD;
	if (n >= V2_MAX_SAS) {
		log_warn(V2_LOG, "%s: too many IKE SAs (%zu), refusing another", ep->cfg.name, n);
		return NULL;
	}
	struct v2_sa *sa = calloc(1, sizeof(*sa));
	if (!sa)
		return NULL;
	sa->serial = ++ep->next_serial;
	sa->initiator = initiator;
	sa->state = initiator ? V2_INIT_I : V2_INIT_R;
	log_limited(&ep->logk[V2_LOGK_STATE], ep->now_ms, LOG_INFO, V2_LOG, "%s: IKE SA #%u NONE -> %s: %s",
		    ep->cfg.name, sa->serial, v2_state_name(sa->state),
		    initiator ? "we send IKE_SA_INIT" : "peer's IKE_SA_INIT");
	rand_bytes(initiator ? sa->spi_i : sa->spi_r, 8);
	sa->peer.ip = ep->cfg.remote_ip;
	sa->peer.port = IKE_PORT;
	sa->local_port = IKE_PORT;
	sa->created_ms = sa->last_rx_ms = now;
	sa->rekey_ms = sa->expire_ms = UINT64_MAX;
	sa->next = ep->sas;
	ep->sas = sa;
	return sa;
}

void v2_sa_free(struct v2_sa *sa)
{
	if (!sa)
		return;
	v2_req_clear(&sa->req);
	v2_msgbuf_free(&sa->resp);
	for (size_t i = 0; i < V2_FRAG_MAX; i++) {
		if (sa->frags.part[i])
			secret_wipe(sa->frags.part[i], sa->frags.len[i]);
		free(sa->frags.part[i]);
	}
	ike_dh_free(sa->dh);
	free(sa->init_i);
	free(sa->init_r);
	secret_wipe(sa, sizeof(*sa));
	free(sa);
}

void v2_sa_fail(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now, const char *cause)
{
	bool was_current = sa == v2_current_sa(ep);
	log_warn(V2_LOG, "%s: #%u failed: %s", ep->cfg.name, sa->serial, cause);
	v2_sa_set_state(ep, sa, V2_DEAD, cause);
	if (was_current && !v2_current_sa(ep))
		v2_children_clear(ep, cause);
	if (!v2_current_sa(ep)) {
		v2_status(ep, false, cause);
		if (ep->active && ep->start_at_ms == UINT64_MAX)
			ep->start_at_ms = now + V2_RETRY_MS;
	} else if (!ep->up) {
		v2_update_status(ep, cause);
	}
}

bool v2_sa_keys(struct v2_sa *sa, const uint8_t *gir, size_t gir_len, const struct v2_sa *old)
{
	sa->have_keys = ikev2_derive_ike_keys(sa->alg.prf, sa->alg.integ, sa->alg.encr, gir, gir_len,
					      sa->ni, sa->ni_len, sa->nr, sa->nr_len, sa->spi_i,
					      sa->spi_r, old ? old->alg.prf : IKE_INTEG_NONE,
					      old ? old->k.sk_d : NULL, &sa->k, NULL);
	return sa->have_keys;
}

static bool copy_msg(uint8_t **dst, size_t *dst_len, const uint8_t *p, size_t len)
{
	free(*dst);
	*dst = malloc(len);
	if (!*dst)
		return false;
	memcpy(*dst, p, len);
	*dst_len = len;
	return true;
}

/* ---- NAT detection ---------------------------------------------------- */

static void natd_put(struct isakmp_buf *b, const uint8_t spi_i[8], const uint8_t spi_r[8],
		     uint32_t src_ip, uint16_t src_port, uint32_t dst_ip, uint16_t dst_port)
{
	uint8_t h[20];
	if (ikev2_natd_hash(spi_i, spi_r, src_ip, src_port, h))
		v2_put_notify(b, 0, NULL, 0, V2N_NAT_DETECTION_SOURCE_IP, h, 20);
	if (ikev2_natd_hash(spi_i, spi_r, dst_ip, dst_port, h))
		v2_put_notify(b, 0, NULL, 0, V2N_NAT_DETECTION_DESTINATION_IP, h, 20);
}

/* Compare the peer's NAT_DETECTION_* notifies with what we see. spi_r is
 * what the sender hashed (zero in the IKE_SA_INIT request). */
static void natd_check(struct ikev2_peer *ep, struct v2_sa *sa, const struct v2_msg *m,
		       const uint8_t spi_i[8], const uint8_t spi_r[8], const struct ike_addr *from,
		       uint16_t local_port)
{
	uint8_t src[20], dst[20];
	if (!ikev2_natd_hash(spi_i, spi_r, from->ip, from->port, src) ||
	    !ikev2_natd_hash(spi_i, spi_r, ep->cfg.local_ip, local_port, dst))
		return;
	bool any_src = false, src_ok = false, any_dst = false, dst_ok = false;
	for (size_t i = 0; i < m->n; i++) {
		struct v2_notify n;
		if (m->pl[i].type != V2_PL_N || !v2_parse_notify(&m->pl[i], &n))
			continue;
		if (n.type == V2N_NAT_DETECTION_SOURCE_IP) {
			any_src = true;
			src_ok |= n.len == 20 && memcmp(n.data, src, 20) == 0;
		} else if (n.type == V2N_NAT_DETECTION_DESTINATION_IP) {
			any_dst = true;
			dst_ok |= n.len == 20 && memcmp(n.data, dst, 20) == 0;
		}
	}
	sa->nat_there = any_src && !src_ok;
	sa->nat_here = any_dst && !dst_ok;
	if (sa->nat_there || sa->nat_here)
		log_info(V2_LOG, "%s: #%u NAT detected (%s)", ep->cfg.name, sa->serial,
			 sa->nat_here && sa->nat_there ? "both sides" :
			 sa->nat_here ? "in front of us" : "in front of the peer");
}

/* ---- cookies (§2.6) --------------------------------------------------- */

static void cookie_compute(const struct ikev2_peer *ep, const uint8_t *ni, size_t ni_len,
			   uint32_t ip, const uint8_t spi_i[8], uint8_t out[V2_COOKIE_LEN])
{
	uint8_t ipb[4];
	put_be32(ipb, ip);
	struct ike_chunk c[] = { { ep->cookie_secret, sizeof(ep->cookie_secret) }, { ni, ni_len },
				 { ipb, 4 }, { spi_i, 8 } };
	out[0] = 0;	/* version of the secret */
	if (!ike_hash(IKE_INTEG_SHA256, c, 4, out + 1))
		memset(out + 1, 0, V2_COOKIE_LEN - 1);
}

static size_t half_open(const struct ikev2_peer *ep)
{
	size_t n = 0;
	for (const struct v2_sa *sa = ep->sas; sa; sa = sa->next)
		n += sa->state == V2_INIT_R;
	return n;
}

/* ---- plain (IKE_SA_INIT) messages ------------------------------------- */

/* A stateless answer to an IKE_SA_INIT request: one notify. */
static void init_refuse(struct ikev2_peer *ep, const struct v2_hdr *h,
			const struct ike_addr *from, bool natt, uint16_t type, const void *data,
			size_t len)
{
	struct isakmp_buf b;
	v2_buf_header(&b, h->spi_i, zero_spi, V2_IKE_SA_INIT, V2_FLAG_R, 0);
	v2_put_notify(&b, 0, NULL, 0, type, data, len);
	isakmp_buf_finish(&b);
	if (!b.overflow)
		v2_send_raw(ep, from, natt ? IKE_NATT_PORT : IKE_PORT, b.b, b.len);
}

static void send_init(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now, uint16_t group)
{
	v2_req_clear(&sa->req);
	ike_dh_free(sa->dh);
	sa->dh = ike_dh_new(group);
	if (!sa->dh) {
		v2_sa_fail(ep, sa, now, "cannot make a Diffie-Hellman key");
		return;
	}
	sa->alg.group = group;
	if (!sa->ni_len) {	/* a retry (COOKIE, INVALID_KE) keeps Ni: the cookie covers it */
		sa->ni_len = V2_NONCE_LEN;
		rand_bytes(sa->ni, sa->ni_len);
	}
	struct isakmp_buf b;
	v2_buf_header(&b, sa->spi_i, zero_spi, V2_IKE_SA_INIT, V2_FLAG_I, 0);
	if (sa->cookie_len)
		v2_put_notify(&b, 0, NULL, 0, V2N_COOKIE, sa->cookie, sa->cookie_len);
	v2_sa_build_ike(&b, &ep->cfg, group, NULL);
	v2_put_ke(&b, group, ike_dh_pub(sa->dh), ike_dh_pub_len(group));
	isakmp_buf_simple(&b, V2_PL_NONCE, sa->ni, sa->ni_len);
	/* force_encap: our source hash names no address of ours (0.0.0.0:0) */
	natd_put(&b, sa->spi_i, zero_spi, ep->cfg.force_encap ? 0 : ep->cfg.local_ip,
		 ep->cfg.force_encap ? 0 : IKE_PORT, ep->cfg.remote_ip, IKE_PORT);
	v2_put_notify(&b, 0, NULL, 0, V2N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0);
	isakmp_buf_finish(&b);
	if (b.overflow || !copy_msg(&sa->init_i, &sa->init_i_len, b.b, b.len)) {
		v2_sa_fail(ep, sa, now, "IKE_SA_INIT too large to build");
		return;
	}
	sa->req.kind = REQ_INIT;
	sa->req.msgid = 0;
	sa->next_msgid = 1;
	sa->req.tx.d[0] = malloc(b.len);
	if (!sa->req.tx.d[0]) {
		v2_sa_fail(ep, sa, now, "out of memory");
		return;
	}
	memcpy(sa->req.tx.d[0], b.b, b.len);
	sa->req.tx.len[0] = b.len;
	sa->req.tx.n = 1;
	sa->req.first_ms = now;
	sa->req.next_ms = now + ep->cfg.retransmit_base_ms;
	sa->peer.port = IKE_PORT;
	sa->local_port = IKE_PORT;
	v2_msgbuf_send(ep, sa, &sa->req.tx);
}

struct v2_sa *v2_initiate(struct ikev2_peer *ep, uint64_t now)
{
	for (struct v2_sa *s = ep->sas; s; s = s->next)
		if (s->state == V2_INIT_I || s->state == V2_AUTH_I)
			return s;	/* one at a time */
	struct v2_sa *sa = v2_sa_new(ep, true, now);
	if (!sa)
		return NULL;
	ep->in_use = true;
	log_info(V2_LOG, "%s: #%u initiating IKE_SA_INIT (%s)", ep->cfg.name, sa->serial,
		 ike_dh_name(ep->cfg.p1_dh[0]));
	send_init(ep, sa, now, ep->cfg.p1_dh[0]);
	return sa;
}

struct v2_sa *v2_find_half_open(struct ikev2_peer *ep, const uint8_t spi_i[8],
				const struct ike_addr *from)
{
	for (struct v2_sa *sa = ep->sas; sa; sa = sa->next)
		if (!sa->initiator && sa->state != V2_DEAD && memcmp(sa->spi_i, spi_i, 8) == 0 &&
		    sa->peer.ip == from->ip)
			return sa;
	return NULL;
}

static void mismatch_cause(struct ikev2_peer *ep, const char *what, const char *offered,
			   bool ike)
{
	char ours[IKEV2_OFFERED_MAX], cause[2 * IKEV2_OFFERED_MAX + 64];
	if (ike)
		v2_offer_name_ike(&ep->cfg, ours, sizeof(ours));
	else
		v2_offer_name_esp(&ep->cfg, false, ours, sizeof(ours));
	ep->st.proposal_mismatches++;
	snprintf(cause, sizeof(cause), "IKEv2 proposal mismatch (%s): peer offered %s; tunnel allows %s",
		 what, offered && offered[0] ? offered : "nothing usable", ours);
	log_warn(V2_LOG, "%s: %s", ep->cfg.name, cause);
	if (!ep->up) {
		cause[IKE_CAUSE_MAX - 1] = 0;	/* the status keeps the beginning */
		v2_status(ep, false, cause);
	}
}

void v2_init_request(struct ikev2_peer *ep, uint64_t now, const struct ike_addr *from,
		     bool natt, const uint8_t *pkt, size_t len, const struct v2_hdr *h,
		     const struct v2_msg *m)
{
	if (memcmp(h->spi_r, zero_spi, 8) != 0) {
		v2_drop(ep, IKE_DROP_UNEXPECTED, "IKE_SA_INIT request with a responder SPI");
		return;
	}
	struct v2_sa *old = v2_find_half_open(ep, h->spi_i, from);
	if (old) {
		/* the peer repeats its request: our answer again, if we gave one */
		if (old->state == V2_INIT_R && old->have_resp) {
			ep->st.duplicates_answered++;
			v2_msgbuf_send(ep, old, &old->resp);
		}
		return;
	}
	const struct v2_payload *sa_pl = v2_find(m, V2_PL_SA, 0);
	const struct v2_payload *ke_pl = v2_find(m, V2_PL_KE, 0);
	const struct v2_payload *ni_pl = v2_find(m, V2_PL_NONCE, 0);
	struct v2_ke ke;
	if (!sa_pl || !ke_pl || !ni_pl || !v2_parse_ke(ke_pl, &ke)) {
		v2_drop(ep, IKE_DROP_MISSING_PAYLOAD, "IKE_SA_INIT needs SA, KE and Ni");
		init_refuse(ep, h, from, natt, V2N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	if (ni_pl->len < IKEV2_NONCE_MIN || ni_pl->len > IKEV2_NONCE_MAX) {
		v2_drop(ep, IKE_DROP_BAD_KE, "nonce length");
		init_refuse(ep, h, from, natt, V2N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	if (half_open(ep) >= IKEV2_COOKIE_THRESHOLD) {
		uint8_t want[V2_COOKIE_LEN];
		cookie_compute(ep, ni_pl->body, ni_pl->len, from->ip, h->spi_i, want);
		const struct v2_payload *cp = v2_find_notify(m, V2N_COOKIE);
		struct v2_notify cn;
		if (!cp || !v2_parse_notify(cp, &cn) || cn.len != V2_COOKIE_LEN ||
		    !ct_equal(cn.data, want, V2_COOKIE_LEN)) {
			log_limited(&ep->logk[V2_LOGK_COOKIE], ep->now_ms, LOG_INFO, V2_LOG,
				    "%s: %zu half-open IKE SAs: asking for a cookie", ep->cfg.name,
				    half_open(ep));
			init_refuse(ep, h, from, natt, V2N_COOKIE, want, V2_COOKIE_LEN);
			return;
		}
	}
	struct v2_choice c;
	char offered[IKEV2_OFFERED_MAX];
	enum ike_drop r = v2_sa_select(sa_pl->body, sa_pl->len, &ep->cfg, V2_PROTO_IKE, V2_DH_KE,
				       ke.group, &c, offered, sizeof(offered));
	if (r == IKE_DROP_BAD_KE) {
		uint8_t g[2];
		put_be16(g, c.group);
		log_info(V2_LOG, "%s: peer's KE is %s, asking for %s (INVALID_KE_PAYLOAD)",
			 ep->cfg.name, ike_dh_name(ke.group), ike_dh_name(c.group));
		init_refuse(ep, h, from, natt, V2N_INVALID_KE_PAYLOAD, g, 2);
		return;
	}
	if (r == IKE_DROP_NO_PROPOSAL) {
		ep->in_use = true;
		mismatch_cause(ep, "IKE SA", offered, true);
		init_refuse(ep, h, from, natt, V2N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return;
	}
	if (r != IKE_DROP_NONE) {
		v2_drop(ep, r, "IKE_SA_INIT proposal");
		init_refuse(ep, h, from, natt, V2N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	if (ke.len != ike_dh_pub_len(c.group)) {
		v2_drop(ep, IKE_DROP_BAD_KE, "KE length");
		init_refuse(ep, h, from, natt, V2N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	struct v2_sa *sa = v2_sa_new(ep, false, now);
	if (!sa)
		return;
	ep->in_use = true;
	memcpy(sa->spi_i, h->spi_i, 8);
	sa->alg = c;
	sa->peer = *from;
	sa->local_port = natt ? IKE_NATT_PORT : IKE_PORT;
	memcpy(sa->ni, ni_pl->body, ni_pl->len);
	sa->ni_len = ni_pl->len;
	sa->nr_len = V2_NONCE_LEN;
	rand_bytes(sa->nr, sa->nr_len);
	sa->peer_frag = v2_find_notify(m, V2N_IKEV2_FRAGMENTATION_SUPPORTED) != NULL;
	uint8_t gir[IKE_DH_MAX];
	size_t gir_len = 0;
	sa->dh = ike_dh_new(c.group);
	bool ok = sa->dh && ike_dh_shared(sa->dh, ke.data, ke.len, gir, &gir_len) &&
		  v2_sa_keys(sa, gir, gir_len, NULL);
	secret_wipe(gir, sizeof(gir));
	if (!ok) {
		v2_drop(ep, IKE_DROP_BAD_KE, "Diffie-Hellman with the peer's KE failed");
		v2_sa_set_state(ep, sa, V2_DEAD, "Diffie-Hellman with the peer's KE failed");
		init_refuse(ep, h, from, natt, V2N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	natd_check(ep, sa, m, h->spi_i, zero_spi, from, sa->local_port);
	if (ep->cfg.force_encap)
		sa->nat_here = true;	/* as our faked NAT-D tells the peer */
	struct isakmp_buf b;
	v2_buf_header(&b, sa->spi_i, sa->spi_r, V2_IKE_SA_INIT, V2_FLAG_R, 0);
	v2_sa_build_reply(&b, &c, NULL, 0);
	v2_put_ke(&b, c.group, ike_dh_pub(sa->dh), ike_dh_pub_len(c.group));
	isakmp_buf_simple(&b, V2_PL_NONCE, sa->nr, sa->nr_len);
	natd_put(&b, sa->spi_i, sa->spi_r, ep->cfg.force_encap ? 0 : ep->cfg.local_ip,
		 ep->cfg.force_encap ? 0 : sa->local_port, from->ip, from->port);
	v2_put_notify(&b, 0, NULL, 0, V2N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0);
	isakmp_buf_finish(&b);
	if (b.overflow || !copy_msg(&sa->init_i, &sa->init_i_len, pkt, len) ||
	    !copy_msg(&sa->init_r, &sa->init_r_len, b.b, b.len) ||
	    !(sa->resp.d[0] = malloc(b.len))) {
		v2_sa_set_state(ep, sa, V2_DEAD, "cannot build the IKE_SA_INIT answer");
		return;
	}
	memcpy(sa->resp.d[0], b.b, b.len);
	sa->resp.len[0] = b.len;
	sa->resp.n = 1;
	sa->have_resp = true;
	sa->peer_msgid = 1;
	char name[IKEV2_OFFERED_MAX];
	v2_choice_name(&c, name, sizeof(name));
	log_info(V2_LOG, "%s: #%u IKE_SA_INIT from the peer, chose %s", ep->cfg.name, sa->serial,
		 name);
	v2_msgbuf_send(ep, sa, &sa->resp);
}

/* ---- IKE_AUTH --------------------------------------------------------- */

/* The ID payload names the tunnel's peer (ID_IPV4_ADDR). */
static bool id_is_peer(const struct ikev2_peer *ep, const struct v2_payload *p, char *why,
		       size_t cap)
{
	struct v2_id id;
	if (!p || !v2_parse_id(p, &id)) {
		snprintf(why, cap, "no identity");
		return false;
	}
	if (id.type != V2_ID_IPV4_ADDR || id.len != 4) {
		snprintf(why, cap, "peer identity is not an IPv4 address (ID type %u)", id.type);
		return false;
	}
	uint32_t ip = get_be32(id.data);
	if (ip != ep->cfg.remote_id) {
		snprintf(why, cap, "peer identity %u.%u.%u.%u is not the customer gateway's",
			 ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
		return false;
	}
	return true;
}

/* AUTH the sender of `msg` computed over its IKE_SA_INIT message, the
 * other nonce and its ID (body only). */
static bool auth_compute(const struct ikev2_peer *ep, const struct v2_sa *sa, bool by_i,
			 const uint8_t *id_body, size_t id_len, uint8_t *out)
{
	const uint8_t *msg = by_i ? sa->init_i : sa->init_r;
	size_t msg_len = by_i ? sa->init_i_len : sa->init_r_len;
	const uint8_t *nonce = by_i ? sa->nr : sa->ni;
	size_t nonce_len = by_i ? sa->nr_len : sa->ni_len;
	return ikev2_psk_auth(sa->alg.prf, ep->cfg.psk, ep->cfg.psk_len, msg, msg_len, nonce,
			      nonce_len, by_i ? sa->k.sk_pi : sa->k.sk_pr, sa->k.prf_len, id_body,
			      id_len, out);
}

static bool auth_verify(const struct ikev2_peer *ep, const struct v2_sa *sa, bool by_i,
			const struct v2_payload *idp, const struct v2_payload *authp)
{
	struct v2_auth a;
	uint8_t want[IKE_PRF_MAX];
	if (!authp || !v2_parse_auth(authp, &a) || a.method != V2_AUTH_SHARED_KEY_MIC ||
	    a.len != sa->k.prf_len)
		return false;
	bool ok = auth_compute(ep, sa, by_i, idp->body, idp->len, want) &&
		  ct_equal(want, a.data, a.len);
	secret_wipe(want, sizeof(want));
	return ok;
}

static void put_our_auth(struct ikev2_peer *ep, struct v2_sa *sa, struct isakmp_buf *b)
{
	size_t s = v2_put_id_ipv4(b, sa->initiator ? V2_PL_IDI : V2_PL_IDR, ep->cfg.local_ip);
	uint8_t auth[IKE_PRF_MAX];
	if (!b->overflow && auth_compute(ep, sa, sa->initiator, b->b + s + 4, 8, auth))
		v2_put_auth(b, V2_AUTH_SHARED_KEY_MIC, auth, sa->k.prf_len);
	else
		b->overflow = true;
	secret_wipe(auth, sizeof(auth));
}

static void established(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now)
{
	v2_sa_set_state(ep, sa, V2_ESTABLISHED, sa->initiator ? "peer's IKE_AUTH answer authenticated" :
							       "peer's IKE_AUTH authenticated, answered");
	sa->established_ms = now;
	sa->rekey_ms = v2_rekey_ms(ep, now, ep->cfg.p1_lifetime_s);
	sa->expire_ms = now + (uint64_t)ep->cfg.p1_lifetime_s * 1000;
	sa->keepalive_ms = now + IKEV2_NATT_KEEPALIVE_MS;
	ep->st.p1_established++;
	ike_dh_free(sa->dh);
	sa->dh = NULL;
	char name[IKEV2_OFFERED_MAX];
	v2_choice_name(&sa->alg, name, sizeof(name));
	log_info(V2_LOG, "%s: #%u IKE SA established (%s, %s), peer %u.%u.%u.%u:%u%s", ep->cfg.name,
		 sa->serial, sa->initiator ? "initiator" : "responder", name, sa->peer.ip >> 24,
		 (sa->peer.ip >> 16) & 255, (sa->peer.ip >> 8) & 255, sa->peer.ip & 255,
		 sa->peer.port, sa->nat_here || sa->nat_there ? ", NAT-T" : "");
}

static void auth_failed(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
			const char *cause)
{
	ep->st.auth_failures++;
	v2_sa_fail(ep, sa, now, cause);
}

void v2_auth_request(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
		     const struct v2_msg *m)
{
	char why[100], cause[IKE_CAUSE_MAX];
	const struct v2_payload *idi = v2_find(m, V2_PL_IDI, 0);
	const struct v2_payload *authp = v2_find(m, V2_PL_AUTH, 0);
	struct isakmp_buf b;
	v2_buf_inner(&b);
	if (!id_is_peer(ep, idi, why, sizeof(why)) || !auth_verify(ep, sa, true, idi, authp)) {
		if (idi && authp && id_is_peer(ep, idi, why, sizeof(why)))
			snprintf(why, sizeof(why), "peer's AUTH does not verify (pre-shared key mismatch?)");
		snprintf(cause, sizeof(cause), "IKEv2 authentication failed: %s", why);
		v2_put_notify(&b, 0, NULL, 0, V2N_AUTHENTICATION_FAILED, NULL, 0);
		v2_respond(ep, sa, V2_IKE_AUTH, &b);
		auth_failed(ep, sa, now, cause);
		return;
	}
	/* the peer is who it claims: the IKE SA is ours to answer */
	put_our_auth(ep, sa, &b);
	if (v2_find_notify(m, V2N_INITIAL_CONTACT)) {
		/* the peer forgot every earlier SA: so do we */
		for (struct v2_sa *o = ep->sas; o; o = o->next)
			if (o != sa && o->state != V2_DEAD && o->state != V2_INIT_I &&
			    o->state != V2_AUTH_I) {
				v2_sa_set_state(ep, o, V2_DEAD, "peer restarted (INITIAL_CONTACT)");
			}
		v2_children_clear(ep, "peer restarted (INITIAL_CONTACT)");
	}
	const struct v2_payload *sap = v2_find(m, V2_PL_SA, 0);
	const struct v2_payload *tsi = v2_find(m, V2_PL_TSI, 0);
	const struct v2_payload *tsr = v2_find(m, V2_PL_TSR, 0);
	struct v2_ts_list li, lr;
	struct v2_choice c;
	struct ike_ts ts_r, ts_l;
	char offered[IKEV2_OFFERED_MAX];
	uint32_t spi_in = 0;
	bool child = false;
	cause[0] = 0;
	if (!sap || !tsi || !tsr || !v2_parse_ts(tsi, &li) || !v2_parse_ts(tsr, &lr)) {
		v2_put_notify(&b, 0, NULL, 0, V2N_INVALID_SYNTAX, NULL, 0);
		snprintf(cause, sizeof(cause), "peer's IKE_AUTH has no usable CHILD SA proposal");
	} else if (v2_find_notify(m, V2N_USE_TRANSPORT_MODE)) {
		v2_put_notify(&b, 0, NULL, 0, V2N_NO_PROPOSAL_CHOSEN, NULL, 0);
		snprintf(cause, sizeof(cause), "peer asks for transport mode; tunnel mode only");
	} else if (v2_sa_select(sap->body, sap->len, &ep->cfg, V2_PROTO_ESP, V2_DH_IGNORE, 0, &c,
				offered, sizeof(offered)) != IKE_DROP_NONE) {
		v2_put_notify(&b, 0, NULL, 0, V2N_NO_PROPOSAL_CHOSEN, NULL, 0);
		mismatch_cause(ep, "CHILD SA", offered, false);
	} else if (!v2_ts_pick(&li, &ep->cfg.remote_ts, &ts_r) ||
		   !v2_ts_pick(&lr, &ep->cfg.local_ts, &ts_l)) {
		v2_put_notify(&b, 0, NULL, 0, V2N_TS_UNACCEPTABLE, NULL, 0);
		snprintf(cause, sizeof(cause), "peer's traffic selectors are outside the tunnel's (TS_UNACCEPTABLE)");
	} else {
		spi_in = v2_new_spi(ep);
		uint8_t spib[4];
		put_be32(spib, spi_in);
		v2_sa_build_reply(&b, &c, spib, 4);
		v2_put_ts(&b, V2_PL_TSI, &ts_r, 1);
		v2_put_ts(&b, V2_PL_TSR, &ts_l, 1);
		child = true;
	}
	v2_respond(ep, sa, V2_IKE_AUTH, &b);
	if (!sa->have_resp) {
		v2_sa_set_state(ep, sa, V2_DEAD, "cannot build the IKE_AUTH answer");
		return;
	}
	established(ep, sa, now);
	if (child)
		v2_child_install(ep, sa, now, &c, spi_in, false, sa->ni, sa->ni_len, sa->nr,
				 sa->nr_len, NULL, 0, &ts_l, &ts_r, 0);
	else
		ep->child_retry_ms = now + V2_RETRY_MS;
	v2_update_status(ep, cause[0] ? cause : NULL);
}

void v2_auth_response(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
		      const struct v2_msg *m)
{
	char why[100], cause[IKE_CAUSE_MAX];
	struct v2_notify n;
	const struct v2_payload *idr = v2_find(m, V2_PL_IDR, 0);
	const struct v2_payload *authp = v2_find(m, V2_PL_AUTH, 0);
	uint16_t err = v2_error_notify(m, &n);
	if (!authp) {
		if (err == V2N_AUTHENTICATION_FAILED)
			snprintf(cause, sizeof(cause), "IKEv2 authentication failed: the peer refused "
				 "our AUTH (pre-shared key mismatch?)");
		else
			snprintf(cause, sizeof(cause), "IKE_AUTH refused: %s (%u)",
				 err ? v2_notify_name(err) : "no AUTH payload", err);
		v2_req_clear(&sa->req);
		if (err == V2N_AUTHENTICATION_FAILED)
			auth_failed(ep, sa, now, cause);
		else
			v2_sa_fail(ep, sa, now, cause);
		return;
	}
	if (!id_is_peer(ep, idr, why, sizeof(why)) || !auth_verify(ep, sa, false, idr, authp)) {
		if (idr && id_is_peer(ep, idr, why, sizeof(why)))
			snprintf(why, sizeof(why), "peer's AUTH does not verify (pre-shared key mismatch?)");
		snprintf(cause, sizeof(cause), "IKEv2 authentication failed: %s", why);
		v2_req_clear(&sa->req);
		auth_failed(ep, sa, now, cause);
		return;
	}
	struct v2_req req = sa->req;
	memset(&sa->req, 0, sizeof(sa->req));
	ep->initial_contact_sent = true;
	established(ep, sa, now);
	const struct v2_payload *sap = v2_find(m, V2_PL_SA, 0);
	const struct v2_payload *tsi = v2_find(m, V2_PL_TSI, 0);
	const struct v2_payload *tsr = v2_find(m, V2_PL_TSR, 0);
	struct v2_ts_list li, lr;
	struct v2_choice c;
	cause[0] = 0;
	if (err) {
		snprintf(cause, sizeof(cause), "IKE SA up, CHILD SA refused: %s (%u)",
			 v2_notify_name(err), err);
		if (err == V2N_NO_PROPOSAL_CHOSEN)
			ep->st.proposal_mismatches++;
	} else if (!sap || !tsi || !tsr || !v2_parse_ts(tsi, &li) || !v2_parse_ts(tsr, &lr) ||
		   li.n != 1 || lr.n != 1 || li.ranged[0] || lr.ranged[0] ||
		   v2_sa_check_reply(sap->body, sap->len, &ep->cfg, V2_PROTO_ESP, V2_DH_IGNORE, 0,
				     &c) != IKE_DROP_NONE) {
		snprintf(cause, sizeof(cause), "IKE SA up, the peer's CHILD SA answer is unusable");
	} else if (!ts_within(&li.ts[0], &req.ts_l) || !ts_within(&lr.ts[0], &req.ts_r)) {
		snprintf(cause, sizeof(cause), "IKE SA up, the peer widened our traffic selectors");
	} else {
		v2_child_install(ep, sa, now, &c, req.spi_in, true, sa->ni, sa->ni_len, sa->nr,
				 sa->nr_len, NULL, 0, &li.ts[0], &lr.ts[0], 0);
	}
	if (cause[0]) {
		log_warn(V2_LOG, "%s: #%u %s", ep->cfg.name, sa->serial, cause);
		ep->child_retry_ms = now + V2_RETRY_MS;
	}
	v2_req_clear(&req);
	v2_update_status(ep, cause[0] ? cause : NULL);
}

static void send_auth(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now)
{
	struct isakmp_buf b;
	v2_buf_inner(&b);
	put_our_auth(ep, sa, &b);
	if (!ep->initial_contact_sent)
		v2_put_notify(&b, 0, NULL, 0, V2N_INITIAL_CONTACT, NULL, 0);
	sa->req.kind = REQ_AUTH;
	sa->req.spi_in = v2_new_spi(ep);
	sa->req.ts_l = ts_from_subnet(ep->cfg.local_ts);
	sa->req.ts_r = ts_from_subnet(ep->cfg.remote_ts);
	v2_sa_build_esp(&b, &ep->cfg, sa->req.spi_in, 0);
	v2_put_ts(&b, V2_PL_TSI, &sa->req.ts_l, 1);
	v2_put_ts(&b, V2_PL_TSR, &sa->req.ts_r, 1);
	v2_sa_set_state(ep, sa, V2_AUTH_I, "peer's IKE_SA_INIT answer accepted, IKE_AUTH sent");
	v2_request(ep, sa, V2_IKE_AUTH, &b, now);
	if (sa->req.kind == REQ_NONE)
		v2_sa_fail(ep, sa, now, "cannot build IKE_AUTH");
}

void v2_init_response(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
		      const struct ike_addr *from, bool natt, const uint8_t *pkt, size_t len,
		      const struct v2_msg *m)
{
	char cause[IKE_CAUSE_MAX];
	struct v2_notify n;
	const struct v2_payload *cp = v2_find_notify(m, V2N_COOKIE);
	if (cp && v2_parse_notify(cp, &n)) {
		/* the responder wants its cookie back before it keeps state */
		if (n.len < 1 || n.len > sizeof(sa->cookie) || sa->ke_retries++ >= V2_KE_RETRIES) {
			v2_drop(ep, IKE_DROP_UNEXPECTED, "COOKIE");
			return;
		}
		memcpy(sa->cookie, n.data, n.len);
		sa->cookie_len = n.len;
		log_info(V2_LOG, "%s: #%u responder asked for a cookie; retrying", ep->cfg.name,
			 sa->serial);
		send_init(ep, sa, now, sa->alg.group);
		return;
	}
	uint16_t err = v2_error_notify(m, &n);
	if (err == V2N_INVALID_KE_PAYLOAD) {
		uint16_t g = n.len == 2 ? get_be16(n.data) : 0;
		bool allowed = false;
		for (size_t i = 0; i < ep->cfg.p1_dh_n; i++)
			allowed |= ep->cfg.p1_dh[i] == g;
		if (!allowed || g == sa->alg.group || sa->ke_retries++ >= V2_KE_RETRIES) {
			snprintf(cause, sizeof(cause), "peer asks for DH group %u, which the tunnel does not allow", g);
			v2_sa_fail(ep, sa, now, cause);
			return;
		}
		log_info(V2_LOG, "%s: #%u INVALID_KE_PAYLOAD: retrying with %s", ep->cfg.name,
			 sa->serial, ike_dh_name(g));
		send_init(ep, sa, now, g);
		return;
	}
	if (err) {
		if (err == V2N_NO_PROPOSAL_CHOSEN) {
			char ours[IKEV2_OFFERED_MAX];
			v2_offer_name_ike(&ep->cfg, ours, sizeof(ours));
			ep->st.proposal_mismatches++;
			snprintf(cause, sizeof(cause), "IKEv2 proposal mismatch (IKE SA): peer accepts none of %.100s", ours);
		} else {
			snprintf(cause, sizeof(cause), "IKE_SA_INIT refused: %s (%u)", v2_notify_name(err), err);
		}
		v2_sa_fail(ep, sa, now, cause);
		return;
	}
	const uint8_t *spi_r = pkt + 8;
	const struct v2_payload *sa_pl = v2_find(m, V2_PL_SA, 0);
	const struct v2_payload *ke_pl = v2_find(m, V2_PL_KE, 0);
	const struct v2_payload *nr_pl = v2_find(m, V2_PL_NONCE, 0);
	struct v2_ke ke;
	struct v2_choice c;
	if (!sa_pl || !ke_pl || !nr_pl || !v2_parse_ke(ke_pl, &ke) ||
	    memcmp(spi_r, zero_spi, 8) == 0) {
		v2_drop(ep, IKE_DROP_MISSING_PAYLOAD, "IKE_SA_INIT response needs SA, KE, Nr, SPIr");
		return;
	}
	if (nr_pl->len < IKEV2_NONCE_MIN || nr_pl->len > IKEV2_NONCE_MAX ||
	    ke.group != sa->alg.group || ke.len != ike_dh_pub_len(ke.group)) {
		v2_drop(ep, IKE_DROP_BAD_KE, "nonce or KE in the IKE_SA_INIT response");
		return;
	}
	if (v2_sa_check_reply(sa_pl->body, sa_pl->len, &ep->cfg, V2_PROTO_IKE, V2_DH_KE,
			      sa->alg.group, &c) != IKE_DROP_NONE) {
		v2_drop(ep, IKE_DROP_NO_PROPOSAL, "the responder's choice is not one we offered");
		return;
	}
	uint8_t gir[IKE_DH_MAX];
	size_t gir_len = 0;
	memcpy(sa->spi_r, spi_r, 8);
	sa->alg = c;
	memcpy(sa->nr, nr_pl->body, nr_pl->len);
	sa->nr_len = nr_pl->len;
	bool ok = ike_dh_shared(sa->dh, ke.data, ke.len, gir, &gir_len) &&
		  v2_sa_keys(sa, gir, gir_len, NULL) && copy_msg(&sa->init_r, &sa->init_r_len, pkt, len);
	secret_wipe(gir, sizeof(gir));
	if (!ok) {
		memset(sa->spi_r, 0, 8);
		sa->have_keys = false;
		v2_drop(ep, IKE_DROP_BAD_KE, "Diffie-Hellman with the responder's KE failed");
		return;
	}
	v2_req_clear(&sa->req);
	sa->peer_frag = v2_find_notify(m, V2N_IKEV2_FRAGMENTATION_SUPPORTED) != NULL;
	natd_check(ep, sa, m, sa->spi_i, sa->spi_r, from, natt ? IKE_NATT_PORT : IKE_PORT);
	if (ep->cfg.force_encap)
		sa->nat_here = true;	/* as our faked NAT-D told the peer */
	if (sa->nat_here || sa->nat_there) {
		/* float: IKE_AUTH and everything after it on 4500 */
		sa->local_port = IKE_NATT_PORT;
		sa->peer.port = IKE_NATT_PORT;
	}
	send_auth(ep, sa, now);
}

uint16_t v2_error_notify(const struct v2_msg *m, struct v2_notify *out)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->pl[i].type == V2_PL_N && v2_parse_notify(&m->pl[i], out) && out->type &&
		    out->type <= V2N_ERROR_MAX)
			return out->type;
	return 0;
}
