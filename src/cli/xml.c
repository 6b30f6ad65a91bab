/*
 * xml.c — the strict XML parser of xml.h. Recursive descent over a bounded
 * input; recursion depth is bounded by XML_MAX_DEPTH. Every read checks the
 * end of input first. It must never expand a DTD entity or fetch anything.
 */
#include "cli/xml.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"

struct xml_in {
	const char *x_start;
	const char *p, *end;
	char *err;
	size_t err_len;
	bool failed;
};

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (!p)
		abort();
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		abort();
	return p;
}

__attribute__((format(printf, 2, 3)))
static void fail(struct xml_in *in, const char *fmt, ...)
{
	if (in->failed)
		return;
	in->failed = true;
	char what[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (in->err && in->err_len)
		snprintf(in->err, in->err_len, "%s at byte %zu", what, (size_t)(in->p - in->x_start));
}

static bool at(const struct xml_in *in, const char *lit)
{
	size_t n = strlen(lit);
	return (size_t)(in->end - in->p) >= n && memcmp(in->p, lit, n) == 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_space(struct xml_in *in)
{
	while (in->p < in->end && is_space(*in->p))
		in->p++;
}

static bool name_start(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || c >= 0x80;
}

static bool name_char(unsigned char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* A Name; returns its length (0 after a failure). */
static size_t read_name(struct xml_in *in, const char **start)
{
	*start = in->p;
	if (in->p >= in->end || !name_start((unsigned char)*in->p)) {
		fail(in, "expected a name");
		return 0;
	}
	while (in->p < in->end && name_char((unsigned char)*in->p))
		in->p++;
	return (size_t)(in->p - *start);
}

static void put_utf8(struct strbuf *sb, uint32_t cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp; n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6)); b[1] = (char)(0x80 | (cp & 0x3F)); n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12)); b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
	} else {
		b[0] = (char)(0xF0 | (cp >> 18)); b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); b[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
	}
	sb_append(sb, b, n);
}

