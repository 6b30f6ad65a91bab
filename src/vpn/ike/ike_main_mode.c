/*
 * ike_main_mode.c — IKEv1 Main Mode with pre-shared keys (RFC 2409 §5,
 * §5.4), both roles, with NAT-T (RFC 3947) detection and port floating.
 *
 *   I                                    R
 *   HDR, SA, VID(NAT-T), VID(DPD)   -->            (I1 sent)
 *                                   <-- HDR, SA, VID...   (R2 sent)
 *   HDR, KE, Ni, NAT-D, NAT-D       -->            (I3 sent)
 *                                   <-- HDR, KE, Nr, NAT-D, NAT-D (R4 sent)
 *   HDR*, IDii, HASH_I [, N(IC)]    -->            (I5 sent; floats to 4500)
 *                                   <-- HDR*, IDir, HASH_R  (established)
 *
 * Only the initiator retransmits; the responder answers a repeated message
 * with its cached reply. An encrypted message that does not decrypt or
 * verify never moves the CBC IV, so a forged or corrupted packet cannot
 * desynchronise the SA.
 */
#include "vpn/ike/ike_internal.h"

#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {
	[SA_I1] = "MM_I1", [SA_I3] = "MM_I3", [SA_I5] = "MM_I5", [SA_R2] = "MM_R2",
	[SA_R4] = "MM_R4", [SA_ESTABLISHED] = "QM_IDLE", [SA_DEAD] = "DEAD",
};

const char *sa_state_name(enum sa_state s) { return state_names[s]; }

void sa_set_state(struct ike_peer *ep, struct ike_sa *sa, enum sa_state s, const char *cause)
{
	if (sa->state == s)
		return;
	ike_log_limited(ep, IKE_LOGK_STATE, ep->now_ms, LOG_INFO, "%s: ISAKMP SA #%u %s -> %s: %s",
			ep->cfg.name, sa->serial, sa_state_name(sa->state), sa_state_name(s), cause);
	sa->state = s;
}

void sa_free(struct ike_sa *sa)
{
	if (!sa)
		return;
	while (sa->qms) {
		struct ike_qm *qm = sa->qms;
		sa->qms = qm->next;
		qm_free(qm);
	}
	xmit_clear(&sa->tx);
	free(sa->sai_b);
	ike_dh_free(sa->dh);
	secret_wipe(sa, sizeof(*sa));
	free(sa);
}

/* ISAKMP SAs that we began (initiator) or that the peer began (proven:
 * it answered our message 2), not counting the dead. */
static size_t sa_count(const struct ike_peer *ep, bool initiator)
{
	size_t n = 0;
	for (const struct ike_sa *sa = ep->sas; sa; sa = sa->next)
		n += sa->state != SA_DEAD && sa->initiator == initiator;
	return n;
}

static struct ike_sa *sa_new(struct ike_peer *ep, uint64_t now, bool initiator)
{
	/* The peer's exchanges arrive here only once proven (ike_halfopen.c),
	 * so a forged message 1 can never take the place of one of these,
	 * and ours are counted apart: a flood cannot refuse our Main Mode. */
	if (sa_count(ep, initiator) >= IKE_SA_MAX) {
		struct ike_sa *victim = NULL;
		for (struct ike_sa *s = ep->sas; !initiator && s; s = s->next)
			if (!s->initiator && (s->state == SA_R2 || s->state == SA_R4) &&
			    (!victim || s->created_ms <= victim->created_ms))
				victim = s;
		if (!victim) {
			ike_log_limited(ep, IKE_LOGK_SA_LIMIT, now, LOG_WARN,
					"%s: %u ISAKMP SAs %s already, refusing another",
					ep->cfg.name, IKE_SA_MAX,
					initiator ? "of ours" : "established by the peer");
			return NULL;
		}
		/* proven, but the oldest in Main Mode: the newer proven one wins */
		ike_log_limited(ep, IKE_LOGK_SA_LIMIT, now, LOG_WARN,
				"%s: %u ISAKMP SAs of the peer's in Main Mode, dropping the "
				"oldest (#%u)", ep->cfg.name, IKE_SA_MAX, victim->serial);
		sa_set_state(ep, victim, SA_DEAD, "too many of the peer's ISAKMP SAs in Main Mode");
	}
	struct ike_sa *sa = calloc(1, sizeof(*sa));
	if (!sa)
		return NULL;
	sa->serial = ++ep->next_serial;
	sa->initiator = initiator;
	sa->created_ms = now;
	sa->rekey_ms = sa->expire_ms = UINT64_MAX;
	sa->state = initiator ? SA_I1 : SA_R2;
	sa->next = ep->sas;
	ep->sas = sa;
	ike_log_limited(ep, IKE_LOGK_STATE, now, LOG_INFO, "%s: ISAKMP SA #%u NONE -> %s: %s", ep->cfg.name,
			sa->serial, sa_state_name(sa->state),
			initiator ? "we begin Main Mode" : "the peer answered our message 2");
	return sa;
}

void sa_fail(struct ike_peer *ep, struct ike_sa *sa, uint64_t now, const char *cause)
{
	log_warn(IKE_LOG, "%s: ISAKMP SA #%u failed in %s: %s", ep->cfg.name, sa->serial,
		 sa_state_name(sa->state), cause);
	sa_set_state(ep, sa, SA_DEAD, cause);
	ep_down_unless_children(ep, cause);
	if (ep->active && !ep_best_sa(ep) && ep->start_at_ms == UINT64_MAX)
		ep->start_at_ms = now + IKE_RETRY_MS;
}

