/*
 * ike_proposal.c — SA payloads, proposal selection, traffic selectors.
 *
 * A proposal is acceptable only if every attribute in it is understood and
 * allowed; unknown attributes make the transform unacceptable (RFC 2408
 * §4.2), never the message malformed. Bounds: at most ISAKMP_MAX_PAYLOADS
 * proposals, and ISAKMP_MAX_TRANSFORMS transforms per proposal (walked in
 * place, not collected: AWS's default options alone make 96 in phase 1).
 */
#include "vpn/ike/ike_proposal.h"

#include "vpn/ike/ike_crypto.h"

#include <stdio.h>
#include <string.h>

size_t ike_key_len(enum ike_encr e)
{
	return e == IKE_ENCR_AES256_CBC || e == IKE_ENCR_AES256_GCM16 ? 32 : 16;
}

bool ike_encr_is_gcm(enum ike_encr e)
{
	return e == IKE_ENCR_AES128_GCM16 || e == IKE_ENCR_AES256_GCM16;
}

const char *ike_encr_name(enum ike_encr e)
{
	switch (e) {
	case IKE_ENCR_AES128_CBC: return "aes128";
	case IKE_ENCR_AES256_CBC: return "aes256";
	case IKE_ENCR_AES128_GCM16: return "aes128gcm16";
	case IKE_ENCR_AES256_GCM16: return "aes256gcm16";
	}
	return "encr?";
}

const char *ike_integ_name(enum ike_integ i)
{
	switch (i) {
	case IKE_INTEG_NONE: return "none";
	case IKE_INTEG_SHA1: return "sha1";
	case IKE_INTEG_SHA256: return "sha256";
	case IKE_INTEG_SHA384: return "sha384";
	case IKE_INTEG_SHA512: return "sha512";
	}
	return "integ?";
}

size_t ike_icv_len(enum ike_encr e, enum ike_integ i)
{
	if (ike_encr_is_gcm(e))
		return 16;
	return ike_hash_len(i) / 2 > 12 ? ike_hash_len(i) / 2 : 12;
}

static bool cfg_has_encr(const enum ike_encr *l, size_t n, enum ike_encr e)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] == e)
			return true;
	return false;
}

static bool cfg_has_integ(const enum ike_integ *l, size_t n, enum ike_integ v)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] == v)
			return true;
	return false;
}

static bool cfg_has_group(const uint16_t *l, size_t n, uint16_t g)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] == g)
			return true;
	return false;
}

static uint16_t p1_hash_id(enum ike_integ i)
{
	switch (i) {
	case IKE_INTEG_SHA1: return P1_HASH_SHA1;
	case IKE_INTEG_SHA256: return P1_HASH_SHA256;
	case IKE_INTEG_SHA384: return P1_HASH_SHA384;
	case IKE_INTEG_SHA512: return P1_HASH_SHA512;
	case IKE_INTEG_NONE: break;
	}
	return 0;
}

static uint16_t p2_auth_id(enum ike_integ i)
{
	switch (i) {
	case IKE_INTEG_SHA1: return P2_AUTH_SHA1;
	case IKE_INTEG_SHA256: return P2_AUTH_SHA256;
	case IKE_INTEG_SHA384: return P2_AUTH_SHA384;
	case IKE_INTEG_SHA512: return P2_AUTH_SHA512;
	case IKE_INTEG_NONE: break;
	}
	return 0;
}

/* ---- names ------------------------------------------------------------ */

static void appendf(char *out, size_t cap, const char *fmt, const char *a, const char *b,
		    const char *c)
{
	size_t used = strnlen(out, cap);
	if (used + 1 < cap)
		snprintf(out + used, cap - used, fmt, a, b, c);
}

void p1_choice_name(const struct p1_choice *c, char *out, size_t cap)
{
	snprintf(out, cap, "%s-%s-%s", ike_encr_name(c->encr), ike_integ_name(c->integ),
		 ike_dh_name(c->group));
}

void p2_choice_name(const struct p2_choice *c, char *out, size_t cap)
{
	char g[24] = "";
	if (c->group)
		snprintf(g, sizeof(g), "-%s", ike_dh_name(c->group));
	if (ike_encr_is_gcm(c->encr))
		snprintf(out, cap, "%s%s", ike_encr_name(c->encr), g);
	else
		snprintf(out, cap, "%s-%s%s", ike_encr_name(c->encr), ike_integ_name(c->integ), g);
}

