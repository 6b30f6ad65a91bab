/*
 * base — small things every part of vpcd uses: logging, randomness,
 * constant-time comparison, secret wiping, time.
 *
 * Never put a secret (pre-shared key, SA key, secret access key) into a log
 * call: log_* writes whatever it is given to stderr.
 */
#ifndef VPCD_BASE_H
#define VPCD_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* One line per event on stderr: "2026-11-27T12:00:00.123Z INFO  part: msg". */
void log_set_level(enum log_level lvl);
void log_msg(enum log_level lvl, const char *part, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define log_debug(part, ...) log_msg(LOG_DEBUG, part, __VA_ARGS__)
#define log_info(part, ...)  log_msg(LOG_INFO, part, __VA_ARGS__)
#define log_warn(part, ...)  log_msg(LOG_WARN, part, __VA_ARGS__)
#define log_error(part, ...) log_msg(LOG_ERROR, part, __VA_ARGS__)
/* A line like log_msg's, kept by the calling thread
 * and written with the others it kept in one write: by log_flush_kept(),
 * when the kept lines reach 4,096 bytes, or before the thread's next line
 * that is not kept (so that a thread's lines stay in order). For a line per
 * request on a busy thread, which then flushes once per wakeup of its loop
 * and before it ends: lines still kept when a thread exits are lost. */
void log_keep(enum log_level lvl, const char *part, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_flush_kept(void);

/* vsnprintf into a caller's error buffer (err may be NULL or errlen 0:
 * nothing written). For functions that return -1 "with the cause in err". */
void err_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Rate-limited logging, for lines that an attacker can trigger at packet
 * rate (dropped datagrams, refused connections). One struct log_limit per
 * kind of line: at most ll_burst lines pass per ll_interval_ms window; the
 * others are only counted, and the count is reported once, appended to the
 * next line that passes ("... (N similar messages suppressed)"), or by
 * log_limit_flush() when a window ended with nothing more to say. Logging
 * never costs more than formatting the lines that pass: a suppressed call
 * costs a comparison and an increment.
 *
 * The caller passes the time (any monotonic milliseconds; sans-I/O code
 * passes its now_ms). Not thread-safe: a struct log_limit belongs to one
 * thread, or to whatever lock guards the state it reports on. */
struct log_limit {
	uint32_t ll_interval_ms;	/* window length */
	uint32_t ll_burst;		/* lines per window */
	uint64_t ll_window_ms;		/* start of the current window */
	uint32_t ll_passed;		/* lines logged in it */
	uint64_t ll_suppressed;		/* not logged since the last line that was */
	bool ll_started;
};
#define LOG_LIMIT_INIT(interval_ms, burst) \
	{ .ll_interval_ms = (interval_ms), .ll_burst = (burst) }
/* true when a line may be logged now (and counts it); false when it is
 * suppressed (and counts that). *suppressed: the lines suppressed before
 * this one, to mention in it; the count then starts again at zero. */
bool log_limit_pass(struct log_limit *ll, uint64_t now_ms, uint64_t *suppressed);
/* log_msg through the limit; appends " (N similar messages suppressed)"
 * when lines were suppressed before it. */
void log_limited(struct log_limit *ll, uint64_t now_ms, enum log_level lvl, const char *part,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* When the window of a limit has ended and lines were suppressed in it,
 * logs "<what>: N similar messages suppressed" and resets the count, so
 * that a flood that stopped still leaves its total in the log. Cheap:
 * call it from a periodic tick. */
void log_limit_flush(struct log_limit *ll, uint64_t now_ms, enum log_level lvl, const char *part,
		     const char *what);

/* Cryptographically strong random bytes (OpenSSL RAND_bytes); aborts on
 * failure, since vpcd cannot run safely without randomness. */
void rand_bytes(void *buf, size_t len);
uint32_t rand_u32(void);
uint32_t rand_uniform(uint32_t bound);	/* 0 <= x < bound, unbiased */
/* Random bytes for names that must not repeat but are no secret (resource
 * and request ids): served from a per-thread buffer that RAND_bytes
 * refills 256 bytes at a time, since each RAND_bytes call costs more than
 * the id it makes. Never for keys, nonces or anything an attacker must not
 * guess from what they saw: use rand_bytes. */
void rand_id_bytes(void *buf, size_t len);

/* 1 when equal; time depends on len only. */
bool ct_equal(const void *a, const void *b, size_t len);

/* Overwrite a secret so that the compiler cannot elide it. */
void secret_wipe(void *p, size_t len);

/* Monotonic milliseconds (and microseconds), and wall-clock seconds /
 * ISO-8601 formatting. */
uint64_t time_mono_ms(void);
uint64_t time_mono_us(void);
int64_t time_wall_s(void);
/* "2026-11-27T12:00:00.000Z" into buf (>= 25 bytes). */
void time_iso8601(int64_t unix_s, char *buf, size_t len);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void hex_encode(const void *in, size_t len, char *out);

#endif
