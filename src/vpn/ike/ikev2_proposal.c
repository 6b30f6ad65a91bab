/*
 * ikev2_proposal.c — IKEv2 SA payloads: offers, selection, answers, names
 * (ikev2_proposal.h).
 *
 * Bounds: a payload holds at most 64 proposals and each at most 255
 * transforms (its count is 8 bits); both are walked in place.
 */
#include "vpn/ike/ikev2_proposal.h"

#include "vpn/ike/ike_crypto.h"
#include "vpn/ike/ike_proposal.h"

#include <stdio.h>
#include <string.h>

#define V2_MAX_PROPOSALS 64

/* ---- numbers ---------------------------------------------------------- */

static uint16_t prf_id(enum ike_integ h)
{
	switch (h) {
	case IKE_INTEG_SHA1: return V2_PRF_HMAC_SHA1;
	case IKE_INTEG_SHA256: return V2_PRF_HMAC_SHA2_256;
	case IKE_INTEG_SHA384: return V2_PRF_HMAC_SHA2_384;
	case IKE_INTEG_SHA512: return V2_PRF_HMAC_SHA2_512;
	case IKE_INTEG_NONE: break;
	}
	return 0;
}

static uint16_t integ_id(enum ike_integ h)
{
	switch (h) {
	case IKE_INTEG_SHA1: return V2_AUTH_HMAC_SHA1_96;
	case IKE_INTEG_SHA256: return V2_AUTH_HMAC_SHA2_256_128;
	case IKE_INTEG_SHA384: return V2_AUTH_HMAC_SHA2_384_192;
	case IKE_INTEG_SHA512: return V2_AUTH_HMAC_SHA2_512_256;
	case IKE_INTEG_NONE: break;
	}
	return V2_AUTH_NONE;
}

static bool prf_of(uint16_t id, enum ike_integ *out)
{
	for (enum ike_integ h = IKE_INTEG_SHA1; h <= IKE_INTEG_SHA512; h++)
		if (prf_id(h) == id) {
			*out = h;
			return true;
		}
	return false;
}

static bool integ_of(uint16_t id, enum ike_integ *out)
{
	for (enum ike_integ h = IKE_INTEG_NONE; h <= IKE_INTEG_SHA512; h++)
		if (integ_id(h) == id) {
			*out = h;
			return true;
		}
	return false;
}

static bool encr_of(uint16_t id, unsigned key_bits, enum ike_encr *out)
{
	if (id == V2_ENCR_AES_CBC && (key_bits == 128 || key_bits == 256))
		*out = key_bits == 128 ? IKE_ENCR_AES128_CBC : IKE_ENCR_AES256_CBC;
	else if (id == V2_ENCR_AES_GCM_16 && (key_bits == 128 || key_bits == 256))
		*out = key_bits == 128 ? IKE_ENCR_AES128_GCM16 : IKE_ENCR_AES256_GCM16;
	else
		return false;
	return true;
}

static bool has_encr(const enum ike_encr *l, size_t n, enum ike_encr e)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] == e)
			return true;
	return false;
}

static bool has_integ(const enum ike_integ *l, size_t n, enum ike_integ v)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] == v)
			return true;
	return false;
}

static bool has_group(const uint16_t *l, size_t n, uint16_t g)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] == g)
			return true;
	return false;
}

/* What a tunnel allows for one protocol. */
struct allowed {
	const enum ike_encr *cbc; size_t cbc_n;
	const enum ike_encr *aead; size_t aead_n;
	const enum ike_integ *integ; size_t integ_n;	/* and PRFs for IKE */
	const uint16_t *dh; size_t dh_n;
};