void p1_offer_name(const struct ike_tunnel_config *cfg, char *out, size_t cap)
{
	out[0] = 0;
	char one[64];
	for (size_t e = 0; e < cfg->p1_encr_n; e++)
		for (size_t i = 0; i < cfg->p1_integ_n; i++)
			for (size_t g = 0; g < cfg->p1_dh_n; g++) {
				struct p1_choice c = { cfg->p1_encr[e], cfg->p1_integ[i],
						       cfg->p1_dh[g], 0 };
				p1_choice_name(&c, one, sizeof(one));
				appendf(out, cap, "%s%s%s", out[0] ? ", " : "", one, "");
			}
}

void p2_offer_name(const struct ike_tunnel_config *cfg, char *out, size_t cap)
{
	out[0] = 0;
	char one[64];
	uint16_t group = cfg->p2_dh_n ? cfg->p2_dh[0] : 0;
	for (size_t e = 0; e < cfg->p2_encr_n; e++)
		for (size_t i = 0; i < cfg->p2_integ_n; i++) {
			bool gcm = ike_encr_is_gcm(cfg->p2_encr[e]);
			if ((gcm && i > 0) || (!gcm && cfg->p2_integ[i] == IKE_INTEG_NONE))
				continue;
			struct p2_choice c = { cfg->p2_encr[e], cfg->p2_integ[i], group, 0, 0, 0 };
			p2_choice_name(&c, one, sizeof(one));
			appendf(out, cap, "%s%s%s", out[0] ? ", " : "", one, "");
		}
}

/* ---- building --------------------------------------------------------- */

static void sa_header(struct isakmp_buf *b)
{
	isakmp_buf_u32(b, DOI_IPSEC);
	isakmp_buf_u32(b, SIT_IDENTITY_ONLY);
}

/* Transforms and proposals chain with their own types (3, 2), not the
 * message's payload chain, so they are written by hand. */
static size_t sub_begin(struct isakmp_buf *b)
{
	size_t s = b->len;
	isakmp_buf_u8(b, 0);
	isakmp_buf_u8(b, 0);
	isakmp_buf_u16(b, 0);
	return s;
}

static void sub_end(struct isakmp_buf *b, size_t s, uint8_t np)
{
	if (b->overflow || b->len - s > 0xffff) {
		b->overflow = true;
		return;
	}
	b->b[s] = np;
	put_be16(b->b + s + 2, (uint16_t)(b->len - s));
}

size_t p1_sa_build(struct isakmp_buf *b, const struct ike_tunnel_config *cfg)
{
	size_t sa = isakmp_buf_begin(b, PL_SA);
	sa_header(b);
	size_t prop = sub_begin(b);
	isakmp_buf_u8(b, 1);		/* proposal # */
	isakmp_buf_u8(b, PROTO_ISAKMP);
	isakmp_buf_u8(b, 0);		/* SPI size */
	size_t ntf_off = b->len;
	isakmp_buf_u8(b, 0);
	unsigned n = 0;
	size_t last = 0;
	for (size_t e = 0; e < cfg->p1_encr_n; e++)
		for (size_t i = 0; i < cfg->p1_integ_n; i++)
			for (size_t g = 0; g < cfg->p1_dh_n && n < 255; g++) {
				if (n)
					sub_end(b, last, PL_T);
				last = sub_begin(b);
				isakmp_buf_u8(b, (uint8_t)++n);
				isakmp_buf_u8(b, KEY_IKE);
				isakmp_buf_u16(b, 0);
				isakmp_buf_attr(b, P1A_ENCR, P1_ENCR_AES_CBC, true);
				isakmp_buf_attr(b, P1A_KEY_LENGTH, ike_key_len(cfg->p1_encr[e]) * 8, true);
				isakmp_buf_attr(b, P1A_HASH, p1_hash_id(cfg->p1_integ[i]), true);
				isakmp_buf_attr(b, P1A_AUTH, P1_AUTH_PSK, true);
				isakmp_buf_attr(b, P1A_GROUP, cfg->p1_dh[g], true);
				isakmp_buf_attr(b, P1A_LIFE_TYPE, LIFE_SECONDS, true);
				isakmp_buf_attr(b, P1A_LIFE_DURATION, cfg->p1_lifetime_s, true);
			}
	if (n)
		sub_end(b, last, PL_NONE);
	if (!b->overflow)
		b->b[ntf_off] = (uint8_t)n;
	sub_end(b, prop, PL_NONE);
	isakmp_buf_end(b, sa);
	return sa;
}

