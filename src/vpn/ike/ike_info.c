/*
 * ike_info.c — Informational exchanges (RFC 2408 §4.8, RFC 2409 §5.7):
 * notifications, Delete payloads, and Dead Peer Detection (RFC 3706).
 *
 * Protected informationals carry HASH(1) = prf(SKEYID_a, M-ID | payloads)
 * and are encrypted with their own IV, hash(phase 1 IV | M-ID); the phase 1
 * IV never changes because of them. Message ids already seen are refused,
 * so a recorded Delete cannot be replayed within the window.
 * Unprotected notifications are only believed before any key exists (a
 * NO-PROPOSAL-CHOSEN answer to our first Main Mode message).
 */
#include "vpn/ike/ike_internal.h"

#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void info_protect_send(struct ike_peer *ep, struct ike_sa *sa, struct isakmp_buf *b,
			      size_t hash_data, uint32_t msgid)
{
	uint8_t iv[IKE_BLOCK];
	size_t rest = hash_data + sa->prf_len;
	if (b->overflow ||
	    !ike_qm_hash1(sa->alg.integ, sa->skeyid_a, msgid, b->b + rest, b->len - rest,
			  b->b + hash_data) ||
	    !ike_iv_phase2(sa->alg.integ, sa->iv, msgid, iv) || !sa_encrypt(sa, iv, b)) {
		log_error(IKE_LOG, "%s: cannot build informational message", ep->cfg.name);
		return;
	}
	ep_send(ep, &sa->peer, sa->local_port, b->b, b->len);
}

static size_t info_begin(struct isakmp_buf *b, const struct ike_sa *sa, uint32_t *msgid)
{
	static const uint8_t zeros[IKE_PRF_MAX];
	do
		*msgid = rand_u32();
	while (*msgid == 0);
	isakmp_buf_header(b, sa->ck_i, sa->ck_r, EXCH_INFO, 0, *msgid);
	return isakmp_buf_simple(b, PL_HASH, zeros, sa->prf_len) + ISAKMP_GENERIC_LEN;
}

void info_send_notify(struct ike_peer *ep, struct ike_sa *sa, uint8_t proto,
		      const uint8_t *spi, size_t spi_len, uint16_t type, const uint8_t *data,
		      size_t data_len)
{
	struct isakmp_buf b;
	uint32_t msgid;
	size_t hd = info_begin(&b, sa, &msgid);
	size_t s = isakmp_buf_begin(&b, PL_N);
	isakmp_buf_u32(&b, DOI_IPSEC);
	isakmp_buf_u8(&b, proto);
	isakmp_buf_u8(&b, (uint8_t)spi_len);
	isakmp_buf_u16(&b, type);
	isakmp_buf_put(&b, spi, spi_len);
	isakmp_buf_put(&b, data, data_len);
	isakmp_buf_end(&b, s);
	info_protect_send(ep, sa, &b, hd, msgid);
}

void info_send_delete(struct ike_peer *ep, struct ike_sa *sa, uint8_t proto,
		      const uint8_t *spi, size_t spi_len)
{
	struct isakmp_buf b;
	uint32_t msgid;
	size_t hd = info_begin(&b, sa, &msgid);
	size_t s = isakmp_buf_begin(&b, PL_D);
	isakmp_buf_u32(&b, DOI_IPSEC);
	isakmp_buf_u8(&b, proto);
	isakmp_buf_u8(&b, (uint8_t)spi_len);
	isakmp_buf_u16(&b, 1);
	isakmp_buf_put(&b, spi, spi_len);
	isakmp_buf_end(&b, s);
	info_protect_send(ep, sa, &b, hd, msgid);
}

void info_send_plain_notify(struct ike_peer *ep, const uint8_t ck_i[8], const uint8_t ck_r[8],
			    const struct ike_addr *to, uint16_t src_port, uint16_t type)
{
	struct isakmp_buf b;
	isakmp_buf_header(&b, ck_i, ck_r, EXCH_INFO, 0, 0);
	size_t s = isakmp_buf_begin(&b, PL_N);
	isakmp_buf_u32(&b, DOI_IPSEC);
	isakmp_buf_u8(&b, PROTO_ISAKMP);
	isakmp_buf_u8(&b, 16);
	isakmp_buf_u16(&b, type);
	isakmp_buf_put(&b, ck_i, 8);
	isakmp_buf_put(&b, ck_r, 8);
	isakmp_buf_end(&b, s);
	isakmp_buf_finish(&b);
	if (!b.overflow)
		ep_send(ep, to, src_port, b.b, b.len);
}