/* ---- encryption of ISAKMP messages ----------------------------------- */

bool sa_decrypt(const struct ike_sa *sa, const uint8_t iv[IKE_BLOCK], const uint8_t *pkt,
		size_t len, uint8_t *plain, uint8_t next_iv[IKE_BLOCK])
{
	size_t clen = len - ISAKMP_HDR_LEN;
	/* a whole number of AES blocks, at least one */
	if (len <= ISAKMP_HDR_LEN || clen % IKE_BLOCK)
		return false;
	memcpy(plain, pkt, ISAKMP_HDR_LEN);
	memcpy(next_iv, pkt + len - IKE_BLOCK, IKE_BLOCK);
	return ike_aes_cbc(false, sa->enc_key, sa->key_len, iv, pkt + ISAKMP_HDR_LEN, clen,
			   plain + ISAKMP_HDR_LEN);
}

bool sa_encrypt(const struct ike_sa *sa, uint8_t iv[IKE_BLOCK], struct isakmp_buf *b)
{
	/* zero padding up to the block; receivers go by payload lengths */
	static const uint8_t zeros[IKE_BLOCK];
	size_t pad = (IKE_BLOCK - (b->len - ISAKMP_HDR_LEN) % IKE_BLOCK) % IKE_BLOCK;
	isakmp_buf_put(b, zeros, pad);
	if (b->overflow)
		return false;
	b->b[19] |= ISAKMP_FLAG_E;
	isakmp_buf_finish(b);
	size_t clen = b->len - ISAKMP_HDR_LEN;
	if (!ike_aes_cbc(true, sa->enc_key, sa->key_len, iv, b->b + ISAKMP_HDR_LEN, clen,
			 b->b + ISAKMP_HDR_LEN))
		return false;
	memcpy(iv, b->b + b->len - IKE_BLOCK, IKE_BLOCK);
	return true;
}

/* ---- pieces ----------------------------------------------------------- */

/* Main Mode message 1 at its largest: header, SA (DOI, situation, one
 * proposal of IKE_P1_MAX_OFFER transforms: 6 TV attributes and the
 * lifetime, TLV when above 65535 s), two VIDs. */
#define MM1_MAX_LEN (ISAKMP_HDR_LEN + ISAKMP_GENERIC_LEN + 8 + ISAKMP_GENERIC_LEN + 4 + \
		     IKE_P1_MAX_OFFER * (ISAKMP_GENERIC_LEN + 4 + 6 * 4 + 8) + \
		     2 * (ISAKMP_GENERIC_LEN + 16))
_Static_assert(MM1_MAX_LEN <= ISAKMP_MSG_MAX, "Main Mode message 1 must fit a buffer");

static void add_vids(struct isakmp_buf *b, bool natt, bool dpd)
{
	if (natt)
		isakmp_buf_simple(b, PL_VID, ike_vid_natt_rfc3947, 16);
	if (dpd)
		isakmp_buf_simple(b, PL_VID, ike_vid_dpd, 16);
}

/* Sets *natt and *dpd when m carries those vendor IDs (leaves them else). */
static void read_vids(const struct isakmp_msg *m, bool *natt, bool *dpd)
{
	const struct isakmp_payload *v;
	for (size_t i = 0; (v = isakmp_find(m, PL_VID, i)); i++) {
		if (v->len == 16 && memcmp(v->body, ike_vid_natt_rfc3947, 16) == 0)
			*natt = true;
		if (v->len == 16 && memcmp(v->body, ike_vid_dpd, 16) == 0)
			*dpd = true;
	}
}

static void add_natd(struct isakmp_buf *b, const struct ike_sa *sa, uint32_t ip, uint16_t port)
{
	uint8_t h[IKE_PRF_MAX];
	if (ike_natd_hash(sa->alg.integ, sa->ck_i, sa->ck_r, ip, port, h))
		isakmp_buf_simple(b, PL_NATD, h, ike_hash_len(sa->alg.integ));
}

/* RFC 3947 §3.2: the first NAT-D is the peer's view of us, the others are
 * its own addresses. */
static bool check_natd(struct ike_peer *ep, struct ike_sa *sa, const struct isakmp_msg *m,
		       uint16_t local_port, const struct ike_addr *from)
{
	size_t hl = ike_hash_len(sa->alg.integ);
	const struct isakmp_payload *first = isakmp_find(m, PL_NATD, 0);
	if (!first)
		return true;	/* peer did not do NAT-D: assume no NAT */
	uint8_t me[IKE_PRF_MAX], them[IKE_PRF_MAX];
	if (!ike_natd_hash(sa->alg.integ, sa->ck_i, sa->ck_r, ep->cfg.local_ip, local_port, me) ||
	    !ike_natd_hash(sa->alg.integ, sa->ck_i, sa->ck_r, from->ip, from->port, them))
		return false;
	if (first->len != hl)
		return false;
	sa->nat_here = !ct_equal(first->body, me, hl);
	sa->nat_there = true;
	const struct isakmp_payload *p;
	for (size_t i = 1; (p = isakmp_find(m, PL_NATD, i)); i++) {
		if (p->len != hl)
			return false;
		if (ct_equal(p->body, them, hl))
			sa->nat_there = false;
	}
	if (sa->nat_here || sa->nat_there)
		log_info(IKE_LOG, "%s: NAT detected (%s%s%s)", ep->cfg.name,
			 sa->nat_here ? "local" : "", sa->nat_here && sa->nat_there ? ", " : "",
			 sa->nat_there ? "remote" : "");
	return true;
}