size_t p2_sa_build(struct isakmp_buf *b, const struct ike_tunnel_config *cfg, uint32_t spi,
		   uint16_t encap, uint16_t group)
{
	size_t sa = isakmp_buf_begin(b, PL_SA);
	sa_header(b);
	size_t prop = sub_begin(b);
	isakmp_buf_u8(b, 1);
	isakmp_buf_u8(b, PROTO_ESP);
	isakmp_buf_u8(b, 4);
	size_t ntf_off = b->len;
	isakmp_buf_u8(b, 0);
	isakmp_buf_u32(b, spi);
	unsigned n = 0;
	size_t last = 0;
	for (size_t e = 0; e < cfg->p2_encr_n; e++)
		for (size_t i = 0; i < cfg->p2_integ_n && n < 255; i++) {
			enum ike_encr enc = cfg->p2_encr[e];
			bool gcm = ike_encr_is_gcm(enc);
			if ((gcm && i > 0) || (!gcm && cfg->p2_integ[i] == IKE_INTEG_NONE))
				continue;
			if (n)
				sub_end(b, last, PL_T);
			last = sub_begin(b);
			isakmp_buf_u8(b, (uint8_t)++n);
			isakmp_buf_u8(b, gcm ? ESP_AES_GCM_16 : ESP_AES_CBC);
			isakmp_buf_u16(b, 0);
			isakmp_buf_attr(b, P2A_LIFE_TYPE, LIFE_SECONDS, true);
			isakmp_buf_attr(b, P2A_LIFE_DURATION, cfg->p2_lifetime_s, true);
			if (group)
				isakmp_buf_attr(b, P2A_GROUP, group, true);
			isakmp_buf_attr(b, P2A_ENCAP, encap, true);
			if (!gcm)
				isakmp_buf_attr(b, P2A_AUTH, p2_auth_id(cfg->p2_integ[i]), true);
			isakmp_buf_attr(b, P2A_KEY_LENGTH, ike_key_len(enc) * 8, true);
		}
	if (n)
		sub_end(b, last, PL_NONE);
	if (!b->overflow)
		b->b[ntf_off] = (uint8_t)n;
	sub_end(b, prop, PL_NONE);
	isakmp_buf_end(b, sa);
	return sa;
}

static size_t sa_build_reply(struct isakmp_buf *b, const struct sa_pick *pick, uint8_t proto,
			     const uint32_t *spi)
{
	size_t sa = isakmp_buf_begin(b, PL_SA);
	sa_header(b);
	size_t prop = sub_begin(b);
	isakmp_buf_u8(b, pick->prop_num);
	isakmp_buf_u8(b, proto);
	isakmp_buf_u8(b, spi ? 4 : 0);
	isakmp_buf_u8(b, 1);
	if (spi)
		isakmp_buf_u32(b, *spi);
	size_t tf = b->len;
	isakmp_buf_put(b, pick->tf, pick->tf_len);
	if (!b->overflow)
		b->b[tf] = PL_NONE;	/* the only transform */
	sub_end(b, prop, PL_NONE);
	isakmp_buf_end(b, sa);
	return sa;
}

size_t p1_sa_build_reply(struct isakmp_buf *b, const struct sa_pick *pick)
{
	return sa_build_reply(b, pick, PROTO_ISAKMP, NULL);
}

size_t p2_sa_build_reply(struct isakmp_buf *b, const struct sa_pick *pick, uint32_t our_spi)
{
	return sa_build_reply(b, pick, PROTO_ESP, &our_spi);
}

/* ---- parsing ---------------------------------------------------------- */

