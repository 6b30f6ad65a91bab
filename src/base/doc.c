/*
 * doc.c — the JSON-shaped tree of doc.h, with a JSON printer and a strict,
 * bounded JSON parser (stored resources are read back through it).
 * A secret string, and the memo of any node above one, never goes back to
 * malloc unwiped.
 */
#include "base/doc.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* String members that are secret by name, wherever a doc is built: the
 * tunnels' keys, and the two texts rendered from them. The one place that
 * names them. */
static const char *const doc_secret_keys[] = {
	"PreSharedKey",
	"CustomerGatewayConfiguration",
	"VpnConnectionDeviceSampleConfiguration",
};

bool doc_key_is_secret(const char *key)
{
	/* Asked for every member set and parsed: most keys differ at once. */
	for (size_t i = 0; i < sizeof(doc_secret_keys) / sizeof(doc_secret_keys[0]); i++)
		if (key[0] == doc_secret_keys[i][0] && strcmp(key, doc_secret_keys[i]) == 0)
			return true;
	return false;
}

bool doc_holds_secret(const struct doc *d)
{
	d = doc_deref(d);
	return d && (d->d_secret || d->d_secret_below);
}

/* child, which holds a secret, was linked under parent: tell every node
 * above. A node already told has had its own parents told. */
static void doc_secret_above(struct doc *parent)
{
	for (; parent && !parent->d_secret_below; parent = parent->d_parent)
		parent->d_secret_below = true;
}

static struct doc *doc_new(enum doc_type t)
{
	struct doc *d = calloc(1, sizeof(*d));
	if (!d)
		abort();
	d->d_type = t;
	return d;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p)
		abort();
	return p;
}

/* d's member name becomes key: in the node when short (most botocore
 * names), else in a block of its own. */
static void doc_key_set(struct doc *d, const char *key)
{
	if (d->d_key != d->d_key_inline)
		free(d->d_key);
	size_t n = strlen(key);
	if (n < DOC_KEY_INLINE) {
		memcpy(d->d_key_inline, key, n + 1);
		d->d_key = d->d_key_inline;
	} else {
		d->d_key = xstrdup(key);
	}
}

/* Frees d's member name when it has a block of its own. */
static void doc_key_free(struct doc *d)
{
	if (d->d_key != d->d_key_inline)
		free(d->d_key);
	d->d_key = NULL;
}

struct doc *doc_obj(void) { return doc_new(DOC_OBJ); }
struct doc *doc_list(void) { return doc_new(DOC_LIST); }

static void doc_touch(struct doc *d);

/* Frees d's text (wiped first when secret) when it has a block of its own. */
static void doc_text_free(struct doc *d)
{
	if (!d->d_str)
		return;
	if (d->d_secret)
		secret_wipe(d->d_str, strlen(d->d_str));
	if (d->d_str != d->d_str_inline)
		free(d->d_str);
	d->d_str = NULL;
}

/* d's text becomes a copy of s: in the node when short, else in a block of
 * its own. */
static void doc_text_set(struct doc *d, const char *s)
{
	doc_text_free(d);
	if (!s)
		s = "";
	size_t n = strlen(s);
	if (n < DOC_STR_INLINE) {
		memcpy(d->d_str_inline, s, n + 1);
		d->d_str = d->d_str_inline;
	} else {
		d->d_str = xstrdup(s);
	}
}

struct doc *doc_str(const char *s)
{
	struct doc *d = doc_new(DOC_STR);
	doc_text_set(d, s);
	return d;
}

void doc_str_replace(struct doc *d, const char *s)
{
	doc_touch(d);
	doc_text_set(d, s);
}

struct doc *doc_str_secret(const char *s)
{
	struct doc *d = doc_str(s);
	d->d_secret = true;
	return d;
}

struct doc *doc_int(int64_t v)
{
	struct doc *d = doc_new(DOC_INT);
	d->d_int = v;
	return d;
}

struct doc *doc_bool(bool v)
{
	struct doc *d = doc_new(DOC_BOOL);
	d->d_int = v;
	return d;
}

/* Frees d's memo, wiped first when it may hold a secret of d's. */
static void doc_memo_drop(struct doc *d)
{
	if (!d->d_memo)
		return;
	if (d->d_secret || d->d_secret_below)
		secret_wipe(d->d_memo->dm_text, d->d_memo->dm_len);
	free(d->d_memo);
	d->d_memo = NULL;
}

/* d, or something below it, changed: every memo from d up to its root is
 * stale. O(depth). */