static bool parse_plain(struct ike_peer *ep, const struct isakmp_hdr *h, const uint8_t *pkt,
			size_t len, struct isakmp_msg *m)
{
	if (h->flags & ISAKMP_FLAG_E) {
		ep_drop(ep, IKE_DROP_UNEXPECTED, "encrypted message before keys exist");
		return false;
	}
	enum ike_drop why = isakmp_payloads_parse(h->np, pkt + ISAKMP_HDR_LEN,
						  len - ISAKMP_HDR_LEN, m);
	if (why != IKE_DROP_NONE) {
		ep_drop(ep, why, NULL);
		return false;
	}
	return true;
}

static bool ke_nonce(struct ike_peer *ep, struct ike_sa *sa, const struct isakmp_msg *m,
		     const uint8_t **ke, uint8_t *nonce, size_t *nonce_len)
{
	const struct isakmp_payload *k = isakmp_find(m, PL_KE, 0);
	const struct isakmp_payload *n = isakmp_find(m, PL_NONCE, 0);
	if (!k || !n) {
		ep_drop(ep, IKE_DROP_MISSING_PAYLOAD, "KE and nonce required");
		return false;
	}
	if (k->len != ike_dh_pub_len(sa->alg.group)) {
		ep_drop(ep, IKE_DROP_BAD_KE, "KE size does not match the group");
		return false;
	}
	if (n->len < IKE_NONCE_MIN || n->len > IKE_NONCE_MAX) {
		ep_drop(ep, IKE_DROP_BAD_KE, "nonce size out of bounds");
		return false;
	}
	*ke = k->body;
	memcpy(nonce, n->body, n->len);
	*nonce_len = n->len;
	return true;
}

/* SKEYID and friends, the encryption key and the phase 1 IV. */
static bool derive_keys(struct ike_peer *ep, struct ike_sa *sa, const uint8_t *peer_ke)
{
	uint8_t gxy[IKE_DH_MAX], skeyid_e[IKE_PRF_MAX];
	size_t gxy_len = 0;
	enum ike_integ h = sa->alg.integ;
	bool ok = ike_dh_shared(sa->dh, peer_ke, sa->gx_len, gxy, &gxy_len) &&
		  ike_skeyid_psk(h, ep->cfg.psk, ep->cfg.psk_len, sa->ni, sa->ni_len, sa->nr,
				 sa->nr_len, sa->skeyid) &&
		  ike_skeyid_derive(h, sa->skeyid, gxy, gxy_len, sa->ck_i, sa->ck_r, sa->skeyid_d,
				    sa->skeyid_a, skeyid_e) &&
		  ike_enc_key(h, skeyid_e, sa->enc_key, sa->key_len) &&
		  ike_iv_phase1(h, sa->gxi, sa->gxr, sa->gx_len, sa->iv);
	secret_wipe(gxy, sizeof(gxy));
	secret_wipe(skeyid_e, sizeof(skeyid_e));
	ike_dh_free(sa->dh);
	sa->dh = NULL;
	return ok;
}

static void set_alg(struct ike_peer *ep, struct ike_sa *sa, const struct p1_choice *c)
{
	sa->alg = *c;
	if (!sa->alg.lifetime_s || sa->alg.lifetime_s > ep->cfg.p1_lifetime_s)
		sa->alg.lifetime_s = ep->cfg.p1_lifetime_s;
	sa->prf_len = ike_hash_len(c->integ);
	sa->key_len = ike_key_len(c->encr);
	sa->gx_len = ike_dh_pub_len(c->group);
}

static void mark_rx(struct ike_sa *sa, const uint8_t digest[IKE_DIGEST_LEN])
{
	memcpy(sa->rx_digest, digest, IKE_DIGEST_LEN);
	sa->rx_digest_set = true;
}

/* Our identity: ID_IPV4_ADDR, protocol and port zero (RFC 2407 §4.6.2). */
static size_t add_id(struct isakmp_buf *b, uint32_t ip)
{
	size_t s = isakmp_buf_begin(b, PL_ID);
	isakmp_buf_u8(b, ID_IPV4_ADDR);
	isakmp_buf_u8(b, 0);
	isakmp_buf_u16(b, 0);
	isakmp_buf_u32(b, ip);
	isakmp_buf_end(b, s);
	return s;
}

static void initial_contact(struct ike_peer *ep, struct ike_sa *keep, uint64_t now)
{
	log_info(IKE_LOG, "%s: INITIAL-CONTACT: peer restarted, dropping its old SAs", ep->cfg.name);
	/* only what predates this Main Mode: an SA that a simultaneous
	 * exchange established meanwhile is not stale */
	for (struct ike_sa *sa = ep->sas; sa; sa = sa->next)
		if (sa != keep && sa->state == SA_ESTABLISHED &&
		    sa->established_ms < keep->created_ms)
			sa_set_state(ep, sa, SA_DEAD, "peer restarted (INITIAL-CONTACT)");
	bool had = ep->children != NULL;
	for (struct ike_child *c = ep->children, *next; c; c = next) {
		next = c->next;
		if (c->installed_ms < keep->created_ms)
			child_delete(ep, c, now, false, "peer restarted (INITIAL-CONTACT)");
	}
	if (had && !ep->children)
		ep_status(ep, false, "peer restarted (INITIAL-CONTACT)");
}

