/* strbuf.c — growable strings (see strbuf.h). */
#include "base/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_reserve(struct strbuf *sb, size_t extra)
{
	size_t need = sb->sb_len + extra + 1;
	if (need <= sb->sb_cap)
		return;
	size_t cap = sb->sb_cap ? sb->sb_cap : 64;
	while (cap < need)
		cap *= 2;
	char *p = realloc(sb->sb_data, cap);
	if (!p)
		abort();
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
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		sb_append(sb, small, (size_t)n);
		return;
	}
	sb_reserve(sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb->sb_data + sb->sb_len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->sb_len += (size_t)n;
}

void sb_xml_escape(struct strbuf *sb, const char *s)
{
	const char *run = s;
	for (; *s; s++) {
		const char *rep;
		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		default: continue;
		}
		sb_append(sb, run, (size_t)(s - run));
		sb_puts(sb, rep);
		run = s + 1;
	}
	sb_append(sb, run, (size_t)(s - run));
}

void sb_json_string(struct strbuf *sb, const char *s)
{
	sb_putc(sb, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': sb_puts(sb, "\\\""); break;
		case '\\': sb_puts(sb, "\\\\"); break;
		case '\n': sb_puts(sb, "\\n"); break;
		case '\r': sb_puts(sb, "\\r"); break;
		case '\t': sb_puts(sb, "\\t"); break;
		default:
			if (*p < 0x20)
				sb_printf(sb, "\\u%04x", *p);
			else
				sb_putc(sb, (char)*p);
		}
	}
	sb_putc(sb, '"');
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
	sb->sb_len = 0;
	if (sb->sb_data)
		sb->sb_data[0] = '\0';
}

void sb_free(struct strbuf *sb)
{
	free(sb->sb_data);
	sb->sb_data = NULL;
	sb->sb_len = sb->sb_cap = 0;
}
