/*
 * strbuf — a growable, always NUL-terminated byte string for building
 * responses and documents. Control plane only: it allocates.
 * An allocation failure aborts (vpcd cannot answer without memory).
 */
#ifndef VPCD_STRBUF_H
#define VPCD_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *sb_data;	/* owned; NUL-terminated; NULL until first append */
	size_t sb_len;
	size_t sb_cap;
};

#define STRBUF_INIT { NULL, 0, 0 }

void sb_reserve(struct strbuf *sb, size_t extra);
void sb_append(struct strbuf *sb, const char *s, size_t len);
void sb_puts(struct strbuf *sb, const char *s);
void sb_putc(struct strbuf *sb, char c);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with &, <, >, ", ' escaped for XML text and attributes. */
void sb_xml_escape(struct strbuf *sb, const char *s);
/* Appends s as a JSON string literal, quotes included. */
void sb_json_string(struct strbuf *sb, const char *s);
/* Returns the data (never NULL) and leaves sb owning it. */
const char *sb_str(struct strbuf *sb);
/* Hands the buffer to the caller (free() it) and resets sb. */
char *sb_detach(struct strbuf *sb);
void sb_reset(struct strbuf *sb);	/* length 0, keeps capacity */
void sb_free(struct strbuf *sb);

#endif
