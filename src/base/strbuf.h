/*
 * strbuf — a growable, always NUL-terminated byte string for building
 * responses and documents. Control plane only: it allocates.
 * An allocation failure aborts (vpcd cannot answer without memory).
 *
 * A secret buffer (sb_secret: STRBUF_SECRET_INIT, or set before the first
 * append) holds pre-shared keys or other secrets: every block it lets go
 * of is wiped first (secret_wipe), whether by sb_free, by growth (never
 * realloc, which would free the old block unwiped) or by sb_reset. What
 * sb_detach hands out is the caller's to wipe.
 */
#ifndef VPCD_STRBUF_H
#define VPCD_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *sb_data;	/* owned; NUL-terminated; NULL until first append */
	size_t sb_len;
	size_t sb_cap;
	bool sb_secret;	/* wipe every block let go of; kept by sb_free/sb_detach */
};

#define STRBUF_INIT { NULL, 0, 0, false }
#define STRBUF_SECRET_INIT { NULL, 0, 0, true }

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
/* Hands the buffer to the caller (free() it, after secret_wipe() when
 * sb_secret) and resets sb (which stays secret). */
char *sb_detach(struct strbuf *sb);
/* Length 0, keeps capacity (a secret buffer's old text is wiped). */
void sb_reset(struct strbuf *sb);
/* Frees the data, wiped first when sb_secret; sb stays usable (and secret). */
void sb_free(struct strbuf *sb);

#endif