/* Split an SA body into its proposals (chained with type 2). */
static enum ike_drop sa_proposals(const uint8_t *sa, size_t len, struct isakmp_msg *props)
{
	/* DOI and situation */
	if (len < 8)
		return IKE_DROP_BAD_PROPOSAL;
	if (get_be32(sa) != DOI_IPSEC || get_be32(sa + 4) != SIT_IDENTITY_ONLY)
		return IKE_DROP_BAD_PROPOSAL;
	if (isakmp_payloads_parse(PL_P, sa + 8, len - 8, props) != IKE_DROP_NONE)
		return IKE_DROP_BAD_PROPOSAL;
	for (size_t i = 0; i < props->n; i++)
		if (props->pl[i].type != PL_P)
			return IKE_DROP_BAD_PROPOSAL;
	return IKE_DROP_NONE;
}

struct prop_view {
	uint8_t num, proto, spi_size, ntf;
	const uint8_t *spi;
	const uint8_t *tfs;	/* the transform chain, validated by prop_parse */
	size_t tfs_len;
	size_t ntfs;		/* transforms in the chain */
};

/* The transform at *off of a chain that prop_parse validated; false past
 * the last. Start *off at 0. */
static bool tf_next(const struct prop_view *v, size_t *off, struct isakmp_payload *t)
{
	if (*off >= v->tfs_len)
		return false;
	size_t plen = get_be16(v->tfs + *off + 2);
	t->type = PL_T;
	t->raw = v->tfs + *off;
	t->raw_len = plen;
	t->body = t->raw + ISAKMP_GENERIC_LEN;
	t->len = plen - ISAKMP_GENERIC_LEN;
	/* the last transform says "none follows" */
	*off = v->tfs[*off] == PL_NONE ? v->tfs_len : *off + plen;
	return true;
}

static enum ike_drop prop_parse(const struct isakmp_payload *p, struct prop_view *v)
{
	/* proposal #, protocol, SPI size, # transforms */
	if (p->len < 4)
		return IKE_DROP_BAD_PROPOSAL;
	v->num = p->body[0];
	v->proto = p->body[1];
	v->spi_size = p->body[2];
	v->ntf = p->body[3];
	if (p->len - 4 < v->spi_size)
		return IKE_DROP_BAD_PROPOSAL;
	v->spi = p->body + 4;
	size_t off = 4 + (size_t)v->spi_size;
	v->tfs = p->body + off;
	v->tfs_len = p->len - off;
	v->ntfs = 0;
	/* the chain: type 3 until a 0, each at least its generic header and
	 * #, id, reserved, all inside the proposal */
	for (size_t at = 0;;) {
		if (v->ntfs == ISAKMP_MAX_TRANSFORMS)
			return IKE_DROP_BAD_PROPOSAL;
		if (v->tfs_len - at < ISAKMP_GENERIC_LEN + 4)
			return IKE_DROP_BAD_PROPOSAL;
		size_t plen = get_be16(v->tfs + at + 2);
		if (plen < ISAKMP_GENERIC_LEN + 4 || plen > v->tfs_len - at)
			return IKE_DROP_BAD_PROPOSAL;
		v->ntfs++;
		uint8_t np = v->tfs[at];
		at += plen;
		if (np == PL_NONE) {
			v->tfs_len = at;
			break;
		}
		if (np != PL_T)
			return IKE_DROP_BAD_PROPOSAL;
	}
	return IKE_DROP_NONE;
}

/* Decode a phase 1 transform. Returns -1 malformed, 0 unacceptable, 1 ok;
 * `c` is filled as far as understood (for naming) either way. */