static void established(struct ike_peer *ep, struct ike_sa *sa, uint64_t now)
{
	sa_set_state(ep, sa, SA_ESTABLISHED, sa->initiator ? "peer's message 6 authenticated" : "peer's message 5 authenticated");
	sa->established_ms = now;
	sa->rekey_ms = ep_rekey_ms(ep, now, sa->alg.lifetime_s);
	sa->expire_ms = now + (uint64_t)sa->alg.lifetime_s * 1000;
	sa->tx.active = false;
	secret_wipe(sa->skeyid, sizeof(sa->skeyid));
	ep->st.p1_established++;
	ep->last_rx_ms = now;
	ep->dpd_outstanding = false;
	char alg[64];
	p1_choice_name(&sa->alg, alg, sizeof(alg));
	log_info(IKE_LOG, "%s: ISAKMP SA #%u established as %s (%s, %us%s%s)", ep->cfg.name,
		 sa->serial, sa->initiator ? "initiator" : "responder", alg, sa->alg.lifetime_s,
		 sa->local_port == IKE_NATT_PORT ? ", NAT-T" : "", sa->peer_dpd ? ", DPD" : "");
	if (sa->is_rekey) {
		for (struct ike_sa *old = ep->sas; old; old = old->next) {
			if (old == sa || old->state != SA_ESTABLISHED || old->established_ms > now ||
			    !old->rekey_started)
				continue;
			uint8_t spi[16];
			memcpy(spi, old->ck_i, 8);
			memcpy(spi + 8, old->ck_r, 8);
			info_send_delete(ep, old, PROTO_ISAKMP, spi, 16);
			sa_set_state(ep, old, SA_DEAD, "replaced by a newer ISAKMP SA");
		}
	}
	ep_after_established(ep, sa, now);
}

/* ---- initiator -------------------------------------------------------- */

struct ike_sa *mm_initiate(struct ike_peer *ep, uint64_t now, bool rekey)
{
	struct ike_sa *sa = sa_new(ep, now, true);
	if (!sa)
		return NULL;
	sa->is_rekey = rekey;
	rand_bytes(sa->ck_i, 8);
	sa->peer.ip = ep->cfg.remote_ip;
	sa->peer.port = IKE_PORT;
	sa->local_port = IKE_PORT;
	struct isakmp_buf b;
	static const uint8_t zero[8];
	isakmp_buf_header(&b, sa->ck_i, zero, EXCH_IDPROT, 0, 0);
	size_t s = p1_sa_build(&b, &ep->cfg);
	add_vids(&b, true, true);
	isakmp_buf_finish(&b);
	size_t end = s + get_be16(b.b + s + 2);
	if (b.overflow || !(sa->sai_b = malloc(end - s - ISAKMP_GENERIC_LEN))) {
		sa_fail(ep, sa, now, "internal error building Main Mode");
		return NULL;
	}
	sa->sai_len = end - s - ISAKMP_GENERIC_LEN;
	memcpy(sa->sai_b, b.b + s + ISAKMP_GENERIC_LEN, sa->sai_len);
	log_info(IKE_LOG, "%s: initiating Main Mode (ISAKMP SA #%u%s)", ep->cfg.name, sa->serial,
		 rekey ? ", re-authentication" : "");
	xmit_start(ep, sa, &sa->tx, &b, true, now);
	return sa;
}

static void on_mm2(struct ike_peer *ep, struct ike_sa *sa, uint64_t now,
		   const struct isakmp_hdr *h, const uint8_t *pkt, size_t len,
		   const uint8_t *digest)
{
	struct isakmp_msg m;
	if (!parse_plain(ep, h, pkt, len, &m))
		return;
	const struct isakmp_payload *sap = isakmp_find(&m, PL_SA, 0);
	if (!sap) {
		ep_drop(ep, IKE_DROP_MISSING_PAYLOAD, "SA");
		return;
	}
	struct p1_choice c;
	enum ike_drop why = p1_sa_check_reply(sap->body, sap->len, &ep->cfg, &c);
	if (why == IKE_DROP_NO_PROPOSAL) {
		ep->st.proposal_mismatches++;
		ep_drop(ep, why, "responder chose a transform we did not offer");
		sa_fail(ep, sa, now, "proposal mismatch: responder chose a transform we did not offer");
		return;
	}
	if (why != IKE_DROP_NONE) {
		ep_drop(ep, why, NULL);
		return;
	}
	memcpy(sa->ck_r, h->ck_r, 8);
	set_alg(ep, sa, &c);
	read_vids(&m, &sa->peer_natt, &sa->peer_dpd);
	sa->dh = ike_dh_new(c.group);
	if (!sa->dh) {
		sa_fail(ep, sa, now, "internal error: DH");
		return;
	}
	memcpy(sa->gxi, ike_dh_pub(sa->dh), sa->gx_len);
	sa->ni_len = IKE_NONCE_LEN;
	rand_bytes(sa->ni, sa->ni_len);
	struct isakmp_buf b;
	isakmp_buf_header(&b, sa->ck_i, sa->ck_r, EXCH_IDPROT, 0, 0);
	isakmp_buf_simple(&b, PL_KE, sa->gxi, sa->gx_len);
	isakmp_buf_simple(&b, PL_NONCE, sa->ni, sa->ni_len);
	if (sa->peer_natt) {
		add_natd(&b, sa, sa->peer.ip, sa->peer.port);
		/* force_encap: a hash of no address of ours (0.0.0.0:0) */
		add_natd(&b, sa, ep->cfg.force_encap ? 0 : ep->cfg.local_ip,
			 ep->cfg.force_encap ? 0 : sa->local_port);
	}
	isakmp_buf_finish(&b);
	mark_rx(sa, digest);
	sa_set_state(ep, sa, SA_I3, "peer's message 2 accepted, message 3 sent");
	xmit_start(ep, sa, &sa->tx, &b, true, now);
}

