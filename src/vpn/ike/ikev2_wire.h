/*
 * ikev2_wire — IKEv2 (RFC 7296 §3) message format: numbers, the header and
 * payload-chain parser, the parsers of each payload body this endpoint
 * reads, and builders for the ones it writes.
 *
 * Internal to src/vpn/ike (and its tests and fuzz target). The parsers
 * never allocate: what they return points into the caller's bytes. Every
 * length is checked before the bytes it covers are read; a broken chain
 * is reported (enum ike_drop), never followed. Building reuses ike_wire's
 * fixed-size struct isakmp_buf (the generic payload header is the same in
 * both versions); overflow is recorded there, never written past.
 */
#ifndef VPCD_VPN_IKEV2_WIRE_H
#define VPCD_VPN_IKEV2_WIRE_H

#include "vpn/ike/ike_wire.h"

#define IKEV2_HDR_LEN		28
#define IKEV2_VERSION		0x20	/* major 2, minor 0 */
#define IKEV2_MAX_PAYLOADS	32	/* per message (inner ones included) */
#define IKEV2_MAX_TS		8	/* selectors read per TS payload */
#define IKEV2_MAX_SPIS		16	/* SPIs read per Delete payload */
#define IKEV2_SPI_LEN		8	/* IKE SA SPI */

/* Exchange types (§3.1). */
enum {
	V2_IKE_SA_INIT = 34, V2_IKE_AUTH = 35, V2_CREATE_CHILD_SA = 36, V2_INFORMATIONAL = 37,
};

/* Header flags. */
#define V2_FLAG_I	0x08	/* sent by the original initiator */
#define V2_FLAG_V	0x10
#define V2_FLAG_R	0x20	/* response */

/* Payload types (§3.2, RFC 7383). */
enum {
	V2_PL_NONE = 0, V2_PL_SA = 33, V2_PL_KE = 34, V2_PL_IDI = 35, V2_PL_IDR = 36,
	V2_PL_CERT = 37, V2_PL_CERTREQ = 38, V2_PL_AUTH = 39, V2_PL_NONCE = 40, V2_PL_N = 41,
	V2_PL_D = 42, V2_PL_V = 43, V2_PL_TSI = 44, V2_PL_TSR = 45, V2_PL_SK = 46,
	V2_PL_CP = 47, V2_PL_EAP = 48, V2_PL_SKF = 53,
};

/* Protocol ids (SA proposals, Notify, Delete). */
enum { V2_PROTO_IKE = 1, V2_PROTO_AH = 2, V2_PROTO_ESP = 3 };

/* Transform types and the ids we know (§3.3.2, IANA). */
enum { V2_TF_ENCR = 1, V2_TF_PRF = 2, V2_TF_INTEG = 3, V2_TF_DH = 4, V2_TF_ESN = 5 };
enum { V2_ENCR_AES_CBC = 12, V2_ENCR_AES_GCM_16 = 20 };
enum { V2_PRF_HMAC_SHA1 = 2, V2_PRF_HMAC_SHA2_256 = 5, V2_PRF_HMAC_SHA2_384 = 6,
       V2_PRF_HMAC_SHA2_512 = 7 };
enum { V2_AUTH_NONE = 0, V2_AUTH_HMAC_SHA1_96 = 2, V2_AUTH_HMAC_SHA2_256_128 = 12,
       V2_AUTH_HMAC_SHA2_384_192 = 13, V2_AUTH_HMAC_SHA2_512_256 = 14 };
#define V2_ATTR_KEY_LENGTH	14	/* TV, bits */

/* ID types, AUTH method, TS type. */
enum { V2_ID_IPV4_ADDR = 1, V2_ID_FQDN = 2, V2_ID_RFC822 = 3, V2_ID_IPV6_ADDR = 5,
       V2_ID_KEY_ID = 11 };
enum { V2_AUTH_SHARED_KEY_MIC = 2 };
enum { V2_TS_IPV4_ADDR_RANGE = 7, V2_TS_IPV6_ADDR_RANGE = 8 };

/* Notify message types (§3.10.1). Below 16384: errors. */
enum {
	V2N_UNSUPPORTED_CRITICAL_PAYLOAD = 1, V2N_INVALID_IKE_SPI = 4,
	V2N_INVALID_MAJOR_VERSION = 5, V2N_INVALID_SYNTAX = 7, V2N_INVALID_MESSAGE_ID = 9,
	V2N_INVALID_SPI = 11, V2N_NO_PROPOSAL_CHOSEN = 14, V2N_INVALID_KE_PAYLOAD = 17,
	V2N_AUTHENTICATION_FAILED = 24, V2N_SINGLE_PAIR_REQUIRED = 34,
	V2N_NO_ADDITIONAL_SAS = 35, V2N_INTERNAL_ADDRESS_FAILURE = 36,
	V2N_FAILED_CP_REQUIRED = 37, V2N_TS_UNACCEPTABLE = 38, V2N_INVALID_SELECTORS = 39,
	V2N_TEMPORARY_FAILURE = 43, V2N_CHILD_SA_NOT_FOUND = 44,
	V2N_ERROR_MAX = 16383,
	V2N_INITIAL_CONTACT = 16384, V2N_SET_WINDOW_SIZE = 16385,
	V2N_ADDITIONAL_TS_POSSIBLE = 16386, V2N_IPCOMP_SUPPORTED = 16387,
	V2N_NAT_DETECTION_SOURCE_IP = 16388, V2N_NAT_DETECTION_DESTINATION_IP = 16389,
	V2N_COOKIE = 16390, V2N_USE_TRANSPORT_MODE = 16391, V2N_REKEY_SA = 16393,
	V2N_ESP_TFC_PADDING_NOT_SUPPORTED = 16394, V2N_NON_FIRST_FRAGMENTS_ALSO = 16395,
	V2N_MOBIKE_SUPPORTED = 16396, V2N_IKEV2_FRAGMENTATION_SUPPORTED = 16430,
	V2N_SIGNATURE_HASH_ALGORITHMS = 16431,
};