static int p1_tf_decode(const struct isakmp_payload *t, const struct ike_tunnel_config *cfg,
			struct p1_choice *c, char *name, size_t name_cap)
{
	bool ok = t->body[1] == KEY_IKE;
	uint64_t encr = 0, hash = 0, auth = 0, group = 0, keylen = 0, life_type = 0;
	uint64_t life_s = 0;
	struct isakmp_attr a;
	size_t off = 0;
	int r;
	while ((r = isakmp_attr_next(t->body + 4, t->len - 4, &off, &a)) == 1) {
		switch (a.type) {
		case P1A_ENCR: encr = a.value; break;
		case P1A_HASH: hash = a.value; break;
		case P1A_AUTH: auth = a.value; break;
		case P1A_GROUP: group = a.value; break;
		case P1A_KEY_LENGTH: keylen = a.value; break;
		case P1A_LIFE_TYPE: life_type = a.value; break;
		case P1A_LIFE_DURATION:
			if (life_type == LIFE_SECONDS)
				life_s = a.value;
			else if (life_type != LIFE_KILOBYTES)
				ok = false;
			break;
		default: ok = false; break;
		}
	}
	if (r < 0)
		return -1;
	memset(c, 0, sizeof(*c));
	const char *en = "encr?", *hn = "hash?";
	char ebuf[16], hbuf[16];
	if (encr == P1_ENCR_AES_CBC && (keylen == 128 || keylen == 256)) {
		c->encr = keylen == 128 ? IKE_ENCR_AES128_CBC : IKE_ENCR_AES256_CBC;
		en = ike_encr_name(c->encr);
	} else {
		ok = false;
		en = encr == 5 ? "3des" : encr == 1 ? "des" : encr == 7 ? "aes?" : NULL;
		if (!en) {
			snprintf(ebuf, sizeof(ebuf), "encr%u", (unsigned)encr);
			en = ebuf;
		}
	}
	switch (hash) {
	case P1_HASH_SHA1: c->integ = IKE_INTEG_SHA1; break;
	case P1_HASH_SHA256: c->integ = IKE_INTEG_SHA256; break;
	case P1_HASH_SHA384: c->integ = IKE_INTEG_SHA384; break;
	case P1_HASH_SHA512: c->integ = IKE_INTEG_SHA512; break;
	default: ok = false; break;
	}
	if (c->integ)
		hn = ike_integ_name(c->integ);
	else {
		snprintf(hbuf, sizeof(hbuf), "hash%u", (unsigned)hash);
		hn = hash == 1 ? "md5" : hbuf;
	}
	c->group = (uint16_t)(group <= 0xffff ? group : 0);
	c->lifetime_s = (uint32_t)(life_s > UINT32_MAX ? UINT32_MAX : life_s);
	snprintf(name, name_cap, "%s-%s-%s%s", en, hn,
		 group == 1 ? "modp768" : ike_dh_name(c->group),
		 auth == P1_AUTH_PSK ? "" : " (not psk)");
	if (auth != P1_AUTH_PSK)
		ok = false;
	if (!ok || !cfg_has_encr(cfg->p1_encr, cfg->p1_encr_n, c->encr) ||
	    !cfg_has_integ(cfg->p1_integ, cfg->p1_integ_n, c->integ) ||
	    !cfg_has_group(cfg->p1_dh, cfg->p1_dh_n, c->group) || !ike_dh_supported(c->group))
		return 0;
	return 1;
}

enum ike_drop p1_sa_select(const uint8_t *sa, size_t len, const struct ike_tunnel_config *cfg,
			   struct p1_choice *out, struct sa_pick *pick, char *offered,
			   size_t offered_cap)
{
	struct isakmp_msg props;
	struct prop_view v;
	enum ike_drop why = sa_proposals(sa, len, &props);
	if (offered_cap)
		offered[0] = 0;
	if (why != IKE_DROP_NONE)
		return why;
	for (size_t p = 0; p < props.n; p++) {
		if ((why = prop_parse(&props.pl[p], &v)) != IKE_DROP_NONE)
			return why;
		if (v.proto != PROTO_ISAKMP)
			continue;
		struct isakmp_payload tf;
		for (size_t off = 0; tf_next(&v, &off, &tf);) {
			char name[64];
			int r = p1_tf_decode(&tf, cfg, out, name, sizeof(name));
			if (r < 0)
				return IKE_DROP_BAD_PROPOSAL;
			if (r == 1) {
				pick->prop_num = v.num;
				pick->tf = tf.raw;
				pick->tf_len = tf.raw_len;
				pick->spi = 0;
				return IKE_DROP_NONE;
			}
			if (offered_cap)
				appendf(offered, offered_cap, "%s%s%s", offered[0] ? ", " : "",
					name, "");
		}
	}
	return IKE_DROP_NO_PROPOSAL;
}