static void on_mm4(struct ike_peer *ep, struct ike_sa *sa, uint64_t now,
		   const struct ike_addr *from, bool nat_port, const struct isakmp_hdr *h,
		   const uint8_t *pkt, size_t len, const uint8_t *digest)
{
	struct isakmp_msg m;
	const uint8_t *ke;
	if (!parse_plain(ep, h, pkt, len, &m) ||
	    !ke_nonce(ep, sa, &m, &ke, sa->nr, &sa->nr_len))
		return;
	if (sa->peer_natt &&
	    !check_natd(ep, sa, &m, nat_port ? IKE_NATT_PORT : IKE_PORT, from)) {
		ep_drop(ep, IKE_DROP_BAD_PAYLOAD, "NAT-D size");
		return;
	}
	if (sa->peer_natt && ep->cfg.force_encap)
		sa->nat_here = true;	/* as our faked NAT-D told the peer */
	memcpy(sa->gxr, ke, sa->gx_len);
	if (!derive_keys(ep, sa, ke)) {
		ep_drop(ep, IKE_DROP_BAD_KE, "DH failed on the peer's public value");
		sa_fail(ep, sa, now, "key exchange failed");
		return;
	}
	if (sa->peer_natt && (sa->nat_here || sa->nat_there)) {
		sa->local_port = IKE_NATT_PORT;	/* RFC 3947 §4: float with the ID */
		sa->peer.port = IKE_NATT_PORT;
	}
	bool first = !ep_best_sa(ep);
	struct isakmp_buf b;
	isakmp_buf_header(&b, sa->ck_i, sa->ck_r, EXCH_IDPROT, 0, 0);
	size_t ids = add_id(&b, ep->cfg.local_ip);
	uint8_t hash[IKE_PRF_MAX];
	if (!ike_mm_hash(sa->alg.integ, sa->skeyid, sa->gxi, sa->gxr, sa->gx_len, sa->ck_i,
			 sa->ck_r, sa->sai_b, sa->sai_len, b.b + ids + ISAKMP_GENERIC_LEN,
			 8, hash)) {
		sa_fail(ep, sa, now, "internal error: HASH_I");
		return;
	}
	isakmp_buf_simple(&b, PL_HASH, hash, sa->prf_len);
	if (first) {
		size_t s = isakmp_buf_begin(&b, PL_N);
		isakmp_buf_u32(&b, DOI_IPSEC);
		isakmp_buf_u8(&b, PROTO_ISAKMP);
		isakmp_buf_u8(&b, 16);
		isakmp_buf_u16(&b, N_INITIAL_CONTACT);
		isakmp_buf_put(&b, sa->ck_i, 8);
		isakmp_buf_put(&b, sa->ck_r, 8);
		isakmp_buf_end(&b, s);
	}
	if (!sa_encrypt(sa, sa->iv, &b)) {
		sa_fail(ep, sa, now, "internal error: encrypt");
		return;
	}
	mark_rx(sa, digest);
	sa_set_state(ep, sa, SA_I5, "peer's message 4 accepted, message 5 sent");
	xmit_start(ep, sa, &sa->tx, &b, true, now);
}

/* Decrypt and check an IDii/IDir + HASH message. On success *next_iv is
 * the IV to commit and the function returns true. */
