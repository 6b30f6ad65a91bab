/*
 * test_log_limit — rate-limited log lines (base.h's struct log_limit):
 * a burst passes per window, the rest are counted and the count is said
 * once, with the next line that passes or by log_limit_flush(). The log
 * goes to stderr, which the tests send to a temporary file to read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass_and_count),
		cmocka_unit_test(test_flood_bounded_and_reported),
		cmocka_unit_test(test_suffix_on_next_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
