/*
 * log_capture — stderr (where base's log lines go) into a buffer while a
 * test runs, so that it can assert which lines were logged. Not nested,
 * not thread-safe: for one test at a time.
 */
#ifndef VPCD_TESTS_LOG_CAPTURE_H
#define VPCD_TESTS_LOG_CAPTURE_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct log_capture {
	FILE *lc_tmp;
	int lc_saved;
};

static inline void log_capture_begin(struct log_capture *c)
{
	c->lc_tmp = tmpfile();
	assert_non_null(c->lc_tmp);
	fflush(stderr);
	c->lc_saved = dup(2);
	assert_true(c->lc_saved >= 0);
	assert_true(dup2(fileno(c->lc_tmp), 2) >= 0);
}

/* Ends the capture; the text (cut at cap - 1 bytes) into out. */
static inline void log_capture_end(struct log_capture *c, char *out, size_t cap)
{
	fflush(stderr);
	assert_true(dup2(c->lc_saved, 2) >= 0);
	close(c->lc_saved);
	rewind(c->lc_tmp);
	size_t n = fread(out, 1, cap - 1, c->lc_tmp);
	out[n] = 0;
	fclose(c->lc_tmp);
}

static inline size_t log_count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Lines of text that hold both needles. */
static inline size_t log_count_lines(const char *text, const char *needle1, const char *needle2)
{
	size_t n = 0;
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *a = strstr(line, needle1), *b = strstr(line, needle2);
		n += a && b && a < line + len && b < line + len;
		line += len + (end != NULL);
	}
	return n;
}

#endif