enum ike_drop p1_sa_check_reply(const uint8_t *sa, size_t len, const struct ike_tunnel_config *cfg,
				struct p1_choice *out)
{
	struct isakmp_msg props;
	struct prop_view v;
	enum ike_drop why = sa_proposals(sa, len, &props);
	if (why != IKE_DROP_NONE)
		return why;
	if (props.n != 1 || (why = prop_parse(&props.pl[0], &v)) != IKE_DROP_NONE)
		return IKE_DROP_BAD_PROPOSAL;
	struct isakmp_payload tf;
	size_t off = 0;
	if (v.proto != PROTO_ISAKMP || v.ntfs != 1 || !tf_next(&v, &off, &tf))
		return IKE_DROP_BAD_PROPOSAL;
	char name[64];
	int r = p1_tf_decode(&tf, cfg, out, name, sizeof(name));
	if (r < 0)
		return IKE_DROP_BAD_PROPOSAL;
	if (r == 0)
		return IKE_DROP_NO_PROPOSAL;
	/* a lifetime longer than we offered is not what we offered */
	if (out->lifetime_s > cfg->p1_lifetime_s)
		return IKE_DROP_NO_PROPOSAL;
	return IKE_DROP_NONE;
}

static int p2_tf_decode(const struct isakmp_payload *t, const struct ike_tunnel_config *cfg,
			bool have_ke, struct p2_choice *c, char *name, size_t name_cap)
{
	bool ok = true;
	uint64_t auth = 0, group = 0, keylen = 0, life_type = 0, encap = ENCAP_TUNNEL;
	uint64_t life_s = 0, life_kb = 0;
	struct isakmp_attr a;
	size_t off = 0;
	int r;
	while ((r = isakmp_attr_next(t->body + 4, t->len - 4, &off, &a)) == 1) {
		switch (a.type) {
		case P2A_LIFE_TYPE: life_type = a.value; break;
		case P2A_LIFE_DURATION:
			if (life_type == LIFE_SECONDS)
				life_s = a.value;
			else if (life_type == LIFE_KILOBYTES)
				life_kb = a.value;
			else
				ok = false;
			break;
		case P2A_GROUP: group = a.value; break;
		case P2A_ENCAP: encap = a.value; break;
		case P2A_AUTH: auth = a.value; break;
		case P2A_KEY_LENGTH: keylen = a.value; break;
		default: ok = false; break;
		}
	}
	if (r < 0)
		return -1;
	memset(c, 0, sizeof(*c));
	uint8_t id = t->body[1];
	char en[24];
	if ((id == ESP_AES_CBC || id == ESP_AES_GCM_16) && (keylen == 128 || keylen == 256)) {
		if (id == ESP_AES_CBC)
			c->encr = keylen == 128 ? IKE_ENCR_AES128_CBC : IKE_ENCR_AES256_CBC;
		else
			c->encr = keylen == 128 ? IKE_ENCR_AES128_GCM16 : IKE_ENCR_AES256_GCM16;
		snprintf(en, sizeof(en), "%s", ike_encr_name(c->encr));
	} else {
		ok = false;
		if (id == 3 || id == 2)
			snprintf(en, sizeof(en), "%s", id == 3 ? "3des" : "des");
		else
			snprintf(en, sizeof(en), "esp%u-%u", (unsigned)id, (unsigned)keylen);
	}
	bool gcm = c->encr && ike_encr_is_gcm(c->encr);
	char an[16] = "";
	switch (auth) {
	case 0: ok = ok && gcm; break;
	case P2_AUTH_SHA1: c->integ = IKE_INTEG_SHA1; break;
	case P2_AUTH_SHA256: c->integ = IKE_INTEG_SHA256; break;
	case P2_AUTH_SHA384: c->integ = IKE_INTEG_SHA384; break;
	case P2_AUTH_SHA512: c->integ = IKE_INTEG_SHA512; break;
	default:
		ok = false;
		if (auth == 1)
			snprintf(an, sizeof(an), "-md5");
		else
			snprintf(an, sizeof(an), "-auth%u", (unsigned)auth);
		break;
	}
	if (gcm && c->integ)
		ok = false;
	if (c->integ)
		snprintf(an, sizeof(an), "-%s", ike_integ_name(c->integ));
	c->group = (uint16_t)(group <= 0xffff ? group : 0xffff);
	c->encap = (uint16_t)(encap <= 0xffff ? encap : 0);
	c->lifetime_s = (uint32_t)(life_s > UINT32_MAX ? UINT32_MAX : life_s);
	c->life_kbytes = life_kb;
	snprintf(name, name_cap, "%s%s%s%s%s", en, an, c->group ? "-" : "",
		 c->group ? ike_dh_name(c->group) : "",
		 c->encap == ENCAP_TRANSPORT || c->encap == ENCAP_UDP_TRANSPORT ? " (transport)" : "");
	if (c->encap != ENCAP_TUNNEL && c->encap != ENCAP_UDP_TUNNEL &&
	    c->encap != ENCAP_UDP_TUNNEL_DRAFT)
		ok = false;
	if ((c->group != 0) != have_ke)	/* PFS: a group exactly when KE came */
		ok = false;
	if (cfg->p2_dh_n ? !cfg_has_group(cfg->p2_dh, cfg->p2_dh_n, c->group) : c->group != 0)
		ok = false;
	if (!ok || !cfg_has_encr(cfg->p2_encr, cfg->p2_encr_n, c->encr))
		return 0;
	if (!gcm && !cfg_has_integ(cfg->p2_integ, cfg->p2_integ_n, c->integ))
		return 0;
	return 1;
}