static bool verify_identity(struct ike_peer *ep, struct ike_sa *sa, const struct isakmp_hdr *h,
			    const uint8_t *pkt, size_t len, uint8_t next_iv[IKE_BLOCK],
			    bool *ic)
{
	if (!(h->flags & ISAKMP_FLAG_E)) {
		ep_drop(ep, IKE_DROP_DECRYPT, "identity must be encrypted");
		return false;
	}
	uint8_t *plain = malloc(len);
	if (!plain)
		return false;
	bool ok = false;
	const char *fail = NULL;
	struct isakmp_msg m;
	if (!sa_decrypt(sa, sa->iv, pkt, len, plain, next_iv)) {
		ep_drop(ep, IKE_DROP_DECRYPT, "ciphertext is not whole blocks");
		goto out;
	}
	if (isakmp_payloads_parse(h->np, plain + ISAKMP_HDR_LEN, len - ISAKMP_HDR_LEN, &m) !=
	    IKE_DROP_NONE) {
		/* garbage after decryption: almost always the wrong PSK */
		ep_drop(ep, IKE_DROP_BAD_HASH, "identity does not decrypt (pre-shared key mismatch?)");
		fail = "authentication failed: identity does not decrypt (pre-shared key mismatch?)";
		goto out;
	}
	const struct isakmp_payload *id = isakmp_find(&m, PL_ID, 0);
	const struct isakmp_payload *hp = isakmp_find(&m, PL_HASH, 0);
	if (!id || !hp) {
		ep_drop(ep, IKE_DROP_MISSING_PAYLOAD, "ID and HASH required");
		fail = "authentication failed: identity does not decrypt (pre-shared key mismatch?)";
		goto out;
	}
	uint8_t want[IKE_PRF_MAX];
	bool hok = sa->initiator
		? ike_mm_hash(sa->alg.integ, sa->skeyid, sa->gxr, sa->gxi, sa->gx_len, sa->ck_r,
			      sa->ck_i, sa->sai_b, sa->sai_len, id->body, id->len, want)
		: ike_mm_hash(sa->alg.integ, sa->skeyid, sa->gxi, sa->gxr, sa->gx_len, sa->ck_i,
			      sa->ck_r, sa->sai_b, sa->sai_len, id->body, id->len, want);
	if (!hok || hp->len != sa->prf_len || !ct_equal(hp->body, want, sa->prf_len)) {
		ep_drop(ep, IKE_DROP_BAD_HASH, sa->initiator ? "HASH_R" : "HASH_I");
		fail = "authentication failed: hash mismatch (pre-shared key mismatch?)";
		goto out;
	}
	/* authenticated; now is it who we expect? */
	if (id->len != 8 || id->body[0] != ID_IPV4_ADDR || get_be32(id->body + 4) != ep->cfg.remote_id) {
		ep_drop(ep, IKE_DROP_BAD_ID, "peer identity is not the configured address");
		fail = "authentication failed: peer identity mismatch";
		goto out;
	}
	*ic = false;
	const struct isakmp_payload *n;
	for (size_t i = 0; (n = isakmp_find(&m, PL_N, i)); i++)
		if (n->len >= 8 && get_be16(n->body + 6) == N_INITIAL_CONTACT)
			*ic = true;
	ok = true;
out:
	if (fail) {
		ep->st.auth_failures++;
		ep_down_unless_children(ep, fail);
	}
	secret_wipe(plain, len);
	free(plain);
	return ok;
}

static void on_mm6(struct ike_peer *ep, struct ike_sa *sa, uint64_t now,
		   const struct isakmp_hdr *h, const uint8_t *pkt, size_t len,
		   const uint8_t *digest)
{
	uint8_t next_iv[IKE_BLOCK];
	bool ic;
	if (!verify_identity(ep, sa, h, pkt, len, next_iv, &ic))
		return;
	memcpy(sa->iv, next_iv, IKE_BLOCK);
	mark_rx(sa, digest);
	established(ep, sa, now);
}

/* ---- responder -------------------------------------------------------- */

/* Message 1: answered with message 2 from the half-open table, without
 * an ISAKMP SA (see ike_halfopen.c); no DH and no PRF here. */
static void on_mm1(struct ike_peer *ep, uint64_t now, const struct ike_addr *from,
		   bool nat_port, const struct isakmp_hdr *h, const uint8_t *pkt, size_t len,
		   const uint8_t *digest)
{
	if (!src_admit(ep, from, now)) {
		ep_drop(ep, IKE_DROP_SOURCE_LIMIT, NULL);
		return;
	}
	struct isakmp_msg m;
	if (!parse_plain(ep, h, pkt, len, &m))
		return;
	const struct isakmp_payload *sap = isakmp_find(&m, PL_SA, 0);
	if (!sap) {
		ep_drop(ep, IKE_DROP_MISSING_PAYLOAD, "SA");
		return;
	}
	struct p1_choice c;
	struct sa_pick pick;
	char offered[IKE_CAUSE_MAX], cause[IKE_CAUSE_MAX];
	enum ike_drop why = p1_sa_select(sap->body, sap->len, &ep->cfg, &c, &pick, offered,
					 sizeof(offered) - 32);
	uint16_t lport = nat_port ? IKE_NATT_PORT : IKE_PORT;
	if (why == IKE_DROP_NO_PROPOSAL) {
		ep->st.proposal_mismatches++;
		snprintf(cause, sizeof(cause), "proposal mismatch: offered %.120s", offered);
		ep_drop(ep, why, cause);
		uint8_t ck_r[8];
		rand_bytes(ck_r, 8);
		info_send_plain_notify(ep, h->ck_i, ck_r, from, lport, N_NO_PROPOSAL_CHOSEN);
		/* the status names the offer, so that the router's owner sees what
		 * to fix; but anyone can send offers, each one different: the
		 * status (and its log line) changes a few times per interval at
		 * most, and never while CHILD SAs are up */
		uint64_t skipped;
		if (!log_limit_pass(&ep->logk[IKE_LOGK_MISMATCH], now, &skipped))
			return;
		if (skipped)
			log_warn(IKE_LOG, "%s: %llu similar proposal mismatches suppressed",
				 ep->cfg.name, (unsigned long long)skipped);
		if (!ep->children)
			ep_status(ep, false, cause);
		else
			log_warn(IKE_LOG, "%s: %s (existing CHILD SAs stay up)", ep->cfg.name, cause);
		return;
	}
	if (why != IKE_DROP_NONE) {
		ep_drop(ep, why, NULL);
		return;
	}
	struct ike_ho *ho = ho_insert(ep, h->ck_i, from, now);
	if (!ho)
		return;
	ho->ho_local_port = lport;
	ho->ho_alg = c;
	memcpy(ho->ho_digest, digest, IKE_DIGEST_LEN);
	read_vids(&m, &ho->ho_peer_natt, &ho->ho_peer_dpd);
	struct isakmp_buf b;
	isakmp_buf_header(&b, h->ck_i, ho->ho_ck_r, EXCH_IDPROT, 0, 0);
	p1_sa_build_reply(&b, &pick);
	add_vids(&b, ho->ho_peer_natt, ho->ho_peer_dpd);
	isakmp_buf_finish(&b);
	uint8_t *sai = malloc(sap->len ? sap->len : 1), *reply = malloc(b.len);
	if (b.overflow || !sai || !reply) {
		free(sai);
		free(reply);
		ho_remove(ep, ho);
		return;
	}
	memcpy(sai, sap->body, sap->len);
	memcpy(reply, b.b, b.len);
	if (!ho_set_buffers(ep, ho, sai, sap->len, reply, b.len))
		return;
	ike_log_limited(ep, IKE_LOGK_MM1, now, LOG_INFO,
			"%s: peer initiated Main Mode from port %u (waiting for it to answer)",
			ep->cfg.name, from->port);
	ep_send(ep, from, lport, ho->ho_reply, ho->ho_reply_len);
}

