/*
 * ike_wire — ISAKMP (RFC 2408) header and payload chain: numbers, a
 * bounds-checked parser and a fixed-buffer builder.
 *
 * The parser never allocates: a parsed message points into the caller's
 * bytes, which must outlive it. Every length is checked before it is read.
 * The builder writes into a fixed array and records overflow instead of
 * writing past it.
 */
#ifndef VPCD_VPN_IKE_WIRE_H
#define VPCD_VPN_IKE_WIRE_H

#include "vpn/ike/ike.h"

#define ISAKMP_HDR_LEN		28
#define ISAKMP_GENERIC_LEN	4
#define ISAKMP_VERSION		0x10
#define ISAKMP_MAX_PAYLOADS	32	/* more is hostile */
#define ISAKMP_MAX_TRANSFORMS	255	/* per proposal: its "# transforms" is 8 bits */
#define ISAKMP_MSG_MAX		4096	/* our own messages fit in this */

/* Exchange types (RFC 2408 §3.1, RFC 2409 §5). */
enum {
	EXCH_IDPROT = 2,	/* Main Mode */
	EXCH_AGGRESSIVE = 4,
	EXCH_INFO = 5,
	EXCH_QUICK = 32,
};

/* Header flags. */
#define ISAKMP_FLAG_E	0x01
#define ISAKMP_FLAG_C	0x02
#define ISAKMP_FLAG_A	0x04

/* Payload types. */
enum {
	PL_NONE = 0, PL_SA = 1, PL_P = 2, PL_T = 3, PL_KE = 4, PL_ID = 5, PL_CERT = 6,
	PL_CR = 7, PL_HASH = 8, PL_SIG = 9, PL_NONCE = 10, PL_N = 11, PL_D = 12, PL_VID = 13,
	PL_NATD = 20, PL_NATOA = 21,
};

enum { DOI_IPSEC = 1, SIT_IDENTITY_ONLY = 1 };
enum { PROTO_ISAKMP = 1, PROTO_AH = 2, PROTO_ESP = 3 };
enum { KEY_IKE = 1 };
enum { ESP_AES_CBC = 12, ESP_AES_GCM_16 = 20 };

/* Phase 1 attributes (RFC 2409 appendix A). */
enum {
	P1A_ENCR = 1, P1A_HASH = 2, P1A_AUTH = 3, P1A_GROUP = 4, P1A_LIFE_TYPE = 11,
	P1A_LIFE_DURATION = 12, P1A_KEY_LENGTH = 14,
};
enum { P1_ENCR_AES_CBC = 7 };
enum { P1_HASH_SHA1 = 2, P1_HASH_SHA256 = 4, P1_HASH_SHA384 = 5, P1_HASH_SHA512 = 6 };
enum { P1_AUTH_PSK = 1 };
enum { LIFE_SECONDS = 1, LIFE_KILOBYTES = 2 };

/* Phase 2 (IPsec DOI) attributes (RFC 2407 §4.5). */
enum {
	P2A_LIFE_TYPE = 1, P2A_LIFE_DURATION = 2, P2A_GROUP = 3, P2A_ENCAP = 4, P2A_AUTH = 5,
	P2A_KEY_LENGTH = 6,
};
enum {
	ENCAP_TUNNEL = 1, ENCAP_TRANSPORT = 2, ENCAP_UDP_TUNNEL = 3, ENCAP_UDP_TRANSPORT = 4,
	ENCAP_UDP_TUNNEL_DRAFT = 61443,
};
enum { P2_AUTH_SHA1 = 2, P2_AUTH_SHA256 = 5, P2_AUTH_SHA384 = 6, P2_AUTH_SHA512 = 7 };

/* Identification types (RFC 2407 §4.6.2.1). */
enum { ID_IPV4_ADDR = 1, ID_IPV4_ADDR_SUBNET = 4, ID_IPV4_ADDR_RANGE = 7 };

