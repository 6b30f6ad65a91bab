/*
 * ikev2_wire.c — IKEv2 header, payload chain and payload bodies: parsing
 * and building (ikev2_wire.h).
 *
 * Hostile input lands here first: each read is preceded by the length
 * check that makes it safe (one comment per check says what it covers).
 */
#include "vpn/ike/ikev2_wire.h"

#include <string.h>

int ike_msg_major_version(const uint8_t *pkt, size_t len)
{
	/* byte 17 is the version in both ISAKMP and IKEv2 headers */
	if (len < IKEV2_HDR_LEN)
		return 0;
	return pkt[17] >> 4;
}

enum ike_drop v2_hdr_parse(const uint8_t *p, size_t len, struct v2_hdr *h)
{
	/* fixed header: SPIs, next payload, version, exchange, flags, id, length */
	if (len < IKEV2_HDR_LEN)
		return IKE_DROP_TOO_SHORT;
	memcpy(h->spi_i, p, 8);
	memcpy(h->spi_r, p + 8, 8);
	h->np = p[16];
	h->version = p[17];
	h->exch = p[18];
	h->flags = p[19];
	h->msgid = get_be32(p + 20);
	h->length = get_be32(p + 24);
	if ((h->version >> 4) != 2)
		return IKE_DROP_BAD_VERSION;
	if (h->length != len)
		return IKE_DROP_BAD_LENGTH;
	return IKE_DROP_NONE;
}

static bool v2_known_payload(uint8_t t)
{
	return (t >= V2_PL_SA && t <= V2_PL_EAP) || t == V2_PL_SKF;
}

enum ike_drop v2_payloads_parse(uint8_t first, const uint8_t *p, size_t len, struct v2_msg *m)
{
	size_t off = 0;
	uint8_t type = first;
	while (type != V2_PL_NONE) {
		if (m->n == IKEV2_MAX_PAYLOADS)
			return IKE_DROP_TOO_MANY_PAYLOADS;
		/* generic header: next payload, critical bit, payload length */
		if (len - off < ISAKMP_GENERIC_LEN)
			return IKE_DROP_BAD_PAYLOAD;
		size_t plen = get_be16(p + off + 2);
		/* the length covers the generic header (a zero length would loop
		 * forever) and stays inside the message */
		if (plen < ISAKMP_GENERIC_LEN || plen > len - off)
			return IKE_DROP_BAD_PAYLOAD;
		struct v2_payload *pl = &m->pl[m->n++];
		pl->type = type;
		pl->critical = p[off + 1] & 0x80;
		pl->raw = p + off;
		pl->raw_len = plen;
		pl->body = p + off + ISAKMP_GENERIC_LEN;
		pl->len = plen - ISAKMP_GENERIC_LEN;
		uint8_t next = p[off];
		off += plen;
		if (type == V2_PL_SK || type == V2_PL_SKF) {
			/* the Encrypted payload's "next payload" names its first
			 * inner payload; it must end the message */
			if (off != len)
				return IKE_DROP_BAD_PAYLOAD;
			return IKE_DROP_NONE;
		}
		type = next;
	}
	/* nothing may follow the last payload */
	return off == len ? IKE_DROP_NONE : IKE_DROP_BAD_PAYLOAD;
}

const struct v2_payload *v2_find(const struct v2_msg *m, uint8_t type, size_t idx)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->pl[i].type == type && idx-- == 0)
			return &m->pl[i];
	return NULL;
}

const struct v2_payload *v2_find_notify(const struct v2_msg *m, uint16_t type)
{
	for (size_t i = 0; i < m->n; i++) {
		struct v2_notify n;
		if (m->pl[i].type == V2_PL_N && v2_parse_notify(&m->pl[i], &n) && n.type == type)
			return &m->pl[i];
	}
	return NULL;
}

const struct v2_payload *v2_unknown_critical(const struct v2_msg *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->pl[i].critical && !v2_known_payload(m->pl[i].type))
			return &m->pl[i];
	return NULL;
}

/* ---- payload bodies --------------------------------------------------- */

bool v2_parse_ke(const struct v2_payload *p, struct v2_ke *out)
{
	/* DH group, reserved, at least one byte of key exchange data */
	if (p->len < 5)
		return false;
	out->group = get_be16(p->body);
	out->data = p->body + 4;
	out->len = p->len - 4;
	return true;
}

bool v2_parse_id(const struct v2_payload *p, struct v2_id *out)
{
	/* ID type, 3 reserved bytes, at least one byte of identity */
	if (p->len < 5)
		return false;
	out->type = p->body[0];
	out->data = p->body + 4;
	out->len = p->len - 4;
	return true;
}

bool v2_parse_auth(const struct v2_payload *p, struct v2_auth *out)
{
	/* auth method, 3 reserved bytes, the authentication data */
	if (p->len < 5)
		return false;
	out->method = p->body[0];
	out->data = p->body + 4;
	out->len = p->len - 4;
	return true;
}

