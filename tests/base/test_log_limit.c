/*
 * test_log_limit — rate-limited log lines (base.h's struct log_limit):
 * a burst passes per window, the rest are counted and the count is said
 * once, with the next line that passes or by log_limit_flush(); and kept
 * lines (log_keep): written together, whole and in the thread's order. The
 * log goes to stderr, which the tests send to a temporary file to read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"

/* stderr into a temporary file while fn runs; its text into out. */
static void capture(void (*fn)(void), char *out, size_t cap)
{
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	fflush(stderr);
	int saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), 2) >= 0);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, 2) >= 0);
	close(saved);
	rewind(tmp);
	size_t n = fread(out, 1, cap - 1, tmp);
	out[n] = 0;
	fclose(tmp);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_pass_and_count(void **state)
{
	(void)state;
	struct log_limit ll = LOG_LIMIT_INIT(1000, 3);
	uint64_t sup;
	for (int i = 0; i < 3; i++) {
		assert_true(log_limit_pass(&ll, 5000 + (uint64_t)i, &sup));
		assert_int_equal(sup, 0);
	}
	for (int i = 0; i < 100; i++)
		assert_false(log_limit_pass(&ll, 5100, &sup));
	assert_int_equal(ll.ll_suppressed, 100);
	/* the window ends 1000 ms after its first line */
	assert_false(log_limit_pass(&ll, 5999, &sup));
	assert_true(log_limit_pass(&ll, 6000, &sup));
	assert_int_equal(sup, 101);
	assert_int_equal(ll.ll_suppressed, 0);
	assert_true(log_limit_pass(&ll, 6001, &sup));
	assert_int_equal(sup, 0);
	/* a clock that goes backwards opens a new window instead of sticking */
	assert_true(log_limit_pass(&ll, 10, &sup));
}

static void flood_lines(void)
{
	struct log_limit ll = LOG_LIMIT_INIT(10000, 5);
	for (int i = 0; i < 100000; i++)
		log_limited(&ll, 1000 + (uint64_t)i / 10, LOG_WARN, "test", "dropped packet %d", i);
	/* the 100,000 calls span 1000..10999 ms, one window: 5 lines pass,
	 * the rest wait for the flush */
	log_limit_flush(&ll, 20000, LOG_WARN, "test", "dropped packet");
	/* nothing left: no second report */
	log_limit_flush(&ll, 40000, LOG_WARN, "test", "dropped packet");
}

static void test_flood_bounded_and_reported(void **state)
{
	(void)state;
	static char out[1 << 16];
	capture(flood_lines, out, sizeof(out));
	assert_int_equal(count(out, "\n"), 6);
	assert_int_equal(count(out, "test: dropped packet "), 5);
	assert_non_null(strstr(out, "test: dropped packet: 99995 similar messages suppressed\n"));
}

static void suffix_lines(void)
{
	struct log_limit ll = LOG_LIMIT_INIT(1000, 1);
	log_limited(&ll, 0, LOG_WARN, "test", "first");
	log_limited(&ll, 1, LOG_WARN, "test", "second");
	log_limited(&ll, 2, LOG_WARN, "test", "third");
	log_limited(&ll, 1000, LOG_WARN, "test", "fourth");
	log_limited(&ll, 1001, LOG_WARN, "test", "fifth");
	log_limited(&ll, 2001, LOG_WARN, "test", "sixth");
	/* flushing inside a window that is still open does nothing */
	log_limit_flush(&ll, 2500, LOG_WARN, "test", "what");
}

static void test_suffix_on_next_line(void **state)
{
	(void)state;
	static char out[4096];
	capture(suffix_lines, out, sizeof(out));
	assert_non_null(strstr(out, "test: first\n"));
	assert_null(strstr(out, "second"));
	assert_null(strstr(out, "third"));
	assert_non_null(strstr(out, "test: fourth (2 similar messages suppressed)\n"));
	assert_non_null(strstr(out, "test: sixth (1 similar message suppressed)\n"));
	assert_int_equal(count(out, "\n"), 3);
}

