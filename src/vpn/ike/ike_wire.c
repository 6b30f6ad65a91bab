/*
 * ike_wire.c — ISAKMP header/payload parsing and building.
 *
 * Hostile input lands here first: each read is preceded by the length
 * check that makes it safe, and a broken chain is reported, never followed.
 */
#include "vpn/ike/ike_wire.h"

#include <string.h>

uint16_t get_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

uint32_t get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

bool isakmp_hdr_parse(const uint8_t *p, size_t len, struct isakmp_hdr *h)
{
	if (len < ISAKMP_HDR_LEN)	/* fixed header: cookies, types, id, length */
		return false;
	memcpy(h->ck_i, p, 8);
	memcpy(h->ck_r, p + 8, 8);
	h->np = p[16];
	h->version = p[17];
	h->exch = p[18];
	h->flags = p[19];
	h->msgid = get_be32(p + 20);
	h->length = get_be32(p + 24);
	return true;
}

enum ike_drop isakmp_payloads_parse(uint8_t first, const uint8_t *p, size_t len,
				    struct isakmp_msg *m)
{
	size_t off = 0;
	uint8_t type = first;
	m->n = 0;
	while (type != PL_NONE) {
		if (m->n == ISAKMP_MAX_PAYLOADS)
			return IKE_DROP_TOO_MANY_PAYLOADS;
		/* generic header: next payload, reserved, payload length */
		if (len - off < ISAKMP_GENERIC_LEN)
			return IKE_DROP_BAD_PAYLOAD;
		size_t plen = get_be16(p + off + 2);
		/* the length covers the generic header, so at least 4: a zero
		 * length would loop on the same payload forever */
		if (plen < ISAKMP_GENERIC_LEN || plen > len - off)
			return IKE_DROP_BAD_PAYLOAD;
		struct isakmp_payload *pl = &m->pl[m->n++];
		pl->type = type;
		pl->raw = p + off;
		pl->raw_len = plen;
		pl->body = p + off + ISAKMP_GENERIC_LEN;
		pl->len = plen - ISAKMP_GENERIC_LEN;
		type = p[off];
		off += plen;
	}
	m->used = off;
	return IKE_DROP_NONE;
}

const struct isakmp_payload *isakmp_find(const struct isakmp_msg *m, uint8_t type, size_t idx)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->pl[i].type == type && idx-- == 0)
			return &m->pl[i];
	return NULL;
}

int isakmp_attr_next(const uint8_t *p, size_t len, size_t *off, struct isakmp_attr *a)
{
	if (*off == len)
		return 0;
	/* attribute type (with the AF bit) and value-or-length */
	if (len - *off < 4)
		return -1;
	uint16_t t = get_be16(p + *off);
	uint16_t v = get_be16(p + *off + 2);
	a->type = t & 0x7fff;
	if (t & 0x8000) {
		a->value = v;
		*off += 4;
		return 1;
	}
	/* TLV: v bytes of value follow; we take up to 8 of them */
	if (v > 8 || v > len - *off - 4)
		return -1;
	uint64_t val = 0;
	for (size_t i = 0; i < v; i++)
		val = (val << 8) | p[*off + 4 + i];
	a->value = val;
	*off += 4 + (size_t)v;
	return 1;
}

void isakmp_buf_put(struct isakmp_buf *b, const void *p, size_t len)
{
	if (b->overflow || len > sizeof(b->b) - b->len) {
		b->overflow = true;
		return;
	}
	if (len)
		memcpy(b->b + b->len, p, len);
	b->len += len;
}

void isakmp_buf_u8(struct isakmp_buf *b, uint8_t v) { isakmp_buf_put(b, &v, 1); }

void isakmp_buf_u16(struct isakmp_buf *b, uint16_t v)
{
	uint8_t x[2];
	put_be16(x, v);
	isakmp_buf_put(b, x, 2);
}

void isakmp_buf_u32(struct isakmp_buf *b, uint32_t v)
{
	uint8_t x[4];
	put_be32(x, v);
	isakmp_buf_put(b, x, 4);
}

void isakmp_buf_header(struct isakmp_buf *b, const uint8_t ck_i[8], const uint8_t ck_r[8],
		       uint8_t exch, uint8_t flags, uint32_t msgid)
{
	b->len = 0;
	b->overflow = false;
	isakmp_buf_put(b, ck_i, 8);
	isakmp_buf_put(b, ck_r, 8);
	b->np_off = b->len;
	isakmp_buf_u8(b, PL_NONE);
	isakmp_buf_u8(b, ISAKMP_VERSION);
	isakmp_buf_u8(b, exch);
	isakmp_buf_u8(b, flags);
	isakmp_buf_u32(b, msgid);
	isakmp_buf_u32(b, 0);
}

size_t isakmp_buf_begin(struct isakmp_buf *b, uint8_t type)
{
	if (!b->overflow && b->np_off < b->len)
		b->b[b->np_off] = type;
	size_t start = b->len;
	b->np_off = b->len;
	isakmp_buf_u8(b, PL_NONE);
	isakmp_buf_u8(b, 0);
	isakmp_buf_u16(b, 0);
	return start;
}

void isakmp_buf_end(struct isakmp_buf *b, size_t start)
{
	if (b->overflow || b->len - start > 0xffff) {
		b->overflow = true;
		return;
	}
	put_be16(b->b + start + 2, (uint16_t)(b->len - start));
}

size_t isakmp_buf_simple(struct isakmp_buf *b, uint8_t type, const void *body, size_t len)
{
	size_t s = isakmp_buf_begin(b, type);
	isakmp_buf_put(b, body, len);
	isakmp_buf_end(b, s);
	return s;
}

void isakmp_buf_attr(struct isakmp_buf *b, uint16_t type, uint64_t value, bool tv_ok)
{
	if (tv_ok && value <= 0xffff) {
		isakmp_buf_u16(b, (uint16_t)(type | 0x8000));
		isakmp_buf_u16(b, (uint16_t)value);
		return;
	}
	isakmp_buf_u16(b, type);
	if (value <= 0xffffffffu) {
		isakmp_buf_u16(b, 4);
		isakmp_buf_u32(b, (uint32_t)value);
	} else {
		isakmp_buf_u16(b, 8);
		isakmp_buf_u32(b, (uint32_t)(value >> 32));
		isakmp_buf_u32(b, (uint32_t)value);
	}
}

void isakmp_buf_finish(struct isakmp_buf *b)
{
	if (!b->overflow)
		put_be32(b->b + 24, (uint32_t)b->len);
}