bool v2_parse_notify(const struct v2_payload *p, struct v2_notify *out)
{
	/* protocol id, SPI size, notify type */
	if (p->len < 4)
		return false;
	out->proto = p->body[0];
	out->spi_len = p->body[1];
	out->type = get_be16(p->body + 2);
	/* the SPI fits in the payload */
	if (out->spi_len > p->len - 4)
		return false;
	out->spi = p->body + 4;
	out->data = p->body + 4 + out->spi_len;
	out->len = p->len - 4 - out->spi_len;
	return true;
}

bool v2_parse_delete(const struct v2_payload *p, struct v2_delete *out)
{
	/* protocol id, SPI size, number of SPIs */
	if (p->len < 4)
		return false;
	out->proto = p->body[0];
	uint8_t spi_size = p->body[1];
	size_t n = get_be16(p->body + 2);
	out->n_spis = 0;
	if (out->proto == V2_PROTO_IKE)	/* the SA the message came in */
		return spi_size == 0 && n == 0 && p->len == 4;
	if (out->proto != V2_PROTO_ESP && out->proto != V2_PROTO_AH)
		return false;
	/* n SPIs of 4 bytes fill the rest exactly */
	if (spi_size != 4 || p->len - 4 != n * 4)
		return false;
	for (size_t i = 0; i < n && i < IKEV2_MAX_SPIS; i++)
		out->spis[out->n_spis++] = get_be32(p->body + 4 + 4 * i);
	return true;
}

bool v2_parse_ts(const struct v2_payload *p, struct v2_ts_list *out)
{
	/* number of TSs, 3 reserved bytes */
	if (p->len < 4)
		return false;
	size_t count = p->body[0], off = 4;
	out->n = 0;
	if (count == 0)
		return false;
	for (size_t i = 0; i < count; i++) {
		/* TS type, IP protocol, selector length */
		if (p->len - off < 4)
			return false;
		uint8_t type = p->body[off];
		size_t sl = get_be16(p->body + off + 2);
		/* the selector fits and holds at least its ports */
		if (sl < 8 || sl > p->len - off)
			return false;
		if (type == V2_TS_IPV4_ADDR_RANGE) {
			/* ports and two IPv4 addresses, exactly */
			if (sl != 16 || out->n == IKEV2_MAX_TS)
				return false;
			const uint8_t *s = p->body + off;
			uint16_t sp = get_be16(s + 4), ep = get_be16(s + 6);
			struct ike_ts *ts = &out->ts[out->n];
			ts->protocol = s[1];
			ts->first = get_be32(s + 8);
			ts->last = get_be32(s + 12);
			if (ts->first > ts->last || sp > ep)
				return false;
			out->ranged[out->n] = false;
			if (sp == 0 && ep == 0xffff)
				ts->port = 0;
			else if (sp == ep)
				ts->port = sp;
			else {
				ts->port = sp;
				out->ranged[out->n] = true;
			}
			out->n++;
		} else if (type == V2_TS_IPV6_ADDR_RANGE) {
			if (sl != 40)	/* ports and two IPv6 addresses */
				return false;
		} else {
			return false;
		}
		off += sl;
	}
	return off == p->len;
}

bool v2_parse_skf(const struct v2_payload *p, uint16_t *num, uint16_t *total)
{
	/* fragment number, total fragments */
	if (p->len < 4)
		return false;
	*num = get_be16(p->body);
	*total = get_be16(p->body + 2);
	return *num >= 1 && *total >= 1 && *num <= *total;
}

/* ---- building --------------------------------------------------------- */

void v2_buf_header(struct isakmp_buf *b, const uint8_t spi_i[8], const uint8_t spi_r[8],
		   uint8_t exch, uint8_t flags, uint32_t msgid)
{
	b->len = 0;
	b->overflow = false;
	isakmp_buf_put(b, spi_i, 8);
	isakmp_buf_put(b, spi_r, 8);
	b->np_off = b->len;
	isakmp_buf_u8(b, V2_PL_NONE);
	isakmp_buf_u8(b, IKEV2_VERSION);
	isakmp_buf_u8(b, exch);
	isakmp_buf_u8(b, flags);
	isakmp_buf_u32(b, msgid);
	isakmp_buf_u32(b, 0);
}

void v2_buf_inner(struct isakmp_buf *b)
{
	b->len = 0;
	b->overflow = false;
	b->np_off = 0;
	isakmp_buf_u8(b, V2_PL_NONE);
}

void v2_put_notify(struct isakmp_buf *b, uint8_t proto, const uint8_t *spi, size_t spi_len,
		   uint16_t type, const void *data, size_t len)
{
	size_t s = isakmp_buf_begin(b, V2_PL_N);
	isakmp_buf_u8(b, proto);
	isakmp_buf_u8(b, (uint8_t)spi_len);
	isakmp_buf_u16(b, type);
	isakmp_buf_put(b, spi, spi_len);
	isakmp_buf_put(b, data, len);
	isakmp_buf_end(b, s);
}

void v2_put_ke(struct isakmp_buf *b, uint16_t group, const uint8_t *data, size_t len)
{
	size_t s = isakmp_buf_begin(b, V2_PL_KE);
	isakmp_buf_u16(b, group);
	isakmp_buf_u16(b, 0);
	isakmp_buf_put(b, data, len);
	isakmp_buf_end(b, s);
}