static void doc_touch(struct doc *d)
{
	for (; d; d = d->d_parent)
		doc_memo_drop(d);
}

const struct doc_memo *doc_memo_get(const struct doc *d, int kind)
{
	return d->d_memo && d->d_memo->dm_kind == kind ? d->d_memo : NULL;
}

void doc_memo_set(const struct doc *d, int kind, const char *text, size_t len)
{
	struct doc_memo *m = malloc(sizeof(*m) + len + 1);
	if (!m)
		abort();
	m->dm_kind = kind;
	m->dm_len = len;
	memcpy(m->dm_text, text, len);
	m->dm_text[len] = '\0';
	struct doc *node = (struct doc *)d;	/* the memo is not part of the value */
	doc_memo_drop(node);
	node->d_memo = m;
}

void doc_free(struct doc *d)
{
	while (d) {
		struct doc *c = d->d_first;
		while (c) {
			struct doc *n = c->d_next;
			c->d_next = NULL;
			doc_free(c);
			c = n;
		}
		doc_key_free(d);
		doc_text_free(d);
		doc_memo_drop(d);
		free(d);
		d = NULL;
	}
}

struct doc *doc_ref(const struct doc *target)
{
	struct doc *d = doc_new(DOC_REF);
	d->d_ref = doc_deref(target);
	return d;
}

const struct doc *doc_deref(const struct doc *d)
{
	return d && d->d_type == DOC_REF ? d->d_ref : d;
}

struct doc *doc_clone(const struct doc *d)
{
	if (!d)
		return NULL;
	if (d->d_type == DOC_REF) {
		struct doc *c = doc_clone(d->d_ref);
		if (d->d_key)
			doc_key_set(c, d->d_key);
		return c;
	}
	struct doc *c = doc_new(d->d_type);
	c->d_int = d->d_int;
	c->d_secret = d->d_secret;
	if (d->d_str)
		doc_text_set(c, d->d_str);
	if (d->d_key)
		doc_key_set(c, d->d_key);
	for (struct doc *k = d->d_first; k; k = k->d_next) {
		struct doc *kc = doc_clone(k);
		kc->d_parent = c;
		if (doc_holds_secret(kc))
			c->d_secret_below = true;
		if (c->d_last)
			c->d_last->d_next = kc;
		else
			c->d_first = kc;
		c->d_last = kc;
		c->d_count++;
	}
	return c;
}

static void doc_link(struct doc *parent, struct doc *child)
{
	doc_touch(parent);
	if (doc_holds_secret(child))
		doc_secret_above(parent);
	child->d_parent = parent;
	child->d_next = NULL;
	if (parent->d_last)
		parent->d_last->d_next = child;
	else
		parent->d_first = child;
	parent->d_last = child;
	parent->d_count++;
}

void doc_delete_child(struct doc *parent, struct doc *child)
{
	struct doc *prev = NULL;
	for (struct doc *c = parent->d_first; c; prev = c, c = c->d_next) {
		if (c != child)
			continue;
		doc_touch(parent);
		if (prev)
			prev->d_next = c->d_next;
		else
			parent->d_first = c->d_next;
		if (parent->d_last == c)
			parent->d_last = prev;
		parent->d_count--;
		c->d_next = NULL;
		doc_free(c);
		return;
	}
}

struct doc *doc_get(const struct doc *obj, const char *key)
{
	if (!obj || obj->d_type != DOC_OBJ)
		return NULL;
	/* most members differ at the first byte: no call for those */
	for (struct doc *c = obj->d_first; c; c = c->d_next)
		if (c->d_key[0] == key[0] && strcmp(c->d_key, key) == 0)
			return c;
	return NULL;
}

struct doc *doc_set(struct doc *obj, const char *key, struct doc *child)
{
	struct doc *old = doc_get(obj, key);
	doc_key_set(child, key);
	if (child->d_type == DOC_STR && doc_key_is_secret(key))
		child->d_secret = true;
	if (old) {
		/* replace in place to keep member order stable */
		doc_touch(obj);
		if (doc_holds_secret(child))
			doc_secret_above(obj);
		child->d_parent = obj;
		child->d_next = old->d_next;
		struct doc *prev = NULL;
		for (struct doc *c = obj->d_first; c != old; c = c->d_next)
			prev = c;
		if (prev)
			prev->d_next = child;
		else
			obj->d_first = child;
		if (obj->d_last == old)
			obj->d_last = child;
		old->d_next = NULL;
		doc_free(old);
		return child;
	}
	doc_link(obj, child);
	return child;
}