static struct allowed allowed_for(const struct ike_tunnel_config *cfg, uint8_t proto,
				  enum ike_encr *split, size_t *n_cbc)
{
	struct allowed a;
	if (proto == V2_PROTO_IKE) {
		a = (struct allowed){ cfg->p1_encr, cfg->p1_encr_n, cfg->p1_aead, cfg->p1_aead_n,
				      cfg->p1_integ, cfg->p1_integ_n, cfg->p1_dh, cfg->p1_dh_n };
		return a;
	}
	/* phase 2 holds both kinds in one list: split it */
	size_t c = 0, g = 0;
	for (size_t i = 0; i < cfg->p2_encr_n && i < IKE_MAX_ALGS; i++)
		if (!ike_encr_is_gcm(cfg->p2_encr[i]))
			split[c++] = cfg->p2_encr[i];
	for (size_t i = 0; i < cfg->p2_encr_n && i < IKE_MAX_ALGS; i++)
		if (ike_encr_is_gcm(cfg->p2_encr[i]))
			split[IKE_MAX_ALGS + g++] = cfg->p2_encr[i];
	*n_cbc = c;
	a = (struct allowed){ split, c, split + IKE_MAX_ALGS, g, cfg->p2_integ, cfg->p2_integ_n,
			      cfg->p2_dh, cfg->p2_dh_n };
	return a;
}

/* ---- building --------------------------------------------------------- */

static void tf_put(struct isakmp_buf *b, size_t *last_off, uint8_t type, uint16_t id,
		   unsigned key_bits)
{
	*last_off = b->len;
	isakmp_buf_u8(b, 3);	/* more; the last one is patched to 0 */
	isakmp_buf_u8(b, 0);
	isakmp_buf_u16(b, key_bits ? 12 : 8);
	isakmp_buf_u8(b, type);
	isakmp_buf_u8(b, 0);
	isakmp_buf_u16(b, id);
	if (key_bits) {
		isakmp_buf_u16(b, 0x8000 | V2_ATTR_KEY_LENGTH);
		isakmp_buf_u16(b, (uint16_t)key_bits);
	}
}

static void encr_put(struct isakmp_buf *b, size_t *last, enum ike_encr e)
{
	tf_put(b, last, V2_TF_ENCR, ike_encr_is_gcm(e) ? V2_ENCR_AES_GCM_16 : V2_ENCR_AES_CBC,
	       (unsigned)ike_key_len(e) * 8);
}

/* One proposal substructure; returns its offset so that the caller can
 * mark the last one. */
static size_t prop_begin(struct isakmp_buf *b, uint8_t num, uint8_t proto, const uint8_t *spi,
			 size_t spi_len)
{
	size_t s = b->len;
	isakmp_buf_u8(b, 2);	/* more */
	isakmp_buf_u8(b, 0);
	isakmp_buf_u16(b, 0);
	isakmp_buf_u8(b, num);
	isakmp_buf_u8(b, proto);
	isakmp_buf_u8(b, (uint8_t)spi_len);
	isakmp_buf_u8(b, 0);	/* transform count, patched */
	isakmp_buf_put(b, spi, spi_len);
	return s;
}

static void prop_end(struct isakmp_buf *b, size_t s, size_t last_tf, unsigned n_tf)
{
	if (b->overflow || n_tf > 255 || b->len - s > 0xffff) {
		b->overflow = true;
		return;
	}
	b->b[last_tf] = 0;
	b->b[s + 7] = (uint8_t)n_tf;
	put_be16(b->b + s + 2, (uint16_t)(b->len - s));
}