static off_t stderr_size(void)
{
	struct stat st;
	assert_int_equal(fstat(2, &st), 0);
	return st.st_size;
}

/* Kept lines reach stderr only when flushed, or before the thread's next
 * line that is not kept: in the order they were made. */
static void keep_lines(void)
{
	log_keep(LOG_INFO, "api", "req=%s %d", "a1", 200);
	log_keep(LOG_INFO, "api", "req=%s %d", "a2", 200);
	log_keep(LOG_DEBUG, "api", "below the threshold");
	assert_int_equal(stderr_size(), 0);
	log_flush_kept();
	off_t after_flush = stderr_size();
	assert_true(after_flush > 0);
	log_flush_kept();	/* nothing kept: nothing written */
	assert_int_equal(stderr_size(), after_flush);
	log_keep(LOG_INFO, "api", "req=b1");
	assert_int_equal(stderr_size(), after_flush);
	log_msg(LOG_WARN, "api", "not kept");
	log_keep(LOG_INFO, "api", "req=c1");
	log_flush_kept();
}

static void test_kept_lines_in_order(void **state)
{
	(void)state;
	char out[4096];
	capture(keep_lines, out, sizeof(out));
	const char *a1 = strstr(out, "INFO  api: req=a1 200\n"), *a2 = strstr(out, "INFO  api: req=a2 200\n");
	const char *b1 = strstr(out, "INFO  api: req=b1\n"), *nk = strstr(out, "WARN  api: not kept\n");
	const char *c1 = strstr(out, "INFO  api: req=c1\n");
	assert_non_null(a1);
	assert_non_null(a2);
	assert_non_null(b1);
	assert_non_null(nk);
	assert_non_null(c1);
	assert_true(a1 < a2 && a2 < b1 && b1 < nk && nk < c1);
	assert_null(strstr(out, "below the threshold"));
	assert_int_equal(count(out, "\n"), 5);
}

/* More than a write's worth (4,096 bytes) of kept lines: every line whole
 * and once, in order; a message too long for a line is cut as log_msg cuts
 * it. */
static void keep_many(void)
{
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int i = 0; i < 200; i++)
		log_keep(LOG_INFO, "api", "req=%03d padding-padding-padding-padding", i);
	log_keep(LOG_INFO, "api", "kept %s", big);
	log_msg(LOG_INFO, "api", "kept %s", big);
	log_flush_kept();
}

static void test_kept_lines_whole(void **state)
{
	(void)state;
	static char out[65536];
	capture(keep_many, out, sizeof(out));
	const char *p = out;
	for (int i = 0; i < 200; i++) {
		char want[64];
		snprintf(want, sizeof(want), "INFO  api: req=%03d padding-padding-padding-padding\n", i);
		const char *at = strstr(p, want);
		assert_non_null(at);
		assert_int_equal(count(out, want), 1);
		p = at + strlen(want);
	}
	/* the two long lines: the same length (2,047 bytes and the newline) */
	const char *k1 = strstr(p, "kept x"), *k2 = k1 ? strstr(k1 + 1, "kept x") : NULL;
	assert_non_null(k2);
	const char *e1 = strchr(k1, '\n'), *e2 = strchr(k2, '\n');
	assert_non_null(e1);
	assert_non_null(e2);
	const char *s1 = k1, *s2 = k2;
	while (s1 > out && s1[-1] != '\n')
		s1--;
	while (s2 > out && s2[-1] != '\n')
		s2--;
	assert_int_equal(e1 - s1, 2047);
	assert_int_equal(e2 - s2, 2047);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass_and_count),
		cmocka_unit_test(test_flood_bounded_and_reported),
		cmocka_unit_test(test_suffix_on_next_line),
		cmocka_unit_test(test_kept_lines_in_order),
		cmocka_unit_test(test_kept_lines_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
