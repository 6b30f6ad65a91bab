/* strbuf.c — growable strings (see strbuf.h). A secret buffer never
 * hands a block back to malloc unwiped. */
#include "base/strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

void sb_reserve(struct strbuf *sb, size_t extra)
{
	size_t need = sb->sb_len + extra + 1;
	if (need <= sb->sb_cap)
		return;
	size_t cap = sb->sb_cap ? sb->sb_cap : 64;
	while (cap < need)
		cap *= 2;
	char *p;
	if (sb->sb_secret && sb->sb_data) {
		/* Not realloc: it would free the old block unwiped. The text
		 * may not be NUL-terminated yet (wire.c's xw_put); sb_len + 1
		 * bytes are within the old block all the same. */
		p = malloc(cap);
		if (!p)
			abort();
		memcpy(p, sb->sb_data, sb->sb_len + 1);
		secret_wipe(sb->sb_data, sb->sb_cap);
		free(sb->sb_data);
	} else {
		p = realloc(sb->sb_data, cap);
		if (!p)
			abort();
	}
	sb->sb_data = p;
	sb->sb_cap = cap;
}

void sb_append(struct strbuf *sb, const char *s, size_t len)
{
	sb_reserve(sb, len);
	memcpy(sb->sb_data + sb->sb_len, s, len);
	sb->sb_len += len;
	sb->sb_data[sb->sb_len] = '\0';
}

void sb_puts(struct strbuf *sb, const char *s) { sb_append(sb, s, strlen(s)); }

void sb_putc(struct strbuf *sb, char c) { sb_append(sb, &c, 1); }

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char small[256];
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(small))
		sb_append(sb, small, (size_t)n);
	if (sb->sb_secret)
		secret_wipe(small, sizeof(small));
	if (n < 0 || (size_t)n < sizeof(small))
		return;
	sb_reserve(sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb->sb_data + sb->sb_len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->sb_len += (size_t)n;
}

/* Characters that end a run copied as is: NUL, and what each escaper
 * rewrites (bit 1: XML, bit 2: JSON). */
static const unsigned char sb_special[256] = {
	[0] = 3,
	[1] = 3, [2] = 3, [3] = 3, [4] = 3, [5] = 3, [6] = 3, [7] = 3, [8] = 3, [9] = 2, [10] = 2,
	[11] = 3, [12] = 3, [13] = 3, [14] = 3, [15] = 3, [16] = 3, [17] = 3, [18] = 3, [19] = 3, [20] = 3,
	[21] = 3, [22] = 3, [23] = 3, [24] = 3, [25] = 3, [26] = 3, [27] = 3, [28] = 3, [29] = 3, [30] = 3,
	[31] = 3,
	['&'] = 1, ['<'] = 1, ['>'] = 1, ['\''] = 1, ['"'] = 3, ['\\'] = 2,
#define HI8 1, 1, 1, 1, 1, 1, 1, 1
#define HI64 HI8, HI8, HI8, HI8, HI8, HI8, HI8, HI8
	[0x80] = HI64, HI64,	/* bytes >= 0x80: XML checks the UTF-8 */
#undef HI64
#undef HI8
};

size_t utf8_xml_char(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c = s[0];
	if (c < 0x80)
		return c >= 0x20 || c == '\t' || c == '\n' || c == '\r' ? 1 : 0;
	uint32_t cp;
	size_t n;
	if (c >= 0xc2 && c <= 0xdf) {
		cp = c & 0x1f;
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		cp = c & 0x0f;
		n = 3;
	} else if (c >= 0xf0 && c <= 0xf4) {
		cp = c & 0x07;
		n = 4;
	} else {
		return 0;	/* a continuation byte, C0/C1 (overlong), F5-FF */
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;	/* also stops at the NUL */
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;	/* overlong, beyond Unicode */
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0;	/* surrogates; not XML characters */
	return n;
}

bool utf8_text_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	while (*s) {
		if (*s >= 0x20 && *s < 0x7f) {
			s++;
			continue;
		}
		if (*s == 0x7f || (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f))
			return false;	/* DEL, C1 controls */
		size_t n = utf8_xml_char((const char *)s);
		if (n == 0)
			return false;
		s += n;
	}
	return true;
}

void sb_xml_escape(struct strbuf *sb, const char *s)
{
	for (;;) {
		const char *run = s;
		while (!(sb_special[(unsigned char)*s] & 1))
			s++;
		sb_append(sb, run, (size_t)(s - run));
		size_t n;
		switch (*s) {
		case '\0': return;
		case '&': sb_append(sb, "&amp;", 5); break;
		case '<': sb_append(sb, "&lt;", 4); break;
		case '>': sb_append(sb, "&gt;", 4); break;
		case '"': sb_append(sb, "&quot;", 6); break;
		case '\'': sb_append(sb, "&apos;", 6); break;
		case '\r': sb_append(sb, "&#13;", 5); break;
		default:
			/* a control character or a byte >= 0x80 */
			n = utf8_xml_char(s);
			if (n == 0) {
				sb_append(sb, "\xef\xbf\xbd", 3);	/* U+FFFD */
			} else {
				sb_append(sb, s, n);
				s += n - 1;
			}
			break;
		}
		s++;
	}
}

void sb_json_string(struct strbuf *sb, const char *s)
{
	sb_putc(sb, '"');
	for (;;) {
		const char *run = s;
		while (!(sb_special[(unsigned char)*s] & 2))
			s++;
		sb_append(sb, run, (size_t)(s - run));
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '\0': sb_putc(sb, '"'); return;
		case '"': sb_append(sb, "\\\"", 2); break;
		case '\\': sb_append(sb, "\\\\", 2); break;
		case '\n': sb_append(sb, "\\n", 2); break;
		case '\r': sb_append(sb, "\\r", 2); break;
		case '\t': sb_append(sb, "\\t", 2); break;
		default: sb_printf(sb, "\\u%04x", c); break;
		}
		s++;
	}
}

const char *sb_str(struct strbuf *sb)
{
	if (!sb->sb_data)
		sb_reserve(sb, 0), sb->sb_data[0] = '\0';
	return sb->sb_data;
}

char *sb_detach(struct strbuf *sb)
{
	sb_str(sb);
	char *p = sb->sb_data;
	sb->sb_data = NULL;
	sb->sb_len = sb->sb_cap = 0;
	return p;
}

void sb_reset(struct strbuf *sb)
{
	if (sb->sb_secret && sb->sb_data)
		secret_wipe(sb->sb_data, sb->sb_len);
	sb->sb_len = 0;
	if (sb->sb_data)
		sb->sb_data[0] = '\0';
}

void sb_free(struct strbuf *sb)
{
	if (sb->sb_secret && sb->sb_data)
		secret_wipe(sb->sb_data, sb->sb_cap);
	free(sb->sb_data);
	sb->sb_data = NULL;
	sb->sb_len = sb->sb_cap = 0;
}
