/*
 * bgp_reply — reads BIRD 2's answers on its control socket (bgp.h): the
 * coded lines of `show protocols all` and `show route all`, into session
 * states and learned routes. The format, as BIRD 2.0 writes it:
 *
 *   "DDDD-text"   a line of code DDDD, more follow
 *   "DDDD text"   a line of code DDDD, the last of the reply
 *   " text"       one more line of the previous line's code
 *
 * Codes 0xxx are success, 1xxx table rows (1002 a protocol's summary, 1006
 * its details, 1007 a route, 1008 its type, 1012 its attributes), 2xxx
 * table headings, 8xxx and 9xxx errors. Every field is read with its
 * length checked; text that is not BIRD's is an error, never a guess.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "bgp/bgp.h"

#define CODE_PROTO_SUMMARY	1002
#define CODE_PROTO_DETAILS	1006
#define CODE_ROUTE		1007
#define CODE_ROUTE_TYPE		1008
#define CODE_ROUTE_ATTRS	1012
#define CODE_FIRST_ERROR	8000

/* One line of a reply: its code (the previous line's for a continuation)
 * and its text, without code, separator and newline. */
struct reply_line {
	int rl_code;
	const char *rl_text;
	size_t rl_len;
	unsigned rl_number;	/* 1-based, for error messages */
};

struct reply_reader {
	const char *rr_pos, *rr_end;
	int rr_code;		/* of the last coded line; -1 before the first */
	unsigned rr_number;
};

/* 1 with *line set, 0 at the end, -1 (err set) on a line that is not BIRD's. */
static int reply_next(struct reply_reader *r, struct reply_line *line, char *err, size_t errlen)
{
	if (r->rr_pos >= r->rr_end)
		return 0;
	const char *start = r->rr_pos;
	const char *nl = memchr(start, '\n', (size_t)(r->rr_end - start));
	size_t len = nl ? (size_t)(nl - start) : (size_t)(r->rr_end - start);

	r->rr_pos = nl ? nl + 1 : r->rr_end;
	r->rr_number++;
	line->rl_number = r->rr_number;
	if (len >= 1 && start[0] == ' ') {
		/* continuation: needs a coded line before it */
		if (r->rr_code < 0) {
			err_set(err, errlen, "line %u: continuation before any coded line", r->rr_number);
			return -1;
		}
		line->rl_code = r->rr_code;
		line->rl_text = start + 1;
		line->rl_len = len - 1;
		return 1;
	}
	/* "DDDD-" or "DDDD " (BIRD always writes the separator) */
	if (len < 5 || (start[4] != '-' && start[4] != ' ')) {
		err_set(err, errlen, "line %u: not a BIRD reply line", r->rr_number);
		return -1;
	}
	int code = 0;
	for (int i = 0; i < 4; i++) {
		if (start[i] < '0' || start[i] > '9') {
			err_set(err, errlen, "line %u: not a BIRD reply code", r->rr_number);
			return -1;
		}
		code = code * 10 + (start[i] - '0');
	}
	r->rr_code = code;
	line->rl_code = code;
	line->rl_text = start + 5;
	line->rl_len = len - 5;
	if (code >= CODE_FIRST_ERROR) {
		err_set(err, errlen, "BIRD: %.*s", (int)(line->rl_len > 200 ? 200 : line->rl_len),
			line->rl_text);
		return -1;
	}
	return 1;
}