enum ike_drop p2_sa_select(const uint8_t *sa, size_t len, const struct ike_tunnel_config *cfg,
			   bool have_ke, struct p2_choice *out, struct sa_pick *pick,
			   char *offered, size_t offered_cap)
{
	struct isakmp_msg props;
	struct prop_view v;
	enum ike_drop why = sa_proposals(sa, len, &props);
	if (offered_cap)
		offered[0] = 0;
	if (why != IKE_DROP_NONE)
		return why;
	for (size_t p = 0; p < props.n; p++) {
		if ((why = prop_parse(&props.pl[p], &v)) != IKE_DROP_NONE)
			return why;
		/* proposals sharing a number form a bundle (AH+ESP): not for us */
		bool bundle = (p > 0 && props.pl[p - 1].len >= 1 && props.pl[p - 1].body[0] == v.num) ||
			      (p + 1 < props.n && props.pl[p + 1].len >= 1 &&
			       props.pl[p + 1].body[0] == v.num);
		if (v.proto != PROTO_ESP || v.spi_size != 4 || bundle)
			continue;
		struct isakmp_payload tf;
		for (size_t off = 0; tf_next(&v, &off, &tf);) {
			char name[64];
			int r = p2_tf_decode(&tf, cfg, have_ke, out, name, sizeof(name));
			if (r < 0)
				return IKE_DROP_BAD_PROPOSAL;
			if (r == 1) {
				pick->prop_num = v.num;
				pick->tf = tf.raw;
				pick->tf_len = tf.raw_len;
				pick->spi = get_be32(v.spi);
				return IKE_DROP_NONE;
			}
			if (offered_cap)
				appendf(offered, offered_cap, "%s%s%s", offered[0] ? ", " : "",
					name, "");
		}
	}
	return IKE_DROP_NO_PROPOSAL;
}

enum ike_drop p2_sa_check_reply(const uint8_t *sa, size_t len, const struct ike_tunnel_config *cfg,
				bool have_ke, struct p2_choice *out, uint32_t *peer_spi)
{
	struct isakmp_msg props;
	struct prop_view v;
	enum ike_drop why = sa_proposals(sa, len, &props);
	if (why != IKE_DROP_NONE)
		return why;
	if (props.n != 1 || (why = prop_parse(&props.pl[0], &v)) != IKE_DROP_NONE)
		return IKE_DROP_BAD_PROPOSAL;
	struct isakmp_payload tf;
	size_t off = 0;
	if (v.proto != PROTO_ESP || v.spi_size != 4 || v.ntfs != 1 || !tf_next(&v, &off, &tf))
		return IKE_DROP_BAD_PROPOSAL;
	char name[64];
	int r = p2_tf_decode(&tf, cfg, have_ke, out, name, sizeof(name));
	if (r < 0)
		return IKE_DROP_BAD_PROPOSAL;
	if (r == 0)
		return IKE_DROP_NO_PROPOSAL;
	*peer_spi = get_be32(v.spi);
	return IKE_DROP_NONE;
}

/* ---- traffic selectors ------------------------------------------------ */

static uint32_t prefix_mask(uint8_t len)
{
	return len == 0 ? 0 : len >= 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1);
}