/* At '&': decodes one reference into sb. */
static void read_reference(struct xml_in *in, struct strbuf *sb)
{
	static const struct { const char *name; char c; } predefined[] = {
		{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
	};
	in->p++;	/* '&' */
	const char *semi = memchr(in->p, ';', (size_t)(in->end - in->p) < 12 ? (size_t)(in->end - in->p) : 12);
	if (!semi) {
		fail(in, "unterminated reference");
		return;
	}
	size_t n = (size_t)(semi - in->p);
	if (n >= 2 && in->p[0] == '#') {
		bool hex = in->p[1] == 'x';
		uint32_t cp = 0;
		size_t i = hex ? 2 : 1;
		if (i == n) {
			fail(in, "empty character reference");
			return;
		}
		for (; i < n; i++) {
			char c = in->p[i];
			uint32_t v;
			if (c >= '0' && c <= '9')
				v = (uint32_t)(c - '0');
			else if (hex && c >= 'a' && c <= 'f')
				v = (uint32_t)(c - 'a' + 10);
			else if (hex && c >= 'A' && c <= 'F')
				v = (uint32_t)(c - 'A' + 10);
			else {
				fail(in, "bad character reference");
				return;
			}
			cp = cp * (hex ? 16 : 10) + v;
			if (cp > 0x10FFFF) {
				fail(in, "character reference out of range");
				return;
			}
		}
		/* XML's Char: no NUL, no other C0 control but tab/LF/CR, no surrogates */
		if ((cp < 0x20 && cp != 0x9 && cp != 0xA && cp != 0xD) || (cp >= 0xD800 && cp <= 0xDFFF) ||
		    cp == 0xFFFE || cp == 0xFFFF) {
			fail(in, "character reference to a non-character");
			return;
		}
		put_utf8(sb, cp);
		in->p = semi + 1;
		return;
	}
	for (size_t i = 0; i < sizeof(predefined) / sizeof(predefined[0]); i++)
		if (strlen(predefined[i].name) == n && memcmp(in->p, predefined[i].name, n) == 0) {
			sb_putc(sb, predefined[i].c);
			in->p = semi + 1;
			return;
		}
	fail(in, "unknown entity '&%.*s;'", (int)n, in->p);
}

/* Skips "<!--...-->" (at "<!--"). */
static void skip_comment(struct xml_in *in)
{
	in->p += 4;
	while (in->p < in->end && !at(in, "-->")) {
		if (at(in, "--")) {
			fail(in, "'--' inside a comment");
			return;
		}
		in->p++;
	}
	if (in->p >= in->end) {
		fail(in, "unterminated comment");
		return;
	}
	in->p += 3;
}

/* Skips "<?...?>" (at "<?"). */
static void skip_pi(struct xml_in *in)
{
	in->p += 2;
	while (in->p < in->end && !at(in, "?>"))
		in->p++;
	if (in->p >= in->end) {
		fail(in, "unterminated processing instruction");
		return;
	}
	in->p += 2;
}

/* Whitespace, comments and processing instructions outside the root. */
static void skip_misc(struct xml_in *in)
{
	for (;;) {
		skip_space(in);
		if (at(in, "<!--"))
			skip_comment(in);
		else if (at(in, "<?"))
			skip_pi(in);
		else
			return;
		if (in->failed)
			return;
	}
}

static void attrs_free(struct xml_attr *a)
{
	while (a) {
		struct xml_attr *next = a->xa_next;
		free(a->xa_name);
		free(a->xa_value);
		free(a);
		a = next;
	}
}

void xml_free(struct xml_node *n)
{
	while (n) {
		struct xml_node *next = n->x_next;
		xml_free(n->x_first);
		attrs_free(n->x_attrs);
		free(n->x_name);
		free(n->x_text);
		free(n);
		n = next;
	}
}

static void read_attributes(struct xml_in *in, struct xml_node *n)
{
	struct xml_attr **tail = &n->x_attrs;
	for (;;) {
		const char *before = in->p;
		skip_space(in);
		if (in->p >= in->end) {
			fail(in, "unterminated start tag");
			return;
		}
		if (*in->p == '>' || *in->p == '/')
			return;
		if (in->p == before) {
			fail(in, "expected whitespace before an attribute");
			return;
		}
		const char *name;
		size_t nlen = read_name(in, &name);
		if (!nlen)
			return;
		for (struct xml_attr *a = n->x_attrs; a; a = a->xa_next)
			if (strlen(a->xa_name) == nlen && memcmp(a->xa_name, name, nlen) == 0) {
				fail(in, "attribute '%.*s' given twice", (int)nlen, name);
				return;
			}
		skip_space(in);
		if (in->p >= in->end || *in->p != '=') {
			fail(in, "expected '=' after an attribute name");
			return;
		}
		in->p++;
		skip_space(in);
		if (in->p >= in->end || (*in->p != '"' && *in->p != '\'')) {
			fail(in, "expected a quoted attribute value");
			return;
		}
		char quote = *in->p++;
		struct strbuf v = STRBUF_INIT;
		while (in->p < in->end && *in->p != quote && !in->failed) {
			if (*in->p == '<') {
				fail(in, "'<' in an attribute value");
			} else if (*in->p == '&') {
				read_reference(in, &v);
			} else {
				sb_putc(&v, *in->p);
				in->p++;
			}
		}
		if (in->p >= in->end && !in->failed)
			fail(in, "unterminated attribute value");
		if (in->failed) {
			sb_free(&v);
			return;
		}
		in->p++;	/* closing quote */
		struct xml_attr *a = xcalloc(1, sizeof(*a));
		a->xa_name = xstrndup(name, nlen);
		a->xa_value = sb_detach(&v);
		if (!a->xa_value)
			a->xa_value = xstrndup("", 0);
		*tail = a;
		tail = &a->xa_next;
	}
}

static bool all_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_space(s[i]))
			return false;
	return true;
}

/* At '<' of a start tag. Returns the element, or NULL after fail(). */
static struct xml_node *read_element(struct xml_in *in, int depth)
{
	if (depth > XML_MAX_DEPTH) {
		fail(in, "elements nested deeper than %d", XML_MAX_DEPTH);
		return NULL;
	}
	in->p++;	/* '<' */
	const char *name;
	size_t nlen = read_name(in, &name);
	if (!nlen)
		return NULL;
	struct xml_node *n = xcalloc(1, sizeof(*n));
	n->x_name = xstrndup(name, nlen);
	read_attributes(in, n);
	if (in->failed)
		goto bad;
	if (*in->p == '/') {
		if (!at(in, "/>")) {
			fail(in, "expected '/>'");
			goto bad;
		}
		in->p += 2;
		n->x_text = xstrndup("", 0);
		return n;
	}
	in->p++;	/* '>' */

