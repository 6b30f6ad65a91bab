/* strbuf.c — growable strings (see strbuf.h). A secret buffer never
 * hands a block back to malloc unwiped. */
#include "base/strbuf.h"

#include <stdarg.h>
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
	[1] = 2, [2] = 2, [3] = 2, [4] = 2, [5] = 2, [6] = 2, [7] = 2, [8] = 2, [9] = 2, [10] = 2,
	[11] = 2, [12] = 2, [13] = 2, [14] = 2, [15] = 2, [16] = 2, [17] = 2, [18] = 2, [19] = 2, [20] = 2,
	[21] = 2, [22] = 2, [23] = 2, [24] = 2, [25] = 2, [26] = 2, [27] = 2, [28] = 2, [29] = 2, [30] = 2,
	[31] = 2,
	['&'] = 1, ['<'] = 1, ['>'] = 1, ['\''] = 1, ['"'] = 3, ['\\'] = 2,
};

void sb_xml_escape(struct strbuf *sb, const char *s)
{
	for (;;) {
		const char *run = s;
		while (!(sb_special[(unsigned char)*s] & 1))
			s++;
		sb_append(sb, run, (size_t)(s - run));
		switch (*s) {
		case '\0': return;
		case '&': sb_append(sb, "&amp;", 5); break;
		case '<': sb_append(sb, "&lt;", 4); break;
		case '>': sb_append(sb, "&gt;", 4); break;
		case '"': sb_append(sb, "&quot;", 6); break;
		default: sb_append(sb, "&apos;", 6); break;
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