/* A token of a line: the next run of non-blank bytes after blanks. */
struct cursor {
	const char *c_pos, *c_end;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool next_token(struct cursor *c, const char **tok, size_t *len)
{
	while (c->c_pos < c->c_end && is_blank(*c->c_pos))
		c->c_pos++;
	if (c->c_pos >= c->c_end)
		return false;
	*tok = c->c_pos;
	while (c->c_pos < c->c_end && !is_blank(*c->c_pos))
		c->c_pos++;
	*len = (size_t)(c->c_pos - *tok);
	return true;
}

static bool token_is(const char *tok, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(tok, word, len) == 0;
}

/* Copies a token into dst (size >= 1); false when it does not fit. */
static bool token_copy(char *dst, size_t size, const char *tok, size_t len)
{
	if (len >= size)
		return false;
	memcpy(dst, tok, len);
	dst[len] = '\0';
	return true;
}

/* A decimal number of at most 10 digits that fits 32 bits. */
static bool parse_u32(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Dotted quad, host order. */
static bool parse_ipv4(const char *s, size_t len, uint32_t *out)
{
	uint32_t a = 0;
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t start = i;
		while (i < len && s[i] != '.')
			i++;
		uint32_t v;
		if (!parse_u32(s + start, i - start, &v) || v > 255 || i - start > 3)
			return false;
		a = a << 8 | v;
		if (part < 3) {
			if (i >= len)
				return false;
			i++;	/* the dot */
		}
	}
	if (i != len)
		return false;
	*out = a;
	return true;
}

static bool parse_prefix(const char *s, size_t len, struct bgp_prefix *p)
{
	const char *slash = memchr(s, '/', len);
	uint32_t plen;

	if (!slash || !parse_ipv4(s, (size_t)(slash - s), &p->bp_addr) ||
	    !parse_u32(slash + 1, len - (size_t)(slash - s) - 1, &plen) || plen > 32)
		return false;
	p->bp_len = (uint8_t)plen;
	return true;
}

/* "2026-12-07" "08:15:43" (timeformat iso long, UTC) into unix seconds. */
static bool parse_time(const char *date, size_t dlen, const char *tod, size_t tlen, int64_t *out)
{
	uint32_t y, mo, d, h, mi, s;

	if (dlen != 10 || date[4] != '-' || date[7] != '-' || tlen != 8 || tod[2] != ':' ||
	    tod[5] != ':' || !parse_u32(date, 4, &y) || !parse_u32(date + 5, 2, &mo) ||
	    !parse_u32(date + 8, 2, &d) || !parse_u32(tod, 2, &h) || !parse_u32(tod + 3, 2, &mi) ||
	    !parse_u32(tod + 6, 2, &s) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || s > 60)
		return false;
	struct tm tm = { .tm_year = (int)y - 1900, .tm_mon = (int)mo - 1, .tm_mday = (int)d,
			 .tm_hour = (int)h, .tm_min = (int)mi, .tm_sec = (int)s };
	*out = (int64_t)timegm(&tm);
	return true;
}

/* The text of "Key:   value" when the line (blanks trimmed) starts with key. */
static bool field_value(const struct reply_line *l, const char *key, const char **val, size_t *vlen)
{
	const char *p = l->rl_text, *end = l->rl_text + l->rl_len;
	size_t klen = strlen(key);

	while (p < end && is_blank(*p))
		p++;
	if ((size_t)(end - p) < klen || memcmp(p, key, klen) != 0)
		return false;
	p += klen;
	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	*val = p;
	*vlen = (size_t)(end - p);
	return true;
}

static const char *const fsm_names[] = {
	[BGP_FSM_UNKNOWN] = "Unknown",	   [BGP_FSM_DOWN] = "Down",
	[BGP_FSM_IDLE] = "Idle",	   [BGP_FSM_CONNECT] = "Connect",
	[BGP_FSM_ACTIVE] = "Active",	   [BGP_FSM_OPENSENT] = "OpenSent",
	[BGP_FSM_OPENCONFIRM] = "OpenConfirm", [BGP_FSM_ESTABLISHED] = "Established",
};

const char *bgp_fsm_state_name(enum bgp_fsm_state s)
{
	return (unsigned)s < sizeof(fsm_names) / sizeof(fsm_names[0]) ? fsm_names[s] : "Unknown";
}

static enum bgp_fsm_state fsm_state_parse(const char *s, size_t len)
{
	for (unsigned i = BGP_FSM_DOWN; i < sizeof(fsm_names) / sizeof(fsm_names[0]); i++)
		if (token_is(s, len, fsm_names[i]))
			return (enum bgp_fsm_state)i;
	return BGP_FSM_UNKNOWN;
}

/* BIRD's last-error texts (proto/bgp/bgp.c, nest/proto.c). */
static enum bgp_session_error session_error_parse(const char *s)
{
	if (!s[0])
		return BGP_ERR_NONE;
	if (strstr(s, "Route limit exceeded"))
		return BGP_ERR_PREFIX_LIMIT;
	if (strstr(s, "Bad peer AS"))
		return BGP_ERR_BAD_PEER_AS;
	if (strstr(s, "Hold timer expired"))
		return BGP_ERR_HOLD_EXPIRED;
	return BGP_ERR_OTHER;
}

/* "1002-name  BGP  ---  up  2026-12-07 08:15:47  Established" */
static int protocol_summary(const struct reply_line *l, struct bgp_session *s, bool *is_bgp,
			    char *err, size_t errlen)
{
	struct cursor c = { l->rl_text, l->rl_text + l->rl_len };
	const char *name, *proto, *table, *state, *date, *tod, *info;
	size_t nlen, plen, tlen, slen, dlen, todlen, ilen;

	if (!next_token(&c, &name, &nlen) || !next_token(&c, &proto, &plen) ||
	    !next_token(&c, &table, &tlen) || !next_token(&c, &state, &slen) ||
	    !next_token(&c, &date, &dlen) || !next_token(&c, &tod, &todlen)) {
		err_set(err, errlen, "line %u: protocol summary with missing fields", l->rl_number);
		return -1;
	}
	*is_bgp = token_is(proto, plen, "BGP");
	if (!*is_bgp)
		return 0;
	memset(s, 0, sizeof(*s));
	if (!token_copy(s->bs_protocol, sizeof(s->bs_protocol), name, nlen)) {
		err_set(err, errlen, "line %u: protocol name too long", l->rl_number);
		return -1;
	}
	if (!parse_time(date, dlen, tod, todlen, &s->bs_since)) {
		err_set(err, errlen, "line %u: since is not an ISO time (timeformat protocol iso long)",
			l->rl_number);
		return -1;
	}
	/* the FSM state, overridden by "BGP state:" in the details */
	if (next_token(&c, &info, &ilen))
		s->bs_state = fsm_state_parse(info, ilen);
	if (token_is(state, slen, "down"))
		s->bs_state = BGP_FSM_DOWN;
	return 0;
}

/* "Routes:         2 imported, 2 exported, 2 preferred" */
static bool routes_counts(const char *v, size_t vlen, uint32_t *imported, uint32_t *exported)
{
	struct cursor c = { v, v + vlen };
	const char *tok, *num = NULL;
	size_t len, numlen = 0;
	bool got_imp = false, got_exp = false;

	while (next_token(&c, &tok, &len)) {
		if (token_is(tok, len, "imported,") || token_is(tok, len, "imported"))
			got_imp = num && parse_u32(num, numlen, imported);
		else if (token_is(tok, len, "exported,") || token_is(tok, len, "exported"))
			got_exp = num && parse_u32(num, numlen, exported);
		num = tok;
		numlen = len;
	}
	return got_imp && got_exp;
}

static int protocol_detail(const struct reply_line *l, struct bgp_session *s, char *err,
			   size_t errlen)
{
	const char *v;
	size_t vlen;

	if (field_value(l, "BGP state:", &v, &vlen)) {
		s->bs_state = fsm_state_parse(v, vlen);
	} else if (field_value(l, "Neighbor address:", &v, &vlen)) {
		if (!parse_ipv4(v, vlen, &s->bs_neighbor))
			goto bad;
	} else if (field_value(l, "Neighbor AS:", &v, &vlen)) {
		if (!parse_u32(v, vlen, &s->bs_neighbor_as))
			goto bad;
	} else if (field_value(l, "Local AS:", &v, &vlen)) {
		if (!parse_u32(v, vlen, &s->bs_local_as))
			goto bad;
	} else if (field_value(l, "Last error:", &v, &vlen)) {
		size_t n = vlen < sizeof(s->bs_last_error) ? vlen : sizeof(s->bs_last_error) - 1;
		memcpy(s->bs_last_error, v, n);
		s->bs_last_error[n] = '\0';
		s->bs_error = session_error_parse(s->bs_last_error);
	} else if (field_value(l, "Import limit:", &v, &vlen)) {
		s->bs_limit_hit = vlen >= 5 && memcmp(v + vlen - 5, "[HIT]", 5) == 0;
	} else if (field_value(l, "Routes:", &v, &vlen)) {
		if (!routes_counts(v, vlen, &s->bs_imported, &s->bs_exported))
			goto bad;
	}
	return 0;
bad:
	err_set(err, errlen, "line %u: %s: malformed field", l->rl_number, s->bs_protocol);
	return -1;
}

int bgp_parse_protocols(const char *reply, size_t len, struct bgp_session *out, size_t max,
			size_t *n, char *err, size_t errlen)
{
	struct reply_reader r = { reply, reply + len, -1, 0 };
	struct reply_line l;
	struct bgp_session cur;
	bool in_bgp = false;
	size_t count = 0;
	int rc;

	while ((rc = reply_next(&r, &l, err, errlen)) > 0) {
		if (l.rl_code == CODE_PROTO_SUMMARY) {
			if (in_bgp) {
				out[count++] = cur;
				in_bgp = false;
			}
			if (protocol_summary(&l, &cur, &in_bgp, err, errlen) < 0)
				return -1;
			if (in_bgp && count >= max) {
				err_set(err, errlen, "more than %zu BGP protocols", max);
				return -1;
			}
		} else if (l.rl_code == CODE_PROTO_DETAILS && in_bgp) {
			if (protocol_detail(&l, &cur, err, errlen) < 0)
				return -1;
		}
	}
	if (rc < 0)
		return -1;
	if (in_bgp)
		out[count++] = cur;
	*n = count;
	return 0;
}

/* The route line: "PREFIX unicast [PROTO DATE TIME] * (PREF) [ASPATH]", or
 * with blanks instead of PREFIX for another route to the previous one. */
static int route_line(const struct reply_line *l, struct bgp_prefix *prefix, bool *have_prefix,
		      struct bgp_route *rt, char *err, size_t errlen)
{
	struct cursor c = { l->rl_text, l->rl_text + l->rl_len };
	const char *tok;
	size_t len;