static const char *notify_name(uint16_t type)
{
	switch (type) {
	case N_NO_PROPOSAL_CHOSEN: return "NO-PROPOSAL-CHOSEN";
	case N_INVALID_ID_INFORMATION: return "INVALID-ID-INFORMATION";
	case N_INVALID_HASH_INFORMATION: return "INVALID-HASH-INFORMATION";
	case N_AUTHENTICATION_FAILED: return "AUTHENTICATION-FAILED";
	case N_PAYLOAD_MALFORMED: return "PAYLOAD-MALFORMED";
	case N_INITIAL_CONTACT: return "INITIAL-CONTACT";
	case N_RESPONDER_LIFETIME: return "RESPONDER-LIFETIME";
	case N_DPD_R_U_THERE: return "R-U-THERE";
	case N_DPD_R_U_THERE_ACK: return "R-U-THERE-ACK";
	default: return "notify";
	}
}

void info_plain_input(struct ike_peer *ep, uint64_t now, const uint8_t *pkt, size_t len,
		      const struct isakmp_hdr *h)
{
	struct ike_sa *sa = NULL;
	for (struct ike_sa *s = ep->sas; s; s = s->next)
		if (s->state != SA_DEAD && s->initiator && memcmp(s->ck_i, h->ck_i, 8) == 0)
			sa = s;
	struct isakmp_msg m;
	enum ike_drop why = isakmp_payloads_parse(h->np, pkt + ISAKMP_HDR_LEN,
						  len - ISAKMP_HDR_LEN, &m);
	if (why != IKE_DROP_NONE) {
		ep_drop(ep, why, "informational");
		return;
	}
	const struct isakmp_payload *n = isakmp_find(&m, PL_N, 0);
	/* DOI, protocol, SPI size, type */
	if (!n || n->len < 8) {
		ep_drop(ep, IKE_DROP_MISSING_PAYLOAD, "unprotected informational without notify");
		return;
	}
	uint16_t type = get_be16(n->body + 6);
	if (!sa || sa->state != SA_I1) {
		/* no key to check it with: note it (rate-limited: anyone can
		 * send these), believe nothing */
		char d[64];
		snprintf(d, sizeof(d), "unprotected %s (%u) ignored", notify_name(type), type);
		ep_drop(ep, sa ? IKE_DROP_UNEXPECTED : IKE_DROP_NO_SA, d);
		return;
	}
	char cause[IKE_CAUSE_MAX];
	if (type == N_NO_PROPOSAL_CHOSEN) {
		char offered[IKE_CAUSE_MAX];
		p1_offer_name(&ep->cfg, offered, sizeof(offered) - 32);
		ep->st.proposal_mismatches++;
		snprintf(cause, sizeof(cause), "proposal mismatch: offered %.120s", offered);
	} else {
		snprintf(cause, sizeof(cause), "peer refused Main Mode: %s (%u)", notify_name(type),
			 type);
	}
	sa_fail(ep, sa, now, cause);
}

static bool info_seen(struct ike_sa *sa, uint32_t msgid)
{
	for (size_t i = 0; i < IKE_INFO_SEEN; i++)
		if (sa->info_seen[i] == msgid)
			return true;
	return false;
}

static void on_notify(struct ike_peer *ep, struct ike_sa *sa, uint64_t now,
		      const struct isakmp_payload *n)
{
	/* DOI, protocol, SPI size, type, then the SPI */
	if (n->len < 8 || n->len - 8 < n->body[5]) {
		ep_drop(ep, IKE_DROP_BAD_PAYLOAD, "notify length");
		return;
	}
	uint16_t type = get_be16(n->body + 6);
	size_t spi_len = n->body[5];
	const uint8_t *spi = n->body + 8;
	const uint8_t *data = spi + spi_len;
	size_t data_len = n->len - 8 - spi_len;
	switch (type) {
	case N_DPD_R_U_THERE:
		if (data_len != 4) {
			ep_drop(ep, IKE_DROP_BAD_PAYLOAD, "R-U-THERE sequence number");
			return;
		}
		ep->st.dpd_answered++;
		info_send_notify(ep, sa, PROTO_ISAKMP, spi, spi_len, N_DPD_R_U_THERE_ACK, data, 4);
		return;
	case N_DPD_R_U_THERE_ACK:
		if (data_len == 4 && get_be32(data) != ep->dpd_seq)
			log_debug(IKE_LOG, "%s: R-U-THERE-ACK for an old sequence number",
				  ep->cfg.name);
		return;	/* already counted as a sign of life */
	case N_INITIAL_CONTACT:
		log_info(IKE_LOG, "%s: peer sent INITIAL-CONTACT", ep->cfg.name);
		return;
	case N_NO_PROPOSAL_CHOSEN:
	case N_INVALID_ID_INFORMATION: {
		char cause[IKE_CAUSE_MAX], offered[IKE_CAUSE_MAX];
		if (type == N_NO_PROPOSAL_CHOSEN) {
			p2_offer_name(&ep->cfg, offered, sizeof(offered) - 32);
			ep->st.proposal_mismatches++;
			snprintf(cause, sizeof(cause), "proposal mismatch: offered %.120s", offered);
		} else {
			snprintf(cause, sizeof(cause), "traffic selectors rejected by peer");
		}
		for (struct ike_qm *qm = sa->qms; qm; qm = qm->next)
			if (qm->initiator && qm->state == QM_I1) {
				qm_fail(ep, sa, qm, now, cause);
			}
		return;
	}
	default:
		log_info(IKE_LOG, "%s: peer sent %s (%u)", ep->cfg.name, notify_name(type), type);
		return;
	}
}

