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
/* Appends s as XML text (or an attribute value) that is always
 * well-formed, whatever the bytes: &, <, >, ", ' as entities, CR as
 * &#13; (a parser would turn a raw one into LF), and each byte that does
 * not start a character XML 1.0 allows (utf8_xml_char) as U+FFFD. */
void sb_xml_escape(struct strbuf *sb, const char *s);

/* The length (1 to 4) of the UTF-8 sequence at s when it is well-formed
 * (shortest form, no surrogate, at most U+10FFFF) and names a character
 * XML 1.0 allows (tab, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD,
 * U+10000-U+10FFFF); else 0. s is NUL-terminated (a NUL gives 0). */
size_t utf8_xml_char(const char *s);
/* Whether s is text an API request may carry, as AWS accepts it: UTF-8
 * (as utf8_xml_char) with no control character other than tab, LF and
 * CR (none of U+0000-U+001F, U+007F-U+009F). */
bool utf8_text_valid(const char *s);
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
