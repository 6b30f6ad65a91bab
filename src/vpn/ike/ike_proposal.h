/*
 * ike_proposal — SA payloads of both phases (RFC 2408 §3.4-3.6, RFC 2409
 * appendix A, RFC 2407 §4.5), proposal selection against the tunnel's
 * allowed algorithms, and traffic selectors (QM identities, RFC 2407 §4.6.2).
 *
 * Parsers take an SA payload body (after the generic header) and point into
 * it; nothing is allocated.
 */
#ifndef VPCD_VPN_IKE_PROPOSAL_H
#define VPCD_VPN_IKE_PROPOSAL_H

#include "vpn/ike/ike_wire.h"

struct p1_choice {
	enum ike_encr encr;
	enum ike_integ integ;
	uint16_t group;
	uint32_t lifetime_s;	/* 0 when the proposal carried none */
};

struct p2_choice {
	enum ike_encr encr;
	enum ike_integ integ;
	uint16_t group;		/* 0 = no PFS */
	uint16_t encap;		/* ENCAP_TUNNEL / ENCAP_UDP_TUNNEL(_DRAFT) */
	uint32_t lifetime_s;	/* 0 when none */
	uint64_t life_kbytes;	/* 0 when none */
};

/* The chosen transform, for echoing it back to the initiator verbatim. */
struct sa_pick {
	uint8_t prop_num;
	const uint8_t *tf;	/* transform payload, generic header included */
	size_t tf_len;
	uint32_t spi;		/* phase 2: the peer's SPI */
};

size_t ike_key_len(enum ike_encr e);		/* 16 or 32 (no salt) */
bool ike_encr_is_gcm(enum ike_encr e);
const char *ike_encr_name(enum ike_encr e);	/* aes128, aes256gcm16, ... */
const char *ike_integ_name(enum ike_integ i);	/* sha1, sha256, ... */
size_t ike_icv_len(enum ike_encr e, enum ike_integ i);

/* Our offer: an SA payload with one proposal and every combination of the
 * configured algorithms. Returns the payload's offset in b. */
size_t p1_sa_build(struct isakmp_buf *b, const struct ike_tunnel_config *cfg);
size_t p2_sa_build(struct isakmp_buf *b, const struct ike_tunnel_config *cfg, uint32_t spi,
		   uint16_t encap, uint16_t group);
/* The responder's answer: one proposal holding the picked transform. */
size_t p1_sa_build_reply(struct isakmp_buf *b, const struct sa_pick *pick);
size_t p2_sa_build_reply(struct isakmp_buf *b, const struct sa_pick *pick, uint32_t our_spi);

/* Responder: pick the first transform (in the peer's order) that the
 * configuration allows. IKE_DROP_NONE on success; IKE_DROP_NO_PROPOSAL
 * when nothing fits (then `offered` names what the peer offered);
 * IKE_DROP_BAD_PROPOSAL when malformed. have_ke: the QM carried a KE
 * payload, so a transform must name a PFS group (and none without). */
enum ike_drop p1_sa_select(const uint8_t *sa, size_t len, const struct ike_tunnel_config *cfg,
			   struct p1_choice *out, struct sa_pick *pick, char *offered,
			   size_t offered_cap);
enum ike_drop p2_sa_select(const uint8_t *sa, size_t len, const struct ike_tunnel_config *cfg,
			   bool have_ke, struct p2_choice *out, struct sa_pick *pick,
			   char *offered, size_t offered_cap);
/* Initiator: the responder's SA must hold exactly one transform that we
 * could have offered. */
enum ike_drop p1_sa_check_reply(const uint8_t *sa, size_t len, const struct ike_tunnel_config *cfg,
				struct p1_choice *out);
enum ike_drop p2_sa_check_reply(const uint8_t *sa, size_t len, const struct ike_tunnel_config *cfg,
				bool have_ke, struct p2_choice *out, uint32_t *peer_spi);

/* What we offer, for "proposal mismatch: offered ..." on the initiator. */
void p1_offer_name(const struct ike_tunnel_config *cfg, char *out, size_t cap);
void p2_offer_name(const struct ike_tunnel_config *cfg, char *out, size_t cap);
void p1_choice_name(const struct p1_choice *c, char *out, size_t cap);
void p2_choice_name(const struct p2_choice *c, char *out, size_t cap);

/* ---- traffic selectors ------------------------------------------------ */

struct ike_ts ts_from_subnet(struct ike_subnet s);
struct ike_ts ts_host(uint32_t ip);
/* ID payload body (type, protocol, port, data) <-> selector. */
bool ts_parse_id(const uint8_t *body, size_t len, struct ike_ts *ts);
void ts_build_id(struct isakmp_buf *b, const struct ike_ts *ts);
/* Address intersection; false when empty. Protocol and port pass through. */
bool ts_narrow(const struct ike_ts *in, const struct ike_ts *bound, struct ike_ts *out);
bool ts_within(const struct ike_ts *inner, const struct ike_ts *outer);
bool ts_equal(const struct ike_ts *a, const struct ike_ts *b);
/* "10.0.0.0/24", "10.0.0.1-10.0.0.9", with "[proto/port]" when set. */
void ts_name(const struct ike_ts *ts, char *out, size_t cap);

#endif