struct doc *doc_set_str(struct doc *obj, const char *key, const char *s) { return doc_set(obj, key, doc_str(s)); }
struct doc *doc_set_int(struct doc *obj, const char *key, int64_t v) { return doc_set(obj, key, doc_int(v)); }
struct doc *doc_set_bool(struct doc *obj, const char *key, bool v) { return doc_set(obj, key, doc_bool(v)); }
struct doc *doc_set_secret_str(struct doc *obj, const char *key, const char *s)
{
	return doc_set(obj, key, doc_str_secret(s));
}

bool doc_remove(struct doc *obj, const char *key)
{
	struct doc *c = doc_get(obj, key);
	if (!c)
		return false;
	doc_delete_child(obj, c);
	return true;
}

const char *doc_get_str(const struct doc *obj, const char *key)
{
	struct doc *c = doc_get(obj, key);
	return c && c->d_type == DOC_STR ? c->d_str : NULL;
}

int64_t doc_get_int(const struct doc *obj, const char *key, int64_t dflt)
{
	struct doc *c = doc_get(obj, key);
	return c && c->d_type == DOC_INT ? c->d_int : dflt;
}

bool doc_get_bool(const struct doc *obj, const char *key, bool dflt)
{
	struct doc *c = doc_get(obj, key);
	return c && c->d_type == DOC_BOOL ? c->d_int != 0 : dflt;
}

struct doc *doc_get_obj(struct doc *obj, const char *key)
{
	struct doc *c = doc_get(obj, key);
	return c ? c : doc_set(obj, key, doc_obj());
}

struct doc *doc_get_list(struct doc *obj, const char *key)
{
	struct doc *c = doc_get(obj, key);
	return c ? c : doc_set(obj, key, doc_list());
}

struct doc *doc_push(struct doc *list, struct doc *child)
{
	doc_link(list, child);
	return child;
}

const char *doc_scalar_text(const struct doc *d, char *buf, size_t len)
{
	switch (d->d_type) {
	case DOC_STR: return d->d_str;
	case DOC_BOOL: return d->d_int ? "true" : "false";
	case DOC_INT: snprintf(buf, len, "%" PRId64, d->d_int); return buf;
	default: return NULL;
	}
}

void doc_to_json(const struct doc *d, struct strbuf *out)
{
	if (d->d_secret || d->d_secret_below)
		out->sb_secret = true;	/* before the first byte of it */
	switch (d->d_type) {
	case DOC_REF: doc_to_json(d->d_ref, out); return;
	case DOC_NULL: sb_puts(out, "null"); return;
	case DOC_STR: sb_json_string(out, d->d_str); return;
	case DOC_INT: sb_printf(out, "%" PRId64, d->d_int); return;
	case DOC_BOOL: sb_puts(out, d->d_int ? "true" : "false"); return;
	case DOC_OBJ:
	case DOC_LIST:
		sb_putc(out, d->d_type == DOC_OBJ ? '{' : '[');
		for (struct doc *c = d->d_first; c; c = c->d_next) {
			if (c != d->d_first)
				sb_putc(out, ',');
			if (d->d_type == DOC_OBJ) {
				sb_json_string(out, c->d_key);
				sb_putc(out, ':');
			}
			doc_to_json(c, out);
		}
		sb_putc(out, d->d_type == DOC_OBJ ? '}' : ']');
		return;
	}
}

/* --- parser ------------------------------------------------------------ */

#define JSON_MAX_DEPTH 64

struct json_in {
	const char *p, *end;
};

static void json_ws(struct json_in *in)
{
	while (in->p < in->end && isspace((unsigned char)*in->p))
		in->p++;
}

static bool json_lit(struct json_in *in, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(in->end - in->p) < n || memcmp(in->p, lit, n) != 0)
		return false;
	in->p += n;
	return true;
}