static void offer(struct isakmp_buf *b, const struct allowed *a, uint8_t proto, const uint8_t *spi,
		  size_t spi_len, uint16_t first_group, bool with_dh)
{
	size_t s = isakmp_buf_begin(b, V2_PL_SA), last_prop = 0, last_tf = 0;
	uint8_t num = 1;
	for (int aead = 0; aead < 2; aead++) {
		const enum ike_encr *el = aead ? a->aead : a->cbc;
		size_t en = aead ? a->aead_n : a->cbc_n;
		if (!en)
			continue;
		unsigned n = 0;
		last_prop = prop_begin(b, num++, proto, spi, spi_len);
		for (size_t i = 0; i < en; i++, n++)
			encr_put(b, &last_tf, el[i]);
		if (proto == V2_PROTO_IKE)
			for (size_t i = 0; i < a->integ_n; i++, n++)
				tf_put(b, &last_tf, V2_TF_PRF, prf_id(a->integ[i]), 0);
		if (!aead)
			for (size_t i = 0; i < a->integ_n; i++, n++)
				tf_put(b, &last_tf, V2_TF_INTEG, integ_id(a->integ[i]), 0);
		if (with_dh) {
			if (first_group) {
				tf_put(b, &last_tf, V2_TF_DH, first_group, 0);
				n++;
			}
			for (size_t i = 0; i < a->dh_n; i++)
				if (a->dh[i] != first_group) {
					tf_put(b, &last_tf, V2_TF_DH, a->dh[i], 0);
					n++;
				}
		}
		if (proto == V2_PROTO_ESP) {
			tf_put(b, &last_tf, V2_TF_ESN, 0, 0);
			n++;
		}
		prop_end(b, last_prop, last_tf, n);
	}
	if (!b->overflow && num > 1)
		b->b[last_prop] = 0;
	isakmp_buf_end(b, s);
}

void v2_sa_build_ike(struct isakmp_buf *b, const struct ike_tunnel_config *cfg, uint16_t group,
		     const uint8_t *spi)
{
	struct allowed a = allowed_for(cfg, V2_PROTO_IKE, NULL, NULL);
	offer(b, &a, V2_PROTO_IKE, spi, spi ? 8 : 0, group, true);
}

void v2_sa_build_esp(struct isakmp_buf *b, const struct ike_tunnel_config *cfg, uint32_t spi,
		     uint16_t pfs_group)
{
	enum ike_encr split[2 * IKE_MAX_ALGS];
	size_t n_cbc;
	struct allowed a = allowed_for(cfg, V2_PROTO_ESP, split, &n_cbc);
	uint8_t s[4];
	put_be32(s, spi);
	/* PFS: the KE's group first, then every other one we allow (the
	 * responder may ask for one of them with INVALID_KE_PAYLOAD) */
	offer(b, &a, V2_PROTO_ESP, s, 4, pfs_group, pfs_group != 0);
}

void v2_sa_build_reply(struct isakmp_buf *b, const struct v2_choice *c, const uint8_t *spi,
		       size_t spi_len)
{
	size_t s = isakmp_buf_begin(b, V2_PL_SA), last_tf = 0;
	unsigned n = 0;
	size_t p = prop_begin(b, c->prop_num, c->proto, spi, spi_len);
	encr_put(b, &last_tf, c->encr);
	n++;
	if (c->proto == V2_PROTO_IKE) {
		tf_put(b, &last_tf, V2_TF_PRF, prf_id(c->prf), 0);
		n++;
	}
	if (!ike_encr_is_gcm(c->encr)) {
		tf_put(b, &last_tf, V2_TF_INTEG, integ_id(c->integ), 0);
		n++;
	}
	if (c->group) {
		tf_put(b, &last_tf, V2_TF_DH, c->group, 0);
		n++;
	}
	if (c->proto == V2_PROTO_ESP) {
		tf_put(b, &last_tf, V2_TF_ESN, 0, 0);
		n++;
	}
	prop_end(b, p, last_tf, n);
	if (!b->overflow)
		b->b[p] = 0;
	isakmp_buf_end(b, s);
}

/* ---- parsing ---------------------------------------------------------- */

/* One proposal, its transforms collected by type (up to 32 each; more
 * are counted but not kept, and cannot be chosen). */
#define V2_TF_KEEP 32
struct prop {
	uint8_t num, proto;
	const uint8_t *spi;
	size_t spi_len;
	enum ike_encr encr[V2_TF_KEEP]; size_t encr_n;
	enum ike_integ prf[V2_TF_KEEP]; size_t prf_n;
	enum ike_integ integ[V2_TF_KEEP]; size_t integ_n;
	uint16_t dh[V2_TF_KEEP]; size_t dh_n;
	bool esn_no, esn_yes;
	size_t n_type[6];		/* transforms seen per type, known or not */
	uint16_t unknown_encr;		/* one unknown cipher id, for the name */
};