/* Message 3 carried the responder cookie of an unanswered exchange: the
 * peer receives at its address. The exchange becomes an ISAKMP SA (R2),
 * which unproven ones can no longer push out. NULL when there is no room
 * for it (the entry stays: a retransmission may find room later). */
static struct ike_sa *ho_promote(struct ike_peer *ep, struct ike_ho *ho, uint64_t now)
{
	struct ike_sa *sa = sa_new(ep, now, false);
	if (!sa)
		return NULL;
	memcpy(sa->ck_i, ho->ho_ck_i, 8);
	memcpy(sa->ck_r, ho->ho_ck_r, 8);
	sa->peer = ho->ho_peer;
	sa->local_port = ho->ho_local_port;
	sa->created_ms = ho->ho_created_ms;	/* the 60 s of Main Mode count from message 1 */
	set_alg(ep, sa, &ho->ho_alg);
	sa->peer_natt = ho->ho_peer_natt;
	sa->peer_dpd = ho->ho_peer_dpd;
	sa->sai_b = ho->ho_sai;		/* taken over */
	sa->sai_len = ho->ho_sai_len;
	ho->ho_sai = NULL;
	sa->tx.buf = ho->ho_reply;	/* message 2, for a repeated message 1 */
	sa->tx.len = ho->ho_reply_len;
	ho->ho_reply = NULL;
	mark_rx(sa, ho->ho_digest);
	log_info(IKE_LOG, "%s: peer initiated Main Mode and answered our message 2 after %llu ms "
		 "(ISAKMP SA #%u)", ep->cfg.name, (unsigned long long)(now - ho->ho_created_ms),
		 sa->serial);
	ho_remove(ep, ho);
	return sa;
}

static void on_mm3(struct ike_peer *ep, struct ike_sa *sa, uint64_t now,
		   const struct ike_addr *from, bool nat_port, const struct isakmp_hdr *h,
		   const uint8_t *pkt, size_t len, const uint8_t *digest)
{
	struct isakmp_msg m;
	const uint8_t *ke;
	if (!parse_plain(ep, h, pkt, len, &m) ||
	    !ke_nonce(ep, sa, &m, &ke, sa->ni, &sa->ni_len))
		return;
	uint16_t lport = nat_port ? IKE_NATT_PORT : IKE_PORT;
	if (sa->peer_natt && !check_natd(ep, sa, &m, lport, from)) {
		ep_drop(ep, IKE_DROP_BAD_PAYLOAD, "NAT-D size");
		return;
	}
	if (sa->peer_natt && ep->cfg.force_encap)
		sa->nat_here = true;	/* as our faked NAT-D tells the peer */
	sa->dh = ike_dh_new(sa->alg.group);
	if (!sa->dh) {
		sa_fail(ep, sa, now, "internal error: DH");
		return;
	}
	memcpy(sa->gxi, ke, sa->gx_len);
	memcpy(sa->gxr, ike_dh_pub(sa->dh), sa->gx_len);
	sa->nr_len = IKE_NONCE_LEN;
	rand_bytes(sa->nr, sa->nr_len);
	if (!derive_keys(ep, sa, ke)) {
		ep_drop(ep, IKE_DROP_BAD_KE, "DH failed on the peer's public value");
		sa_set_state(ep, sa, SA_DEAD, "DH failed on the peer's public value");
		return;
	}
	struct isakmp_buf b;
	isakmp_buf_header(&b, sa->ck_i, sa->ck_r, EXCH_IDPROT, 0, 0);
	isakmp_buf_simple(&b, PL_KE, sa->gxr, sa->gx_len);
	isakmp_buf_simple(&b, PL_NONCE, sa->nr, sa->nr_len);
	if (sa->peer_natt) {
		add_natd(&b, sa, from->ip, from->port);
		add_natd(&b, sa, ep->cfg.force_encap ? 0 : ep->cfg.local_ip,
			 ep->cfg.force_encap ? 0 : lport);
	}
	isakmp_buf_finish(&b);
	mark_rx(sa, digest);
	sa_set_state(ep, sa, SA_R4, "peer's message 3 accepted, message 4 sent");
	xmit_start(ep, sa, &sa->tx, &b, false, now);
}