struct v2_hdr {
	uint8_t spi_i[8], spi_r[8];
	uint8_t np, version, exch, flags;
	uint32_t msgid, length;
};

struct v2_payload {
	uint8_t type;
	bool critical;
	const uint8_t *raw;	/* generic header included */
	size_t raw_len;
	const uint8_t *body;	/* after the generic header */
	size_t len;
};

struct v2_msg {
	struct v2_payload pl[IKEV2_MAX_PAYLOADS];
	size_t n;
};

/* The major version of an IKE message (1 or 2) from byte 17 of its
 * header, 0 when too short to tell. pkt without the non-ESP marker. */
int ike_msg_major_version(const uint8_t *pkt, size_t len);

/* The fixed header; IKE_DROP_NONE when well-formed: 28 bytes present,
 * major version 2, length field equal to len. */
enum ike_drop v2_hdr_parse(const uint8_t *p, size_t len, struct v2_hdr *h);
/* Walk the payload chain beginning with type `first` over p[0..len): every
 * payload's length at least 4 and within len; SK/SKF must be last (the
 * rest of the message is its body); the chain must cover len exactly.
 * Appends to m (m->n is not reset, so an SK's inner chain joins the outer
 * one). */
enum ike_drop v2_payloads_parse(uint8_t first, const uint8_t *p, size_t len, struct v2_msg *m);
const struct v2_payload *v2_find(const struct v2_msg *m, uint8_t type, size_t idx);
/* The first Notify of `type`, or NULL. */
const struct v2_payload *v2_find_notify(const struct v2_msg *m, uint16_t type);
/* An unknown payload with the critical bit set, or NULL. */
const struct v2_payload *v2_unknown_critical(const struct v2_msg *m);

/* ---- payload bodies --------------------------------------------------- */

struct v2_ke { uint16_t group; const uint8_t *data; size_t len; };
struct v2_id { uint8_t type; const uint8_t *data; size_t len; };
struct v2_auth { uint8_t method; const uint8_t *data; size_t len; };
struct v2_notify {
	uint8_t proto;
	uint16_t type;
	const uint8_t *spi; size_t spi_len;
	const uint8_t *data; size_t len;
};
struct v2_delete {
	uint8_t proto;
	size_t n_spis;		/* ESP: up to IKEV2_MAX_SPIS read; IKE: 0 */
	uint32_t spis[IKEV2_MAX_SPIS];
};
/* IKEv2 selectors map onto struct ike_ts: ports 0-65535 are "any" (port
 * 0), a single port is that port; other ranges are kept as `ranged` so
 * that the caller can refuse them. */
struct v2_ts_list {
	size_t n;
	struct ike_ts ts[IKEV2_MAX_TS];
	bool ranged[IKEV2_MAX_TS];
};

bool v2_parse_ke(const struct v2_payload *p, struct v2_ke *out);
bool v2_parse_id(const struct v2_payload *p, struct v2_id *out);
bool v2_parse_auth(const struct v2_payload *p, struct v2_auth *out);
bool v2_parse_notify(const struct v2_payload *p, struct v2_notify *out);
bool v2_parse_delete(const struct v2_payload *p, struct v2_delete *out);
/* IPv6 selectors are skipped (not an error); more than IKEV2_MAX_TS IPv4
 * ones, a bad selector length or start > end is malformed. */
bool v2_parse_ts(const struct v2_payload *p, struct v2_ts_list *out);
/* SKF's fields; false when too short or the numbers are inconsistent. */
bool v2_parse_skf(const struct v2_payload *p, uint16_t *num, uint16_t *total);

/* ---- building --------------------------------------------------------- */

void v2_buf_header(struct isakmp_buf *b, const uint8_t spi_i[8], const uint8_t spi_r[8],
		   uint8_t exch, uint8_t flags, uint32_t msgid);
/* Inner payloads of an SK payload are built in their own isakmp_buf
 * started with v2_buf_inner(): its first byte receives the first payload
 * type, the payloads begin at offset 1. */
void v2_buf_inner(struct isakmp_buf *b);
void v2_put_notify(struct isakmp_buf *b, uint8_t proto, const uint8_t *spi, size_t spi_len,
		   uint16_t type, const void *data, size_t len);
void v2_put_ke(struct isakmp_buf *b, uint16_t group, const uint8_t *data, size_t len);
/* ID_IPV4_ADDR identity (type V2_PL_IDI or V2_PL_IDR); returns the
 * payload's offset (its body, for AUTH, starts 4 bytes later). */
size_t v2_put_id_ipv4(struct isakmp_buf *b, uint8_t type, uint32_t ip);
void v2_put_auth(struct isakmp_buf *b, uint8_t method, const uint8_t *data, size_t len);
void v2_put_ts(struct isakmp_buf *b, uint8_t type, const struct ike_ts *ts, size_t n);
void v2_put_delete_esp(struct isakmp_buf *b, const uint32_t *spis, size_t n);
void v2_put_delete_ike(struct isakmp_buf *b);

/* Names for log lines: "IKE_AUTH", "NO_PROPOSAL_CHOSEN"; "?" for a
 * number without one (print the number beside it). */
const char *v2_exch_name(uint8_t exch);
const char *v2_notify_name(uint16_t type);

#endif