static void utf8_put(struct strbuf *sb, unsigned cp)
{
	if (cp < 0x80) {
		sb_putc(sb, (char)cp);
	} else if (cp < 0x800) {
		sb_putc(sb, (char)(0xc0 | (cp >> 6)));
		sb_putc(sb, (char)(0x80 | (cp & 0x3f)));
	} else {
		sb_putc(sb, (char)(0xe0 | (cp >> 12)));
		sb_putc(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
		sb_putc(sb, (char)(0x80 | (cp & 0x3f)));
	}
}

/* secret: the string is a key, so is every buffer it passes through. */
static char *json_string(struct json_in *in, bool secret)
{
	if (in->p >= in->end || *in->p != '"')
		return NULL;
	in->p++;
	struct strbuf sb = STRBUF_INIT;
	sb.sb_secret = secret;
	while (in->p < in->end && *in->p != '"') {
		char c = *in->p++;
		if (c != '\\') {
			sb_putc(&sb, c);
			continue;
		}
		if (in->p >= in->end)
			goto bad;
		c = *in->p++;
		switch (c) {
		case '"': case '\\': case '/': sb_putc(&sb, c); break;
		case 'n': sb_putc(&sb, '\n'); break;
		case 'r': sb_putc(&sb, '\r'); break;
		case 't': sb_putc(&sb, '\t'); break;
		case 'b': sb_putc(&sb, '\b'); break;
		case 'f': sb_putc(&sb, '\f'); break;
		case 'u': {
			if (in->end - in->p < 4)
				goto bad;
			unsigned cp = 0;
			for (int i = 0; i < 4; i++) {
				char h = *in->p++;
				cp <<= 4;
				if (h >= '0' && h <= '9') cp |= (unsigned)(h - '0');
				else if (h >= 'a' && h <= 'f') cp |= (unsigned)(h - 'a' + 10);
				else if (h >= 'A' && h <= 'F') cp |= (unsigned)(h - 'A' + 10);
				else goto bad;
			}
			if (cp == 0)
				goto bad;
			utf8_put(&sb, cp);
			break;
		}
		default: goto bad;
		}
	}
	if (in->p >= in->end)
		goto bad;
	in->p++;
	return sb_detach(&sb);
bad:
	sb_free(&sb);
	return NULL;
}

/* secret: the value of a member that doc_key_is_secret(). */
static struct doc *json_value(struct json_in *in, int depth, bool secret)
{
	if (depth > JSON_MAX_DEPTH)
		return NULL;
	json_ws(in);
	if (in->p >= in->end)
		return NULL;
	char c = *in->p;
	if (c == '"') {
		char *s = json_string(in, secret);
		if (!s)
			return NULL;
		struct doc *d = doc_new(DOC_STR);
		d->d_secret = secret;
		size_t n = strlen(s);
		if (n < DOC_STR_INLINE) {
			memcpy(d->d_str_inline, s, n + 1);
			d->d_str = d->d_str_inline;
			if (secret)
				secret_wipe(s, n);
			free(s);
		} else {
			d->d_str = s;
		}
		return d;
	}
	if (c == '{' || c == '[') {
		bool is_obj = c == '{';
		struct doc *d = doc_new(is_obj ? DOC_OBJ : DOC_LIST);
		in->p++;
		json_ws(in);
		if (in->p < in->end && *in->p == (is_obj ? '}' : ']')) {
			in->p++;
			return d;
		}
		for (;;) {
			char *key = NULL;
			if (is_obj) {
				json_ws(in);
				key = json_string(in, false);
				json_ws(in);
				if (!key || in->p >= in->end || *in->p != ':') {
					free(key);
					goto bad;
				}
				in->p++;
			}
			struct doc *v = json_value(in, depth + 1, key && doc_key_is_secret(key));
			if (!v) {
				free(key);
				goto bad;
			}
			if (key) {
				doc_key_set(v, key);
				free(key);
			}
			doc_link(d, v);
			json_ws(in);
			if (in->p >= in->end)
				goto bad;
			if (*in->p == ',') {
				in->p++;
				continue;
			}
			if (*in->p == (is_obj ? '}' : ']')) {
				in->p++;
				return d;
			}
			goto bad;
		}
bad:
		doc_free(d);
		return NULL;
	}
	if (json_lit(in, "true"))
		return doc_bool(true);
	if (json_lit(in, "false"))
		return doc_bool(false);
	if (json_lit(in, "null"))
		return doc_new(DOC_NULL);
	if (c == '-' || (c >= '0' && c <= '9')) {
		char buf[32];
		size_t n = 0;
		while (in->p < in->end && n < sizeof(buf) - 1 &&
		       (*in->p == '-' || (*in->p >= '0' && *in->p <= '9')))
			buf[n++] = *in->p++;
		buf[n] = '\0';
		char *endp;
		long long v = strtoll(buf, &endp, 10);
		if (*endp != '\0')
			return NULL;
		return doc_int(v);
	}
	return NULL;
}

struct doc *doc_from_json(const char *text, size_t len)
{
	struct json_in in = { text, text + len };
	struct doc *d = json_value(&in, 0, false);
	if (!d)
		return NULL;
	json_ws(&in);
	if (in.p != in.end) {
		doc_free(d);
		return NULL;
	}
	return d;
}