	memset(rt, 0, sizeof(*rt));
	if (!next_token(&c, &tok, &len))
		goto bad;
	if (!is_blank(l->rl_text[0])) {
		if (!parse_prefix(tok, len, prefix))
			goto bad;
		*have_prefix = true;
		if (!next_token(&c, &tok, &len))
			goto bad;
	} else if (!*have_prefix) {
		goto bad;	/* an alternative with no prefix before it */
	}
	rt->br_prefix = *prefix;
	/* tok: the route type ("unicast", "unreachable"); then "[PROTO" */
	if (!next_token(&c, &tok, &len) || len < 2 || tok[0] != '[' ||
	    !token_copy(rt->br_protocol, sizeof(rt->br_protocol), tok + 1, len - 1))
		goto bad;
	while (next_token(&c, &tok, &len))
		if (token_is(tok, len, "*"))
			rt->br_best = true;
	return 0;
bad:
	err_set(err, errlen, "line %u: malformed route line", l->rl_number);
	return -1;
}

/* AS path length as BGP's decision counts it: an AS_SET "{...}" is one. */
static uint32_t as_path_len(const char *v, size_t vlen)
{
	struct cursor c = { v, v + vlen };
	const char *tok;
	size_t len;
	uint32_t n = 0;
	bool in_set = false;

	while (next_token(&c, &tok, &len)) {
		if (tok[0] == '{') {
			in_set = true;
			n++;
		}
		if (!in_set)
			n++;
		if (tok[len - 1] == '}')
			in_set = false;
	}
	return n;
}

static int route_attr(const struct reply_line *l, struct bgp_route *rt, char *err, size_t errlen)
{
	const char *v;
	size_t vlen;

	if (field_value(l, "BGP.as_path:", &v, &vlen)) {
		rt->br_as_path_len = as_path_len(v, vlen);
	} else if (field_value(l, "BGP.next_hop:", &v, &vlen)) {
		struct cursor c = { v, v + vlen };
		const char *tok;
		size_t len;
		/* the first address (an IPv6 link-local one may follow) */
		if (!next_token(&c, &tok, &len) || !parse_ipv4(tok, len, &rt->br_next_hop))
			goto bad;
	} else if (field_value(l, "BGP.med:", &v, &vlen)) {
		if (!parse_u32(v, vlen, &rt->br_med))
			goto bad;
		rt->br_has_med = true;
	} else if (field_value(l, "BGP.local_pref:", &v, &vlen)) {
		if (!parse_u32(v, vlen, &rt->br_local_pref))
			goto bad;
	}
	return 0;
bad:
	err_set(err, errlen, "line %u: malformed route attribute", l->rl_number);
	return -1;
}

int bgp_parse_routes(const char *reply, size_t len, struct bgp_route *out, size_t max,
		     size_t *n, char *err, size_t errlen)
{
	struct reply_reader r = { reply, reply + len, -1, 0 };
	struct reply_line l;
	struct bgp_route cur;
	struct bgp_prefix prefix = { 0, 0 };
	bool have_prefix = false, in_route = false, is_bgp = false;
	size_t count = 0;
	int rc;

	while ((rc = reply_next(&r, &l, err, errlen)) > 0) {
		if (l.rl_code == CODE_ROUTE) {
			if (l.rl_len >= 6 && memcmp(l.rl_text, "Table ", 6) == 0) {
				have_prefix = false;	/* a new table: alternatives restart */
				continue;
			}
			if (l.rl_len > 0 && l.rl_text[0] == '\t')
				continue;	/* "\tvia ..." next hops */
			if (in_route && is_bgp) {
				if (count >= max) {
					err_set(err, errlen, "more than %zu BGP routes", max);
					return -1;
				}
				out[count++] = cur;
			}
			if (route_line(&l, &prefix, &have_prefix, &cur, err, errlen) < 0)
				return -1;
			in_route = true;
			is_bgp = false;
		} else if (l.rl_code == CODE_ROUTE_TYPE && in_route) {
			const char *v;
			size_t vlen;
			if (field_value(&l, "Type:", &v, &vlen))
				is_bgp = vlen >= 4 && memcmp(v, "BGP", 3) == 0 && is_blank(v[3]);
		} else if (l.rl_code == CODE_ROUTE_ATTRS && in_route) {
			if (route_attr(&l, &cur, err, errlen) < 0)
				return -1;
		}
	}
	if (rc < 0)
		return -1;
	if (in_route && is_bgp) {
		if (count >= max) {
			err_set(err, errlen, "more than %zu BGP routes", max);
			return -1;
		}
		out[count++] = cur;
	}
	*n = count;
	return 0;
}