/* Parse the proposal starting at sa[*off]; false when malformed. */
static bool prop_parse(const uint8_t *sa, size_t len, size_t *off, struct prop *p, bool *last)
{
	memset(p, 0, sizeof(*p));
	/* last/more, reserved, length, number, protocol, SPI size, count */
	if (len - *off < 8)
		return false;
	const uint8_t *q = sa + *off;
	size_t plen = get_be16(q + 2);
	/* the proposal fits in the SA payload and holds its fixed part */
	if (plen < 8 || plen > len - *off || (q[0] != 0 && q[0] != 2))
		return false;
	*last = q[0] == 0;
	p->num = q[4];
	p->proto = q[5];
	p->spi_len = q[6];
	size_t ntf = q[7];
	/* the SPI fits in the proposal */
	if (p->spi_len > plen - 8)
		return false;
	p->spi = q + 8;
	size_t t = 8 + p->spi_len;
	for (size_t i = 0; i < ntf; i++) {
		/* last/more, reserved, length, type, reserved, id */
		if (plen - t < 8)
			return false;
		const uint8_t *tf = q + t;
		size_t tlen = get_be16(tf + 2);
		/* the transform fits; last/more agrees with the count */
		if (tlen < 8 || tlen > plen - t || tf[0] != (i + 1 == ntf ? 0 : 3))
			return false;
		uint8_t type = tf[4];
		uint16_t id = get_be16(tf + 6);
		unsigned key_bits = 0;
		bool attr_ok = true;
		size_t a = 8;
		while (a < tlen) {
			/* attribute: type (AF bit) and value or length */
			if (tlen - a < 4)
				return false;
			uint16_t at = get_be16(tf + a), av = get_be16(tf + a + 2);
			if (at & 0x8000) {
				if ((at & 0x7fff) == V2_ATTR_KEY_LENGTH)
					key_bits = av;
				else
					attr_ok = false;
				a += 4;
			} else {
				/* TLV value fits in the transform */
				if (av > tlen - a - 4)
					return false;
				attr_ok = false;
				a += 4 + av;
			}
		}
		if (type >= 1 && type <= 5)
			p->n_type[type]++;
		enum ike_encr e;
		enum ike_integ h;
		switch (attr_ok ? type : 0) {
		case V2_TF_ENCR:
			if (encr_of(id, key_bits, &e) && p->encr_n < V2_TF_KEEP)
				p->encr[p->encr_n++] = e;
			else if (!encr_of(id, key_bits, &e))
				p->unknown_encr = id;
			break;
		case V2_TF_PRF:
			if (!key_bits && prf_of(id, &h) && p->prf_n < V2_TF_KEEP)
				p->prf[p->prf_n++] = h;
			break;
		case V2_TF_INTEG:
			if (!key_bits && integ_of(id, &h) && p->integ_n < V2_TF_KEEP)
				p->integ[p->integ_n++] = h;
			break;
		case V2_TF_DH:
			if (!key_bits && p->dh_n < V2_TF_KEEP)
				p->dh[p->dh_n++] = id;	/* 0 = NONE */
			break;
		case V2_TF_ESN:
			if (id == 0)
				p->esn_no = true;
			else if (id == 1)
				p->esn_yes = true;
			break;
		default:
			break;
		}
		t += tlen;
	}
	/* the transforms fill the proposal exactly */
	if (t != plen)
		return false;
	*off += plen;
	return true;
}