struct ike_ts ts_from_subnet(struct ike_subnet s)
{
	uint32_t m = prefix_mask(s.prefix_len);
	struct ike_ts ts = { s.addr & m, (s.addr & m) | ~m, 0, 0 };
	return ts;
}

struct ike_ts ts_host(uint32_t ip)
{
	struct ike_ts ts = { ip, ip, 0, 0 };
	return ts;
}

/* The prefix length if [first,last] is exactly a subnet, else -1. */
static int ts_prefix(const struct ike_ts *ts)
{
	for (int len = 0; len <= 32; len++) {
		uint32_t m = prefix_mask((uint8_t)len);
		if ((ts->first & ~m) == 0 && ts->last == (ts->first | ~m))
			return len;
	}
	return -1;
}

bool ts_parse_id(const uint8_t *body, size_t len, struct ike_ts *ts)
{
	/* ID type, protocol, port */
	if (len < 4)
		return false;
	ts->protocol = body[1];
	ts->port = get_be16(body + 2);
	const uint8_t *d = body + 4;
	size_t dl = len - 4;
	switch (body[0]) {
	case ID_IPV4_ADDR:
		if (dl != 4)
			return false;
		ts->first = ts->last = get_be32(d);
		return true;
	case ID_IPV4_ADDR_SUBNET: {
		if (dl != 8)
			return false;
		uint32_t a = get_be32(d), m = get_be32(d + 4);
		if (m & (~m >> 1))	/* mask bits must be contiguous */
			return false;
		ts->first = a & m;
		ts->last = (a & m) | ~m;
		return true;
	}
	case ID_IPV4_ADDR_RANGE:
		if (dl != 8)
			return false;
		ts->first = get_be32(d);
		ts->last = get_be32(d + 4);
		return ts->first <= ts->last;
	default:
		return false;
	}
}

void ts_build_id(struct isakmp_buf *b, const struct ike_ts *ts)
{
	size_t s = isakmp_buf_begin(b, PL_ID);
	int prefix = ts_prefix(ts);
	isakmp_buf_u8(b, prefix == 32 ? ID_IPV4_ADDR : prefix >= 0 ? ID_IPV4_ADDR_SUBNET
								  : ID_IPV4_ADDR_RANGE);
	isakmp_buf_u8(b, ts->protocol);
	isakmp_buf_u16(b, ts->port);
	isakmp_buf_u32(b, ts->first);
	if (prefix != 32)
		isakmp_buf_u32(b, prefix >= 0 ? prefix_mask((uint8_t)prefix) : ts->last);
	isakmp_buf_end(b, s);
}

bool ts_narrow(const struct ike_ts *in, const struct ike_ts *bound, struct ike_ts *out)
{
	uint32_t f = in->first > bound->first ? in->first : bound->first;
	uint32_t l = in->last < bound->last ? in->last : bound->last;
	if (f > l)
		return false;
	*out = *in;
	out->first = f;
	out->last = l;
	return true;
}

bool ts_within(const struct ike_ts *inner, const struct ike_ts *outer)
{
	return inner->first >= outer->first && inner->last <= outer->last &&
	       (outer->protocol == 0 || inner->protocol == outer->protocol) &&
	       (outer->port == 0 || inner->port == outer->port);
}

bool ts_equal(const struct ike_ts *a, const struct ike_ts *b)
{
	return a->first == b->first && a->last == b->last && a->protocol == b->protocol &&
	       a->port == b->port;
}

void ts_name(const struct ike_ts *ts, char *out, size_t cap)
{
	int prefix = ts_prefix(ts);
	uint32_t f = ts->first, l = ts->last;
	int n;
	if (prefix >= 0)
		n = snprintf(out, cap, "%u.%u.%u.%u/%d", f >> 24, (f >> 16) & 255, (f >> 8) & 255,
			     f & 255, prefix);
	else
		n = snprintf(out, cap, "%u.%u.%u.%u-%u.%u.%u.%u", f >> 24, (f >> 16) & 255,
			     (f >> 8) & 255, f & 255, l >> 24, (l >> 16) & 255, (l >> 8) & 255,
			     l & 255);
	if ((ts->protocol || ts->port) && n > 0 && (size_t)n < cap)
		snprintf(out + n, cap - (size_t)n, "[%u/%u]", ts->protocol, ts->port);
}