/* Notify messages. */
enum {
	N_INVALID_PAYLOAD_TYPE = 1, N_PAYLOAD_MALFORMED = 16, N_NO_PROPOSAL_CHOSEN = 14,
	N_INVALID_ID_INFORMATION = 18, N_INVALID_HASH_INFORMATION = 23,
	N_AUTHENTICATION_FAILED = 24, N_RESPONDER_LIFETIME = 24576,
	N_REPLAY_STATUS = 24577, N_INITIAL_CONTACT = 24578,
	N_DPD_R_U_THERE = 36136, N_DPD_R_U_THERE_ACK = 36137,
};

struct isakmp_hdr {
	uint8_t ck_i[8], ck_r[8];
	uint8_t np, version, exch, flags;
	uint32_t msgid, length;
};

struct isakmp_payload {
	uint8_t type;
	const uint8_t *raw;	/* generic header included */
	size_t raw_len;
	const uint8_t *body;	/* after the generic header */
	size_t len;
};

struct isakmp_msg {
	struct isakmp_payload pl[ISAKMP_MAX_PAYLOADS];
	size_t n;
	size_t used;		/* bytes covered by the chain; the rest is padding */
};

uint16_t get_be16(const uint8_t *p);
uint32_t get_be32(const uint8_t *p);
void put_be16(uint8_t *p, uint16_t v);
void put_be32(uint8_t *p, uint32_t v);

/* Parse the fixed header; checks only that 28 bytes are there. */
bool isakmp_hdr_parse(const uint8_t *p, size_t len, struct isakmp_hdr *h);

/* Walk the payload chain starting with type `first` over p[0..len).
 * Returns IKE_DROP_NONE on success, else the reason. */
enum ike_drop isakmp_payloads_parse(uint8_t first, const uint8_t *p, size_t len,
				    struct isakmp_msg *m);

/* The idx-th payload of `type`, or NULL. */
const struct isakmp_payload *isakmp_find(const struct isakmp_msg *m, uint8_t type, size_t idx);

/* A data attribute (RFC 2408 §3.3): TV when `basic`, else TLV. Values
 * longer than 8 bytes do not fit `value` and make the parser fail. */
struct isakmp_attr {
	uint16_t type;
	uint64_t value;
};
/* Iterate over attributes; returns 1 with *a filled, 0 at end, -1 when
 * malformed. *off is the cursor, start it at 0. */
int isakmp_attr_next(const uint8_t *p, size_t len, size_t *off, struct isakmp_attr *a);

/* ---- builder ---------------------------------------------------------- */

struct isakmp_buf {
	uint8_t b[ISAKMP_MSG_MAX];
	size_t len;
	size_t np_off;		/* where to patch the next payload type */
	bool overflow;
};

void isakmp_buf_header(struct isakmp_buf *b, const uint8_t ck_i[8], const uint8_t ck_r[8],
		       uint8_t exch, uint8_t flags, uint32_t msgid);
void isakmp_buf_put(struct isakmp_buf *b, const void *p, size_t len);
void isakmp_buf_u8(struct isakmp_buf *b, uint8_t v);
void isakmp_buf_u16(struct isakmp_buf *b, uint16_t v);
void isakmp_buf_u32(struct isakmp_buf *b, uint32_t v);
/* Begin a payload of `type` chained to the previous one; returns its
 * offset for isakmp_buf_end(). */
size_t isakmp_buf_begin(struct isakmp_buf *b, uint8_t type);
void isakmp_buf_end(struct isakmp_buf *b, size_t start);
/* A payload with a plain body (VID, NONCE, KE, NAT-D, HASH). */
size_t isakmp_buf_simple(struct isakmp_buf *b, uint8_t type, const void *body, size_t len);
/* Attributes: TV when the value fits 16 bits and `tv_ok`, else TLV. */
void isakmp_buf_attr(struct isakmp_buf *b, uint16_t type, uint64_t value, bool tv_ok);
/* Set the header length field to b->len. */
void isakmp_buf_finish(struct isakmp_buf *b);

#endif