/* The first of `l` (peer's order) that we allow for that kind. */
static bool pick_encr(const struct prop *p, const struct allowed *a, bool aead, enum ike_encr *out)
{
	for (size_t i = 0; i < p->encr_n; i++) {
		bool g = ike_encr_is_gcm(p->encr[i]);
		if (g == aead && (g ? has_encr(a->aead, a->aead_n, p->encr[i])
				    : has_encr(a->cbc, a->cbc_n, p->encr[i]))) {
			*out = p->encr[i];
			return true;
		}
	}
	return false;
}

static bool pick_integ(const enum ike_integ *l, size_t n, const struct allowed *a,
		       enum ike_integ *out)
{
	for (size_t i = 0; i < n; i++)
		if (has_integ(a->integ, a->integ_n, l[i])) {
			*out = l[i];
			return true;
		}
	return false;
}

/* Fill c from p if every type has an allowed transform; the DH group is
 * decided by the caller. */
static bool prop_fits(const struct prop *p, const struct allowed *a, uint8_t proto,
		      struct v2_choice *c)
{
	memset(c, 0, sizeof(*c));
	c->proto = proto;
	c->prop_num = p->num;
	bool aead;
	if (pick_encr(p, a, false, &c->encr))
		aead = false;
	else if (pick_encr(p, a, true, &c->encr))
		aead = true;
	else
		return false;
	if (aead) {
		/* AEAD: no integrity, or only NONE */
		if (p->n_type[V2_TF_INTEG] && !(p->integ_n == 1 && p->integ[0] == IKE_INTEG_NONE))
			return false;
		c->integ = IKE_INTEG_NONE;
	} else if (!pick_integ(p->integ, p->integ_n, a, &c->integ) ||
		   c->integ == IKE_INTEG_NONE) {
		return false;
	}
	if (proto == V2_PROTO_IKE) {
		if (!pick_integ(p->prf, p->prf_n, a, &c->prf))
			return false;
		/* an IKE SA has no ESN transform */
		if (p->n_type[V2_TF_ESN])
			return false;
	} else {
		/* ESP: no PRF; extended sequence numbers off (or absent) */
		if (p->n_type[V2_TF_PRF] || (p->n_type[V2_TF_ESN] && !p->esn_no))
			return false;
	}
	return true;
}

static void append(char *out, size_t cap, const char *s)
{
	size_t n = strlen(out);
	if (n + 1 < cap)
		snprintf(out + n, cap - n, "%s", s);
}

/* "aes128/aes256-sha1-prfsha1-modp1024/ecp256" for one proposal. */
static void prop_name(const struct prop *p, char *out, size_t cap)
{
	char tmp[24];
	out[0] = 0;
	for (size_t i = 0; i < p->encr_n; i++) {
		if (i)
			append(out, cap, "/");
		append(out, cap, ike_encr_name(p->encr[i]));
	}
	if (!p->encr_n) {
		snprintf(tmp, sizeof(tmp), "encr%u", p->unknown_encr);
		append(out, cap, tmp);
	}
	for (size_t i = 0; i < p->integ_n; i++) {
		append(out, cap, i ? "/" : "-");
		append(out, cap, ike_integ_name(p->integ[i]));
	}
	for (size_t i = 0; i < p->prf_n; i++) {
		append(out, cap, i ? "/prf" : "-prf");
		append(out, cap, ike_integ_name(p->prf[i]));
	}
	for (size_t i = 0; i < p->dh_n; i++) {
		append(out, cap, i ? "/" : "-");
		append(out, cap, p->dh[i] ? ike_dh_name(p->dh[i]) : "none");
	}
}

/* Walk the proposals; f is called for each well-formed one of `proto`. */
static enum ike_drop walk(const uint8_t *sa, size_t len, uint8_t proto, struct prop *p,
			  bool (*f)(struct prop *p, void *arg), void *arg, unsigned *count)
{
	size_t off = 0;
	bool last = false;
	*count = 0;
	while (!last) {
		if (*count == V2_MAX_PROPOSALS || !prop_parse(sa, len, &off, p, &last))
			return IKE_DROP_BAD_PROPOSAL;
		(*count)++;
		if (p->proto == proto && f(p, arg))
			return IKE_DROP_NONE;
	}
	/* the proposals fill the payload exactly */
	return off == len ? IKE_DROP_NO_PROPOSAL : IKE_DROP_BAD_PROPOSAL;
}

