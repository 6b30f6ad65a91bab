/*
 * ikev2_proposal — IKEv2 SA payloads (RFC 7296 §3.3): our offers, the
 * responder's choice among a peer's proposals, the check of a
 * responder's answer, and names for status messages.
 *
 * Internal to src/vpn/ike. Parsers walk the payload in place and allocate
 * nothing. A transform we do not know, or a key length we do not allow,
 * makes only that transform unacceptable (§3.3.6), never the message
 * malformed; a broken proposal or transform structure is malformed.
 *
 * What the tunnel allows comes from struct ike_tunnel_config: phase 1
 * (the IKE SA) p1_encr (AES-CBC) and p1_aead (AES-GCM-16), p1_integ used
 * both as PRF and integrity list, p1_dh; phase 2 (CHILD SAs) p2_encr,
 * p2_integ, p2_dh (the PFS groups). AEAD and non-AEAD ciphers go in
 * separate proposals, as §3.3 requires.
 */
#ifndef VPCD_VPN_IKEV2_PROPOSAL_H
#define VPCD_VPN_IKEV2_PROPOSAL_H

#include "vpn/ike/ikev2_wire.h"

#define IKEV2_OFFERED_MAX	200	/* "peer offered ..." text */

struct v2_choice {
	uint8_t proto;			/* V2_PROTO_IKE or V2_PROTO_ESP */
	uint8_t prop_num;
	enum ike_encr encr;
	enum ike_integ integ;		/* IKE_INTEG_NONE with GCM */
	enum ike_integ prf;		/* IKE SAs only */
	uint16_t group;			/* 0 = none */
	uint8_t spi[8];			/* the proposer's SPI (0, 4 or 8 bytes) */
	size_t spi_len;
};

/* How a selection treats DH transforms. */
enum v2_dh_mode {
	V2_DH_IGNORE,	/* IKE_AUTH's CHILD SA: PFS does not apply (§1.2) */
	V2_DH_KE,	/* a KE payload came: the group must be allowed */
	V2_DH_NONE,	/* no KE: the proposal must allow no DH */
};

/* Our offer. IKE: `group` (the KE payload's) is listed first among the
 * groups; spi is 8 bytes for an IKE SA rekey, NULL in IKE_SA_INIT.
 * ESP: spi is our inbound SPI; pfs_group 0 = no DH transform. */
void v2_sa_build_ike(struct isakmp_buf *b, const struct ike_tunnel_config *cfg, uint16_t group,
		     const uint8_t *spi);
void v2_sa_build_esp(struct isakmp_buf *b, const struct ike_tunnel_config *cfg, uint32_t spi,
		     uint16_t pfs_group);
/* The responder's answer: the chosen transforms, with our SPI (spi_len
 * bytes: 0 in IKE_SA_INIT, 8 for an IKE SA rekey, 4 for ESP). */
void v2_sa_build_reply(struct isakmp_buf *b, const struct v2_choice *c, const uint8_t *spi,
		       size_t spi_len);

/* Responder: the first proposal (in the peer's order) of protocol
 * `proto` with an allowed transform of every type. With V2_DH_KE, ke_group
 * is the KE payload's group.
 *   IKE_DROP_NONE: *out filled.
 *   IKE_DROP_BAD_KE: a proposal fits but not with ke_group; out->group is
 *     the group to ask for (INVALID_KE_PAYLOAD).
 *   IKE_DROP_NO_PROPOSAL: nothing fits; `offered` names what the peer
 *     offered (NUL-terminated, truncated to cap).
 *   IKE_DROP_BAD_PROPOSAL: malformed. */
enum ike_drop v2_sa_select(const uint8_t *sa, size_t len, const struct ike_tunnel_config *cfg,
			   uint8_t proto, enum v2_dh_mode dh, uint16_t ke_group,
			   struct v2_choice *out, char *offered, size_t cap);
/* Initiator: the responder's SA must hold one proposal with exactly one
 * transform of each type we offered, each allowed; with V2_DH_KE the
 * group must be ke_group. */
enum ike_drop v2_sa_check_reply(const uint8_t *sa, size_t len, const struct ike_tunnel_config *cfg,
				uint8_t proto, enum v2_dh_mode dh, uint16_t ke_group,
				struct v2_choice *out);

/* "aes128-sha1-prfsha1-modp1024" / "aes128gcm16-modp2048" (strongSwan's
 * proposal syntax), and our offers as "a, b, ..." for status messages. */
void v2_choice_name(const struct v2_choice *c, char *out, size_t cap);
void v2_offer_name_ike(const struct ike_tunnel_config *cfg, char *out, size_t cap);
void v2_offer_name_esp(const struct ike_tunnel_config *cfg, bool pfs, char *out, size_t cap);

#endif
