/*
 * test_strbuf — the escapers copy runs of plain text whole; their output
 * must be that of character-by-character versions (kept here as the
 * reference), for every byte value and for random strings; the XML one
 * writes a U+FFFD for each byte that starts no character XML allows.
 * A secret buffer wipes every block it lets go of (free_watch.h sees each
 * free()).
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/strbuf.h"
#include "free_watch.h"

/* The length of the character at s when XML 1.0 allows it, else 0:
 * decoded by the book (RFC 3629's table of lengths and minimums). */
static size_t ref_xml_char_len(const unsigned char *s)
{
	static const uint32_t min_for_len[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xf0 && s[0] < 0xf8 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	if (len == 0 || (len == 4 && s[0] >= 0xf8))
		return 0;
	uint32_t cp = len == 1 ? s[0] : (uint32_t)(s[0] & (0x7f >> len));
	for (size_t i = 1; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (len > 1 && cp < min_for_len[len])
		return 0;
	bool xml = cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
		   (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
	return xml ? len : 0;
}

static void ref_xml_escape(struct strbuf *sb, const char *s)
{
	while (*s) {
		switch (*s) {
		case '&': sb_puts(sb, "&amp;"); break;
		case '<': sb_puts(sb, "&lt;"); break;
		case '>': sb_puts(sb, "&gt;"); break;
		case '"': sb_puts(sb, "&quot;"); break;
		case '\'': sb_puts(sb, "&apos;"); break;
		case '\r': sb_puts(sb, "&#13;"); break;
		default: {
			size_t n = ref_xml_char_len((const unsigned char *)s);
			if (n == 0) {
				sb_puts(sb, "\xef\xbf\xbd");
			} else {
				sb_append(sb, s, n);
				s += n - 1;
			}
		}
		}
		s++;
	}
}

static void ref_json_string(struct strbuf *sb, const char *s)
{
	sb_puts(sb, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': sb_puts(sb, "\\\""); break;
		case '\\': sb_puts(sb, "\\\\"); break;
		case '\n': sb_puts(sb, "\\n"); break;
		case '\r': sb_puts(sb, "\\r"); break;
		case '\t': sb_puts(sb, "\\t"); break;
		default:
			if (*p < 0x20) {
				char u[8];
				snprintf(u, sizeof(u), "\\u%04x", *p);
				sb_puts(sb, u);
			} else {
				sb_append(sb, (const char *)p, 1);
			}
		}
	}
	sb_puts(sb, "\"");
}

static void check(const char *s)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	sb_puts(&a, "prefix:");
	sb_puts(&b, "prefix:");
	ref_xml_escape(&a, s);
	sb_xml_escape(&b, s);
	ref_json_string(&a, s);
	sb_json_string(&b, s);
	assert_string_equal(sb_str(&a), sb_str(&b));
	assert_int_equal(a.sb_len, b.sb_len);
	assert_int_equal(strlen(b.sb_data), b.sb_len);
	sb_free(&a);
	sb_free(&b);
}

static void test_every_byte(void **state)
{
	(void)state;
	for (int c = 1; c < 256; c++) {
		char s[8] = { 'a', (char)c, 'b', (char)c, (char)c, '\0' };
		check(s);
		check(s + 1);
		check(s + 3);
	}
	check("");
}

static void test_random_strings(void **state)
{
	(void)state;
	static const char alphabet[] = "ab<>&\"'\\\n\r\t\x01\x1f\x7f\xc3\xa9 0/\xe6\x97\xa5\xf0\x9f\x98\x80\xed\xa0\xef\xbf\xbe\xf4\x90\xc0";
	uint64_t x = 7;
	for (int i = 0; i < 20000; i++) {
		char s[80];
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		size_t n = (size_t)(x >> 58);
		for (size_t j = 0; j < n; j++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			s[j] = alphabet[(x >> 33) % (sizeof(alphabet) - 1)];
		}
		s[n] = '\0';
		check(s);
	}
}

static void test_empty_escape_allocates(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	sb_xml_escape(&sb, "");
	assert_non_null(sb.sb_data);
	assert_string_equal(sb.sb_data, "");
	sb_free(&sb);
}

static bool all_zero(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static void test_secret_wiped_on_free(void **state)
{
	(void)state;
	free_watch_reset();
	struct strbuf sb = STRBUF_SECRET_INIT;
	sb_puts(&sb, "psk=Ab3xYz0123456789");
	int w = free_watch(sb.sb_data, sb.sb_data, sb.sb_cap);
	sb_free(&sb);
	assert_int_equal(free_watch_result(w), FW_WIPED);
	assert_null(sb.sb_data);
	assert_true(sb.sb_secret);	/* still secret for its next use */

	/* The control: a plain buffer is freed as it is, and the watch sees it. */
	struct strbuf plain = STRBUF_INIT;
	sb_puts(&plain, "not a secret");
	w = free_watch(plain.sb_data, plain.sb_data, plain.sb_cap);
	sb_free(&plain);
	assert_int_equal(free_watch_result(w), FW_NOT_WIPED);
}

static void test_secret_wiped_on_growth(void **state)
{
	(void)state;
	free_watch_reset();
	struct strbuf sb = STRBUF_SECRET_INIT;
	char key[40];
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	sb_puts(&sb, key);
	int w1 = free_watch(sb.sb_data, sb.sb_data, sb.sb_cap);
	size_t cap1 = sb.sb_cap;
	sb_puts(&sb, key);		/* 78 bytes: past the first 64 */
	assert_true(sb.sb_cap > cap1);
	assert_int_equal(free_watch_result(w1), FW_WIPED);
	/* sb_printf's long path, and its short one (a stack copy, wiped too) */
	int w2 = free_watch(sb.sb_data, sb.sb_data, sb.sb_cap);
	size_t cap2 = sb.sb_cap;
	sb_printf(&sb, "%0300d", 7);
	assert_true(sb.sb_cap > cap2);
	assert_int_equal(free_watch_result(w2), FW_WIPED);
	sb_printf(&sb, "|%s|", key);
	assert_int_equal(sb.sb_len, 78 + 300 + 41);
	assert_int_equal(strlen(sb_str(&sb)), sb.sb_len);
	assert_memory_equal(sb.sb_data, key, 39);
	assert_memory_equal(sb.sb_data + 39, key, 39);
	assert_memory_equal(sb.sb_data + 378, "|", 1);
	int w3 = free_watch(sb.sb_data, sb.sb_data, sb.sb_cap);
	sb_free(&sb);
	assert_int_equal(free_watch_result(w3), FW_WIPED);
}

static void test_secret_reset_and_detach(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_SECRET_INIT;
	sb_puts(&sb, "Ab3xYz0123456789");
	char *data = sb.sb_data;
	sb_reset(&sb);
	assert_ptr_equal(sb.sb_data, data);	/* keeps the block, wiped */
	assert_true(all_zero(data, 17));
	sb_puts(&sb, "again");
	char *p = sb_detach(&sb);
	assert_string_equal(p, "again");
	assert_true(sb.sb_secret);
	assert_null(sb.sb_data);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_random_strings),
		cmocka_unit_test(test_empty_escape_allocates),
		cmocka_unit_test(test_secret_wiped_on_free),
		cmocka_unit_test(test_secret_wiped_on_growth),
		cmocka_unit_test(test_secret_reset_and_detach),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