struct select_ctx {
	const struct allowed *a;
	uint8_t proto;
	enum v2_dh_mode dh;
	uint16_t ke_group;
	struct v2_choice *out;
	bool want_other_group;
	uint16_t other_group;
	char *offered;
	size_t cap;
};

static bool select_one(struct prop *p, void *arg)
{
	struct select_ctx *x = arg;
	char name[IKEV2_OFFERED_MAX];
	if (x->offered && x->cap) {
		prop_name(p, name, sizeof(name));
		if (x->offered[0])
			append(x->offered, x->cap, ", ");
		append(x->offered, x->cap, name);
	}
	/* SPI sizes: none in IKE_SA_INIT, 8 for an IKE rekey, 4 for ESP */
	if ((x->proto == V2_PROTO_ESP && p->spi_len != 4) ||
	    (x->proto == V2_PROTO_IKE && p->spi_len != 0 && p->spi_len != 8))
		return false;
	struct v2_choice c;
	if (!prop_fits(p, x->a, x->proto, &c))
		return false;
	memcpy(c.spi, p->spi, p->spi_len);
	c.spi_len = p->spi_len;
	switch (x->dh) {
	case V2_DH_IGNORE:
		c.group = 0;
		break;
	case V2_DH_NONE:
		/* without a KE the proposal must allow "no DH" */
		if (p->dh_n && !has_group(p->dh, p->dh_n, 0))
			return false;
		if (x->a->dh_n)	/* we require PFS */
			return false;
		c.group = 0;
		break;
	case V2_DH_KE:
		if (has_group(p->dh, p->dh_n, x->ke_group) &&
		    has_group(x->a->dh, x->a->dh_n, x->ke_group)) {
			c.group = x->ke_group;
			break;
		}
		/* the proposal would fit with another group: remember the
		 * first one we allow (in our order) to ask for it */
		for (size_t i = 0; !x->want_other_group && i < x->a->dh_n; i++)
			if (has_group(p->dh, p->dh_n, x->a->dh[i])) {
				x->want_other_group = true;
				x->other_group = x->a->dh[i];
			}
		return false;
	}
	*x->out = c;
	return true;
}

enum ike_drop v2_sa_select(const uint8_t *sa, size_t len, const struct ike_tunnel_config *cfg,
			   uint8_t proto, enum v2_dh_mode dh, uint16_t ke_group,
			   struct v2_choice *out, char *offered, size_t cap)
{
	enum ike_encr split[2 * IKE_MAX_ALGS];
	size_t n_cbc;
	struct allowed a = allowed_for(cfg, proto, split, &n_cbc);
	struct prop p;
	unsigned count;
	if (offered && cap)
		offered[0] = 0;
	struct select_ctx x = { &a, proto, dh, ke_group, out, false, 0, offered, cap };
	enum ike_drop r = walk(sa, len, proto, &p, select_one, &x, &count);
	if (r == IKE_DROP_NO_PROPOSAL && x.want_other_group) {
		memset(out, 0, sizeof(*out));
		out->group = x.other_group;
		return IKE_DROP_BAD_KE;
	}
	return r;
}

struct check_ctx {
	const struct allowed *a;
	uint8_t proto;
	enum v2_dh_mode dh;
	uint16_t ke_group;
	struct v2_choice *out;
	bool ok;
};