static void on_delete(struct ike_peer *ep, uint64_t now, const struct isakmp_payload *d)
{
	/* DOI, protocol, SPI size, number of SPIs */
	if (d->len < 8) {
		ep_drop(ep, IKE_DROP_BAD_PAYLOAD, "delete length");
		return;
	}
	uint8_t proto = d->body[4];
	size_t spi_len = d->body[5], n = get_be16(d->body + 6);
	if (spi_len == 0 || n * spi_len != d->len - 8) {
		ep_drop(ep, IKE_DROP_BAD_PAYLOAD, "delete SPI count");
		return;
	}
	const uint8_t *spis = d->body + 8;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *spi = spis + i * spi_len;
		if (proto == PROTO_ISAKMP && spi_len == 16) {
			for (struct ike_sa *s = ep->sas; s; s = s->next)
				if (s->state != SA_DEAD && memcmp(s->ck_i, spi, 8) == 0 &&
				    memcmp(s->ck_r, spi + 8, 8) == 0) {
					log_info(IKE_LOG, "%s: peer deleted ISAKMP SA #%u",
						 ep->cfg.name, s->serial);
					sa_set_state(ep, s, SA_DEAD, "peer sent Delete");
				}
		} else if ((proto == PROTO_ESP || proto == PROTO_AH) && spi_len == 4) {
			uint32_t v = get_be32(spi);
			for (struct ike_child *c = ep->children, *next; c; c = next) {
				next = c->next;
				if (c->spi_out == v || c->spi_in == v) {
					child_delete(ep, c, now, false, "deleted by the peer");
				}
			}
			if (!ep->children)
				ep_status(ep, false, "deleted by peer");
		}
	}
}

void info_input(struct ike_peer *ep, struct ike_sa *sa, uint64_t now, const uint8_t *pkt,
		size_t len, const struct isakmp_hdr *h)
{
	if (info_seen(sa, h->msgid)) {
		ep_drop(ep, IKE_DROP_REPLAY, "informational");
		return;
	}
	uint8_t iv[IKE_BLOCK], next_iv[IKE_BLOCK], want[IKE_PRF_MAX];
	uint8_t *plain = malloc(len);
	struct isakmp_msg m;
	if (!plain)
		return;
	if (!ike_iv_phase2(sa->alg.integ, sa->iv, h->msgid, iv) ||
	    !sa_decrypt(sa, iv, pkt, len, plain, next_iv)) {
		ep_drop(ep, IKE_DROP_DECRYPT, "informational");
		goto out;
	}
	enum ike_drop why = isakmp_payloads_parse(h->np, plain + ISAKMP_HDR_LEN,
						  len - ISAKMP_HDR_LEN, &m);
	if (why != IKE_DROP_NONE) {
		ep_drop(ep, why, "informational after decryption");
		goto out;
	}
	if (m.n == 0 || m.pl[0].type != PL_HASH || m.pl[0].len != sa->prf_len) {
		ep_drop(ep, IKE_DROP_MISSING_PAYLOAD, "informational without HASH");
		goto out;
	}
	const uint8_t *rest = m.pl[0].raw + m.pl[0].raw_len;
	if (!ike_qm_hash1(sa->alg.integ, sa->skeyid_a, h->msgid, rest, m.used - m.pl[0].raw_len,
			  want) ||
	    !ct_equal(want, m.pl[0].body, sa->prf_len)) {
		ep_drop(ep, IKE_DROP_BAD_HASH, "informational HASH(1)");
		goto out;
	}
	sa->info_seen[sa->info_seen_next++ % IKE_INFO_SEEN] = h->msgid;
	if (now > ep->last_rx_ms)
		ep->last_rx_ms = now;
	ep->dpd_outstanding = false;
	for (size_t i = 1; i < m.n; i++) {
		if (m.pl[i].type == PL_N)
			on_notify(ep, sa, now, &m.pl[i]);
		else if (m.pl[i].type == PL_D)
			on_delete(ep, now, &m.pl[i]);
	}
out:
	secret_wipe(plain, len);
	free(plain);
}