size_t v2_put_id_ipv4(struct isakmp_buf *b, uint8_t type, uint32_t ip)
{
	size_t s = isakmp_buf_begin(b, type);
	isakmp_buf_u32(b, (uint32_t)V2_ID_IPV4_ADDR << 24);
	isakmp_buf_u32(b, ip);
	isakmp_buf_end(b, s);
	return s;
}

void v2_put_auth(struct isakmp_buf *b, uint8_t method, const uint8_t *data, size_t len)
{
	size_t s = isakmp_buf_begin(b, V2_PL_AUTH);
	isakmp_buf_u32(b, (uint32_t)method << 24);
	isakmp_buf_put(b, data, len);
	isakmp_buf_end(b, s);
}

void v2_put_ts(struct isakmp_buf *b, uint8_t type, const struct ike_ts *ts, size_t n)
{
	size_t s = isakmp_buf_begin(b, type);
	isakmp_buf_u32(b, (uint32_t)n << 24);
	for (size_t i = 0; i < n; i++) {
		isakmp_buf_u8(b, V2_TS_IPV4_ADDR_RANGE);
		isakmp_buf_u8(b, ts[i].protocol);
		isakmp_buf_u16(b, 16);
		isakmp_buf_u16(b, ts[i].port);
		isakmp_buf_u16(b, ts[i].port ? ts[i].port : 0xffff);
		isakmp_buf_u32(b, ts[i].first);
		isakmp_buf_u32(b, ts[i].last);
	}
	isakmp_buf_end(b, s);
}

void v2_put_delete_esp(struct isakmp_buf *b, const uint32_t *spis, size_t n)
{
	size_t s = isakmp_buf_begin(b, V2_PL_D);
	isakmp_buf_u8(b, V2_PROTO_ESP);
	isakmp_buf_u8(b, 4);
	isakmp_buf_u16(b, (uint16_t)n);
	for (size_t i = 0; i < n; i++)
		isakmp_buf_u32(b, spis[i]);
	isakmp_buf_end(b, s);
}

void v2_put_delete_ike(struct isakmp_buf *b)
{
	size_t s = isakmp_buf_begin(b, V2_PL_D);
	isakmp_buf_u32(b, (uint32_t)V2_PROTO_IKE << 24);
	isakmp_buf_end(b, s);
}

const char *v2_exch_name(uint8_t exch)
{
	switch (exch) {
	case V2_IKE_SA_INIT: return "IKE_SA_INIT";
	case V2_IKE_AUTH: return "IKE_AUTH";
	case V2_CREATE_CHILD_SA: return "CREATE_CHILD_SA";
	case V2_INFORMATIONAL: return "INFORMATIONAL";
	}
	return "?";
}

const char *v2_notify_name(uint16_t type)
{
	switch (type) {
	case V2N_UNSUPPORTED_CRITICAL_PAYLOAD: return "UNSUPPORTED_CRITICAL_PAYLOAD";
	case V2N_INVALID_IKE_SPI: return "INVALID_IKE_SPI";
	case V2N_INVALID_MAJOR_VERSION: return "INVALID_MAJOR_VERSION";
	case V2N_INVALID_SYNTAX: return "INVALID_SYNTAX";
	case V2N_INVALID_MESSAGE_ID: return "INVALID_MESSAGE_ID";
	case V2N_INVALID_SPI: return "INVALID_SPI";
	case V2N_NO_PROPOSAL_CHOSEN: return "NO_PROPOSAL_CHOSEN";
	case V2N_INVALID_KE_PAYLOAD: return "INVALID_KE_PAYLOAD";
	case V2N_AUTHENTICATION_FAILED: return "AUTHENTICATION_FAILED";
	case V2N_SINGLE_PAIR_REQUIRED: return "SINGLE_PAIR_REQUIRED";
	case V2N_NO_ADDITIONAL_SAS: return "NO_ADDITIONAL_SAS";
	case V2N_INTERNAL_ADDRESS_FAILURE: return "INTERNAL_ADDRESS_FAILURE";
	case V2N_FAILED_CP_REQUIRED: return "FAILED_CP_REQUIRED";
	case V2N_TS_UNACCEPTABLE: return "TS_UNACCEPTABLE";
	case V2N_INVALID_SELECTORS: return "INVALID_SELECTORS";
	case V2N_TEMPORARY_FAILURE: return "TEMPORARY_FAILURE";
	case V2N_CHILD_SA_NOT_FOUND: return "CHILD_SA_NOT_FOUND";
	case V2N_INITIAL_CONTACT: return "INITIAL_CONTACT";
	case V2N_NAT_DETECTION_SOURCE_IP: return "NAT_DETECTION_SOURCE_IP";
	case V2N_NAT_DETECTION_DESTINATION_IP: return "NAT_DETECTION_DESTINATION_IP";
	case V2N_COOKIE: return "COOKIE";
	case V2N_REKEY_SA: return "REKEY_SA";
	case V2N_IKEV2_FRAGMENTATION_SUPPORTED: return "IKEV2_FRAGMENTATION_SUPPORTED";
	}
	return "?";
}