	struct strbuf text = STRBUF_INIT;
	bool text_is_space = true;
	for (;;) {
		if (in->p >= in->end) {
			fail(in, "element <%s> is not closed", n->x_name);
			break;
		}
		char c = *in->p;
		if (c == '<') {
			if (at(in, "</")) {
				in->p += 2;
				const char *cname;
				size_t clen = read_name(in, &cname);
				if (!clen)
					break;
				if (clen != nlen || memcmp(cname, name, nlen) != 0) {
					fail(in, "</%.*s> closes <%s>", (int)clen, cname, n->x_name);
					break;
				}
				skip_space(in);
				if (in->p >= in->end || *in->p != '>') {
					fail(in, "expected '>' in an end tag");
					break;
				}
				in->p++;
				break;
			} else if (at(in, "<!--")) {
				skip_comment(in);
			} else if (at(in, "<![CDATA[")) {
				in->p += 9;
				const char *s = in->p;
				while (in->p < in->end && !at(in, "]]>"))
					in->p++;
				if (in->p >= in->end) {
					fail(in, "unterminated CDATA section");
					break;
				}
				sb_append(&text, s, (size_t)(in->p - s));
				if (!all_space(s, (size_t)(in->p - s)))
					text_is_space = false;
				in->p += 3;
			} else if (at(in, "<!")) {
				fail(in, "DOCTYPE and other declarations are refused");
				break;
			} else if (at(in, "<?")) {
				skip_pi(in);
			} else {
				struct xml_node *child = read_element(in, depth + 1);
				if (!child)
					break;
				if (n->x_last)
					n->x_last->x_next = child;
				else
					n->x_first = child;
				n->x_last = child;
				n->x_nchildren++;
			}
		} else if (c == '&') {
			read_reference(in, &text);
			text_is_space = false;
		} else {
			if ((unsigned char)c < 0x20 && !is_space(c)) {
				fail(in, "control character 0x%02x in text", (unsigned char)c);
				break;
			}
			if (!is_space(c))
				text_is_space = false;
			sb_putc(&text, c);
			in->p++;
		}
		if (in->failed)
			break;
	}
	if (in->failed) {
		sb_free(&text);
		goto bad;
	}
	if (n->x_first) {
		if (!text_is_space) {
			fail(in, "element <%s> mixes text and elements", n->x_name);
			sb_free(&text);
			goto bad;
		}
		sb_free(&text);
		n->x_text = xstrndup("", 0);
	} else {
		n->x_text = sb_detach(&text);
		if (!n->x_text)
			n->x_text = xstrndup("", 0);
	}
	return n;
bad:
	xml_free(n);
	return NULL;
}

struct xml_node *xml_parse(const char *text, size_t len, char *err, size_t err_len)
{
	struct xml_in in = { text, text, text + len, err, err_len, false };
	if (err && err_len)
		err[0] = '\0';
	if (len > XML_MAX_INPUT) {
		fail(&in, "document larger than %u bytes", XML_MAX_INPUT);
		return NULL;
	}
	if (memchr(text, '\0', len)) {
		in.p = memchr(text, '\0', len);
		fail(&in, "NUL byte");
		return NULL;
	}
	if (at(&in, "\xEF\xBB\xBF"))	/* UTF-8 byte order mark */
		in.p += 3;
	skip_misc(&in);
	if (in.failed)
		return NULL;
	if (in.p >= in.end || *in.p != '<' || at(&in, "<!")) {
		fail(&in, at(&in, "<!") ? "DOCTYPE and other declarations are refused" : "expected the root element");
		return NULL;
	}
	struct xml_node *root = read_element(&in, 1);
	if (!root)
		return NULL;
	skip_misc(&in);
	if (!in.failed && in.p != in.end)
		fail(&in, "content after the root element");
	if (in.failed) {
		xml_free(root);
		return NULL;
	}
	return root;
}

const struct xml_node *xml_child(const struct xml_node *n, const char *name)
{
	if (!n)
		return NULL;
	xml_foreach(c, n)
		if (strcmp(c->x_name, name) == 0)
			return c;
	return NULL;
}

const char *xml_child_text(const struct xml_node *n, const char *name)
{
	const struct xml_node *c = xml_child(n, name);
	return c ? c->x_text : NULL;
}

const char *xml_attr(const struct xml_node *n, const char *name)
{
	for (const struct xml_attr *a = n ? n->x_attrs : NULL; a; a = a->xa_next)
		if (strcmp(a->xa_name, name) == 0)
			return a->xa_value;
	return NULL;
}