/* ---- DPD -------------------------------------------------------------- */

/*
 * The peer is dead dpd_timeout after its last sign of life, never later.
 * R-U-THERE goes out after `interval` of silence and again every interval
 * while unanswered. The interval is dpd_delay, but at most half the
 * timeout, so that at least one probe has time to be answered within the
 * timeout (timeout 6 s, delay 2 s: probes at 2 and 4 s, dead at 6 s).
 */
static bool dpd_enabled(const struct ike_peer *ep, const struct ike_sa *sa)
{
	return sa && sa->peer_dpd && ep->cfg.dpd_action != IKE_DPD_NONE && ep->cfg.dpd_delay_s;
}

static uint64_t dpd_interval_ms(const struct ike_peer *ep)
{
	uint64_t delay = (uint64_t)ep->cfg.dpd_delay_s * 1000;
	uint64_t half = (uint64_t)ep->cfg.dpd_timeout_s * 1000 / 2;
	if (half && half < delay)
		delay = half;
	return delay ? delay : 1;
}

static uint64_t dpd_dead_at(const struct ike_peer *ep)
{
	uint64_t a = ep->last_rx_ms + (uint64_t)ep->cfg.dpd_timeout_s * 1000;
	/* only when our first probe went out late (a stalled caller): the
	 * peer still gets one interval to answer it */
	uint64_t b = ep->dpd_first_ms + dpd_interval_ms(ep);
	return a > b ? a : b;
}

uint64_t dpd_deadline(const struct ike_peer *ep)
{
	if (!dpd_enabled(ep, ep_best_sa(ep)))
		return UINT64_MAX;
	uint64_t interval = dpd_interval_ms(ep);
	if (!ep->dpd_outstanding)
		return ep->last_rx_ms + interval;
	uint64_t again = ep->dpd_sent_ms + interval, dead = dpd_dead_at(ep);
	return again < dead ? again : dead;
}

void dpd_tick(struct ike_peer *ep, uint64_t now)
{
	struct ike_sa *sa = ep_best_sa(ep);
	if (!dpd_enabled(ep, sa))
		return;
	uint64_t interval = dpd_interval_ms(ep);
	if (ep->dpd_outstanding && now >= dpd_dead_at(ep)) {
		ep->st.dpd_timeouts++;
		log_warn(IKE_LOG, "%s: peer dead (no sign of life for %llu ms, DPD timeout %us)",
			 ep->cfg.name, (unsigned long long)(now - ep->last_rx_ms),
			 ep->cfg.dpd_timeout_s);
		ep_clear(ep, now, false, "DPD timeout");
		ep_status(ep, false, "DPD timeout");
		if (ep->cfg.dpd_action == IKE_DPD_RESTART) {
			ep->active = true;
			ep->start_at_ms = now;
		}
		return;
	}
	if (now < (ep->dpd_outstanding ? ep->dpd_sent_ms : ep->last_rx_ms) + interval)
		return;
	if (!ep->dpd_outstanding)
		ep->dpd_first_ms = now;
	ep->dpd_outstanding = true;
	ep->dpd_sent_ms = now;
	if (ep->dpd_seq == 0)
		ep->dpd_seq = rand_u32() & 0x7fffffff;
	ep->dpd_seq++;
	ep->st.dpd_sent++;
	uint8_t spi[16], seq[4];
	memcpy(spi, sa->ck_i, 8);
	memcpy(spi + 8, sa->ck_r, 8);
	put_be32(seq, ep->dpd_seq);
	log_debug(IKE_LOG, "%s: R-U-THERE #%u", ep->cfg.name, ep->dpd_seq);
	info_send_notify(ep, sa, PROTO_ISAKMP, spi, 16, N_DPD_R_U_THERE, seq, 4);
}