static void on_mm5(struct ike_peer *ep, struct ike_sa *sa, uint64_t now,
		   const struct ike_addr *from, bool nat_port, const struct isakmp_hdr *h,
		   const uint8_t *pkt, size_t len, const uint8_t *digest)
{
	uint8_t next_iv[IKE_BLOCK];
	bool ic;
	if (!verify_identity(ep, sa, h, pkt, len, next_iv, &ic))
		return;
	memcpy(sa->iv, next_iv, IKE_BLOCK);
	if (nat_port) {		/* the peer floated to 4500 */
		sa->local_port = IKE_NATT_PORT;
		sa->peer = *from;
	}
	if (ic)
		initial_contact(ep, sa, now);
	struct isakmp_buf b;
	isakmp_buf_header(&b, sa->ck_i, sa->ck_r, EXCH_IDPROT, 0, 0);
	size_t ids = add_id(&b, ep->cfg.local_ip);
	uint8_t hash[IKE_PRF_MAX];
	if (!ike_mm_hash(sa->alg.integ, sa->skeyid, sa->gxr, sa->gxi, sa->gx_len, sa->ck_r,
			 sa->ck_i, sa->sai_b, sa->sai_len, b.b + ids + ISAKMP_GENERIC_LEN, 8,
			 hash) ||
	    (isakmp_buf_simple(&b, PL_HASH, hash, sa->prf_len), !sa_encrypt(sa, sa->iv, &b))) {
		sa_fail(ep, sa, now, "internal error building HASH_R");
		return;
	}
	mark_rx(sa, digest);
	xmit_start(ep, sa, &sa->tx, &b, false, now);
	established(ep, sa, now);
}

/* ---- dispatch --------------------------------------------------------- */

void mm_input(struct ike_peer *ep, uint64_t now, const struct ike_addr *from,
	      bool nat_port, const uint8_t *pkt, size_t len, const struct isakmp_hdr *h)
{
	static const uint8_t zero[8];
	if (h->msgid != 0) {
		ep_drop(ep, IKE_DROP_UNEXPECTED, "Main Mode with a message id");
		return;
	}
	bool no_r = memcmp(h->ck_r, zero, 8) == 0;
	struct ike_sa *sa = NULL;
	for (struct ike_sa *s = ep->sas; s && !sa; s = s->next) {
		if (s->state == SA_DEAD || memcmp(s->ck_i, h->ck_i, 8) != 0)
			continue;
		if (no_r ? !s->initiator
			 : memcmp(s->ck_r, h->ck_r, 8) == 0 ||
				   (s->initiator && s->state == SA_I1))
			sa = s;
	}
	uint8_t digest[IKE_DIGEST_LEN];
	ep_digest(pkt, len, digest);
	if (sa && sa->rx_digest_set && memcmp(sa->rx_digest, digest, IKE_DIGEST_LEN) == 0) {
		if (!sa->initiator) {
			ep->st.duplicates_answered++;
			log_debug(IKE_LOG, "%s: retransmitted request, answering from cache",
				  ep->cfg.name);
			xmit_resend(ep, sa, &sa->tx);
		}
		return;
	}
	if (!sa && no_r) {
		struct ike_ho *ho = h->np == PL_SA ? ho_find_retransmit(ep, h->ck_i, from, digest) : NULL;
		if (ho) {
			ep->st.duplicates_answered++;
			ep_send(ep, &ho->ho_peer, ho->ho_local_port, ho->ho_reply, ho->ho_reply_len);
		} else if (h->np == PL_SA) {
			on_mm1(ep, now, from, nat_port, h, pkt, len, digest);
		} else {
			ep_drop(ep, IKE_DROP_NO_SA, "Main Mode");
		}
		return;
	}
	if (!sa) {
		struct ike_ho *ho = ho_find(ep, h->ck_i, h->ck_r, from->ip);
		if (!ho) {
			ep_drop(ep, IKE_DROP_NO_SA, "Main Mode");
			return;
		}
		if (!(sa = ho_promote(ep, ho, now)))
			return;
	}
	switch (sa->state) {
	case SA_I1: on_mm2(ep, sa, now, h, pkt, len, digest); break;
	case SA_I3: on_mm4(ep, sa, now, from, nat_port, h, pkt, len, digest); break;
	case SA_I5: on_mm6(ep, sa, now, h, pkt, len, digest); break;
	case SA_R2: on_mm3(ep, sa, now, from, nat_port, h, pkt, len, digest); break;
	case SA_R4: on_mm5(ep, sa, now, from, nat_port, h, pkt, len, digest); break;
	case SA_ESTABLISHED:
	case SA_DEAD:
		ep_drop(ep, IKE_DROP_UNEXPECTED, "Main Mode message after establishment");
		break;
	}
}
