/*
 * base.c — logging, randomness and the small safety helpers of base.h.
 * Logging is a single fprintf per line so that lines from threads do not
 * interleave.
 */
#include "base/base.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum log_level log_threshold = LOG_INFO;
static const char *const log_names[] = { "DEBUG", "INFO ", "WARN ", "ERROR" };

void log_set_level(enum log_level lvl) { log_threshold = lvl; }

static void log_vmsg(enum log_level lvl, const char *part, const char *suffix, const char *fmt,
		     va_list ap) __attribute__((format(printf, 4, 0)));

void log_msg(enum log_level lvl, const char *part, const char *fmt, ...)
{
	if (lvl < log_threshold)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(lvl, part, "", fmt, ap);
	va_end(ap);
}

#define LOG_LINE_MAX 2048		/* the date, level, part and message: longer ones are cut */
#define LOG_SUFFIX_MAX 64		/* log_limited's "(N similar messages suppressed)" */

/* Formats one whole line into line (LOG_LINE_MAX + LOG_SUFFIX_MAX + 1
 * bytes): the date, level, part and message cut at LOG_LINE_MAX - 1
 * bytes, then the suffix and a newline; returns its length. The date and
 * time of the second are formatted once per second and thread. */
static size_t log_format(char *line, enum log_level lvl, const char *part, const char *suffix,
			 const char *fmt, va_list ap)
{
	static __thread time_t last_sec = -1;
	static __thread char stamp[24];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != last_sec) {
		struct tm tm;
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		last_sec = ts.tv_sec;
	}
	int n = snprintf(line, LOG_LINE_MAX, "%s.%03ldZ %s %s: ", stamp, ts.tv_nsec / 1000000, log_names[lvl], part);
	if (n > 0 && (size_t)n < LOG_LINE_MAX)
		vsnprintf(line + n, LOG_LINE_MAX - (size_t)n, fmt, ap);
	size_t len = strlen(line), sl = strnlen(suffix, LOG_SUFFIX_MAX - 1);
	memcpy(line + len, suffix, sl);
	len += sl;
	line[len++] = '\n';
	line[len] = '\0';
	return len;
}

/* Lines kept by log_keep(): at most PIPE_BUF bytes, so that each write of
 * them is atomic on a pipe too and no other thread's line falls inside
 * one of them. */
#define LOG_KEPT_MAX 4096
static __thread char log_kept[LOG_KEPT_MAX];
static __thread size_t log_kept_len;

void log_flush_kept(void)
{
	if (!log_kept_len)
		return;
	fwrite(log_kept, 1, log_kept_len, stderr);	/* unbuffered: one write */
	log_kept_len = 0;
}

static void log_vmsg(enum log_level lvl, const char *part, const char *suffix, const char *fmt,
		     va_list ap)
{
	char line[LOG_LINE_MAX + LOG_SUFFIX_MAX + 1];
	size_t len = log_format(line, lvl, part, suffix, fmt, ap);
	log_flush_kept();	/* this thread's lines stay in order */
	fwrite(line, 1, len, stderr);
}

void log_keep(enum log_level lvl, const char *part, const char *fmt, ...)
{
	if (lvl < log_threshold)
		return;
	char line[LOG_LINE_MAX + LOG_SUFFIX_MAX + 1];
	va_list ap;
	va_start(ap, fmt);
	size_t len = log_format(line, lvl, part, "", fmt, ap);
	va_end(ap);
	if (log_kept_len + len > LOG_KEPT_MAX)
		log_flush_kept();
	memcpy(log_kept + log_kept_len, line, len);
	log_kept_len += len;
}

bool log_limit_pass(struct log_limit *ll, uint64_t now_ms, uint64_t *suppressed)
{
	*suppressed = 0;
	if (!ll->ll_started || now_ms < ll->ll_window_ms ||
	    now_ms - ll->ll_window_ms >= ll->ll_interval_ms) {
		ll->ll_started = true;
		ll->ll_window_ms = now_ms;
		ll->ll_passed = 0;
	}
	if (ll->ll_passed >= ll->ll_burst) {
		ll->ll_suppressed++;
		return false;
	}
	ll->ll_passed++;
	*suppressed = ll->ll_suppressed;
	ll->ll_suppressed = 0;
	return true;
}

void log_limited(struct log_limit *ll, uint64_t now_ms, enum log_level lvl, const char *part,
		 const char *fmt, ...)
{
	if (lvl < log_threshold)
		return;
	uint64_t skipped;
	if (!log_limit_pass(ll, now_ms, &skipped))
		return;
	char suffix[64] = "";
	if (skipped)
		snprintf(suffix, sizeof(suffix), " (%llu similar message%s suppressed)",
			 (unsigned long long)skipped, skipped == 1 ? "" : "s");
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(lvl, part, suffix, fmt, ap);
	va_end(ap);
}

void log_limit_flush(struct log_limit *ll, uint64_t now_ms, enum log_level lvl, const char *part,
		     const char *what)
{
	if (!ll->ll_suppressed || !ll->ll_started ||
	    (now_ms >= ll->ll_window_ms && now_ms - ll->ll_window_ms < ll->ll_interval_ms))
		return;
	uint64_t n = ll->ll_suppressed;
	ll->ll_suppressed = 0;
	/* the report opens a window of its own: the next lines still pass */
	ll->ll_window_ms = now_ms;
	ll->ll_passed = 0;
	if (lvl >= log_threshold)
		log_msg(lvl, part, "%s: %llu similar message%s suppressed", what,
			(unsigned long long)n, n == 1 ? "" : "s");
}

void rand_bytes(void *buf, size_t len)
{
	if (RAND_bytes(buf, (int)len) != 1) {
		log_error("base", "RAND_bytes failed; refusing to continue without randomness");
		abort();
	}
}

void rand_id_bytes(void *buf, size_t len)
{
	static __thread uint8_t pool[256];
	static __thread size_t left;
	uint8_t *out = buf;
	while (len) {
		if (!left) {
			rand_bytes(pool, sizeof(pool));
			left = sizeof(pool);
		}
		size_t n = len < left ? len : left;
		memcpy(out, pool + sizeof(pool) - left, n);
		left -= n;
		out += n;
		len -= n;
	}
}

uint32_t rand_u32(void)
{
	uint32_t v;
	rand_bytes(&v, sizeof(v));
	return v;
}

uint32_t rand_uniform(uint32_t bound)
{
	if (bound < 2)
		return 0;
	uint32_t min = -bound % bound;	/* reject the biased low range */
	for (;;) {
		uint32_t r = rand_u32();
		if (r >= min)
			return r % bound;
	}
}

bool ct_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

void secret_wipe(void *p, size_t len)
{
	if (p)
		OPENSSL_cleanse(p, len);
}

uint64_t time_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t time_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int64_t time_wall_s(void)
{
	return (int64_t)time(NULL);
}

void time_iso8601(int64_t unix_s, char *buf, size_t len)
{
	time_t t = (time_t)unix_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

void hex_encode(const void *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = in;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
}

void err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