static bool check_one(struct prop *p, void *arg)
{
	struct check_ctx *x = arg;
	/* exactly one transform of each type */
	for (int t = 1; t <= 5; t++)
		if (p->n_type[t] > 1)
			return true;
	if ((x->proto == V2_PROTO_ESP && p->spi_len != 4) ||
	    (x->proto == V2_PROTO_IKE && p->spi_len != 0 && p->spi_len != 8))
		return true;
	struct v2_choice c;
	if (!prop_fits(p, x->a, x->proto, &c))
		return true;
	uint16_t g = p->dh_n ? p->dh[0] : 0;
	if (x->dh == V2_DH_KE ? g != x->ke_group : (x->dh == V2_DH_NONE && g != 0))
		return true;
	c.group = x->dh == V2_DH_KE ? g : 0;
	memcpy(c.spi, p->spi, p->spi_len);
	c.spi_len = p->spi_len;
	*x->out = c;
	x->ok = true;
	return true;
}

enum ike_drop v2_sa_check_reply(const uint8_t *sa, size_t len, const struct ike_tunnel_config *cfg,
				uint8_t proto, enum v2_dh_mode dh, uint16_t ke_group,
				struct v2_choice *out)
{
	enum ike_encr split[2 * IKE_MAX_ALGS];
	size_t n_cbc;
	struct allowed a = allowed_for(cfg, proto, split, &n_cbc);
	struct prop p;
	unsigned count;
	struct check_ctx x = { &a, proto, dh, ke_group, out, false };
	enum ike_drop r = walk(sa, len, proto, &p, check_one, &x, &count);
	if (r == IKE_DROP_BAD_PROPOSAL)
		return r;
	/* one proposal only, and the one we could have offered */
	if (count != 1 || !x.ok)
		return IKE_DROP_NO_PROPOSAL;
	return IKE_DROP_NONE;
}

/* ---- names ------------------------------------------------------------ */

void v2_choice_name(const struct v2_choice *c, char *out, size_t cap)
{
	out[0] = 0;
	append(out, cap, ike_encr_name(c->encr));
	if (!ike_encr_is_gcm(c->encr)) {
		append(out, cap, "-");
		append(out, cap, ike_integ_name(c->integ));
	}
	if (c->proto == V2_PROTO_IKE) {
		append(out, cap, "-prf");
		append(out, cap, ike_integ_name(c->prf));
	}
	if (c->group) {
		append(out, cap, "-");
		append(out, cap, ike_dh_name(c->group));
	}
}

static void offer_name(const struct allowed *a, bool ike, bool dh, char *out, size_t cap)
{
	out[0] = 0;
	for (int aead = 0; aead < 2; aead++) {
		struct prop p;
		memset(&p, 0, sizeof(p));
		const enum ike_encr *el = aead ? a->aead : a->cbc;
		size_t en = aead ? a->aead_n : a->cbc_n;
		if (!en)
			continue;
		for (size_t i = 0; i < en && p.encr_n < V2_TF_KEEP; i++)
			p.encr[p.encr_n++] = el[i];
		for (size_t i = 0; !aead && i < a->integ_n; i++)
			p.integ[p.integ_n++] = a->integ[i];
		for (size_t i = 0; ike && i < a->integ_n; i++)
			p.prf[p.prf_n++] = a->integ[i];
		for (size_t i = 0; dh && i < a->dh_n; i++)
			p.dh[p.dh_n++] = a->dh[i];
		char name[IKEV2_OFFERED_MAX];
		prop_name(&p, name, sizeof(name));
		if (out[0])
			append(out, cap, ", ");
		append(out, cap, name);
	}
}

void v2_offer_name_ike(const struct ike_tunnel_config *cfg, char *out, size_t cap)
{
	struct allowed a = allowed_for(cfg, V2_PROTO_IKE, NULL, NULL);
	offer_name(&a, true, true, out, cap);
}

void v2_offer_name_esp(const struct ike_tunnel_config *cfg, bool pfs, char *out, size_t cap)
{
	enum ike_encr split[2 * IKE_MAX_ALGS];
	size_t n_cbc;
	struct allowed a = allowed_for(cfg, V2_PROTO_ESP, split, &n_cbc);
	offer_name(&a, false, pfs, out, cap);
}
